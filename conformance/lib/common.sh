# Shared helpers of the conformance suites (sourced, bash).
#   conf_need PKG...        install the Debian packages that are missing (apt-get update at most once)
#   conf_containerd_config DIR SOCK [cri]  config.toml of a private containerd (root, state under DIR; sockets)
#   conf_ocirun             absolute path of the ocirun under test (builds ./ocirun with make if missing)
#   conf_rootfs DIR         a busybox rootfs from Debian's busybox-static
#   tap_* helpers           TAP output and the "N passed, N failed" summary; a time limit per scenario
#   PTY_RUN                 conformance/lib/pty-run.py: a command on a fresh pty (TERM, 24x80), for -t clients

CONF_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REPO_DIR=$(cd "$CONF_DIR/.." && pwd)
PTY_RUN=$CONF_DIR/lib/pty-run.py

conf_log() { echo "# $*" >&2; }
conf_die() { echo "Bail out! $*"; exit 1; }

_conf_apt_updated=
conf_need() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" = 0 ] || conf_die "packages missing (${missing[*]}) and not root"
  conf_log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Daemons must not start from their package scripts: the suites start private instances only.
  local policy=/usr/sbin/policy-rc.d added=
  if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; added=1; fi
  if [ -z "$_conf_apt_updated" ]; then apt-get update -qq >/dev/null; _conf_apt_updated=1; fi
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  local rc=$?
  [ -n "$added" ] && rm -f "$policy"
  return $rc
}

# conf_containerd_config DIR SOCK [cri]: prints a private containerd's config.toml: root and state under DIR, gRPC on
# SOCK, ttrpc on SOCK.ttrpc, the snapshotters that are not used disabled, and the CRI plugin too unless the third
# argument is "cri" (the caller then appends the plugin's tables). Never the system containerd.
conf_containerd_config() {
  local cri='"io.containerd.grpc.v1.cri", '
  [ "${3:-}" = cri ] && cri=
  cat <<EOF
version = 2
root = "$1/root"
state = "$1/state"
disabled_plugins = [${cri}"io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
                    "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs",
                    "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
[grpc]
  address = "$2"
[ttrpc]
  address = "$2.ttrpc"
[debug]
  level = "info"
[plugins."io.containerd.monitor.v1.cgroups"]
  no_prometheus = true
EOF
}

conf_ocirun() {
  local bin=${OCIRUN:-$REPO_DIR/ocirun}
  if [ ! -x "$bin" ]; then
    [ -z "${OCIRUN:-}" ] || conf_die "OCIRUN=$OCIRUN is not executable"
    conf_log "building $bin (make)"
    make -C "$REPO_DIR" ocirun >&2 || conf_die "make ocirun failed"
  fi
  readlink -f "$bin"
}

# A busybox rootfs: /bin/busybox + applet links, passwd/group, the usual empty directories.
conf_rootfs() {
  local dir=$1 busybox=/bin/busybox applet
  [ -x "$busybox" ] || conf_die "busybox not found (apt-get install busybox-static)"
  rm -rf "$dir"
  mkdir -p "$dir"/{bin,sbin,etc,proc,sys,dev,tmp,root,usr/bin,usr/sbin,var,home}
  cp "$busybox" "$dir/bin/busybox"
  for applet in $("$busybox" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$dir/bin/$applet"
  done
  cat > "$dir/etc/passwd" <<'P'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
P
  cat > "$dir/etc/group" <<'G'
root:x:0:
daemon:x:1:
nogroup:x:65534:
G
  echo 'nameserver 127.0.0.1' > "$dir/etc/resolv.conf"
  chmod 1777 "$dir/tmp"
}

# ---- TAP ------------------------------------------------------------------------------------------------
TAP_N=0 TAP_PASS=0 TAP_FAIL=0 TAP_SKIP=0 TAP_TODO=0
TAP_FAILED=()

tap_ok() { TAP_N=$((TAP_N + 1)); TAP_PASS=$((TAP_PASS + 1)); echo "ok $TAP_N - $1"; }
tap_not_ok() {
  TAP_N=$((TAP_N + 1)); TAP_FAIL=$((TAP_FAIL + 1)); TAP_FAILED+=("$1")
  echo "not ok $TAP_N - $1"
  [ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/#   /'
  return 0
}
tap_skip() { TAP_N=$((TAP_N + 1)); TAP_SKIP=$((TAP_SKIP + 1)); echo "ok $TAP_N - $1 # SKIP $2"; }
# tap_todo NAME REASON [DIAGNOSTICS]: a known gap, reported "not ok ... # TODO REASON", not counted as a failure.
tap_todo() {
  TAP_N=$((TAP_N + 1)); TAP_TODO=$((TAP_TODO + 1))
  echo "not ok $TAP_N - $1 # TODO $2"
  [ -n "${3:-}" ] && printf '%s\n' "$3" | sed 's/^/#   /'
  return 0
}

# tap_run NAME FUNCTION [ARGS...]: runs FUNCTION in a subshell; exit 0 = ok, 77 = skip (reason on the last line of
# its stdout), 78 = TODO, a known gap (reason on the last line; "not ok ... # TODO", not a failure), anything else =
# not ok with the captured output as diagnostics. Lines of an ok test that start with "# " are kept as TAP comments. A scenario gets TAP_TIMEOUT seconds (default 240): then it and
# every process it started are killed, and it is "not ok" with the process tree of the moment, so one hang
# (a client that never returns, a process holding a pipe) costs minutes, not the whole CI run. Output goes
# to a file, never a pipe: a daemon that inherits it cannot block the suite.
TAP_TIMEOUT=${TAP_TIMEOUT:-240}
# The time limit is a watchdog subshell and the scenario is reaped with a plain `wait PID`: bash 5.2's
# `wait -n PID SLEEPER` (used before) sometimes missed a scenario that had already exited and returned only when the
# sleeper did, so a step that took 0.1 s cost TAP_TIMEOUT (seen in the cri suite: 60 s and 240 s for a skip).
tap_run() {
  local name=$1 out rc log watchdog; shift
  log=$(mktemp)
  ( "$@" ) > "$log" 2>&1 &
  local pid=$!
  ( sleep "$TAP_TIMEOUT"
    { echo "timed out after $TAP_TIMEOUT s; the processes of the scenario then:"
      ps -o pid=,ppid=,stat=,etime=,args= -p "$(descendants "$pid" | paste -sd, -)" 2>/dev/null | cut -c1-240
    } >> "$log"
    : > "$log.timeout"
    kill_tree "$pid" ) > /dev/null 2>&1 &
  watchdog=$!
  wait "$pid" 2>/dev/null; rc=$?
  kill_tree "$watchdog"; wait "$watchdog" 2>/dev/null
  [ -e "$log.timeout" ] && rc=124
  rm -f "$log.timeout"
  out=$(cat "$log"); rm -f "$log"
  case $rc in
    0) tap_ok "$name"; printf '%s\n' "$out" | grep '^# ' ;;
    77) tap_skip "$name" "$(printf '%s\n' "$out" | tail -n 1)" ;;
    78) tap_todo "$name" "$(printf '%s\n' "$out" | tail -n 1)" "$(printf '%s\n' "$out" | sed '$d' | tail -n 20)" ;;
    *) tap_not_ok "$name" "$(printf '%s\n' "$out" | tail -n 40)" ;;
  esac
  return 0
}

