#!/usr/bin/env bash
# Fault injection for the state root's crash consistency (issue #18): create, run -d, exec and delete are killed or
# have a syscall fail at a random point, then `delete --force` must leave nothing of the container.
#   tests/fault/fault-inject.sh RUNTIME [TRIALS]     (as root; TRIALS defaults to $OCIRUN_FAULT_TRIALS or 200)
# RUNTIME is ocirun or any runc-compatible binary (runc 1.1.5 for comparison). Each trial picks an operation (create,
# run -d, exec -d, delete --force, in turn) and a fault:
#   * kill:   SIGKILL of the runtime after a random delay (0-120 ms), no tracing;
#   * signal: strace -f -e inject=SYSCALL:signal=SIGKILL:when=N — the runtime (or its child) dies at the Nth call of SYSCALL;
#   * error:  strace -f -e inject=SYSCALL:error=ENOSPC|EIO|EINTR:when=N — that call fails instead.
# SYSCALL and N are drawn from a profile of the operation (one clean traced run), so every syscall it makes is a
# candidate. After the faulty run: `RUNTIME delete --force ID`, then the checks: no state directory, no cgroup directory
# named after the id on any hierarchy (so no process in its cgroups), no process of the container (its command line
# carries a marker), no mount of the bundle, and the id is reusable (create + delete --force succeed).
# Prints one line per leaking trial and a summary "trials=T leaks=L"; exits 1 when L > 0.
set -u
runtime=$(readlink -f "${1:?usage: $0 RUNTIME [TRIALS]}")
trials=${2:-${OCIRUN_FAULT_TRIALS:-200}}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
command -v strace >/dev/null || { echo "strace is missing (apt-get install strace)" >&2; exit 2; }
work=$(mktemp -d /tmp/ocirun-fault.XXXXXX)
root=$work/root
id=fault-$$
marker=$((700000 + RANDOM))
cgroup_root=${OCIRUN_CGROUP_ROOT:-/sys/fs/cgroup}

cleanup() {
  "$runtime" --root "$root" delete --force "$id" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

"$repo/scripts/make-bundle.sh" "$work/bundle" "$runtime" >/dev/null 2>&1 ||
  "$repo/scripts/make-bundle.sh" "$work/bundle" >/dev/null
jq --arg m "$marker" '.process.terminal = false | .process.args = ["sleep", $m]' "$work/bundle/config.json" > "$work/c.json" &&
  mv "$work/c.json" "$work/bundle/config.json"

rt() { "$runtime" --root "$root" "$@"; }

# The runtime's command for operation $1 (its preconditions are made by prepare).
op_args() {
  case $1 in
    create) echo "create --bundle $work/bundle $id" ;;
    run) echo "run -d --bundle $work/bundle $id" ;;
    exec) echo "exec -d $id sleep $marker" ;;
    delete) echo "delete --force $id" ;;
  esac
}

prepare() {
  case $1 in
    create | run) return 0 ;;
    exec | delete) rt run -d --bundle "$work/bundle" "$id" </dev/null >/dev/null 2>&1 ;;
  esac
}

# Runs the operation under strace with extra arguments "$@" (after the operation name $1). strace follows the container's
# init too, which outlives a create: once the runtime's own process is gone, strace is told to detach (SIGTERM; SIGINT is ignored by a background job).
traced() {
  # bash's "Killed" notice of a strace that died with its tracee goes to this function's stderr: not shown.
  traced_body "$@" 2>/dev/null
}

traced_body() {
  local op=$1; shift
  local pidfile=$work/pid
  rm -f "$pidfile"
  # shellcheck disable=SC2046
  strace -I1 -f -qq -o "$work/strace.out" "$@" sh -c 'echo $$ > "$0"; exec "$@"' "$pidfile" "$runtime" --root "$root" $(op_args "$op") \
    </dev/null >"$work/op.out" 2>&1 &
  local strace_pid=$!
  local pid="" i
  for i in $(seq 1 3000); do
    [ -s "$pidfile" ] && { pid=$(cat "$pidfile"); break; }
    kill -0 "$strace_pid" 2>/dev/null || break
    sleep 0.01
  done
  if [ -n "$pid" ]; then
    # The runtime is strace's child: gone (reaped) when kill -0 fails. A hang guard of 60 s.
    for i in $(seq 1 6000); do
      kill -0 "$pid" 2>/dev/null || break
      [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ] && break
      sleep 0.01
    done
  fi
  kill -TERM "$strace_pid" 2>/dev/null
  wait "$strace_pid" 2>/dev/null
}

