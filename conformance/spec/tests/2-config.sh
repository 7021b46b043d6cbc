# config.md: root, mounts, process (args, cwd, env, terminal, user, rlimits, capabilities, ...), hostname.
# runtime.md#lifecycle step 2: "The container's runtime environment MUST be created according to the
# configuration in config.json" — so every field observed here is a MUST unless the text says otherwise.

# ---- Root -------------------------------------------------------------------------------------------------
t_root_relative() {
  new_bundle
  mv "$B/rootfs" "$B/my-root"; echo relative > "$B/my-root/which"
  cfg '.root.path = "my-root"'
  (cd / && in_ct 'cat /which') || exit $?
  OUT=$(cat "$B/stdout")
  assert_eq "$OUT" relative "root.path relative to the bundle (runtime started from /)"
}
spec_test root.path-relative MUST config.md#root "a relative root.path is relative to the bundle" t_root_relative

t_root_absolute() {
  new_bundle
  local elsewhere=$WORK/abs-root-$TEST_NO
  rm -rf "$elsewhere"; mv "$B/rootfs" "$elsewhere"; at_exit "rm -rf '$elsewhere'"
  echo absolute > "$elsewhere/which"
  cfg '.root.path = $p' --arg p "$elsewhere"
  in_ct 'cat /which'
  assert_eq "$OUT" absolute "root.path absolute"
}
spec_test root.path-absolute MUST config.md#root "an absolute root.path is used as is" t_root_absolute

t_root_readonly() {
  new_bundle
  cfg '.root.readonly = true'
  in_ct 'if touch /newfile 2>/dev/null; then echo writable; else echo readonly; fi'
  assert_eq "$OUT" readonly "writing to / of a readonly root"
}
spec_test root.readonly MUST config.md#root "root.readonly makes the root filesystem read-only" t_root_readonly

# ---- Mounts -----------------------------------------------------------------------------------------------
t_mounts_order() {
  new_bundle
  cfg '.mounts += [{"destination": "/m", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]},
                   {"destination": "/m/sub", "type": "tmpfs", "source": "tmpfs", "options": ["size=2m"]}]'
  in_ct 'awk "\$5 == \"/m\" || \$5 == \"/m/sub\" { print \$5 }" /proc/self/mountinfo | tr "\n" " "'
  assert_eq "$OUT" "/m /m/sub " "mount points in mount order"
}
spec_test mounts.order MUST config.md#mounts "mounts are mounted in the listed order" t_mounts_order

t_mounts_bind() {
  new_bundle
  mkdir -p "$B/vol"; echo from-host > "$B/vol/in"
  cfg '.mounts += [{"destination": "/vol", "type": "bind", "source": $s, "options": ["rbind", "rw"]}]' --arg s "$B/vol"
  in_ct 'cat /vol/in; echo from-container > /vol/out'
  assert_eq "$OUT" from-host "file of the bind source"
  assert_eq "$(cat "$B/vol/out" 2>/dev/null)" from-container "file written through the bind mount"
}
spec_test mounts.bind MUST config.md#mounts "a bind mount shows the source and writes reach it" t_mounts_bind

t_mounts_bind_file() {
  new_bundle
  echo single-file > "$B/file"
  cfg '.mounts += [{"destination": "/etc/bound-file", "type": "bind", "source": $s, "options": ["bind", "ro"]}]' --arg s "$B/file"
  in_ct 'cat /etc/bound-file'
  assert_eq "$OUT" single-file "bind-mounted file"
}
spec_test mounts.bind-file MUST config.md#mounts "a file can be bind-mounted" t_mounts_bind_file

t_mounts_ro() {
  new_bundle
  mkdir -p "$B/vol"
  cfg '.mounts += [{"destination": "/vol", "type": "bind", "source": $s, "options": ["rbind", "ro"]}]' --arg s "$B/vol"
  in_ct 'if touch /vol/x 2>/dev/null; then echo writable; else echo readonly; fi'
  assert_eq "$OUT" readonly "write into a ro bind mount"
  [ -e "$B/vol/x" ] && fail "file created through a ro mount"
  return 0
}
spec_test mounts.option-ro MUST config.md#mounts "option ro makes a bind mount read-only" t_mounts_ro

