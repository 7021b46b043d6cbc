# config-linux.md: namespaces, user namespace mappings, devices, cgroups, sysctl, seccomp, rootfs propagation,
# masked and readonly paths, personality, time namespace.

ns_file() { case $1 in network) echo net ;; mount) echo mnt ;; *) echo "$1" ;; esac; }

# ---- Namespaces -------------------------------------------------------------------------------------------
t_ns_new() {
  local type=$1 file; file=$(ns_file "$1")
  new_bundle
  cfg '.linux.namespaces |= (map(select(.type != $t)) + [{type: $t}])' --arg t "$type"
  in_ct "readlink /proc/self/ns/$file"
  assert_ne "$OUT" "$(host_ns "$file")" "$type namespace of the container"
  [ -n "$OUT" ] || fail "no /proc/self/ns/$file"
}
for _t in pid network mount ipc uts cgroup; do
  spec_test "namespaces.$_t-new" MUST config-linux.md#namespaces "a $_t namespace without path is a new namespace" t_ns_new "$_t"
done

t_ns_inherit() {
  local type=$1 file; file=$(ns_file "$1")
  new_bundle
  cfg '.linux.namespaces |= map(select(.type != $t))' --arg t "$type"
  [ "$type" = uts ] && cfg 'del(.hostname)'
  in_ct "readlink /proc/self/ns/$file"
  assert_eq "$OUT" "$(host_ns "$file")" "$type namespace of a container without a $type entry"
}
for _t in pid network ipc uts cgroup; do
  spec_test "namespaces.$_t-inherit" MUST config-linux.md#namespaces "no $_t entry: the container shares the runtime's $_t namespace" t_ns_inherit "$_t"
done

# persistent_ns TYPE FILE: a namespace of TYPE bound to FILE (unshare --TYPE=FILE).
persistent_ns() {
  touch "$2"
  unshare "--$1=$2" true 2>/dev/null || skip "cannot make a persistent $1 namespace (unshare --$1=FILE)"
  at_exit "umount '$2'"
}

t_ns_path() {
  local type=$1 file; file=$(ns_file "$1")
  new_bundle
  local opt=$type; [ "$type" = network ] && opt=net
  persistent_ns "$opt" "$B/ns-$file"
  local want; want=$(nsenter "--$opt=$B/ns-$file" readlink /proc/self/ns/"$file")
  cfg '(.linux.namespaces[] | select(.type == $t)) |= {type: $t, path: $p}' --arg t "$type" --arg p "$B/ns-$file"
  [ "$type" = uts ] && cfg 'del(.hostname)'
  in_ct "readlink /proc/self/ns/$file"
  assert_eq "$OUT" "$want" "$type namespace of the container (path $B/ns-$file)"
}
for _t in network ipc uts; do
  spec_test "namespaces.$_t-path" MUST config-linux.md#namespaces "a $_t namespace with path: the container joins that namespace" t_ns_path "$_t"
done

t_ns_pid_path() {
  new_bundle; args sleep 30
  create_ok; start_ok
  local other; other=$(st pid)
  local want; want=$(readlink "/proc/$other/ns/pid")
  new_bundle
  cfg '(.linux.namespaces[] | select(.type == "pid")) |= {type: "pid", path: $p}' --arg p "/proc/$other/ns/pid"
  in_ct 'readlink /proc/self/ns/pid; ps -o comm | grep -c sleep'
  assert_eq "$(sed -n 1p <<<"$OUT")" "$want" "pid namespace (joined that of another container)"
  assert_eq "$(sed -n 2p <<<"$OUT")" 1 "the other container's sleep is visible"
}
spec_test namespaces.pid-path MUST config-linux.md#namespaces "a pid namespace with path: the container joins it" t_ns_pid_path

t_ns_wrong_type() {
  new_bundle; args true
  persistent_ns uts "$B/ns-uts"
  cfg '(.linux.namespaces[] | select(.type == "network")) |= {type: "network", path: $p}' --arg p "$B/ns-uts"
  ct_create && fail "create joined a uts namespace file as a network namespace"
  state_gone "$ID" || fail "container left behind"
}
spec_test namespaces.path-wrong-type MUST config-linux.md#namespaces "a path that is not a namespace of that type is an error" t_ns_wrong_type

