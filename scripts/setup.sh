#!/usr/bin/env bash
# Everything a fresh Debian 12 machine needs to run the samples and the tests; quick when already done.
#   - Debian packages: QEMU 10.0 (bookworm-backports) and 7.2 (bookworm, unpacked under .qemu/7.2), zstd,
#     chromium and code-server's build dependencies;
#   - npm ci, the build (CLI, extension, webview) and the .vsix;
#   - code-server 4.100.3 in .vscode-test/code-server (a real VS Code for the extension and UI tests).
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive

step() { printf '\n== %s\n' "$*" >&2; }

step "QEMU 10.0 and 7.2"
bash scripts/install-qemu.sh

step "npm ci"
npm ci --no-audit --no-fund --loglevel=error

if [ -f scripts/install-code-server.sh ]; then
  step "chromium and code-server"
  bash scripts/install-code-server.sh
fi

step "build"
npm run build --silent
if npm run | grep -q '^  package$'; then npm run package --silent; fi
echo "setup done" >&2