t_mounts_flags() {
  new_bundle
  cfg '.mounts += [{"destination": "/flags", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "noexec", "size=1m"]}]'
  in_ct 'awk "\$5 == \"/flags\" { print \$6 }" /proc/self/mountinfo'
  local f
  for f in nosuid nodev noexec; do assert_contains ",$OUT," ",$f," "flags of /flags"; done
}
spec_test mounts.option-flags MUST config.md#mounts "options nosuid, nodev, noexec are applied" t_mounts_flags

t_mounts_noexec() {
  new_bundle
  cfg '.mounts += [{"destination": "/ne", "type": "tmpfs", "source": "tmpfs", "options": ["noexec", "size=1m"]}]'
  in_ct 'cp /bin/busybox /ne/bb; if /ne/bb true 2>/dev/null; then echo executed; else echo refused; fi'
  assert_eq "$OUT" refused "running a program from a noexec mount"
}
spec_test mounts.option-noexec MUST config.md#mounts "option noexec prevents execution" t_mounts_noexec

t_mounts_data() {
  new_bundle
  cfg '.mounts += [{"destination": "/sized", "type": "tmpfs", "source": "tmpfs", "options": ["size=2m", "mode=0710"]}]'
  in_ct 'stat -c %a /sized; df -k /sized | awk "NR == 2 { print \$2 }"'
  assert_eq "$(sed -n 1p <<<"$OUT")" 710 "mode of the tmpfs root"
  assert_eq "$(sed -n 2p <<<"$OUT")" 2048 "size (KiB) of the tmpfs"
}
spec_test mounts.option-data MUST config.md#mounts "filesystem-specific options (tmpfs size=, mode=) reach the filesystem" t_mounts_data

t_mounts_rbind() {
  new_bundle
  mkdir -p "$B/tree/sub"
  mount -t tmpfs -o size=1m tmpfs "$B/tree/sub" || skip "cannot mount a tmpfs on the host"
  at_exit "umount -l '$B/tree/sub'"
  echo submount > "$B/tree/sub/file"
  cfg '.mounts += [{"destination": "/r", "type": "bind", "source": $s, "options": ["rbind"]},
                   {"destination": "/nr", "type": "bind", "source": $s, "options": ["bind"]}]' --arg s "$B/tree"
  in_ct 'cat /r/sub/file 2>/dev/null || echo missing; cat /nr/sub/file 2>/dev/null || echo missing'
  assert_eq "$(sed -n 1p <<<"$OUT")" submount "rbind includes submounts"
  assert_eq "$(sed -n 2p <<<"$OUT")" missing "bind does not include submounts"
}
spec_test mounts.rbind-vs-bind MUST config.md#mounts "rbind carries submounts, bind does not (mount(8) semantics)" t_mounts_rbind

t_mounts_missing_source() {
  new_bundle; args true
  cfg '.mounts += [{"destination": "/x", "type": "bind", "source": "/no/such/source", "options": ["rbind"]}]'
  ct_create && fail "create succeeded with a missing bind source"
  state_gone "$ID" || fail "container left behind"
}
spec_test mounts.error MUST runtime.md#lifecycle "a mount that cannot be made fails create" t_mounts_missing_source

# ---- Process ----------------------------------------------------------------------------------------------
t_process_args() {
  new_bundle
  args echo one "two words" three
  ct_run || fail "run failed: $(cat "$B/stderr")"
  assert_eq "$OUT" "one two words three" "output of echo (found through PATH)"
}
spec_test process.args-path MUST config.md#process "args[0] is found through PATH (execvp) and args are passed as given" t_process_args

t_process_args0() {
  new_bundle
  args /bin/sh -c 'echo "$0"' custom-zero
  ct_run || fail "run failed: $(cat "$B/stderr")"
  assert_eq "$OUT" custom-zero "\$0 of sh -c (args are the argv)"
}
spec_test process.args-argv MUST config.md#process "args are the process's argv" t_process_args0