t_ns_duplicate() {
  new_bundle; args true
  cfg '.linux.namespaces += [{"type": "network"}]'
  ct_create && fail "create accepted two network entries"
  state_gone "$ID" || fail "container left behind"
}
spec_test namespaces.duplicate MUST config-linux.md#namespaces "duplicated namespace types are an error" t_ns_duplicate

t_ns_user() {
  new_bundle
  userns_config
  in_ct 'cat /proc/self/uid_map /proc/self/gid_map; readlink /proc/self/ns/user; id -u'
  assert_eq "$(sed -n 1p <<<"$OUT" | xargs)" "0 100000 65536" "uid_map"
  assert_eq "$(sed -n 2p <<<"$OUT" | xargs)" "0 100000 65536" "gid_map"
  assert_ne "$(sed -n 3p <<<"$OUT")" "$(host_ns user)" "user namespace"
  assert_eq "$(sed -n 4p <<<"$OUT")" 0 "uid in the container"
}
spec_test namespaces.user-mappings MUST config-linux.md#user-namespace-mappings "a user namespace gets uidMappings and gidMappings" t_ns_user

t_ns_user_no_chown() {
  new_bundle
  userns_config
  in_ct 'true'
  assert_eq "$(stat -c %u:%g "$B/rootfs/bin/busybox")" 0:0 "host owner of the rootfs after running with a mapping"
}
spec_test namespaces.user-no-chown SHOULD config-linux.md#user-namespace-mappings "the runtime does not chown the rootfs to realize the mapping" t_ns_user_no_chown

t_ns_time() {
  since 1.1.0
  new_bundle
  cfg '.linux.namespaces += [{"type": "time"}] | .linux.timeOffsets = {"monotonic": {"secs": 864000, "nanosecs": 0}, "boottime": {"secs": 864000, "nanosecs": 0}}'
  sh_args 'readlink /proc/self/ns/time; cut -d. -f1 /proc/uptime'
  run_or_refused "time namespace offsets"
  assert_ne "$(sed -n 1p <<<"$OUT")" "$(readlink /proc/$$/ns/time)" "time namespace"
  [ "$(sed -n 2p <<<"$OUT")" -ge 864000 ] || fail "uptime $(sed -n 2p <<<"$OUT") is not offset by 864000 s"
}
spec_test namespaces.time-offsets MUST config-linux.md#namespaces "a time namespace applies timeOffsets" t_ns_time

# ---- Devices ----------------------------------------------------------------------------------------------
t_devices() {
  new_bundle
  cfg '.linux.devices = [{"path": "/dev/conf-null", "type": "c", "major": 1, "minor": 3, "fileMode": 416, "uid": 1, "gid": 2},
                         {"path": "/dev/conf-loop", "type": "b", "major": 7, "minor": 200, "fileMode": 384, "uid": 0, "gid": 0},
                         {"path": "/dev/conf-fifo", "type": "p", "fileMode": 420}]'
  in_ct 'stat -c "%n %F %t:%T %a %u:%g" /dev/conf-null /dev/conf-loop /dev/conf-fifo'
  assert_eq "$(sed -n 1p <<<"$OUT")" "/dev/conf-null character special file 1:3 640 1:2" "char device"
  assert_eq "$(sed -n 2p <<<"$OUT")" "/dev/conf-loop block special file 7:c8 600 0:0" "block device"
  assert_eq "$(sed -n 3p <<<"$OUT" | cut -d' ' -f1-3)" "/dev/conf-fifo fifo 0:0" "fifo"
}
spec_test devices.created MUST config-linux.md#devices "linux.devices are available with type, major:minor, fileMode, uid, gid" t_devices

t_devices_conflict() {
  new_bundle; args true
  echo "a regular file" > "$B/rootfs/etc/conf-dev"
  cfg '.linux.devices = [{"path": "/etc/conf-dev", "type": "c", "major": 1, "minor": 3}]'
  ct_create && fail "create replaced or accepted a regular file at a device path"
  state_gone "$ID" || fail "container left behind"
}
spec_test devices.conflict MUST config-linux.md#devices "an existing file at a device path that is not that device is an error" t_devices_conflict

