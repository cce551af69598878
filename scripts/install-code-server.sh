#!/usr/bin/env bash
# Installs what the real-VS-Code test suites (test/vscode/) need, idempotently:
#   - Debian packages: chromium (driven by playwright-core), ripgrep (pre-seeds @vscode/ripgrep's download cache),
#     and the headers code-server's native modules compile against (libkrb5-dev, libxkbfile-dev, libsecret-1-dev,
#     pkg-config, plus a C/C++ toolchain and python3 for node-gyp) and a font for legible screenshots;
#   - code-server@4.100.3 (VS Code 1.100.3; the last code-server that runs on Node 20) into its own folder
#     .vscode-test/code-server, with its own package.json, so the extension's `npm ci` never re-runs its postinstall.
# Quick (< 1 s) when everything is already there. Needs root (or sudo) only when a Debian package is missing.
#
# Environment:
#   CODE_SERVER_VERSION   default 4.100.3
#   CODE_SERVER_DIR       default <repo>/.vscode-test/code-server
#   MFD_SKIP_APT=1        do not touch apt (the packages must already be there)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
version=${CODE_SERVER_VERSION:-4.100.3}
dest=${CODE_SERVER_DIR:-$root/.vscode-test/code-server}
marker="$dest/.installed-$version"
t0=$(date +%s)

log() { printf '[install-code-server] %s\n' "$*"; }

# ---- 1. Debian packages ---------------------------------------------------------------------------------------
apt_pkgs=(chromium fonts-dejavu-core ripgrep libkrb5-dev libxkbfile-dev libsecret-1-dev pkg-config build-essential python3 ca-certificates)
missing=()
for p in "${apt_pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then missing+=("$p"); fi
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "${MFD_SKIP_APT:-}" = 1 ]; then
    log "missing Debian packages: ${missing[*]} (MFD_SKIP_APT=1, not installing)"; exit 1
  fi
  sudo=()
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { log "need root or sudo to install: ${missing[*]}"; exit 1; }
    sudo=(sudo)
  fi
  log "apt-get install ${missing[*]}"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  log "apt packages installed ($(( $(date +%s) - t0 )) s)"
fi
command -v chromium >/dev/null || { log "chromium not on PATH after install"; exit 1; }
command -v rg >/dev/null || { log "rg not on PATH after install"; exit 1; }

# ---- 2. code-server -------------------------------------------------------------------------------------------
cs_bin="$dest/node_modules/.bin/code-server"
if [ -f "$marker" ] && [ -x "$cs_bin" ] && [ -f "$dest/node_modules/code-server/lib/vscode/out/server-main.js" ]; then
  log "code-server $version already installed in $dest ($(( $(date +%s) - t0 )) s)"
  exit 0
fi

node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$version" = 4.100.3 ] && [ "$node_major" != 20 ]; then
  log "warning: code-server $version declares engines.node 20, this is Node $(node --version)"
fi

mkdir -p "$dest"
rm -f "$dest"/.installed-*
cat > "$dest/package.json" <<EOF
{
  "name": "mfd-vscode-test-code-server",
  "private": true,
  "description": "code-server for the QEMU Multifd Inspector VS Code tests; installed by scripts/install-code-server.sh",
  "dependencies": { "code-server": "$version" }
}
EOF

# @vscode/ripgrep's postinstall downloads rg from a code host this machine cannot reach; it first looks in
# $(os.tmpdir())/vscode-ripgrep-cache-<its version>/ for the archive, so put Debian's rg there (same 13.0.0).
rg_pkg_version=${VSCODE_RIPGREP_VERSION:-1.15.11}
rg_release=${VSCODE_RIPGREP_RELEASE:-v13.0.0-10}
case "$(uname -m)" in
  x86_64) rg_target=x86_64-unknown-linux-musl ;;
  aarch64) rg_target=aarch64-unknown-linux-musl ;;
  *) log "unsupported architecture $(uname -m)"; exit 1 ;;
esac
tmpdir=$(node -p 'require("os").tmpdir()')
rg_cache="$tmpdir/vscode-ripgrep-cache-$rg_pkg_version"
rg_archive="$rg_cache/ripgrep-$rg_release-$rg_target.tar.gz"
if [ ! -s "$rg_archive" ]; then
  mkdir -p "$rg_cache"
  tar -czf "$rg_archive.tmp" -C "$(dirname "$(command -v rg)")" rg
  mv "$rg_archive.tmp" "$rg_archive"
fi

log "npm install code-server@$version into $dest (about 75 s on 2 cores)"
cd "$dest"
# unsafe_perm: code-server's postinstall refuses to run as root without it.
# yes: node-pty's postinstall runs `npx node-gyp`, which must not prompt.
npm_config_unsafe_perm=true npm_config_yes=true \
  npm install --no-audit --no-fund --foreground-scripts --loglevel=error >"$dest/install.log" 2>&1 || {
    tail -n 60 "$dest/install.log"; log "npm install failed; full log: $dest/install.log"; exit 1; }

# Smoke test; --config keeps it from writing ~/.config/code-server/config.yaml.
cfg=$(mktemp)
trap 'rm -f "$cfg"' EXIT
printf 'auth: none\n' > "$cfg"
out=$("$cs_bin" --config "$cfg" --version)
log "$out"
case "$out" in "$version "*) ;; *) log "unexpected version output"; exit 1 ;; esac
[ -x "$dest/node_modules/@vscode/ripgrep/bin/rg" ] || [ -x "$dest/node_modules/code-server/lib/vscode/node_modules/@vscode/ripgrep/bin/rg" ] ||
  log "warning: @vscode/ripgrep's rg not found under $dest (search in the workbench may not work)"
touch "$marker"
log "done ($(( $(date +%s) - t0 )) s)"