t_process_cwd() {
  new_bundle
  mkdir -p "$B/rootfs/work/dir"
  cfg '.process.cwd = "/work/dir"'
  in_ct 'pwd'
  assert_eq "$OUT" /work/dir "working directory"
}
spec_test process.cwd MUST config.md#process "cwd is the working directory of the process" t_process_cwd

t_process_env() {
  new_bundle
  cfg '.process.env += ["CONF_A=alpha", "CONF_B=with spaces=and equals"]'
  sh_args 'echo "$CONF_A|$CONF_B|${CONF_LEAK:-unset}"'
  CONF_LEAK=leaked ct_run || fail "run failed: $(cat "$B/stderr")"
  assert_eq "$OUT" "alpha|with spaces=and equals|unset" "env of the process (the runtime's own env must not leak)"
}
spec_test process.env MUST config.md#process "env is the process's environment (environ semantics)" t_process_env

t_process_no_terminal() {
  new_bundle
  in_ct 'if [ -t 0 ] || [ -t 1 ]; then echo tty; else echo notty; fi; echo to-stderr >&2'
  assert_eq "$OUT" notty "stdio of a terminal:false process"
  assert_contains "$(cat "$B/stderr")" to-stderr "stderr of the container"
}
spec_test process.terminal-false MUST config.md#process "terminal false: the process gets the runtime's stdio, no tty" t_process_no_terminal

t_process_terminal() {
  new_bundle
  cfg '.process.terminal = true'
  args sh -c 'tty; ls -l /dev/console | awk "{print \$5 \$6}"; readlink /proc/self/fd/0'
  console_listen
  ct_create --console-socket "$B/console.sock" || fail "create with --console-socket failed: $(cat "$B/stderr")"
  start_ok
  console_wait
  assert_contains "$CONSOLE_OUT" /dev/pts/ "tty of the process"
  assert_eq "$(sed -n 2p <<<"$CONSOLE_OUT")" "136,0" "/dev/console (bind mount of the pty slave, char 136:0)"
}
spec_test process.terminal-true MUST config.md#process "terminal true: the process's stdio is a pty; its master goes to the console socket" t_process_terminal
spec_test linux.dev-console MUST config-linux.md#default-devices "/dev/console is the pty slave when terminal is true" t_process_terminal

t_process_console_size() {
  new_bundle
  cfg '.process.terminal = true | .process.consoleSize = {"height": 33, "width": 111}'
  args stty size
  console_listen
  ct_create --console-socket "$B/console.sock" || fail "create with --console-socket failed: $(cat "$B/stderr")"
  start_ok
  console_wait
  assert_eq "$(head -n1 <<<"$CONSOLE_OUT")" "33 111" "stty size"
}
spec_test process.consoleSize MUST config.md#process "consoleSize sets the terminal size" t_process_console_size

t_process_user() {
  new_bundle
  cfg '.process.user = {"uid": 1000, "gid": 1001}'
  in_ct 'id -u; id -g'
  assert_eq "$(tr '\n' ' ' <<<"$OUT")" "1000 1001 " "uid gid"
}
spec_test process.user MUST config.md#posix-platform-user "user.uid and user.gid are the process's ids" t_process_user

t_process_additional_gids() {
  new_bundle
  cfg '.process.user = {"uid": 1000, "gid": 1001, "additionalGids": [5, 2000]}'
  in_ct 'cat /proc/self/status | grep ^Groups:'
  assert_eq "$(awk '{$1=""; print}' <<<"$OUT" | xargs -n1 | sort -n | tr '\n' ' ')" "5 2000 " "supplementary groups"
}
spec_test process.additionalGids MUST config.md#posix-platform-user "additionalGids are the supplementary groups" t_process_additional_gids

t_process_umask() {
  since 1.1.0
  new_bundle
  cfg '.process.user.umask = 63'
  in_ct 'umask'
  assert_eq "$OUT" 0077 "umask"
}
spec_test process.umask MUST config.md#posix-platform-user "user.umask is the process's umask" t_process_umask

