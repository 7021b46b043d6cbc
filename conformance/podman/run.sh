#!/usr/bin/env bash
# podman drives ocirun: `podman --runtime <wrapper>` with its own --root/--runroot/--tmpdir under a temp dir,
# cgroupfs, no events, no network, the busybox rootfs brought in with `podman import`. conmon calls the runtime
# (create, start, exec, kill, delete --force from the exit command with an empty environment, ...); the wrapper
# records each call (argv, exit status, size of the environment, stdin) and runs ocirun.
#
#   conformance/podman/run.sh      (root; installs podman, conmon, busybox-static, jq if missing)
#
# Prints TAP and "N passed, N failed, N skipped"; exits non-zero on any failure.
# Artifacts (kept): conformance/podman/artifacts/ocirun-invocations.log.
# ocirun keeps its state in its default root, /run/ocirun: podman's exit command (`podman container cleanup`,
# run by conmon) does not pass --runtime-flag options, so a private --root would miss the cleanup's delete.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/common.sh"

[ "$(id -u)" = 0 ] || conf_die "run as root"
conf_need podman conmon busybox-static jq bsdutils util-linux tar >&2
OCIRUN=$(conf_ocirun) || exit 1
ART=$here/artifacts
rm -rf "$ART"; mkdir -p "$ART"
INVOCATIONS=$ART/ocirun-invocations.log
TMP=$(mktemp -d /tmp/ocirun-podman.XXXXXX)
OCI_ROOT=/run/$(basename "$OCIRUN")   # the runtime's default --root (ocirun: /run/ocirun)
IMAGE=localhost/conformance/busybox:latest
started=$SECONDS

mkdir -p "$TMP/bin"
cat > "$TMP/bin/ocirun" <<EOF
#!/bin/bash
# Records the argv of every call (with the names in its environment and its stdin), runs ocirun, records the status.
start=\$(date +%H:%M:%S.%N)
envnames=\$(env | cut -d= -f1 | grep -v -x -e _ -e PWD -e SHLVL -e OLDPWD | sort | paste -sd, -)
stdin=\$(readlink /proc/self/fd/0)
"$OCIRUN" "\$@"
rc=\$?
printf '%s rc=%s env=%s stdin=%s ocirun %s\n' "\${start:0:15}" "\$rc" "\${envnames:--}" "\$stdin" "\$(printf '%q ' "\$@")" >> "$INVOCATIONS"
exit \$rc
EOF
chmod +x "$TMP/bin/ocirun"
WRAP=$TMP/bin/ocirun

P=(podman --root "$TMP/root" --runroot "$TMP/runroot" --tmpdir "$TMP/tmp" --runtime "$WRAP"
   --cgroup-manager cgroupfs --events-backend none --storage-driver overlay)
p() { timeout 120 "${P[@]}" "$@"; }
# podman's default rlimits (nofile 1048576, nproc 32768) exceed the hard limits of a host without
# CAP_SYS_RESOURCE (this VM's bounding set lacks it; runc fails the same way): ask for modest ones.
LIMITS=(--ulimit nofile=1024:1024 --ulimit nproc=4096:4096)
RUN=(--network none "${LIMITS[@]}")