t_default_devices() {
  new_bundle
  in_ct 'for d in null zero full random urandom tty; do stat -c "%n %F %t:%T" /dev/$d 2>&1; done'
  local want="/dev/null character special file 1:3
/dev/zero character special file 1:5
/dev/full character special file 1:7
/dev/random character special file 1:8
/dev/urandom character special file 1:9
/dev/tty character special file 5:0"
  assert_eq "$OUT" "$want" "default devices"
}
spec_test devices.defaults MUST config-linux.md#default-devices "/dev/null, zero, full, random, urandom and tty are supplied" t_default_devices

t_default_devices_work() {
  new_bundle
  in_ct 'echo x > /dev/null && head -c 4 /dev/zero | od -An -tx1 | xargs && head -c 8 /dev/urandom | wc -c'
  assert_eq "$(tr '\n' ' ' <<<"$OUT")" "00 00 00 00 8 " "reading /dev/zero and /dev/urandom"
}
spec_test devices.defaults-usable MUST config-linux.md#default-devices "the default devices work (device cgroup allows them)" t_default_devices_work

t_default_ptmx() {
  new_bundle
  in_ct 'if [ -L /dev/ptmx ]; then echo "link $(readlink /dev/ptmx)"; else echo "same $(stat -c %d:%i /dev/ptmx) $(stat -c %d:%i /dev/pts/ptmx)"; fi'
  case $OUT in
    "link pts/ptmx" | "link /dev/pts/ptmx") ;;
    same*) set -- $OUT; [ "$2" = "$3" ] || fail "/dev/ptmx ($2) is not /dev/pts/ptmx ($3)" ;;
    *) fail "/dev/ptmx: $OUT" ;;
  esac
}
spec_test devices.ptmx MUST config-linux.md#default-devices "/dev/ptmx is a symlink or bind mount of /dev/pts/ptmx" t_default_ptmx

# ---- Control groups ---------------------------------------------------------------------------------------
# cg_run FILTER SCRIPT: runs a container with cgroupsPath /conformance-ID and FILTER applied to config,
# leaves it running and sets PID and CG (the path). Skips until the runtime has a cgroup manager (ocirun).
cg_start() {
  pending cgroups
  new_bundle; args sleep 30
  CG=/conformance-$ID
  cfg ".linux.cgroupsPath = \$p | $1" --arg p "$CG"
  create_ok; start_ok
  PID=$(st pid)
}

t_cgroups_path() {
  cg_start '.'
  local c
  for c in memory pids cpu; do assert_eq "$(cgroup_of "$PID" $c)" "$CG" "$c cgroup of the container process"; done
}
spec_test cgroups.path MUST config-linux.md#cgroups-path "an absolute cgroupsPath is the container's cgroup (relative to the mount points)" t_cgroups_path

t_cgroups_memory() {
  cg_start '.linux.resources.memory = {"limit": 67108864, "reservation": 33554432}'
  assert_eq "$(cat "$(cgroup_file memory "$CG" memory.limit_in_bytes)")" 67108864 "memory.limit_in_bytes"
  assert_eq "$(cat "$(cgroup_file memory "$CG" memory.soft_limit_in_bytes)")" 33554432 "memory.soft_limit_in_bytes"
}
spec_test cgroups.memory MUST config-linux.md#memory "memory.limit and reservation are applied" t_cgroups_memory

t_cgroups_cpu() {
  cg_start '.linux.resources.cpu = {"shares": 512, "quota": 50000, "period": 100000}'
  assert_eq "$(cat "$(cgroup_file cpu "$CG" cpu.shares)")" 512 "cpu.shares"
  assert_eq "$(cat "$(cgroup_file cpu "$CG" cpu.cfs_quota_us)")" 50000 "cpu.cfs_quota_us"
  assert_eq "$(cat "$(cgroup_file cpu "$CG" cpu.cfs_period_us)")" 100000 "cpu.cfs_period_us"
}
spec_test cgroups.cpu MUST config-linux.md#cpu "cpu shares, quota and period are applied" t_cgroups_cpu