t_process_rlimits() {
  new_bundle
  cfg '.process.rlimits = [{"type": "RLIMIT_NOFILE", "hard": 900, "soft": 800}, {"type": "RLIMIT_CORE", "hard": 4096, "soft": 2048}]'
  in_ct 'ulimit -Sn; ulimit -Hn; grep "Max core" /proc/self/limits'
  assert_eq "$(sed -n 1,2p <<<"$OUT" | tr '\n' ' ')" "800 900 " "RLIMIT_NOFILE soft hard"
  assert_eq "$(sed -n 3p <<<"$OUT" | awk '{print $5, $6}')" "2048 4096" "RLIMIT_CORE soft hard"
}
spec_test process.rlimits MUST config.md#posix-process "rlimits set soft and hard limits" t_process_rlimits

t_process_rlimits_invalid() {
  new_bundle; args true
  cfg '.process.rlimits = [{"type": "RLIMIT_NOT_A_LIMIT", "hard": 1, "soft": 1}]'
  ct_create && fail "create accepted rlimit type RLIMIT_NOT_A_LIMIT"
  state_gone "$ID" || fail "container left behind"
}
spec_test process.rlimits-invalid MUST config.md#posix-process "an rlimit type with no kernel resource is an error" t_process_rlimits_invalid

# capability masks: name -> bit
cap_mask() {
  local m=0 c
  declare -A bit=([CAP_CHOWN]=0 [CAP_DAC_OVERRIDE]=1 [CAP_FOWNER]=3 [CAP_KILL]=5 [CAP_SETGID]=6 [CAP_SETUID]=7
    [CAP_NET_BIND_SERVICE]=10 [CAP_NET_RAW]=13 [CAP_SYS_CHROOT]=18 [CAP_SYS_ADMIN]=21 [CAP_MKNOD]=27 [CAP_AUDIT_WRITE]=29 [CAP_SYSLOG]=34)
  for c in "$@"; do m=$((m | (1 << ${bit[$c]}))); done
  printf '%016x' "$m"
}

# The sets are applied before execve, which recomputes them (capabilities(7)): for uid 0 with noNewPrivileges the
# result is permitted = effective = the configured permitted set; for another uid only the ambient set survives
# into permitted and effective. Bounding, inheritable and ambient stay as configured.
t_process_caps() {
  new_bundle
  cfg '.process.capabilities = {
        bounding: ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW", "CAP_SETUID"],
        permitted: ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"],
        effective: ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"],
        inheritable: ["CAP_KILL"],
        ambient: ["CAP_KILL"]}'
  in_ct 'grep ^Cap /proc/self/status'
  check_caps Bnd:"CAP_CHOWN CAP_KILL CAP_NET_RAW CAP_SETUID" Prm:"CAP_CHOWN CAP_KILL CAP_NET_RAW" Eff:"CAP_CHOWN CAP_KILL CAP_NET_RAW" \
             Inh:"CAP_KILL" Amb:"CAP_KILL"
}
spec_test process.capabilities MUST config.md#linux-process "capability sets of a root process are as configured" t_process_caps

t_process_caps_ambient() {
  new_bundle
  cfg '.process.user = {"uid": 1000, "gid": 1000} | .process.capabilities = {
        bounding: ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"],
        permitted: ["CAP_KILL", "CAP_NET_RAW"],
        effective: ["CAP_KILL", "CAP_NET_RAW"],
        inheritable: ["CAP_KILL", "CAP_NET_RAW"],
        ambient: ["CAP_KILL", "CAP_NET_RAW"]}'
  in_ct 'grep ^Cap /proc/self/status'
  check_caps Bnd:"CAP_CHOWN CAP_KILL CAP_NET_RAW" Prm:"CAP_KILL CAP_NET_RAW" Eff:"CAP_KILL CAP_NET_RAW" \
             Inh:"CAP_KILL CAP_NET_RAW" Amb:"CAP_KILL CAP_NET_RAW"
}
spec_test process.capabilities-ambient MUST config.md#linux-process "ambient capabilities reach a non-root process" t_process_caps_ambient

