#!/usr/bin/env bash
# Debian's libvirt (9.0, bookworm), for the test that saves a real domain with `virsh save`.
# Only the packages and the two system accounts its QEMU driver looks up are set up here: no daemon is started
# and nothing under /etc/libvirt is changed. The test runs its own libvirtd in a private mount namespace with
# its own qemu.conf (test/qemu/libvirtDaemon.ts), so each save image format can be made and nothing on the host
# is touched. lzop, bzip2 and xz are the compressors libvirt runs for those formats.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq --no-install-recommends libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients \
  bzip2 xz-utils lzop util-linux >/dev/null
getent group kvm >/dev/null || groupadd -r kvm
getent group libvirt-qemu >/dev/null || groupadd -r libvirt-qemu
getent passwd libvirt-qemu >/dev/null || useradd -r -g libvirt-qemu -G kvm -d /var/lib/libvirt -s /usr/sbin/nologin libvirt-qemu