t_cgroups_cpuset() {
  cg_start '.linux.resources.cpu = {"cpus": "0"}'
  assert_eq "$(cat "$(cgroup_file cpuset "$CG" cpuset.cpus)")" 0 "cpuset.cpus"
  assert_eq "$(awk '/^Cpus_allowed_list/ { print $2 }' "/proc/$PID/status")" 0 "Cpus_allowed_list of the process"
}
spec_test cgroups.cpuset MUST config-linux.md#cpu "cpu.cpus pins the container to those CPUs" t_cgroups_cpuset

t_cgroups_pids() {
  cg_start '.linux.resources.pids = {"limit": 42}'
  assert_eq "$(cat "$(cgroup_file pids "$CG" pids.max)")" 42 "pids.max"
}
spec_test cgroups.pids MUST config-linux.md#pids "pids.limit is applied" t_cgroups_pids

t_cgroups_devices() {
  pending cgroups
  new_bundle
  caps CAP_MKNOD CAP_SYSLOG CAP_DAC_OVERRIDE
  # The base config denies every device; /dev/kmsg (1:11) is not one of the default devices.
  in_ct 'mknod /tmp/kmsg c 1 11 2>&1 || true; if (exec 3</tmp/kmsg) 2>/tmp/err; then echo opened; else cat /tmp/err; fi'
  assert_contains "$OUT" "not permitted" "opening a char 1:11 node under a deny-all device rule"
}
spec_test cgroups.devices MUST config-linux.md#allowed-device-list "linux.resources.devices (deny all) is enforced" t_cgroups_devices

# ---- Sysctl -----------------------------------------------------------------------------------------------
t_sysctl() {
  new_bundle
  cfg '.linux.sysctl = {"net.ipv4.ip_forward": "1", "kernel.msgmax": "12345"}'
  in_ct 'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/msgmax'
  assert_eq "$(tr '\n' ' ' <<<"$OUT")" "1 12345 " "net.ipv4.ip_forward kernel.msgmax in the container"
  assert_ne "$(cat /proc/sys/kernel/msgmax)" 12345 "host's kernel.msgmax (must be untouched)"
}
spec_test sysctl MUST config-linux.md#sysctl "linux.sysctl values are set in the container's namespaces" t_sysctl

# ---- Seccomp ----------------------------------------------------------------------------------------------
t_seccomp() {
  pending seccomp
  new_bundle
  cfg '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
                         "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}'
  in_ct 'mkdir /tmp/d 2>&1 || true; [ -d /tmp/d ] && echo created || echo refused'
  assert_contains "$OUT" "not permitted" "mkdir under SCMP_ACT_ERRNO"
  assert_contains "$OUT" refused "directory"
}
spec_test seccomp.errno MUST config-linux.md#seccomp "seccomp SCMP_ACT_ERRNO makes the listed syscalls fail with EPERM" t_seccomp

t_seccomp_errno_ret() {
  pending seccomp
  new_bundle
  cfg '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW",
                         "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 18}]}'
  in_ct 'mkdir /tmp/d 2>&1 || true'
  assert_contains "$OUT" "cross-device" "mkdir with errnoRet 18 (EXDEV)"
}
spec_test seccomp.errnoRet MUST config-linux.md#seccomp "seccomp errnoRet is the errno returned" t_seccomp_errno_ret