# check_caps SET:"CAPS"...: compares the Cap* lines of $OUT with the masks of CAPS.
check_caps() {
  local set want
  for set in "$@"; do
    # shellcheck disable=SC2086
    want=$(cap_mask ${set#*:})
    assert_eq "$(awk -v k="Cap${set%%:*}:" '$1 == k { print $2 }' <<<"$OUT")" "$want" "Cap${set%%:*} for ${set#*:}"
  done
}

# Since 1.1.0: "Any value which cannot be mapped to a relevant kernel interface, or cannot be granted otherwise MUST be
# logged as a warning by the runtime. Runtimes SHOULD NOT fail if the container configuration requests capabilities
# that cannot be granted" (1.0 made it an error). runc 1.1 warns "ignoring unknown or unavailable capabilities".
t_process_caps_invalid() {
  since 1.1.0
  new_bundle; args true
  caps CAP_KILL CAP_NOT_A_CAPABILITY
  ct_create || fail "create refused capability CAP_NOT_A_CAPABILITY (runtimes SHOULD NOT fail): $(cat "$B/stderr")"
  grep -q CAP_NOT_A_CAPABILITY "$B/stderr" || fail "no warning naming CAP_NOT_A_CAPABILITY on stderr: $(cat "$B/stderr")"
}
spec_test process.capabilities-invalid MUST config.md#linux-process "a capability that cannot be mapped to the kernel is logged as a warning" t_process_caps_invalid

t_process_nnp() {
  new_bundle
  cfg ".process.noNewPrivileges = $1"
  in_ct 'grep ^NoNewPrivs: /proc/self/status'
  assert_eq "$(awk '{print $2}' <<<"$OUT")" "$2" "NoNewPrivs with noNewPrivileges $1"
}
spec_test process.noNewPrivileges MUST config.md#linux-process "noNewPrivileges true sets no_new_privs" t_process_nnp true 1
spec_test process.noNewPrivileges-false MUST config.md#linux-process "noNewPrivileges false leaves no_new_privs unset" t_process_nnp false 0

t_process_oom() {
  new_bundle
  cfg '.process.oomScoreAdj = 123'
  in_ct 'cat /proc/self/oom_score_adj'
  assert_eq "$OUT" 123 "oom_score_adj"
}
spec_test process.oomScoreAdj MUST config.md#linux-process "oomScoreAdj is written to oom_score_adj" t_process_oom

t_process_io_priority() {
  since 1.2.0
  new_bundle
  cfg '.process.ioPriority = {"class": "IOPRIO_CLASS_BE", "priority": 6}'
  sh_args 'ionice -p $$'
  run_or_refused ioPriority
  assert_contains "$OUT" "best-effort" "io class"
  assert_contains "$OUT" "6" "io priority"
}
spec_test process.ioPriority MUST config.md#linux-process "ioPriority sets the I/O scheduling class and priority" t_process_io_priority

t_process_scheduler() {
  since 1.2.0
  new_bundle
  cfg '.process.scheduler = {"policy": "SCHED_BATCH", "nice": 5}'
  sh_args 'cut -d" " -f19,41 /proc/self/stat'
  run_or_refused scheduler
  assert_eq "$OUT" "5 3" "nice and policy (3 = SCHED_BATCH) of the process"
}
spec_test process.scheduler MUST config.md#linux-process "scheduler sets the scheduling policy and nice value" t_process_scheduler

# ---- Hostname / domainname ------------------------------------------------------------------------------------
t_hostname() {
  new_bundle
  cfg '.hostname = "spec-host"'
  in_ct 'hostname'
  assert_eq "$OUT" spec-host "hostname"
  assert_ne "$(hostname)" spec-host "host's hostname (must not change)"
}
spec_test hostname MUST config.md#hostname "hostname is the container's hostname" t_hostname

t_domainname() {
  since 1.1.0
  new_bundle
  cfg '.domainname = "spec.example"'
  in_ct 'cat /proc/sys/kernel/domainname'
  assert_eq "$OUT" spec.example "domainname"
}
spec_test domainname MUST config.md#domainname "domainname is the container's NIS domain name" t_domainname
