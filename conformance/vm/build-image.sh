#!/usr/bin/env bash
# Builds the VM test stage's guest once per machine: a Debian 12 root filesystem (debootstrap from apt's configured
# mirror) with systemd as PID 1 on a pure cgroup v2 hierarchy, runc, containerd, podman, criu and an unprivileged user whose
# user manager gets delegated cgroup controllers; its kernel; and a small busybox initrd that mounts the image and
# hands over to systemd (Debian's own initrd costs ~20 s more under TCG).
#   conformance/vm/build-image.sh        prints the cache directory (built if missing)
# Cache: $OCIRUN_VM_CACHE (default /var/cache/ocirun-vm)/<sha256 of this file>/ holding rootfs.img, vmlinuz,
# initrd.gz. Any change to this file (the recipe) makes a new key, hence a rebuild; older keys are removed.
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "build-image: run as root" >&2; exit 1; }
self=$(readlink -f "$0")
cache_root=${OCIRUN_VM_CACHE:-/var/cache/ocirun-vm}
key=$(sha256sum "$self" | cut -c1-16)
dir=$cache_root/$key
mkdir -p "$cache_root"
exec 9>"$cache_root/.lock"
flock 9   # one build per machine; a second caller waits and then finds the image
if [ -f "$dir/complete" ]; then echo "$dir"; exit 0; fi
for old in "$cache_root"/*/; do
  case ${old%/} in "$dir" | "$cache_root"/stage-*) ;; *) rm -rf "${old%/}" ;; esac
done

mirror=${OCIRUN_VM_MIRROR:-$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)}
mirror=${mirror:-http://deb.debian.org/debian}
t0=$SECONDS
# The debootstrapped tree (keyed by suite, mirror and packages) is kept: a change to the rest of the recipe rebuilds
# in ~1 min instead of ~5 (the download and unpacking are most of the time). Other keys' trees are removed.
pkgs=systemd,systemd-sysv,dbus,dbus-user-session,libpam-systemd,linux-image-amd64,busybox-static,libseccomp2,runc
pkgs+=,jq,criu,iptables,containerd,uidmap,kmod,procps,iproute2,util-linux
# podman 4.3 and conmon (checkpoint.sh); debootstrap takes Depends only (no Recommends) and drops virtual packages:
# netavark is the container-network-stack that podman's containers-common needs (4 MB, not CNI's 45 MB).
pkgs+=,podman,conmon,netavark
work=$cache_root/stage-$(echo "bookworm $mirror $pkgs" | sha256sum | cut -c1-16)
root=$work/root
for st in "$cache_root"/stage-*; do [ "$st" = "$work" ] || rm -rf "$st"; done
rm -rf "$work/out" "$work/initrd"
mkdir -p "$work"
echo "build-image: debootstrap bookworm from $mirror into $root" >&2
# INITRD=No: the kernel's postinst hook skips making Debian's initramfs (we boot our own).
if [ ! -f "$work/debootstrap.done" ]; then
  rm -rf "$root"
  INITRD=No DEBIAN_FRONTEND=noninteractive timeout 1200 debootstrap --variant=minbase --include="$pkgs" \
    bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 \
    || { tail -30 "$work/debootstrap.log" >&2; echo "build-image: debootstrap failed" >&2; exit 1; }
  touch "$work/debootstrap.done"
  echo "build-image: debootstrap done in $((SECONDS - t0)) s" >&2
fi
trap 'echo "build-image: failed at line $LINENO" >&2' ERR

# --- guest configuration ---
echo ocirun-vm >"$root/etc/hostname"
printf '/dev/vda / ext4 rw,relatime 0 1\n' >"$root/etc/fstab"
chroot "$root" passwd -d root >/dev/null
grep -q '^tester:' "$root/etc/passwd" || chroot "$root" useradd -m -u 1000 -s /bin/bash tester
echo 'tester:100000:65536' >"$root/etc/subuid"
echo 'tester:100000:65536' >"$root/etc/subgid"
mkdir -p "$root/var/lib/systemd/linger" && touch "$root/var/lib/systemd/linger/tester"
mkdir -p "$root/etc/systemd/system/user@.service.d"
printf '[Service]\nDelegate=cpu cpuset io memory pids\n' >"$root/etc/systemd/system/user@.service.d/delegate.conf"
# Nothing at boot that the tests don't need: no gettys, timers, containerd (the tests start it).
for u in getty@tty1.service serial-getty@ttyS0.service apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer \
         fstrim.timer systemd-timesyncd.service containerd.service; do
  ln -sf /dev/null "$root/etc/systemd/system/$u"
done
rm -f "$root/etc/systemd/system/multi-user.target.wants/containerd.service"
# The test entry: mount the 9p share, run its guest.sh (output to the share and the console), power off.
cat >"$root/usr/local/sbin/ocirun-vm-entry" <<'EOF'
#!/bin/sh
mkdir -p /mnt/share
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 share /mnt/share || { echo "vm-entry: no 9p share" >/dev/ttyS0; systemctl poweroff -f; exit 1; }
if [ -x /mnt/share/guest.sh ]; then
  /mnt/share/guest.sh 2>&1 | tee /mnt/share/output.log >/dev/ttyS0
  rc=$(cat /mnt/share/.rc 2>/dev/null || echo 1)
else
  echo "vm-entry: /mnt/share/guest.sh missing" >/dev/ttyS0; rc=1
fi
echo "$rc" >/mnt/share/rc
sync
umount /mnt/share
systemctl poweroff -f
EOF
chmod 0755 "$root/usr/local/sbin/ocirun-vm-entry"
cat >"$root/etc/systemd/system/ocirun-vm-test.service" <<'EOF'
[Unit]
Description=ocirun VM test stage
# As early as the tests allow: the bus, logind and the lingering user's manager (not all of multi-user.target).
DefaultDependencies=no
After=basic.target dbus.service systemd-logind.service systemd-user-sessions.service user@1000.service
Wants=dbus.service systemd-logind.service user@1000.service
[Service]
Type=oneshot
ExecStart=/usr/local/sbin/ocirun-vm-entry
StandardOutput=journal
[Install]
WantedBy=multi-user.target
EOF
mkdir -p "$root/etc/systemd/system/multi-user.target.wants"
ln -sf /etc/systemd/system/ocirun-vm-test.service "$root/etc/systemd/system/multi-user.target.wants/ocirun-vm-test.service"
chroot "$root" apt-get clean
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin

# --- kernel and initrd ---
kver=$(basename "$(ls -d "$root"/lib/modules/* | head -1)")
mkdir -p "$work/out"
cp "$root/boot/vmlinuz-$kver" "$work/out/vmlinuz"
ird=$work/initrd
mkdir -p "$ird"/{bin,dev,proc,sys,newroot,mods}
cp "$root/bin/busybox" "$ird/bin/busybox"
# Modules the initrd needs to mount /dev/vda (ext4 on virtio-blk), in dependency order.
for m in virtio_pci virtio_blk ext4; do
  chroot "$root" /sbin/modprobe -S "$kver" --show-depends "$m" || { echo "build-image: no module $m for $kver" >&2; exit 1; }
done | awk -v root="$root" '$1 == "insmod" && !seen[$2]++ {print root $2}' >"$work/modlist"
: >"$ird/mods/order"
while read -r m; do
  b=$(basename "$m")
  case "$b" in
    *.ko.xz) xz -dc "$m" >"$ird/mods/${b%.xz}"; b=${b%.xz} ;;
    *.ko.zst) zstd -qdc "$m" >"$ird/mods/${b%.zst}"; b=${b%.zst} ;;
    *) cp "$m" "$ird/mods/$b" ;;
  esac
  echo "$b" >>"$ird/mods/order"
done <"$work/modlist"
cat >"$ird/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t devtmpfs dev /dev
/bin/busybox mount -t sysfs sys /sys
while read -r m; do /bin/busybox insmod /mods/$m 2>/dev/null; done </mods/order
i=0
while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do /bin/busybox sleep 0.1; i=$((i+1)); done
/bin/busybox mount -t ext4 -o rw /dev/vda /newroot || { echo "initrd: cannot mount /dev/vda"; /bin/busybox poweroff -f; }
/bin/busybox umount /proc /sys
/bin/busybox mount --move /dev /newroot/dev
exec /bin/busybox switch_root /newroot /sbin/init
EOF
chmod 0755 "$ird/init"
(cd "$ird" && find . | "$root/bin/busybox" cpio -o -H newc 2>/dev/null | gzip -1 >"$work/out/initrd.gz")

# --- the image: ext4 made straight from the directory (no loop device) ---
truncate -s 4G "$work/out/rootfs.img"
mkfs.ext4 -q -F -L ocirun-vm -d "$root" "$work/out/rootfs.img"
mkdir -p "$dir"
mv "$work/out"/* "$dir/"
echo "$kver" >"$dir/kernel-version"
rm -rf "$work/out" "$work/initrd"
echo "built $(date -u +%FT%TZ) in $((SECONDS - t0)) s" >"$dir/complete"
echo "build-image: $dir ready in $((SECONDS - t0)) s (kernel $kver)" >&2
echo "$dir"