t_seccomp_args() {
  pending seccomp
  new_bundle
  # personality(0xffffffff) queries; deny only PER_LINUX32 (8) through an argument comparison.
  cfg '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW",
                         "syscalls": [{"names": ["personality"], "action": "SCMP_ACT_ERRNO",
                                       "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]}]}'
  in_ct 'linux32 true 2>&1 && echo allowed || echo denied; linux64 true && echo other-allowed'
  assert_contains "$OUT" denied "personality(PER_LINUX32)"
  assert_contains "$OUT" other-allowed "personality(PER_LINUX)"
}
spec_test seccomp.args MUST config-linux.md#seccomp "seccomp argument conditions select the calls" t_seccomp_args

# ---- Rootfs propagation -----------------------------------------------------------------------------------
t_rootfs_propagation() {
  new_bundle
  # The rootfs sits on a shared mount of the host, so private, slave and shared give different results.
  mount --bind "$B/rootfs" "$B/rootfs" && mount --make-shared "$B/rootfs" || skip "cannot make a shared bind mount on the host"
  cfg '.linux.rootfsPropagation = $p' --arg p "$1"
  in_ct 'awk "\$5 == \"/\" { for (i = 7; \$i != \"-\"; i++) printf \"%s \", \$i; print \"\" }" /proc/self/mountinfo'
  case $1 in
    shared) assert_contains "$OUT" "shared:" "optional fields of / with rootfsPropagation shared" ;;
    # runc's way (make the rootfs's parent mount private, bind, pivot, then MS_SLAVE on /) leaves no master to
    # follow; what is observable and required is that the container's mounts do not propagate to the host.
    slave) assert_not_contains "$OUT" "shared:" "optional fields of / with rootfsPropagation slave" ;;
    private) assert_eq "$(xargs <<<"$OUT")" "" "optional fields of / with rootfsPropagation private" ;;
    unbindable) assert_contains "$OUT" "unbindable" "optional fields of / with rootfsPropagation unbindable" ;;
  esac
}
spec_test rootfsPropagation.private MUST config-linux.md#rootfs-mount-propagation "rootfsPropagation private: / has no propagation" t_rootfs_propagation private
spec_test rootfsPropagation.slave MUST config-linux.md#rootfs-mount-propagation "rootfsPropagation slave: / does not propagate to the host (not shared)" t_rootfs_propagation slave
spec_test rootfsPropagation.shared MUST config-linux.md#rootfs-mount-propagation "rootfsPropagation shared: / is shared" t_rootfs_propagation shared
spec_test rootfsPropagation.unbindable MUST config-linux.md#rootfs-mount-propagation "rootfsPropagation unbindable: / is unbindable" t_rootfs_propagation unbindable

# ---- Masked and readonly paths ----------------------------------------------------------------------------
t_masked() {
  new_bundle
  echo secret > "$B/rootfs/etc/secret-file"
  mkdir -p "$B/rootfs/secret-dir"; echo secret > "$B/rootfs/secret-dir/inside"
  cfg '.linux.maskedPaths += ["/etc/secret-file", "/secret-dir", "/proc/kcore"]'
  in_ct 'echo "file:$(cat /etc/secret-file 2>&1)"; echo "dir:$(ls /secret-dir 2>&1)"; echo "kcore:$(head -c 4 /proc/kcore 2>/dev/null | wc -c)"'
  assert_eq "$(sed -n 1p <<<"$OUT")" "file:" "content of a masked file"
  assert_eq "$(sed -n 2p <<<"$OUT")" "dir:" "listing of a masked directory"
  assert_eq "$(sed -n 3p <<<"$OUT")" "kcore:0" "bytes read from masked /proc/kcore"
}
spec_test maskedPaths MUST config-linux.md#masked-paths "maskedPaths (files and directories) cannot be read" t_masked

t_readonly_paths() {
  new_bundle
  mkdir -p "$B/rootfs/ro-dir"
  caps CAP_SYS_ADMIN CAP_DAC_OVERRIDE
  cfg '.linux.readonlyPaths = ["/ro-dir", "/proc/sys"]'
  in_ct 'touch /ro-dir/x 2>/dev/null && echo dir-writable || echo dir-readonly; (echo 1 > /proc/sys/kernel/printk_ratelimit) 2>/dev/null && echo sys-writable || echo sys-readonly; touch /tmp/elsewhere && echo other-writable'
  assert_eq "$(tr '\n' ' ' <<<"$OUT")" "dir-readonly sys-readonly other-writable " "writes to readonly paths"
}
spec_test readonlyPaths MUST config-linux.md#readonly-paths "readonlyPaths are read-only (even with CAP_SYS_ADMIN), other paths are not" t_readonly_paths

# ---- Personality ------------------------------------------------------------------------------------------
t_personality() {
  since 1.1.0
  new_bundle
  cfg '.linux.personality = {"domain": "LINUX32"}'
  sh_args 'uname -m'
  run_or_refused personality
  assert_eq "$OUT" i686 "uname -m with personality LINUX32"
}
spec_test personality MUST config-linux.md#personality "personality LINUX32 sets the execution domain" t_personality
