#!/usr/bin/env bash
# Makes an OCI bundle with a busybox rootfs from Debian's busybox-static.
#   scripts/make-bundle.sh DIR [OCIRUN]   -> DIR/config.json (from `ocirun spec`) and DIR/rootfs
set -euo pipefail
dir=${1:?usage: $0 DIR [OCIRUN]}
ocirun=$(readlink -f "${2:-$(dirname "$0")/../ocirun}")
busybox=$(command -v busybox || true)
[ -x /bin/busybox ] && busybox=/bin/busybox
[ -n "$busybox" ] || { echo "make-bundle: busybox not found (apt-get install busybox-static)" >&2; exit 1; }
rm -rf "$dir"
mkdir -p "$dir/rootfs"/{bin,sbin,etc,proc,sys,dev,tmp,root,usr/bin,usr/sbin,var}
cp "$busybox" "$dir/rootfs/bin/busybox"
for applet in $("$busybox" --list); do
  [ "$applet" = busybox ] || ln -sf busybox "$dir/rootfs/bin/$applet"
done
cat > "$dir/rootfs/etc/passwd" <<'P'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
P
cat > "$dir/rootfs/etc/group" <<'G'
root:x:0:
nogroup:x:65534:
G
chmod 1777 "$dir/rootfs/tmp"
(cd "$dir" && "$ocirun" spec)
