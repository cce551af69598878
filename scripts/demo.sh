#!/usr/bin/env bash
# The main job on the bundled samples: decode and replay each real capture with the CLI, then open samples/
# in a real VS Code (code-server) with the extension installed from its .vsix, and print the URL to open.
#   bash scripts/demo.sh               CLI, then VS Code until Ctrl-C
#   bash scripts/demo.sh --no-vscode   CLI only
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out=${MFD_DEMO_OUT:-$(mktemp -d -t mfd-demo-XXXXXX)}

for f in samples/*.mfd samples/*.pcap; do
  name=$(basename "$f"); name=${name%.*}
  printf '\n=== mfd inspect %s\n' "$f"
  node dist/mfd.js inspect "$f"
  printf '\n=== mfd replay %s --out %s\n' "$f" "$out/$name"
  node dist/mfd.js replay "$f" --out "$out/$name" --force
done

[ "${1:-}" = "--no-vscode" ] && exit 0
vsix=dist-vsix/qemu-multifd-inspector.vsix
cs=.vscode-test/code-server/node_modules/.bin/code-server
if [ ! -f "$vsix" ] || [ ! -x "$cs" ]; then
  echo "VS Code part skipped: run bash scripts/setup.sh first (it builds $vsix and installs code-server)." >&2
  exit 0
fi
state=$root/.vscode-test/demo
mkdir -p "$state/user/User"
printf '{ "workbench.startupEditor": "none", "security.workspace.trust.enabled": false }\n' > "$state/user/User/settings.json"
printf 'bind-addr: 127.0.0.1:%s\nauth: none\ncert: false\n' "${MFD_DEMO_PORT:-8080}" > "$state/config.yaml"
"$cs" --config "$state/config.yaml" --user-data-dir "$state/user" --extensions-dir "$state/extensions" --install-extension "$vsix" --force >/dev/null
echo
echo "Open http://127.0.0.1:${MFD_DEMO_PORT:-8080}/?folder=$root/samples in a browser (Ctrl-C here stops the server)."
echo "Replayed RAM images are in $out."
exec "$cs" --config "$state/config.yaml" --user-data-dir "$state/user" --extensions-dir "$state/extensions" \
  --disable-telemetry --disable-update-check --disable-workspace-trust --ignore-last-opened "$root/samples"
