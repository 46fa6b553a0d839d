#!/usr/bin/env bash
# Builds the read-only Debian root that local linux sandboxes run on (once; ~50 s and ~500 MB).
# Usage (as root): scripts/jail/make-rootfs.sh [target-dir]   default: .sandboxer/rootfs
# Without it the jail falls back to read-only binds of the host's /usr (see README, threat model).
set -euo pipefail
cd "$(dirname "$0")/../.."
target="$(realpath -m "${1:-${SANDBOXER_ROOTFS:-.sandboxer/rootfs}}")"
mkdir -p "$(dirname "$target")"
if [ -x "$target/usr/bin/bash" ] && [ -f "$target/.sandboxer-rootfs" ]; then
  echo "rootfs already present: $target"
  exit 0
fi
suite="${SANDBOXER_ROOTFS_SUITE:-bookworm}"
mirror="${SANDBOXER_ROOTFS_MIRROR:-http://deb.debian.org/debian}"
rm -rf "$target.partial"
debootstrap --variant=minbase --include=python3,python3-venv,nodejs,git,ca-certificates,curl,procps \
  "$suite" "$target.partial" "$mirror"
# Mount points bwrap binds over (the root itself is mounted read-only).
mkdir -p "$target.partial/workspace" "$target.partial/tmp"
printf 'sandbox:x:1000:1000:sandbox:/workspace:/bin/bash\n' >> "$target.partial/etc/passwd"
printf 'sandbox:x:1000:\n' >> "$target.partial/etc/group"
echo sandbox > "$target.partial/etc/hostname"
# No package caches or host-specific state in the image.
rm -rf "$target.partial/var/cache/apt/archives"/*.deb "$target.partial/var/lib/apt/lists"/*
date -u +%FT%TZ > "$target.partial/.sandboxer-rootfs"
rm -rf "$target"
mv "$target.partial" "$target"
echo "rootfs ready: $target"
