#!/usr/bin/env bash
# Installs the two QEMUs the real-QEMU suite needs:
#   - QEMU 10.0 from bookworm-backports, installed normally (qemu-system-x86_64 on PATH);
#   - QEMU 7.2 from bookworm, unpacked (not installed) under .qemu/7.2, since both cannot be installed at once.
# The backports sources entry is derived from the machine's own Debian sources file, so no host is named here.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dest="$root/.qemu"

if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  src=/etc/apt/sources.list.d/debian.sources
  if [ -f "$src" ]; then
    # deb822: copy the stanza that carries 'bookworm' and rename its suites to bookworm-backports.
    awk 'BEGIN{RS="";ORS="\n\n"} /Suites:[^\n]*bookworm( |$|\n)/ {print; exit}' "$src" |
      sed -E 's/^Suites:.*/Suites: bookworm-backports/' > /etc/apt/sources.list.d/mfd-backports.sources
  else
    grep -E '^deb .* bookworm .*main' /etc/apt/sources.list | head -1 |
      sed -E 's/ bookworm / bookworm-backports /' > /etc/apt/sources.list.d/mfd-backports.list
  fi
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t bookworm-backports qemu-system-x86 qemu-utils seabios >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq zstd >/dev/null

if [ ! -x "$dest/7.2/usr/bin/qemu-system-x86_64" ]; then
  tmp=$(mktemp -d)
  ( cd "$tmp" && apt-get download -qq qemu-system-x86/bookworm qemu-system-data/bookworm qemu-system-common/bookworm )
  mkdir -p "$dest/7.2"
  for deb in "$tmp"/*.deb; do dpkg -x "$deb" "$dest/7.2"; done
  rm -rf "$tmp"
fi
qemu-system-x86_64 --version | head -1
"$dest/7.2/usr/bin/qemu-system-x86_64" -L "$dest/7.2/usr/share/qemu" --version | head -1
