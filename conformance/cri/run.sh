#!/usr/bin/env bash
# Kubernetes' path to ocirun, run for real: containerd 1.6's CRI plugin (the kubelet's runtime.v1 API) → the runtime
# handler `ocirun` (io.containerd.runc.v2, options BinaryName = ./ocirun) → containerd-shim-runc-v2 → ocirun; and the
# same scenario through the handler `runc` (BinaryName = runc), the oracle. The kubelet's side is cri.py, a small CRI
# client over python3-grpcio with hand-encoded messages (Debian 12 has no crictl).
#
#   conformance/cri/run.sh          (root; installs containerd, busybox-static, jq, python3-grpcio if missing)
#   RUNTIMES="ocirun" conformance/cri/run.sh      only one handler (default "ocirun runc")
#   RECORD=1 conformance/cri/run.sh      BinaryName is a wrapper that logs each call the shim makes (argv, exit status)
#                                        to artifacts/<handler>-invocations.log (default: the binaries themselves)
#
# A private containerd (own config, root, state, sockets under /tmp/ocirun-cri.XXXXXX) with the CRI plugin enabled:
# no CNI (every pod uses the node's network), a sandbox image built from busybox-static and imported into the k8s.io
# namespace (no registry), AppArmor off, cgroupfs. Each step is a TAP test with a time limit (TAP_TIMEOUT, 30 s).
# Prints TAP and "N passed, N failed, N skipped"; exits non-zero on any failure.
# Artifacts (kept): conformance/cri/artifacts/containerd.log, the containers' CRI logs.
# OCIRUN=/path/to/ocirun selects the binary (default: ./ocirun, built with make when missing).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
TAP_TIMEOUT=${TAP_TIMEOUT:-30}
source "$here/../lib/common.sh"

[ "$(id -u)" = 0 ] || conf_die "run as root"
conf_need containerd runc busybox-static jq python3-grpcio util-linux tar >&2
OCIRUN=$(conf_ocirun) || exit 1
RUNC=$(command -v runc) || conf_die "runc not found"
RUNTIMES=${RUNTIMES:-ocirun runc}
ART=$here/artifacts
rm -rf "$ART"; mkdir -p "$ART"
TMP=$(mktemp -d /tmp/ocirun-cri.XXXXXX)
chmod 0755 "$TMP"
SOCK=$TMP/containerd.sock
# The pods' cgroup parent (cgroupfs): /<basename of TMP>/<runtime>, removed at the end.
CGROOT=$(basename "$TMP")
IMAGE=localhost/conformance/cri-busybox:latest
CONTAINERD_PID=
started=$SECONDS