# descendants PID: PID and every process below it (depth first, parents before children).
descendants() {
  local c; echo "$1"
  for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do descendants "$c"; done
}
# kill_tree PID: SIGKILL to PID and all its descendants (collected first, so reparenting can't hide one).
kill_tree() { local pids; pids=$(descendants "$1"); kill -STOP $pids 2>/dev/null; kill -KILL $pids 2>/dev/null; }

tap_summary() {
  echo "1..$TAP_N"
  echo "# $TAP_PASS passed, $TAP_FAIL failed, $TAP_SKIP skipped$([ $TAP_TODO -eq 0 ] || echo ", $TAP_TODO todo (known gaps)")"
  [ $TAP_FAIL -eq 0 ]
}

# skip REASON (inside a tap_run function)
skip() { echo "$*"; exit 77; }
fail() { echo "$*"; exit 1; }

# assert_eq ACTUAL EXPECTED [WHAT], assert_ne, assert_contains, assert_not_contains (inside a tap_run function)
assert_eq() { [ "$1" = "$2" ] || fail "${3:-value}: expected '$2', got '$1'"; }
assert_ne() { [ "$1" != "$2" ] || fail "${3:-value}: expected something other than '$2'"; }
assert_contains() { case "$1" in *"$2"*) ;; *) fail "${3:-output}: expected to contain '$2', got '$1'" ;; esac; }
assert_not_contains() { case "$1" in *"$2"*) fail "${3:-output}: expected not to contain '$2', got '$1'" ;; esac; }

# retry_until SECONDS COMMAND...: polls every 0.1 s until COMMAND succeeds.
retry_until() {
  local deadline=$(( $(date +%s%N) / 1000000 + $1 * 1000 )); shift
  while ! "$@" >/dev/null 2>&1; do
    [ $(( $(date +%s%N) / 1000000 )) -ge $deadline ] && return 1
    sleep 0.1
  done
}
