#!/usr/bin/env bash
# `make test-vm`: the VM test stage. Boots the Debian 12 guest of build-image.sh (pure cgroup v2, systemd as PID 1)
# under qemu with ./ocirun and the guest tests on a 9p share, streams the guest's TAP output, and exits with the
# guest tests' status. Every stage has a time limit.
#   conformance/vm/run.sh [GUEST_SCRIPT]      default conformance/vm/guest/tests.sh; FILTER=regex picks tests
# Env: OCIRUN (binary, default ./ocirun), OCIRUN_VM_ACCEL (tcg|kvm; default tcg unless a probe boots with kvm),
#      OCIRUN_VM_TIMEOUT (seconds for boot + tests, default 1500), OCIRUN_VM_CPUS (2), OCIRUN_VM_MEM (MiB, 2048),
#      OCIRUN_VM_CGROUP (unified, the default; hybrid: systemd's v1 hierarchies + cgroup2 at /sys/fs/cgroup/unified).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
source "$repo/conformance/lib/common.sh"
[ "$(id -u)" = 0 ] || conf_die "run as root"
conf_need qemu-system-x86 debootstrap busybox-static e2fsprogs || conf_die "installing the VM stage's packages failed"
script=${1:-$here/guest/tests.sh}
ocirun=$(conf_ocirun)
t0=$SECONDS
img=$(timeout 1800 "$here/build-image.sh") || conf_die "building the guest image failed"
echo "# vm: image $img ready in $((SECONDS - t0)) s ($(cat "$img/complete"))"

share=$(mktemp -d /var/tmp/ocirun-vm-share.XXXXXX)
console=$share.console
qpid=
cleanup() {
  [ -n "$qpid" ] && kill "$qpid" 2>/dev/null && wait "$qpid" 2>/dev/null
  rm -rf "$share" "$console"
}
trap cleanup EXIT INT TERM
cp "$ocirun" "$share/ocirun"
mkdir -p "$share/lib" && cp "$repo/conformance/lib/common.sh" "$share/lib/"
cp -r "$here/guest" "$share/guest"
cp "$script" "$share/tests.sh"
# guest.sh: what the image's entry service runs from the share; its status goes to .rc.
cat > "$share/guest.sh" <<EOF
#!/bin/bash
export FILTER='${FILTER:-}' PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
echo "# vm: guest up after \$(cut -d' ' -f1 /proc/uptime) s"
systemd-analyze time 2>/dev/null | head -1 | sed 's/^/# vm: /'
systemd-analyze blame 2>/dev/null | head -5 | sed 's/^ */# vm: blame: /'
install -m 0755 /mnt/share/ocirun /usr/local/bin/ocirun
cd /mnt/share && timeout ${OCIRUN_VM_TEST_TIMEOUT:-1200} bash /mnt/share/tests.sh
echo \$? > /mnt/share/.rc
EOF
chmod 0755 "$share/guest.sh"

case ${OCIRUN_VM_CGROUP:-unified} in
  unified) unified_hierarchy=1 ;;
  hybrid) unified_hierarchy=0 ;;
  *) conf_die "OCIRUN_VM_CGROUP: unified or hybrid, not '$OCIRUN_VM_CGROUP'" ;;
esac
accel=${OCIRUN_VM_ACCEL:-tcg}
case $accel in
  kvm) accel_args=(-accel kvm -cpu host) ;;
  *) accel_args=(-accel tcg,thread=multi -cpu max) ;;
esac
echo "# vm: booting ($accel, ${OCIRUN_VM_CPUS:-2} cpus, ${OCIRUN_VM_MEM:-2048} MiB)"
t1=$SECONDS
# The image is never written: snapshot=on keeps the guest's writes in a temporary overlay.
: >"$console"
timeout -k 10 "${OCIRUN_VM_TIMEOUT:-1500}" qemu-system-x86_64 "${accel_args[@]}" \
  -smp "${OCIRUN_VM_CPUS:-2}" -m "${OCIRUN_VM_MEM:-2048}" -nodefaults -no-user-config -display none -no-reboot \
  -kernel "$img/vmlinuz" -initrd "$img/initrd.gz" \
  -append "console=ttyS0 root=/dev/vda rw quiet loglevel=3 systemd.show_status=0 systemd.unified_cgroup_hierarchy=$unified_hierarchy panic=-1" \
  -drive "file=$img/rootfs.img,format=raw,if=virtio,snapshot=on,cache=unsafe" \
  -virtfs "local,path=$share,mount_tag=share,security_model=none,id=share" \
  -serial "file:$console" -monitor none </dev/null >"$share.qemu.log" 2>&1 &
qpid=$!
# The guest's console (its tests' output, tee'd there) is shown live.
tail -n +1 --pid="$qpid" -F "$console" 2>/dev/null | sed -u -e 's/\r$//' -e '/^[[:space:]]*$/d' &
tpid=$!
wait "$qpid"; qrc=$?; qpid=
wait "$tpid" 2>/dev/null
echo "# vm: qemu exited ($qrc) after $((SECONDS - t1)) s"
[ "$qrc" -eq 124 ] && echo "# vm: timed out after ${OCIRUN_VM_TIMEOUT:-1500} s"
[ -s "$share.qemu.log" ] && sed 's/^/# qemu: /' "$share.qemu.log"
rm -f "$share.qemu.log"
rc=$(cat "$share/rc" 2>/dev/null)
if [ -z "$rc" ]; then
  echo "Bail out! the guest tests did not report a status"
  exit 1
fi
grep -q '^1\.\.[0-9]' "$console" 2>/dev/null || { echo "# vm: the console missed the output; from the share:"; cat "$share/output.log"; }
echo "# vm: guest tests exit status $rc; stage took $((SECONDS - t0)) s"
exit "$rc"