cleanup() {
  local pid d
  if [ -n "$CONTAINERD_PID" ] && kill -0 "$CONTAINERD_PID" 2>/dev/null; then
    # Whatever a failed scenario left: the CRI plugin stops and removes its pods (containers included).
    for d in "$TMP"/run-*/pod; do
      [ -s "$d" ] || continue
      cri stopp "$(cat "$d")" >/dev/null 2>&1; cri rmp "$(cat "$d")" >/dev/null 2>&1
    done
    kill -TERM "$CONTAINERD_PID" 2>/dev/null
    retry_until 10 sh -c "! kill -0 $CONTAINERD_PID 2>/dev/null" || kill -KILL "$CONTAINERD_PID" 2>/dev/null
    wait "$CONTAINERD_PID" 2>/dev/null
  fi
  # Shims of this containerd that outlived it (found by our private socket path), by pid.
  for pid in $(pgrep -f "containerd-shim-runc-v2 .*-address $SOCK" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
  grep -o " $TMP[^ ]*" /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
  # Processes a failed teardown left in the pods' cgroups (a sandbox's sleep outlives its killed shim), by pid; then
  # the cgroups and their parents (made by the runtimes' mkdir -p, never removed by them), deepest first.
  for pid in $(pod_procs); do kill -KILL "$pid" 2>/dev/null; done
  retry_until 5 _no_pod_procs
  pod_cgroups | tac | xargs -r rmdir 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cri() { /usr/bin/python3 "$here/cri.py" "$SOCK" "$@"; }
# pod_cgroups: every cgroup directory under the pods' parent, parents first (v1 hierarchies and v2).
pod_cgroups() { find /sys/fs/cgroup/"$CGROOT" /sys/fs/cgroup/*/"$CGROOT" -type d 2>/dev/null; }
pod_procs() { local d; for d in $(pod_cgroups); do cat "$d/cgroup.procs" 2>/dev/null; done | sort -u; }
_no_pod_procs() { [ -z "$(pod_procs)" ]; }

# ---- the handlers' binaries (RECORD=1: wrappers that log every call) -----------------------------------------------
BINARY_ocirun=$OCIRUN BINARY_runc=$RUNC
if [ -n "${RECORD:-}" ]; then
  mkdir -p "$TMP/bin"
  for R in ocirun runc; do
    b=BINARY_$R
    cat > "$TMP/bin/$R" <<EOF
#!/bin/bash
start=\$(date +%H:%M:%S.%N)
"${!b}" "\$@"
rc=\$?
printf '%s rc=%s $R %s\n' "\${start:0:15}" "\$rc" "\$(printf '%q ' "\$@")" >> "$ART/$R-invocations.log"
exit \$rc
EOF
    chmod +x "$TMP/bin/$R"
    printf -v "$b" %s "$TMP/bin/$R"
  done
fi

# ---- private containerd with the CRI plugin ---------------------------------------------------------------------
mkdir -p "$TMP/cni/bin" "$TMP/cni/net.d" "$TMP/opt"
{
  conf_containerd_config "$TMP" "$SOCK" cri
  cat <<EOF
[plugins."io.containerd.internal.v1.opt"]
  path = "$TMP/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$IMAGE"
  disable_apparmor = true
  # The sandbox's oom_score_adj (-998) is below containerd's: lowering it needs CAP_SYS_RESOURCE, which this VM's
  # bounding set lacks (runc fails too). Restricted, the CRI plugin keeps it at containerd's own value.
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$TMP/cni/bin"
    conf_dir = "$TMP/cni/net.d"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.ocirun]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.ocirun.options]
        BinaryName = "$BINARY_ocirun"
        Root = "$TMP/runtime-root/ocirun"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "$BINARY_runc"
        Root = "$TMP/runtime-root/runc"
EOF
} > "$TMP/config.toml"
containerd --config "$TMP/config.toml" > "$ART/containerd.log" 2>&1 &
CONTAINERD_PID=$!
retry_until 20 cri version --deadline 2 || { tail -20 "$ART/containerd.log"; conf_die "containerd's CRI plugin did not answer"; }

# ---- the image (sandbox and containers): busybox-static, Cmd a long sleep (the sandbox's "pause") --------------------
conf_rootfs "$TMP/rootfs"
"$here/../lib/oci-image.sh" "$TMP/rootfs" "$TMP/image.tar" "$IMAGE" '["sleep", "2147483647"]' > "$TMP/digest" ||
  conf_die "building the OCI image failed"
ctr -a "$SOCK" -n k8s.io images import "$TMP/image.tar" > "$TMP/import.log" 2>&1 ||
  { cat "$TMP/import.log"; conf_die "ctr images import failed"; }
retry_until 10 sh -c "/usr/bin/python3 '$here/cri.py' '$SOCK' image-status '$IMAGE' | grep -q sha256" ||
  conf_die "the CRI plugin does not see $IMAGE"

echo "# containerd $(containerd --version | awk '{print $3}') CRI plugin ($(cri version | jq -r '.runtime_name + " " + .runtime_version + ", CRI " + .runtime_api_version'))"
echo "# handlers: ocirun = $OCIRUN, runc = $RUNC ($("$RUNC" --version | head -1)); sandbox image $IMAGE $(cat "$TMP/digest")"

# ---- helpers (R is the runtime handler of the scenario; state of a scenario in $TMP/run-$R) -------------------------
id_of() { cat "$TMP/run-$R/$1" 2>/dev/null; }
need() { local n; for n in "$@"; do [ -s "$TMP/run-$R/$n" ] || skip "needs the $n of an earlier step"; done; }
pod_opts() { echo --name "pod-$R" --handler "$R" --cgroup-parent "/$CGROOT/$R" --log-dir "$TMP/logs/$R"; }
# rt ARGS: the handler's binary on the handler's state (the shim's --root is <options Root>/<namespace>).
rt() { "$BIN" --root "$TMP/runtime-root/$R/k8s.io" "$@"; }
field() { cri status "$1" | jq -r ".$2"; }
_state_is() { [ "$(field "$1" state)" = "$2" ]; }
wait_state() { retry_until "${3:-10}" _state_is "$1" "$2"; }
# memory_limit PID: the memory limit of PID's cgroup (v1 memory.limit_in_bytes, or v2 memory.max).
memory_limit() {
  local path
  path=$(awk -F: '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == "memory") print $3 }' "/proc/$1/cgroup")
  if [ -n "$path" ]; then cat "/sys/fs/cgroup/memory$path/memory.limit_in_bytes"
  else cat "/sys/fs/cgroup$(awk -F: '$1 == "0" { print $3 }' "/proc/$1/cgroup")/memory.max"; fi
}
# new_container NAME [create options] -- CMD...: CreateContainer + StartContainer, id saved as NAME.
new_container() {
  local name=$1 id out; shift
  id=$(cri create "$(id_of pod)" "$name" "$IMAGE" $(pod_opts) "$@") || fail "CreateContainer $name failed"
  echo "$id" > "$TMP/run-$R/$name"
  out=$(cri start "$id" 2>&1) || fail "StartContainer $name: $out"
}
ms() { echo $(( $(date +%s%N) / 1000000 )); }

# ---- the steps ----------------------------------------------------------------------------------------------------
s_run_pod() {
  local pod out
  pod=$(cri runp $(pod_opts) 2>&1) || fail "RunPodSandbox: $pod"
  echo "$pod" > "$TMP/run-$R/pod"
  assert_eq "$(cri pod-status "$pod" | jq -r .state)" SANDBOX_READY "PodSandboxStatus"
  out=$(rt state "$pod" 2>&1) || fail "$R state $pod (the handler's root $TMP/runtime-root/$R/k8s.io): $out"
  assert_eq "$(jq -r .status <<<"$out")" running "$R state of the sandbox"
  jq -r .pid <<<"$out" > "$TMP/run-$R/pod-pid"
  assert_eq "$(readlink "/proc/$(cat "$TMP/run-$R/pod-pid")/ns/net")" "$(readlink /proc/self/ns/net)" "network namespace of the sandbox (NODE)"
  assert_contains "$(cat "/proc/$(cat "$TMP/run-$R/pod-pid")/cgroup")" "/$CGROOT/$R/$pod" "cgroup of the sandbox (cgroup_parent/id)"
}

s_create_start() {
  need pod
  new_container main --memory 134217728 -- sh -c 'trap "echo got-TERM; exit 42" TERM; echo started; sleep 300 & wait'
  local id; id=$(id_of main)
  local st; st=$(cri status "$id") || fail "ContainerStatus failed"
  assert_eq "$(jq -r .state <<<"$st")" CONTAINER_RUNNING "ContainerStatus right after StartContainer"
  [ "$(jq -r .started_at <<<"$st")" -gt 0 ] || fail "started_at is 0: $st"
  local out; out=$(rt state "$id" 2>&1) || fail "$R state $id: $out"
  assert_eq "$(jq -r .status <<<"$out")" running "$R state of the container"
  local pid; pid=$(jq -r .pid <<<"$out"); echo "$pid" > "$TMP/run-$R/main-pid"
  assert_eq "$(memory_limit "$pid")" 134217728 "memory limit of the cgroup from CreateContainer"
  assert_eq "$(cri list "$(id_of pod)" | jq -r --arg id "$id" '.[$id]')" CONTAINER_RUNNING "ListContainers of the pod"
}

s_exec_sync() {
  need main
  local out; out=$(cri exec "$(id_of main)" 10 -- sh -c 'echo out-$CONFORMANCE; cat /proc/1/cmdline | tr "\0" " "; echo; echo err >&2; exit 3') ||
    fail "ExecSync failed"
  assert_eq "$(jq -r .exit_code <<<"$out")" 3 "exit code of ExecSync"
  assert_eq "$(jq -r .stdout <<<"$out")" "out-cri
sh -c trap \"echo got-TERM; exit 42\" TERM; echo started; sleep 300 & wait " "stdout of ExecSync (the container's env; its PID 1)"
  assert_eq "$(jq -r .stderr <<<"$out")" err "stderr of ExecSync"
  out=$(cri exec "$(id_of main)" 10 -- /no/such/binary 2>&1)
  [ $? -ne 0 ] || [ "$(jq -r .exit_code <<<"$out")" != 0 ] || fail "ExecSync of a missing binary succeeded: $out"
  assert_eq "$(field "$(id_of main)" state)" CONTAINER_RUNNING "the container after a failed exec"
}

s_update() {
  need main main-pid
  local out; out=$(cri update "$(id_of main)" 67108864 2>&1) || fail "UpdateContainerResources: $out"
  assert_eq "$(memory_limit "$(id_of main-pid)")" 67108864 "memory limit of the cgroup after the update"
  assert_eq "$(field "$(id_of main)" state)" CONTAINER_RUNNING "the container after the update"
}

s_exits() { # s_exits NAME PIDMODE CODE: a container that exits by itself reaches EXITED with its exit code
  need pod
  local name=$1 code=$3
  new_container "$name" --pid "$2" -- sh -c "echo bye-$name; sleep 0.3; exit $code"
  local id; id=$(id_of "$name")
  wait_state "$id" CONTAINER_EXITED 10 || fail "state $(field "$id" state) 10 s after start (exit $code expected)"
  local st; st=$(cri status "$id")
  assert_eq "$(jq -r .exit_code <<<"$st")" "$code" "exit code in ContainerStatus"
  assert_eq "$(jq -r .reason <<<"$st")" Error "reason in ContainerStatus"
  [ "$(jq -r .finished_at <<<"$st")" -gt "$(jq -r .started_at <<<"$st")" ] || fail "finished_at not after started_at: $st"
  # The container's CRI log (containerd writes "<time> stdout F <line>").
  retry_until 5 grep -q " stdout F bye-$name" "$(jq -r .log_path <<<"$st")" || fail "no 'bye-$name' in $(jq -r .log_path <<<"$st"): $(cat "$(jq -r .log_path <<<"$st")" 2>&1)"
  local out; out=$(cri rm "$id" 2>&1) || fail "RemoveContainer of the exited container: $out"
  cri status "$id" >/dev/null 2>&1 && fail "ContainerStatus still answers after RemoveContainer"
  [ -e "$TMP/runtime-root/$R/k8s.io/$id" ] && fail "$R state directory of $id left"
  return 0
}

s_stop_term() {
  need main
  local id t0 t; id=$(id_of main) t0=$(ms)
  local out; out=$(cri stop "$id" 10 2>&1) || fail "StopContainer: $out"
  t=$(( $(ms) - t0 ))
  local st; st=$(cri status "$id")
  assert_eq "$(jq -r .state <<<"$st")" CONTAINER_EXITED "state after StopContainer"
  assert_eq "$(jq -r .exit_code <<<"$st")" 42 "exit code (the container's SIGTERM trap exits 42)"
  [ "$t" -lt 5000 ] || fail "StopContainer took $t ms: the trap should end it at once (grace period 10 s)"
  grep -q " stdout F got-TERM" "$(jq -r .log_path <<<"$st")" || fail "no got-TERM in the container's log"
  echo "# StopContainer (SIGTERM, trapped) in $t ms"
}

s_stop_kill() {
  need pod
  new_container stubborn -- sleep 300   # PID 1 without a handler: SIGTERM does nothing
  local id t0 t; id=$(id_of stubborn)
  wait_state "$id" CONTAINER_RUNNING 5 || fail "state $(field "$id" state)"
  t0=$(ms)
  local out; out=$(cri stop "$id" 2 2>&1) || fail "StopContainer: $out"
  t=$(( $(ms) - t0 ))
  local st; st=$(cri status "$id")
  assert_eq "$(jq -r .state <<<"$st")" CONTAINER_EXITED "state after StopContainer"
  assert_eq "$(jq -r .exit_code <<<"$st")" 137 "exit code (SIGKILL after the grace period)"
  [ "$t" -ge 1900 ] && [ "$t" -lt 8000 ] || fail "StopContainer with a 2 s grace period took $t ms"
  echo "# StopContainer (SIGTERM ignored, SIGKILL after 2 s) in $t ms"
}

s_remove_containers() {
  need pod
  local name id out
  for name in main stubborn; do
    id=$(id_of "$name"); [ -n "$id" ] || continue
    out=$(cri rm "$id" 2>&1) || fail "RemoveContainer $name: $out"
    [ -e "$TMP/runtime-root/$R/k8s.io/$id" ] && fail "$R state directory of $name left"
  done
  out=$(cri rm "$(id_of main)" 2>&1) || fail "a second RemoveContainer is not idempotent: $out"
  assert_eq "$(cri list "$(id_of pod)")" "{}" "ListContainers of the pod"
}

s_stop_pod() {
  need pod
  local pod out; pod=$(id_of pod)
  out=$(cri stopp "$pod" 2>&1) || fail "StopPodSandbox: $out"
  assert_eq "$(cri pod-status "$pod" | jq -r .state)" SANDBOX_NOTREADY "PodSandboxStatus after StopPodSandbox"
  kill -0 "$(id_of pod-pid)" 2>/dev/null && fail "the sandbox's process $(id_of pod-pid) still runs"
  out=$(cri stopp "$pod" 2>&1) || fail "a second StopPodSandbox is not idempotent: $out"
  out=$(cri rmp "$pod" 2>&1) || fail "RemovePodSandbox: $out"
  cri pod-status "$pod" >/dev/null 2>&1 && fail "PodSandboxStatus still answers after RemovePodSandbox"
  rm -f "$TMP/run-$R/pod"
  return 0
}

_no_shim() { ! pgrep -f "containerd-shim-runc-v2 .*-address $SOCK" >/dev/null; }
s_nothing_left() {
  local ids left p
  ids=$(cat "$TMP/run-$R"/* 2>/dev/null | grep -E '^[0-9a-f]{64}$' | paste -sd'|')
  [ -n "$ids" ] || skip "no pod or container was made"
  retry_until 5 _no_shim || fail "shims left: $(pgrep -af "containerd-shim-runc-v2 .*-address $SOCK")"
  left=$(ls -A "$TMP/runtime-root/$R/k8s.io" 2>/dev/null); [ -z "$left" ] || fail "$R state left: $left"
  left=$(ls -A "$TMP/state/io.containerd.runtime.v2.task/k8s.io" 2>/dev/null | grep -E "$ids"); [ -z "$left" ] || fail "bundles left: $left"
  left=$(ls -A "$TMP/root/io.containerd.grpc.v1.cri/sandboxes" "$TMP/root/io.containerd.grpc.v1.cri/containers" \
              "$TMP/state/io.containerd.grpc.v1.cri/sandboxes" "$TMP/state/io.containerd.grpc.v1.cri/containers" 2>/dev/null | grep -E "$ids")
  [ -z "$left" ] || fail "CRI plugin directories left: $left"
  left=$(grep -E "$ids" /proc/self/mountinfo); [ -z "$left" ] || fail "mounts left: $left"
  left=$(find /sys/fs/cgroup/"$CGROOT/$R" /sys/fs/cgroup/*/"$CGROOT/$R" -mindepth 1 -type d 2>/dev/null)
  [ -z "$left" ] || fail "cgroups left: $left"
  left=$(pod_procs); [ -z "$left" ] || fail "processes left in the pods' cgroups: $(ps -o pid=,stat=,args= -p "$(paste -sd, <<<"$left")")"
  for p in $(cat "$TMP/run-$R"/*pid 2>/dev/null); do
    kill -0 "$p" 2>/dev/null && fail "process $p left: $(ps -o pid=,stat=,args= -p "$p")"
  done
  return 0
}

for R in $RUNTIMES; do
  case $R in ocirun) BIN=$OCIRUN ;; runc) BIN=$RUNC ;; *) conf_die "unknown handler $R (ocirun or runc)" ;; esac
  mkdir -p "$TMP/run-$R" "$TMP/logs/$R"
  t0=$SECONDS
  tap_run "$R: RunPodSandbox (handler $R, network NODE) → SANDBOX_READY, the sandbox runs under $R" s_run_pod
  tap_run "$R: CreateContainer + StartContainer → ContainerStatus RUNNING (memory limit from the config)" s_create_start
  tap_run "$R: ExecSync (stdout, stderr, exit code 3; a missing binary fails)" s_exec_sync
  tap_run "$R: UpdateContainerResources (memory 64 MiB) reaches the cgroup" s_update
  tap_run "$R: a container that exits by itself (exit 7) → EXITED, exit code 7, its log; RemoveContainer" s_exits exits container 7
  tap_run "$R: the same in the pod's pid namespace (exit 9; the shim's kill --all on exit)" s_exits exits-podpid pod 9
  tap_run "$R: StopContainer, SIGTERM trapped (exit 42) within the grace period" s_stop_term
  tap_run "$R: StopContainer, SIGTERM ignored: SIGKILL after the 2 s grace period (137)" s_stop_kill
  tap_run "$R: RemoveContainer of the stopped containers (twice: idempotent)" s_remove_containers
  tap_run "$R: StopPodSandbox (twice) → NOTREADY, RemovePodSandbox" s_stop_pod
  tap_run "$R: nothing left (runtime state, bundles, CRI dirs, shim, mounts, cgroups, processes)" s_nothing_left
  echo "# $R: $((SECONDS - t0)) s"
done

cp -r "$TMP/logs" "$ART/" 2>/dev/null
echo "# containerd log: $ART/containerd.log"
echo "# cri suite: $((SECONDS - started)) s"
tap_summary
