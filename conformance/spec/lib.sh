# Helpers of the runtime-spec suite, sourced by spec/run.sh. Every test function runs in its own subshell
# (tap_run): it makes bundles with new_bundle, edits config.json with cfg, drives the runtime with rt/ct_*,
# and ends with exit 0 (ok), fail MSG (not ok) or skip MSG (skip). Containers and bundles it made are
# removed by the EXIT trap whatever happens.
#
# Globals set by run.sh: RT_NAME RT_BIN RT_SPEC STATE_ROOT WORK ROOTFS_TEMPLATE TEST_NO CONF_DIR

# rt ARGS...: the runtime under test with the suite's private --root (at most 60 s).
rt() { timeout -k 5 60 "$RT_BIN" --root "$STATE_ROOT" "$@"; }

# The config every test starts from: runc's `spec` defaults with terminal off, a writable root (each bundle
# has its own copy of the rootfs) and a fixed hostname. Independent of the runtime under test.
base_config() {
  cat <<'JSON'
{
  "ociVersion": "1.0.2",
  "process": {
    "terminal": false,
    "user": {"uid": 0, "gid": 0},
    "args": ["sh"],
    "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
    "cwd": "/",
    "capabilities": {
      "bounding": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
      "effective": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
      "permitted": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
      "ambient": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
    },
    "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
    "noNewPrivileges": true
  },
  "root": {"path": "rootfs", "readonly": false},
  "hostname": "conformance",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
    {"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
    {"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
    {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
    {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
    {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]}
  ],
  "linux": {
    "resources": {"devices": [{"allow": false, "access": "rwm"}]},
    "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}],
    "maskedPaths": ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
                    "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"],
    "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
  }
}
JSON
}

_bundles=() _ids=() _cleanups=()

_cleanup() {
  local id b c
  for c in "${_cleanups[@]}"; do eval "$c" >/dev/null 2>&1; done
  for id in "${_ids[@]}"; do
    "$RT_BIN" --root "$STATE_ROOT" state "$id" >/dev/null 2>&1 || continue
    timeout 20 "$RT_BIN" --root "$STATE_ROOT" kill "$id" KILL >/dev/null 2>&1
    timeout 20 "$RT_BIN" --root "$STATE_ROOT" delete --force "$id" >/dev/null 2>&1
  done
  for b in "${_bundles[@]}"; do umount_under "$b"; rm -rf "$b"; done
}

# umount_under DIR: detaches every mount at or below DIR (stacked ones too), deepest first.
umount_under() {
  local m i
  for i in 1 2 3 4 5; do
    m=$(awk -v d="$1" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r)
    [ -z "$m" ] && return 0
    while read -r m; do umount -l "$m" 2>/dev/null; done <<<"$m"
  done
}

# at_exit CMD: runs CMD (eval) when the test ends, before containers are removed.
at_exit() { _cleanups+=("$1"); }

# new_bundle: a fresh bundle in $B (rootfs copy + base config + $B/shared) for container id $ID.
new_bundle() {
  local n=${#_bundles[@]}
  B=$WORK/t$TEST_NO-$n
  ID=conf-$TEST_NO-$n-$$
  rm -rf "$B"
  mkdir -p "$B/shared"
  cp -a "$ROOTFS_TEMPLATE" "$B/rootfs"
  base_config > "$B/config.json"
  _bundles+=("$B")
  _ids+=("$ID")
  trap _cleanup EXIT
}

# cfg FILTER [JQ ARGS...]: edits $B/config.json with jq.
cfg() {
  local filter=$1; shift
  jq "$filter" "$@" < "$B/config.json" > "$B/config.json.new" || fail "cfg: jq failed on: $filter"
  mv "$B/config.json.new" "$B/config.json"
}

# json_array ARG...: a JSON array of strings (safe for arguments that look like jq options, e.g. -c).
json_array() { local a; for a in "$@"; do jq -n --arg a "$a" '$a'; done | jq -sc .; }
# args ARG...: process.args; sh_args SCRIPT: process.args = sh -c SCRIPT.
args() { cfg '.process.args = $a' --argjson a "$(json_array "$@")"; }
sh_args() { args sh -c "$1"; }

# share: bind-mounts $B/shared at /shared (rw) so the container and hooks can leave files for the test.
share() {
  cfg '.mounts += [{"destination": "/shared", "type": "bind", "source": $src, "options": ["rbind", "rw"]}]' --arg src "$B/shared"
}

# caps CAP...: sets bounding, effective, permitted and ambient capabilities to exactly CAP...
caps() {
  cfg '.process.capabilities = {bounding: $c, effective: $c, permitted: $c, ambient: $c}' --argjson c "$(json_array "$@")"
}

# ct_run: `run` in the foreground; stdout in $OUT (and $B/stdout), stderr in $B/stderr; returns its status.
ct_run() {
  rt run --bundle "$B" "$ID" </dev/null >"$B/stdout" 2>"$B/stderr"
  RC=$?
  OUT=$(cat "$B/stdout")
  return $RC
}

# in_ct SCRIPT: runs `sh -c SCRIPT` in a container of the current bundle; output in $OUT. Fails the test
# (with the runtime's stderr) if the container could not run or the script exits non-zero.
in_ct() {
  sh_args "$1"
  ct_run || fail "container run failed (status $RC): $(tail -c 600 "$B/stderr") stdout: $(tail -c 300 "$B/stdout")"
}

# run_or_refused FEATURE: ct_run for a newer, optional feature: a runtime that refuses the config (create fails)
# complies ("MUST generate an error" when it cannot apply it) and the test is skipped; one that runs it must apply it.
run_or_refused() {
  ct_run && return 0
  grep -q . "$B/stdout" && fail "run failed (status $RC) after the process started: $(tail -c 400 "$B/stderr")"
  skip "the runtime refuses $1: $(tr '\n' ' ' < "$B/stderr" | tail -c 200)"
}

ct_create() { rt create --bundle "$B" "$@" "$ID" </dev/null >"$B/stdout" 2>"$B/stderr"; }
ct_start() { rt start "$ID" 2>>"$B/stderr"; }
ct_state() { rt state "$ID" 2>>"$B/stderr"; }
# st FIELD: one field of the state (jq path without the dot), "" when absent.
st() { ct_state | jq -r ".$1 // empty"; }
# wait_status STATUS [SECONDS]
wait_status() { retry_until "${2:-10}" _status_is "$1"; }
_status_is() { [ "$(st status)" = "$1" ]; }

# create_ok: create, failing the test with the runtime's error when it does not work.
create_ok() { ct_create "$@" || fail "create failed: $(tail -c 600 "$B/stderr")"; }
start_ok() { ct_start || fail "start failed: $(tail -c 600 "$B/stderr")"; }

# state_gone ID: true when the runtime no longer knows ID.
state_gone() { ! rt state "$1" >/dev/null 2>&1; }

# since VERSION: skips when the runtime declares an older runtime-spec version than VERSION (the field is newer).
since() {
  local have=${RT_SPEC%%-*}
  if [ "$(printf '%s\n%s\n' "$1" "$have" | sort -V | head -n1)" != "$1" ]; then
    skip "runtime declares runtime-spec $RT_SPEC (< $1, where this field appeared)"
  fi
}

# pending FEATURE: ocirun features that live on branches not merged yet (cgroups, seccomp) report
# SKIP until a probe shows them, so the suite lights up when they merge. PENDING=off disables this.
pending() {
  [ "$RT_NAME" = ocirun ] && [ "${PENDING:-on}" != off ] || return 0
  case $1 in
    cgroups)
      "$RT_BIN" --help 2>&1 | grep -qw pause ||
        skip "pending: ocirun's cgroup manager is not merged yet (no \`ocirun pause\`)" ;;
    seccomp)
      "$RT_BIN" features 2>/dev/null | jq -e '.linux.seccomp.enabled == true' >/dev/null ||
        skip "pending: seccomp is not merged yet (features: linux.seccomp.enabled is not true)" ;;
  esac
}