cleanup() {
  local pid
  timeout 60 "${P[@]}" rm -af -t 0 >/dev/null 2>&1
  for pid in $(pgrep -f "conmon .*$TMP" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
  grep -o " $TMP[^ ]*" /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

conf_rootfs "$TMP/rootfs"
# Content under the directories podman covers with tmpcopyup tmpfs mounts in --read-only containers.
mkdir -p "$TMP/rootfs/run/lock/sub" "$TMP/rootfs/var/tmp"
echo image-content > "$TMP/rootfs/var/tmp/marker"; chmod 0640 "$TMP/rootfs/var/tmp/marker"; chown 1:1 "$TMP/rootfs/var/tmp/marker"
ln -s ../marker "$TMP/rootfs/run/lock/sub/link"; chmod 0710 "$TMP/rootfs/run/lock"
tar --sort=name --numeric-owner -C "$TMP/rootfs" -cf "$TMP/rootfs.tar" . || conf_die "tar of the rootfs failed"
p import "$TMP/rootfs.tar" "$IMAGE" > "$TMP/import.log" 2>&1 || { cat "$TMP/import.log"; conf_die "podman import failed"; }
echo "# $(podman --version) with conmon $(conmon --version | awk 'NR == 1 {print $3}') drives $OCIRUN"

has_pause() { "$OCIRUN" --help 2>&1 | grep -qw pause; }
cid() { p inspect -f '{{.Id}}' "$1"; }
cstate() { p inspect -f '{{.State.Status}}' "$1"; }
wait_state() { retry_until "${3:-15}" _state_is "$1" "$2"; }
_state_is() { [ "$(cstate "$1")" = "$2" ]; }
oci() { "$OCIRUN" --root "$OCI_ROOT" "$@"; }

s_info() {
  local v; v=$(p info --format '{{.Host.OCIRuntime.Version}}' 2>&1) || fail "podman info failed: $v"
  assert_contains "$v" "$(basename "$OCIRUN") version" "podman info's OCI runtime version (from \`ocirun --version\`)"
}

s_run() {
  local out; out=$(p run --rm "${RUN[@]}" "$IMAGE" sh -c 'echo hello from ocirun; ulimit -n; echo to-stderr >&2' 2>&1)
  [ $? -eq 0 ] || fail "podman run failed: $out"
  assert_eq "$(sort <<<"$out" | tr '\n' '|')" "1024|hello from ocirun|to-stderr|" "output (with ulimit -n)"
  grep -q "ocirun .*create .*--bundle" "$INVOCATIONS" || fail "conmon did not call ocirun create (see $INVOCATIONS)"
}

s_exit_code() {
  p run --rm "${RUN[@]}" "$IMAGE" sh -c 'exit 42' >/dev/null 2>&1
  assert_eq "$?" 42 "exit status of podman run"
}

s_exec() {
  p run -d --name exec-target "${RUN[@]}" "$IMAGE" sh -c 'trap "exit 0" TERM; sleep 300 & wait' >/dev/null || fail "podman run -d failed"
  wait_state exec-target running || fail "state $(cstate exec-target)"
  local out; out=$(p exec exec-target sh -c 'echo in-exec; cat /proc/1/cmdline | tr "\0" " "; exit 7' 2>&1)
  assert_eq "$?" 7 "exit status of podman exec"
  assert_contains "$out" in-exec "exec stdout"
  assert_contains "$out" "sleep 300 & wait" "PID 1 seen by the exec"
  out=$(p exec --user 65534 --workdir /tmp -e CONF_VAR=set exec-target sh -c 'id -u; pwd; echo $CONF_VAR' 2>&1)
  assert_eq "$(tr '\n' ' ' <<<"$out")" "65534 /tmp set " "exec --user --workdir -e"
  local id; id=$(cid exec-target)
  assert_eq "$(oci state "$id" | jq -r .status)" running "ocirun state of the container"
  grep -q "ocirun .*exec .*--process .*--detach .*$id" "$INVOCATIONS" || fail "no exec --process --detach in the log"
}

s_exec_tty() {
  [ "$(cstate exec-target)" = running ] || skip "needs the running container"
  local out; out=$(p exec -t exec-target sh -c 'tty; echo tty-exec-ok' </dev/null 2>&1)
  out=$(tr -d '\r' <<<"$out")
  assert_contains "$out" /dev/pts/ "tty of podman exec -t"
  assert_contains "$out" tty-exec-ok "output of podman exec -t"
  grep -q "ocirun .*exec .*--tty --console-socket" "$INVOCATIONS" || fail "no exec --tty --console-socket in the log"
}

s_exec_error() {
  [ "$(cstate exec-target)" = running ] || skip "needs the running container"
  local out; out=$(p exec exec-target /no/such/binary 2>&1)
  local rc=$?
  [ $rc -ne 0 ] || fail "exec of a missing binary succeeded"
  assert_contains "$out" "no such file or directory" "error of the exec"
  assert_eq "$(cstate exec-target)" running "container after the failed exec"
}

s_kill_signal() {
  p run -d --name signalled "${RUN[@]}" "$IMAGE" sh -c 'trap "echo got-usr1; exit 3" USR1; sleep 300 & wait' >/dev/null || fail "podman run -d failed"
  wait_state signalled running || fail "state $(cstate signalled)"
  p kill -s USR1 signalled >/dev/null || fail "podman kill -s USR1 failed"
  wait_state signalled exited || fail "state $(cstate signalled) after USR1"
  assert_contains "$(p logs signalled 2>&1)" got-usr1 "logs after SIGUSR1"
  assert_eq "$(p inspect -f '{{.State.ExitCode}}' signalled)" 3 "exit code"
  grep -q "ocirun .*kill .* 10" "$INVOCATIONS" || fail "no kill ... 10 (SIGUSR1) in the log"
  p rm signalled >/dev/null
}

s_stop_rm() {
  [ "$(cstate exec-target)" = running ] || skip "needs the running container"
  local id; id=$(cid exec-target)
  local t0=$SECONDS
  p stop -t 10 exec-target >/dev/null || fail "podman stop failed"
  [ $((SECONDS - t0)) -lt 9 ] || fail "stop took $((SECONDS - t0)) s: SIGTERM was not delivered (KILL after the timeout)"
  assert_eq "$(cstate exec-target)" exited "state after stop"
  assert_eq "$(p inspect -f '{{.State.ExitCode}}' exec-target)" 0 "exit code after SIGTERM (trap exits 0)"
  p rm exec-target >/dev/null || fail "podman rm failed"
  oci state "$id" >/dev/null 2>&1 && fail "ocirun still knows $id after podman rm"
  [ -e "$OCI_ROOT/$id" ] && fail "state directory $OCI_ROOT/$id left"
  return 0
}

s_stop_kill() {
  p run -d --name stubborn "${RUN[@]}" "$IMAGE" sh -c 'trap "" TERM; sleep 300 & wait' >/dev/null || fail "podman run -d failed"
  wait_state stubborn running || fail "state $(cstate stubborn)"
  p stop -t 1 stubborn >/dev/null || fail "podman stop failed"
  assert_eq "$(p inspect -f '{{.State.ExitCode}}' stubborn)" 137 "exit code after stop of a container ignoring SIGTERM"
  p rm stubborn >/dev/null
}

s_tty_run() {
  local out rc
  out=$("$PTY_RUN" 60 "${P[@]}" run --rm -t "${RUN[@]}" "$IMAGE" sh -c 'tty; echo tty-ok; exit 2' </dev/null)
  rc=$?
  assert_contains "$out" /dev/pts/ "tty of podman run -t"
  assert_contains "$out" tty-ok "output through the pty"
  assert_eq "$rc" 2 "exit status through the pty"
  grep -q "ocirun .*create .*--console-socket" "$INVOCATIONS" || fail "no create --console-socket in the log"
}

s_create_error() {
  local out; out=$(p run --rm --name bad-create "${RUN[@]}" "$IMAGE" /no/such/binary 2>&1)
  local rc=$?
  assert_eq "$rc" 127 "exit status of podman run of a missing binary"
  assert_contains "$out" "no such file or directory" "podman's error (ocirun's message)"
  p rm -f bad-create >/dev/null 2>&1
  local left; left=$(ls "$OCI_ROOT" 2>/dev/null | while read -r d; do grep -l bad-create "$OCI_ROOT/$d/config.json" 2>/dev/null; done)
  [ -z "$left" ] || fail "state left: $left"
}

s_read_only_tmpfs() {
  local out; out=$(p run --rm "${RUN[@]}" --read-only --tmpfs /scratch:size=1m,mode=0700 "$IMAGE" sh -c '
    cat /var/tmp/marker; stat -c "%a %u:%g" /var/tmp/marker /run/lock; readlink /run/lock/sub/link
    touch /tmp/w /run/w /var/tmp/w /scratch/w && echo tmpfs-writable; touch /x 2>&1
    stat -c "%a" /scratch; df -k /scratch | awk "NR == 2 { print \$2 }"' 2>&1)
  [ $? -eq 0 ] || fail "podman run --read-only --tmpfs failed: $out"
  assert_eq "$(sed -n 1,4p <<<"$out" | tr '\n' '|')" "image-content|640 1:1|710 0:0|../marker|" "the image's files copied into the tmpfs (tmpcopyup): content, mode, owner, symlink"
  assert_eq "$(sed -n 5p <<<"$out")" tmpfs-writable "writes to /tmp, /run, /var/tmp and --tmpfs /scratch"
  assert_contains "$(sed -n 6p <<<"$out")" "Read-only file system" "write to the read-only root"
  assert_eq "$(sed -n 7,8p <<<"$out" | tr '\n' ' ')" "700 1024 " "mode and size of --tmpfs /scratch:size=1m,mode=0700"
}

s_userns() {
  local out; out=$(p run --rm "${RUN[@]}" --uidmap 0:100000:65536 --gidmap 0:100000:65536 "$IMAGE" \
    sh -c 'cat /proc/self/uid_map /proc/self/gid_map; id -u; touch /x && echo writable' 2>&1)
  [ $? -eq 0 ] || fail "podman run --uidmap failed: $out"
  assert_eq "$(sed -n 1,2p <<<"$out" | xargs)" "0 100000 65536 0 100000 65536" "uid_map and gid_map"
  assert_eq "$(sed -n 3,4p <<<"$out" | tr '\n' ' ')" "0 writable " "uid and write in the container"
}

s_pause() {
  has_pause || skip "pending: ocirun has no pause command yet (cgroup manager branch not merged)"
  p run -d --name pausing "${RUN[@]}" "$IMAGE" sleep 300 >/dev/null || fail "podman run -d failed"
  wait_state pausing running || fail "state $(cstate pausing)"
  p pause pausing >/dev/null || fail "podman pause failed"
  assert_eq "$(cstate pausing)" paused "state after pause"
  p unpause pausing >/dev/null || fail "podman unpause failed"
  assert_eq "$(cstate pausing)" running "state after unpause"
  p rm -f -t 0 pausing >/dev/null
}

s_memory() {
  p run -d --name memory --memory 64m "${RUN[@]}" "$IMAGE" sleep 300 >/dev/null || fail "podman run -d --memory failed"
  wait_state memory running || fail "state $(cstate memory)"
  local pid path limit
  pid=$(p inspect -f '{{.State.Pid}}' memory)
  path=$(awk -F: '$2 ~ /(^|,)memory(,|$)/ { print $3 }' "/proc/$pid/cgroup")
  limit=$(cat "/sys/fs/cgroup/memory$path/memory.limit_in_bytes" 2>/dev/null)
  p rm -f -t 0 memory >/dev/null
  [ "$limit" = 67108864 ] && return 0
  has_pause || skip "pending: no cgroup manager in ocirun yet: the container stays in memory cgroup $path (limit $limit)"
  fail "memory.limit_in_bytes of $path is $limit, expected 67108864"
}

s_loop() {
  local i n=10 t0=$SECONDS ids=()
  for i in $(seq 1 $n); do
    p run --rm --name "loop-$i" "${RUN[@]}" "$IMAGE" true >/dev/null 2>&1 || fail "podman run --rm loop-$i failed"
  done
  echo "# $n containers in $((SECONDS - t0)) s"
  sleep 1
  local left
  left=$(p ps -aq); [ -z "$left" ] || fail "containers left: $left"
  left=$(pgrep -af "conmon .*$TMP"); [ -z "$left" ] || fail "conmon left: $left"
  left=$(grep -c " $TMP/root/overlay/[^ ]*/merged " /proc/self/mountinfo); [ "$left" = 0 ] || fail "$left overlay mounts left"
  left=$(grep -l '"loop-' "$OCI_ROOT"/*/config.json 2>/dev/null); [ -z "$left" ] || fail "ocirun state left: $left"
  return 0
}

s_invocations() {
  [ -s "$INVOCATIONS" ] || fail "no invocation recorded"
  echo "# ocirun invocations by verb: $(awk '{ for (i = 6; i <= NF; i++) if ($i !~ /^-/ && $(i-1) !~ /^--(root|log|log-format)$/) { print $i; break } }' "$INVOCATIONS" | sort | uniq -c | awk '{printf "%s=%s ", $2, $1}')"
  # conmon runs the runtime with a bare environment (here only XDG_RUNTIME_DIR: no PATH, no HOME) and stdin /dev/null.
  local bare='env=(-|XDG_RUNTIME_DIR) stdin=/dev/null ocirun .*delete --force'
  local total ok
  total=$(grep -Ec "$bare" "$INVOCATIONS"); ok=$(grep -Ec "rc=0 $bare" "$INVOCATIONS")
  echo "# delete --force with a bare environment (no PATH, no HOME) and stdin /dev/null: $total, $ok exit 0"
  [ "$total" -gt 0 ] || fail "no delete --force with a bare environment recorded"
  [ "$total" = "$ok" ] || fail "delete --force with a bare environment failed $((total - ok)) times"
  # create and exec fail where a scenario asked for a missing binary; no other verb may fail.
  local unexpected
  echo "# non-zero exits: $(awk '$2 != "rc=0"' "$INVOCATIONS" | grep -c .) (create/exec of /no/such/binary are provoked)"
  unexpected=$(awk '$2 != "rc=0"' "$INVOCATIONS" | grep -e ' delete ' -e ' start ' -e ' kill ' -e ' state ' || true)
  [ -z "$unexpected" ] || fail "ocirun invocations failed:
$unexpected"
}

tap_run "podman info reports ocirun's version (ocirun --version)" s_info
tap_run "podman run: stdout, stderr, rlimits through conmon and ocirun" s_run
tap_run "podman run: exit status propagates (42)" s_exit_code
tap_run "podman exec into a running container (stdout, exit status, --user, --workdir, -e)" s_exec
tap_run "podman exec -t (console socket)" s_exec_tty
tap_run "podman exec of a missing binary fails; the container keeps running" s_exec_error
tap_run "podman kill -s USR1 reaches the container's trap" s_kill_signal
tap_run "podman stop (SIGTERM) and rm leave no ocirun state" s_stop_rm
tap_run "podman stop of a container ignoring SIGTERM ends in SIGKILL (137)" s_stop_kill
tap_run "podman run -t under a pty" s_tty_run
tap_run "podman run of a missing binary: exit 127 with ocirun's message, nothing left" s_create_error
tap_run "podman run --read-only --tmpfs: tmpfs mounts with tmpcopyup hold the image's files" s_read_only_tmpfs
tap_run "podman run --uidmap/--gidmap: a user namespace" s_userns
tap_run "podman pause / unpause" s_pause
tap_run "podman run --memory 64m is the container's memory.limit_in_bytes" s_memory
tap_run "10 containers run --rm: no container, conmon, overlay mount or ocirun state left" s_loop
tap_run "conmon's calls: delete --force with a bare environment succeeds; no lifecycle call failed" s_invocations

echo "# invocation log: $INVOCATIONS"
echo "# podman suite: $((SECONDS - started)) s"
tap_summary