# A profile of each operation: "SYSCALL CALLS" lines counted in the full trace of one clean run (strace -c writes no
# summary when it is told to detach).
profile() {
  local op=$1
  prepare "$op"
  traced "$op"
  rt delete --force "$id" >/dev/null 2>&1
  awk '{ if (match($2, /^[a-z0-9_]+\(/)) print substr($2, 1, RLENGTH - 1) }' "$work/strace.out" | sort | uniq -c |
    awk '{ print $2, $1 }' > "$work/profile.$op"
  [ -s "$work/profile.$op" ] || { echo "no syscall profile for $op" >&2; exit 2; }
}

leaks=0
check() {
  local trial=$1 what=$2 problems=""
  local del_out
  del_out=$(rt delete --force "$id" 2>&1) || problems+=" delete-force-failed($(echo "$del_out" | head -1))"
  [ -e "$root/$id" ] && problems+=" state-dir($(ls "$root/$id" | tr '\n' ,))"
  local cg
  cg=$(find "$cgroup_root" -maxdepth 4 -type d -name "$id" 2>/dev/null | tr '\n' ' ')
  [ -n "$cg" ] && problems+=" cgroups($cg)"
  local procs
  procs=$(pgrep -f "sleep $marker" | tr '\n' ' ')
  [ -n "$procs" ] && problems+=" processes($procs)"
  grep -qE "$work/(bundle|root)" /proc/self/mountinfo && problems+=" mounts"
  if [ -z "$problems" ]; then
    # stdio on files: the container's init keeps the runtime's stdio, a pipe would never end.
    if ! rt create --bundle "$work/bundle" "$id" </dev/null >/dev/null 2>"$work/reuse.err"; then
      problems+=" id-not-reusable($(head -1 "$work/reuse.err"))"
    fi
    rt delete --force "$id" >/dev/null 2>&1
  fi
  if [ -n "$problems" ]; then
    leaks=$((leaks + 1))
    echo "LEAK trial $trial: $what:$problems"
    # Clean by hand so that the next trials start from nothing.
    for d in $cg; do
      for p in $(cat "$d/cgroup.procs" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
    done
    pkill -9 -f "sleep $marker" 2>/dev/null
    sleep 0.2
    for d in $cg; do find "$d" -depth -type d -exec rmdir {} + 2>/dev/null; done
    # A mount left in the state directory (runc's bind-mounted copy of itself) would fail every later trial.
    awk -v d="$root/$id" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo | xargs -r -n1 umount -l 2>/dev/null
    rm -rf "${root:?}/$id"
  fi
}

ops=(create run exec delete)
for op in "${ops[@]}"; do profile "$op"; done
errors=(ENOSPC EIO EINTR)
start=$(date +%s)
for trial in $(seq 1 "$trials"); do
  op=${ops[$(((trial - 1) % 4))]}
  prepare "$op"
  fault=$((RANDOM % 3))
  if [ "$fault" = 0 ]; then
    delay=$((RANDOM % 120))
    # shellcheck disable=SC2046
    "$runtime" --root "$root" $(op_args "$op") </dev/null >/dev/null 2>&1 &
    pid=$!
    sleep "0.$(printf %03d "$delay")"
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    what="$op kill after ${delay}ms"
  else
    # exit, exit_group and rt_sigreturn cannot fail: an error injected there makes a process no kernel can make.
    if [ "$fault" = 1 ]; then
      line=$(shuf -n 1 "$work/profile.$op")
    else
      line=$(grep -Ev '^(exit|exit_group|rt_sigreturn) ' "$work/profile.$op" | shuf -n 1)
    fi
    syscall=${line% *}
    calls=${line#* }
    n=$((RANDOM % calls + 1))
    if [ "$fault" = 1 ]; then
      action="signal=SIGKILL"
    else
      action="error=${errors[$((RANDOM % 3))]}"
    fi
    traced "$op" -e "trace=$syscall" -e "inject=$syscall:$action:when=$n"
    what="$op $syscall:$action:when=$n"
  fi
  check "$trial" "$what"
done
echo "trials=$trials leaks=$leaks seconds=$(($(date +%s) - start)) runtime=$runtime"
[ "$leaks" = 0 ]
