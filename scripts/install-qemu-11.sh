#!/usr/bin/env bash
# QEMU 11.1 for the real-QEMU suite. No Debian 12 package has it: it comes from trixie-backports, installed into a
# Debian 13 root made with debootstrap under .qemu/trixie, and runs on this machine through that root's own dynamic
# loader (no chroot at run time). .qemu/11.1/qemu-system-x86_64 is the wrapper the tests start.
# The mirror is the one the machine's own Debian sources file names, so no host is written here.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rootfs="$root/.qemu/trixie"
wrapper="$root/.qemu/11.1/qemu-system-x86_64"

mirror() {
  local src=/etc/apt/sources.list.d/debian.sources
  if [ -f "$src" ]; then awk '/^URIs:/{print $2; exit}' "$src"; else awk '/^deb /{print $2; exit}' /etc/apt/sources.list; fi
}

if [ ! -x "$rootfs/usr/bin/qemu-system-x86_64" ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  m=$(mirror)
  rm -rf "$rootfs.partial"
  mkdir -p "$root/.qemu"
  debootstrap --variant=minbase trixie "$rootfs.partial" "$m" >/dev/null
  echo "deb $m trixie-backports main" > "$rootfs.partial/etc/apt/sources.list.d/backports.list"
  mount -t proc proc "$rootfs.partial/proc"
  trap 'umount "$rootfs.partial/proc" 2>/dev/null || true' EXIT
  chroot "$rootfs.partial" sh -c 'export DEBIAN_FRONTEND=noninteractive; apt-get update -qq &&
    apt-get install -y -qq --no-install-recommends -t trixie-backports qemu-system-x86 qemu-system-data seabios ipxe-qemu >/dev/null'
  umount "$rootfs.partial/proc"
  trap - EXIT
  mv "$rootfs.partial" "$rootfs"
fi

mkdir -p "$(dirname "$wrapper")"
cat > "$wrapper" <<EOF
#!/bin/sh
# QEMU 11.1 from the Debian 13 root, through that root's loader and libraries.
R="$rootfs"
export QEMU_MODULE_DIR="\$R/usr/lib/x86_64-linux-gnu/qemu"
exec "\$R/lib64/ld-linux-x86-64.so.2" --library-path "\$R/usr/lib/x86_64-linux-gnu:\$R/lib/x86_64-linux-gnu" \\
  "\$R/usr/bin/qemu-system-x86_64" -L "\$R/usr/share/qemu" -L "\$R/usr/share/seabios" "\$@"
EOF
chmod +x "$wrapper"
"$wrapper" --version | head -1
