#!/usr/bin/env bash
# QEMU's own scripts/analyze-migration.py, the independent oracle of the device-state tests, from Debian's qemu
# source package (10.0 from bookworm-backports; 7.2 from bookworm if that one cannot be had). Only the one script is
# kept, under .qemu/src/, and run as a separate program; the source lists go to a private apt state folder so the
# machine's own apt configuration is left as it was. The mirror is the machine's own.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dest="$root/.qemu/src"
[ -f "$dest/analyze-migration.py" ] && exit 0

src=/etc/apt/sources.list.d/debian.sources
if [ -f "$src" ]; then m=$(awk '/^URIs:/{print $2; exit}' "$src"); else m=$(awk '/^deb /{print $2; exit}' /etc/apt/sources.list); fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial"
printf 'deb-src %s bookworm-backports main\ndeb-src %s bookworm main\n' "$m" "$m" > "$work/sources.list"
apt_opts=(-qq -o "Dir::Etc::SourceList=$work/sources.list" -o Dir::Etc::SourceParts=/dev/null -o "Dir::State::Lists=$work/lists")
apt-get "${apt_opts[@]}" update
cd "$work"
for suite in bookworm-backports bookworm; do
  # The orig tarball holds scripts/; the Debian part may be missing from a mirror, which does not matter here.
  apt-get "${apt_opts[@]}" source --download-only "qemu/$suite" >/dev/null 2>&1 || true
  orig=$(ls qemu_*.orig.tar.* 2>/dev/null | sort -V | tail -1 || true)
  [ -n "$orig" ] && break
done
[ -n "${orig:-}" ] || { echo "install-qemu-source: no qemu source package could be downloaded" >&2; exit 1; }
tar -xf "$orig" --wildcards '*/scripts/analyze-migration.py'
mkdir -p "$dest"
cp "$(find . -path '*/scripts/analyze-migration.py' | head -1)" "$dest/analyze-migration.py"
echo "${orig%%.orig*}" > "$dest/VERSION"
echo "analyze-migration.py from $(cat "$dest/VERSION")"