# userns_config: a user namespace mapping container 0-65535 to host 100000-165535 (sysfs and the cgroup
# mount need a network namespace owned by it, which the base config has; /sys is kept).
userns_config() {
  cfg '.linux.namespaces += [{"type": "user"}]
       | .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
       | .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
       | .mounts |= map(select(.destination != "/sys/fs/cgroup"))'
}

# host_ns TYPE: the inode of the runtime's (this shell's) namespace of TYPE (net, ipc, uts, mnt, pid, cgroup, user).
host_ns() { readlink "/proc/$$/ns/$1"; }

# cgroup_of PID CONTROLLER: PID's cgroup path in the v1 hierarchy of CONTROLLER (or the v2 path for "").
cgroup_of() {
  if [ -n "$2" ]; then awk -F: -v c="$2" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3 }' "/proc/$1/cgroup"
  else awk -F: '$1 == "0" { print $3 }' "/proc/$1/cgroup"; fi
}

# cgroup_file CONTROLLER PATH FILE: the host path of a cgroup file (v1 hierarchy of CONTROLLER).
cgroup_file() { echo "/sys/fs/cgroup/$1$2/$3"; }

# console ARGS: starts the console-socket receiver; the terminal output lands in $B/console.out.
console_listen() {
  rm -f "$B/console.out" "$B/console.out.ready"
  python3 "$CONF_DIR/lib/console-socket.py" "$B/console.sock" "$B/console.out" "$@" &
  CONSOLE_PID=$!
  at_exit "kill $CONSOLE_PID"
  retry_until 10 test -e "$B/console.out.ready" || fail "console socket receiver did not start"
}
console_wait() {
  local i
  for i in $(seq 1 200); do kill -0 "$CONSOLE_PID" 2>/dev/null || break; sleep 0.1; done
  wait "$CONSOLE_PID" 2>/dev/null
  CONSOLE_OUT=$(tr -d '\r' < "$B/console.out" 2>/dev/null)
}
