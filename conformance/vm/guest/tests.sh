#!/usr/bin/env bash
# The VM stage's tests, run as root inside the guest (pure cgroup v2, systemd as PID 1; run.sh boots it). Each test
# runs one scenario under runc and under ocirun in the same guest and compares what they observe: the scenario
# prints the values that matter (cgroup files, unit properties, outputs) and the two must print the same, with
# runc's output also checked against what the scenario expects (so a scenario that observes nothing fails).
# TAP on stdout. FILTER=regex runs only the tests whose name matches.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/common.sh"
TAP_TIMEOUT=${TAP_TIMEOUT:-120}
OCIRUN=/usr/local/bin/ocirun
RUNC=$(command -v runc)
CG=/sys/fs/cgroup
W=$(mktemp -d /var/tmp/vmtest.XXXXXX)
chmod 0755 "$W"
ROOTFS=$W/rootfs
conf_rootfs "$ROOTFS" >/dev/null
chmod -R a+rX "$W"

echo "# guest: $(uname -r), $(stat -fc %T $CG) at $CG, systemd $(systemctl --version | head -1 | cut -d' ' -f2), runc $($RUNC --version | head -1 | cut -d' ' -f3)"
echo "# controllers: $(cat $CG/cgroup.controllers)"

# rt NAME: the binary of runtime NAME (runc|ocirun).
rt() { [ "$1" = runc ] && echo "$RUNC" || echo "$OCIRUN"; }

# bundle DIR JQ_FILTER [rootless]: a busybox bundle whose config.json is runc spec's, filtered by JQ_FILTER.
bundle() {
  local dir=$1 filter=$2 rootless=${3:-}
  mkdir -p "$dir"
  (cd "$dir" && $RUNC spec ${rootless:+--rootless})
  # Rootless: runc spec maps the caller's uid (root here): map tester's instead.
  jq --arg rootfs "$ROOTFS" --arg rootless "$rootless" '.root.path = $rootfs | .root.readonly = true | .process.terminal = false
    | .linux.namespaces |= (map(select(.type != "network")))
    | if $rootless != "" then .linux.uidMappings[0].hostID = 1000 | .linux.gidMappings[0].hostID = 1000 else . end' "$dir/config.json" \
    | jq "$filter" > "$dir/config.json.new" && mv "$dir/config.json.new" "$dir/config.json"
  chmod -R a+rX "$dir"
}

# compare NAME EXPECT_REGEX SCENARIO: runs "SCENARIO runc" and "SCENARIO ocirun" (each prints observations);
# ok when both succeed, print the same, and runc's output matches EXPECT_REGEX (grep -Ez on the whole output).
compare() {
  local name=$1 expect=$2 fn=$3
  [ -n "${FILTER:-}" ] && ! [[ $name =~ $FILTER ]] && return 0
  tap_run "$name" _compare "$expect" "$fn"
}
_compare() {
  local expect=$1 fn=$2 a b ra rb
  # runc's and ocirun's warnings (level=warning lines) are not observations. Both always run (diagnostics).
  a=$("$fn" runc 2>&1 | grep -v 'level=warning'; exit "${PIPESTATUS[0]}"); ra=$?
  b=$("$fn" ocirun 2>&1 | grep -v 'level=warning'; exit "${PIPESTATUS[0]}"); rb=$?
  [ $ra -eq 0 ] || fail "runc: scenario failed: $a"$'\n'"ocirun printed: $b"
  printf '%s\n' "$a" | grep -Eqz -- "$expect" || fail "runc's observations do not match /$expect/: $a"$'\n'"ocirun printed: $b"
  [ $rb -eq 0 ] || fail "ocirun: scenario failed: $b"$'\n'"runc printed: $a"
  [ "$a" = "$b" ] || fail "$(printf 'runc and ocirun differ:\n--- runc\n%s\n--- ocirun\n%s' "$a" "$b")"
  printf '%s\n' "$a" | head -3 | sed 's/^/# runc = ocirun: /'
}

# todo_unless PROBE...: inside a scenario function for a feature ocirun may not have yet: when PROBE fails for
# ocirun, the test is reported "not ok # TODO" (a known gap, not counted as a failure).
cleanup_ct() { local r=$1 id=$2; "$(rt "$r")" delete -f "$id" >/dev/null 2>&1; }

# run_in RT ID JQ_FILTER CMD: runs CMD (sh -c) in a fresh container with cgroupsPath /vmtest/RT-ID; prints its output.
run_in() {
  local r=$1 id=$2-$1 filter=$3 cmd=$4
  bundle "$W/$id" "$filter | .linux.cgroupsPath = \"/vmtest/$id\" | .process.args = [\"sh\", \"-c\", $(jq -Rn --arg c "$cmd" '$c')]"
  (cd "$W/$id" && timeout 60 "$(rt "$r")" run "$id" </dev/null)
  local rc=$?
  cleanup_ct "$r" "$id"; rm -rf "${W:?}/$id"
  return $rc
}
# start_in RT ID JQ_FILTER: a detached container (sleep 300) with cgroupsPath /vmtest/RT-ID.
start_in() {
  local r=$1 id=$2-$1 filter=$3
  bundle "$W/$id" "$filter | .linux.cgroupsPath = \"/vmtest/$id\" | .process.args = [\"sleep\", \"300\"]"
  (cd "$W/$id" && timeout 60 "$(rt "$r")" run -d "$id" </dev/null >/dev/null 2>"$W/$id.err") || { cat "$W/$id.err"; return 1; }
}
stop_ct() { cleanup_ct "$1" "$2-$1"; rm -rf "${W:?}/$2-$1" "$W/$2-$1.err"; }

# ---- cgroup v2, the cgroupfs driver (root) ----------------------------------------------------------------
s_memory() {
  run_in "$1" mem '.linux.resources.memory = {limit: 67108864, reservation: 33554432, swap: 100663296}' \
    'cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/memory.low /sys/fs/cgroup/memory.swap.max'
}
compare "memory: limit, reservation, swap -> memory.max, memory.low, memory.swap.max" '67108864.33554432.33554432' s_memory

s_oom() {
  run_in "$1" oom '.linux.resources.memory = {limit: 33554432, swap: 33554432}' \
    'dd if=/dev/zero of=/dev/null bs=128M count=1 2>/dev/null; echo "dd status $?"; grep -E "^oom_kill " /sys/fs/cgroup/memory.events'
}
compare "memory: OOM kill inside the limit, counted in memory.events" 'dd status 137.oom_kill 1' s_oom

s_pids() { run_in "$1" pids '.linux.resources.pids = {limit: 10}' 'cat /sys/fs/cgroup/pids.max'; }
compare "pids: limit -> pids.max" '^10.$' s_pids

s_cpu() {
  run_in "$1" cpu '.linux.resources.cpu = {shares: 512, quota: 50000, period: 100000}' \
    'cat /sys/fs/cgroup/cpu.weight /sys/fs/cgroup/cpu.max'
}
compare "cpu: shares -> cpu.weight, quota/period -> cpu.max" '^20.50000 100000' s_cpu

s_cpuset() {
  run_in "$1" cpuset '.linux.resources.cpu = {cpus: "1", mems: "0"}' \
    'cat /sys/fs/cgroup/cpuset.cpus /sys/fs/cgroup/cpuset.mems /sys/fs/cgroup/cpuset.cpus.effective'
}
compare "cpuset: cpus, mems -> cpuset.cpus, cpuset.mems" '^1.0.1' s_cpuset

s_io() {
  local dev; dev=$(cat /sys/block/vda/dev)
  run_in "$1" io ".linux.resources.blockIO = {weight: 500, throttleReadBpsDevice: [{major: ${dev%:*}, minor: ${dev#*:}, rate: 1048576}], throttleWriteIOPSDevice: [{major: ${dev%:*}, minor: ${dev#*:}, rate: 100}]}" \
    'cat /sys/fs/cgroup/io.max; for f in io.bfq.weight io.weight; do [ -f /sys/fs/cgroup/$f ] && { echo $f; cat /sys/fs/cgroup/$f; }; done'
}
compare "io: weight, throttle bps/iops -> io.weight, io.max" 'rbps=1048576 wbps=max riops=max wiops=100.*default 4950' s_io

s_unified() {
  run_in "$1" unified '.linux.resources.unified = {"memory.high": "50003968", "pids.max": "42"}' \
    'cat /sys/fs/cgroup/memory.high /sys/fs/cgroup/pids.max'
}
compare "unified: memory.high, pids.max written as given" '^50003968.42' s_unified

s_freeze() {
  local r=$1 b; b=$(rt "$r")
  start_in "$r" frz '.' || return 1
  "$b" pause frz-$r || return 1
  echo "paused: $("$b" state frz-$r | jq -r .status) freeze=$(cat $CG/vmtest/frz-$r/cgroup.freeze) $(grep frozen $CG/vmtest/frz-$r/cgroup.events)"
  "$b" resume frz-$r || return 1
  echo "resumed: $("$b" state frz-$r | jq -r .status) freeze=$(cat $CG/vmtest/frz-$r/cgroup.freeze) $(grep frozen $CG/vmtest/frz-$r/cgroup.events)"
  stop_ct "$r" frz
}
compare "freeze: pause/resume through cgroup.freeze" 'paused: paused freeze=1 frozen 1.resumed: running freeze=0 frozen 0' s_freeze

s_devices() {
  local r=$1 dev='.linux.devices = [{path: "/dev/mydev", type: "c", major: 1, minor: 11, fileMode: 438, uid: 0, gid: 0}]'
  run_in "$r" devdeny "$dev" '( : > /dev/mydev ) 2>/dev/null && echo "deny-all: opened" || echo "deny-all: denied"'
  run_in "$r" devallow "$dev | .linux.resources.devices += [{allow: true, type: \"c\", major: 1, minor: 11, access: \"rw\"}]" \
    '( : > /dev/mydev ) 2>/dev/null && echo "allowed: opened" || echo "allowed: denied"; ( : > /dev/null ) && echo "null: opened"'
}
compare "devices: eBPF filter denies by default, allows a rule's device" 'deny-all: denied.allowed: opened.null: opened' s_devices

s_update() {
  local r=$1 b; b=$(rt "$r")
  start_in "$r" upd '.linux.resources.memory = {limit: 67108864} | .linux.resources.pids = {limit: 50}' || return 1
  "$b" update --memory 134217728 --pids-limit 20 --cpu-quota 30000 --cpu-period 100000 --cpu-share 2048 upd-$r || return 1
  cat $CG/vmtest/upd-$r/{memory.max,pids.max,cpu.max,cpu.weight}
  printf '{"memory":{"limit":100663296},"unified":{"memory.high":"90001408"}}' | "$b" update -r - upd-$r || return 1
  cat $CG/vmtest/upd-$r/{memory.max,memory.high,pids.max}
  stop_ct "$r" upd
}
compare "update: flags and -r JSON rewrite memory, pids, cpu, unified" '^134217728.20.30000 100000.79.100663296.90001408.20' s_update

s_stats() {
  local r=$1 b; b=$(rt "$r")
  start_in "$r" st '.linux.resources.memory = {limit: 67108864} | .linux.resources.pids = {limit: 50}' || return 1
  # memory.stat "file" (runc's "cache", left out when 0) must not depend on which runtime ran first and so had the
  # page cache of sleep charged to its cgroup: 1 MiB of shmem written from inside is charged to this cgroup.
  "$b" exec st-$r sh -c 'head -c 1048576 /dev/zero > /dev/shm/f' || return 1
  "$b" events --stats st-$r | jq -c '{type, limit: .data.memory.usage.limit, pids_limit: .data.pids.limit, pids: .data.pids.current,
     keys: (.data | keys), cpu: (.data.cpu.usage | keys), mem: (.data.memory | keys)}'
  stop_ct "$r" st
}
compare "events --stats: memory, pids, cpu in runc's shape" '"type":"stats","limit":67108864,"pids_limit":50,"pids":1' s_stats

s_exec() {
  local r=$1 b; b=$(rt "$r")
  start_in "$r" ex '.' || return 1
  "$b" exec ex-$r sh -c 'cat /proc/self/cgroup; [ "$(readlink /proc/self/ns/cgroup)" = "$(readlink /proc/1/ns/cgroup)" ] && echo "same cgroupns as init"'
  local pid; pid=$("$b" state ex-$r | jq -r .pid)
  "$b" exec -d ex-$r sleep 200 || return 1
  echo "host: init in $(cut -d: -f3- /proc/$pid/cgroup | sed "s/$r\$/RT/"); processes in the cgroup: $(wc -l < $CG/vmtest/ex-$r/cgroup.procs)"
  stop_ct "$r" ex
}
compare "exec: joins the container's cgroup and cgroup namespace" '^0::/.same cgroupns as init.host: init in /vmtest/ex-RT; processes in the cgroup: 2' s_exec

s_delete() {
  local r=$1 b; b=$(rt "$r")
  start_in "$r" del '.linux.resources.pids = {limit: 50}' || return 1
  "$b" exec -d del-$r sleep 200 || return 1
  [ -d $CG/vmtest/del-$r ] && echo "before: present"
  "$b" delete -f del-$r || return 1
  [ -d $CG/vmtest/del-$r ] && echo "after delete -f: present" || echo "after delete -f: gone"
  rm -rf "${W:?}/del-$r"
}
compare "delete -f: kills every process and removes the cgroup" 'before: present.after delete -f: gone' s_delete

# A systemd-style cgroupsPath without --systemd-cgroup is a plain (relative) path, as runc.
s_plain() {
  local r=$1 id=plain-$1
  bundle "$W/$id" ".linux.cgroupsPath = \"vmtest.slice:x:$id\" | .process.args = [\"sleep\", \"300\"]"
  (cd "$W/$id" && "$(rt "$r")" run -d "$id" </dev/null) || return 1
  echo "cgroup: $(cut -d: -f3- /proc/$("$(rt "$r")" state $id | jq -r .pid)/cgroup | sed "s/-$r\$/-RT/")"
  cleanup_ct "$r" "$id"; rm -rf "${W:?}/$id"
}
compare "cgroupsPath slice:prefix:name without --systemd-cgroup is a plain path" 'cgroup: /.*vmtest.slice:x:plain-RT' s_plain

# ---- the systemd cgroup driver (root) -----------------------------------------------------------------------
s_systemd() {
  local r=$1 b id=sd-$1 unit; b=$(rt "$r"); unit=vmtest-sd-$1.scope
  bundle "$W/$id" ".linux.cgroupsPath = \"system.slice:vmtest:$id\" | .process.args = [\"sleep\", \"300\"]
    | .linux.resources.memory = {limit: 67108864, reservation: 16777216} | .linux.resources.pids = {limit: 40}
    | .linux.resources.cpu = {shares: 512, quota: 50000, period: 100000, cpus: \"0\"}
    | .linux.resources.unified = {\"memory.high\": \"50003968\"}"
  (cd "$W/$id" && "$b" --systemd-cgroup run -d "$id" </dev/null) || return 1
  local pid; pid=$("$b" state $id | jq -r .pid)
  echo "cgroup: $(cut -d: -f3- /proc/$pid/cgroup | sed "s/-$r\.scope/-RT.scope/")"
  local p
  for p in ActiveState Delegate MemoryMax MemoryLow TasksMax CPUWeight CPUQuotaPerSecUSec AllowedCPUs; do echo "$p=$(systemctl show "$unit" -p $p --value)"; done
  local d=$CG/system.slice/$unit
  echo "files: $(cat $d/memory.max $d/memory.low $d/pids.max $d/cpu.weight $d/cpu.max $d/cpuset.cpus $d/memory.high | paste -sd' ')"
  "$b" --systemd-cgroup update --memory 134217728 --pids-limit 30 $id || return 1
  for p in MemoryMax TasksMax; do echo "$p=$(systemctl show "$unit" -p $p --value)"; done
  echo "after update: $(cat $d/memory.max $d/pids.max | paste -sd' ')"
  "$b" --systemd-cgroup pause $id && echo "paused: $(cat $d/cgroup.freeze)" && "$b" --systemd-cgroup resume $id
  "$b" --systemd-cgroup delete -f $id || return 1
  echo "after delete: $(systemctl is-active $unit 2>/dev/null); dir $([ -d $d ] && echo present || echo gone)"
  rm -rf "${W:?}/$id"
}
compare "systemd driver: transient scope with delegated resources, update, pause, delete" \
  'cgroup: /system.slice/vmtest-sd-RT.scope.ActiveState=active.Delegate=yes.MemoryMax=67108864.MemoryLow=16777216.TasksMax=40.CPUWeight=20.CPUQuotaPerSecUSec=500ms.AllowedCPUs=0.files: 67108864 16777216 40 20 50000 100000 0 50003968.*after update: 134217728 30.paused: 1.after delete: inactive; dir gone' s_systemd

s_systemd_default() {
  local r=$1 b id=sddef-$1; b=$(rt "$r")
  bundle "$W/$id" 'del(.linux.cgroupsPath) | .process.args = ["sleep", "300"]'
  (cd "$W/$id" && "$b" --systemd-cgroup run -d "$id" </dev/null) || return 1
  echo "cgroup: $(cut -d: -f3- /proc/$("$b" state $id | jq -r .pid)/cgroup | sed "s/-$r\.scope/-RT.scope/")"
  "$b" --systemd-cgroup delete -f $id
  rm -rf "${W:?}/$id"
}
compare "systemd driver: no cgroupsPath -> system.slice/runc-ID.scope" 'cgroup: /system.slice/runc-sddef-RT.scope' s_systemd_default

# A name ending in ".slice" names a slice unit, not a scope (runc's getUnitName): StartTransientUnit(NAME, Wants=the
# parent slice instead of Slice= and Delegate=, PIDs=the init). systemd refuses PIDs for a slice, so runc 1.1.5's run
# fails with its message and makes no unit; so does ocirun's, the same message, nothing left behind.
s_systemd_slice() {
  local r=$1 b id=sdsl-$1 unit=system-vmsl.slice; b=$(rt "$r")
  bundle "$W/$id" ".linux.cgroupsPath = \"system.slice:vmtest:$unit\" | .process.args = [\"sleep\", \"300\"]"
  (cd "$W/$id" && "$b" --systemd-cgroup run -d "$id" </dev/null >/dev/null 2>"$W/$id.err") && echo "run: ok" \
    || echo "run: failed: $(grep -o 'Cannot set property PIDs, or unknown property' "$W/$id.err" | head -1)"
  echo "state: $("$b" state $id >/dev/null 2>&1 && echo present || echo none)"
  echo "unit: $(systemctl show $unit -p ActiveState --value) cgroup '$(systemctl show $unit -p ControlGroup --value)'; dir $([ -d $CG/$unit ] || [ -d $CG/system.slice/$unit ] && echo present || echo gone)"
  "$b" --systemd-cgroup delete -f $id >/dev/null 2>&1
  rm -rf "${W:?}/$id" "$W/$id.err"
}
compare "systemd driver: a name ending in .slice is a slice unit, which systemd refuses a process (PIDs)" \
  "^run: failed: Cannot set property PIDs, or unknown property.state: none.unit: inactive cgroup ''; dir gone" s_systemd_slice

# A leftover unit of the container's name (here a scope that failed: RuntimeMaxSec expired) makes StartTransientUnit
# answer UnitExists: ocirun resets it and starts the unit again, as runc >= 1.1.6 does (#3780). A unit that is still
# there after the reset (an active one, not the container's) is refused, and left alone: not stopped, its processes
# not killed. runc 1.1.5 ignores UnitExists and leaves the init outside any unit (in the caller's cgroup), and its
# delete stops the other unit; so this test runs ocirun alone. Start and stop wait for their jobs' JobRemoved signals.
t_systemd_leftover() {
  local id=sdleft unit=vmtest-sdleft.scope
  (timeout 20 systemd-run --quiet --scope --unit=$unit -p RuntimeMaxSec=100ms sleep 10) >/dev/null 2>&1
  assert_eq "$(systemctl is-failed $unit)" failed "the leftover unit"
  bundle "$W/$id" ".linux.cgroupsPath = \"system.slice:vmtest:$id\" | .process.args = [\"sleep\", \"300\"] | .linux.resources.pids = {limit: 20}"
  # The container inherits run -d's stdout and stderr: files, not a pipe that would stay open as long as it runs.
  (cd "$W/$id" && "$OCIRUN" --systemd-cgroup run -d "$id" </dev/null >/dev/null 2>"$W/$id.err") || fail "run: $(cat "$W/$id.err")"
  local pid; pid=$("$OCIRUN" state $id | jq -r .pid)
  assert_eq "$(cut -d: -f3- /proc/$pid/cgroup)" /system.slice/$unit "the init's cgroup"
  assert_eq "$(systemctl show $unit -p ActiveState --value) $(systemctl show $unit -p TasksMax --value)" "active 20" "the new unit"
  "$OCIRUN" --systemd-cgroup delete -f $id || fail "delete failed"
  assert_eq "$(systemctl show $unit -p LoadState --value) $(systemctl is-failed $unit)" "not-found inactive" "after delete"
  # An active unit of that name, someone else's.
  local busy=vmtest-sdbusy.scope
  systemd-run --quiet --scope --unit=$busy sleep 60 >/dev/null 2>&1 &
  retry_until 10 systemctl is-active $busy || fail "the other unit did not start"
  bundle "$W/sdbusy" '.linux.cgroupsPath = "system.slice:vmtest:sdbusy" | .process.args = ["sleep", "300"]'
  (cd "$W/sdbusy" && "$OCIRUN" --systemd-cgroup run -d sdbusy </dev/null >/dev/null 2>"$W/sdbusy.err") && fail "run in an active unit succeeded"
  assert_contains "$(cat "$W/sdbusy.err")" "org.freedesktop.systemd1.UnitExists" "run's error"
  assert_eq "$(systemctl is-active $busy) $(wc -l < $CG/system.slice/$busy/cgroup.procs)" "active 1" "the other unit after the failed run"
  "$OCIRUN" state sdbusy >/dev/null 2>&1 && fail "a state was left"
  systemctl stop $busy
  rm -rf "${W:?}/$id" "${W:?}/sdbusy" "$W/$id.err" "$W/sdbusy.err"
}
t_name="systemd driver: a leftover failed unit of the name is reset and replaced (runc 1.1.6); an active one is left alone"
{ [ -z "${FILTER:-}" ] || [[ $t_name =~ $FILTER ]]; } && tap_run "$t_name" t_systemd_leftover

# ---- rootless (user 1000, its user manager delegates cpu cpuset io memory pids) ---------------------------------
# as_user CMD...: CMD as tester inside its user manager (a transient unit there, so cgroup migrations stay within
# the delegated subtree), with XDG_RUNTIME_DIR and the user bus set.
as_user() { timeout 90 systemd-run --user -M tester@ --quiet --wait --pipe --collect -p Delegate=yes -- "$@"; }
UCG=$CG/user.slice/user-1000.slice/user@1000.service
s_rootless() {
  local r=$1 b id=rl-$1; b=$(rt "$r")
  bundle "$W/$id" ".linux.cgroupsPath = \"/user.slice/user-1000.slice/user@1000.service/vmtest/$id\" | .process.args = [\"sh\", \"-c\", \"cat /proc/self/cgroup /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max\"]
    | .linux.resources.memory = {limit: 67108864} | .linux.resources.pids = {limit: 30}
    | .linux.namespaces |= (map(select(.type != \"cgroup\")) + [{type: \"cgroup\"}])" rootless
  chown -R tester "$W/$id"
  as_user bash -c "cd $W/$id && $b --root /run/user/1000/vmtest-$r run $id </dev/null" || return 1
  [ -d $UCG/vmtest/$id ] && echo "after run: present" || echo "after run: gone"
  rm -rf "${W:?}/$id"
}
compare "rootless v2 cgroupfs: delegated cgroupsPath, limits applied, cgroupns" '^0::/.67108864.30.after run: gone' s_rootless

s_rootless_update() {
  local r=$1 b id=rlu-$1; b=$(rt "$r")
  bundle "$W/$id" ".linux.cgroupsPath = \"/user.slice/user-1000.slice/user@1000.service/vmtest/$id\" | .process.args = [\"sleep\", \"300\"]
    | .linux.resources.pids = {limit: 30}" rootless
  chown -R tester "$W/$id"
  local root=/run/user/1000/vmtest-$r
  as_user bash -c "cd $W/$id && $b --root $root run -d $id </dev/null >/dev/null" || return 1
  as_user $b --root $root update --pids-limit 25 $id || return 1
  echo "pids.max: $(cat $UCG/vmtest/$id/pids.max)"
  as_user $b --root $root pause $id || return 1
  echo "paused: $(as_user $b --root $root state $id | jq -r .status) freeze=$(cat $UCG/vmtest/$id/cgroup.freeze)"
  as_user $b --root $root resume $id || return 1
  as_user $b --root $root delete -f $id || return 1
  [ -d $UCG/vmtest/$id ] && echo "after delete: present" || echo "after delete: gone"
  rm -rf "${W:?}/$id"
}
compare "rootless v2: update and pause/resume" '^pids.max: 25.paused: paused freeze=1.after delete: gone' s_rootless_update

s_rootless_unusable() {
  local r=$1 b id=rlx-$1; b=$(rt "$r")
  bundle "$W/$id" ".linux.cgroupsPath = \"/vmtest-not-delegated/$id\" | .process.args = [\"true\"]
    | .linux.resources.memory = {limit: 67108864}" rootless
  chown -R tester "$W/$id"
  as_user bash -c "cd $W/$id && $b --root /run/user/1000/vmtest-$r run $id </dev/null >/dev/null 2>&1" && echo "run: succeeded" || echo "run: failed"
  as_user $b --root /run/user/1000/vmtest-$r delete -f $id >/dev/null 2>&1
  rm -rf "${W:?}/$id"
}
compare "rootless v2: limits asked for, cgroup not writable -> run fails" '^run: failed' s_rootless_unusable

s_rootless_systemd() {
  local r=$1 b id=rls-$1; b=$(rt "$r")
  bundle "$W/$id" ".linux.cgroupsPath = \"user.slice:vmtest:$id\" | .process.args = [\"sh\", \"-c\", \"cat /proc/self/cgroup; cat /sys/fs/cgroup/pids.max\"]
    | .linux.resources.pids = {limit: 30} | .linux.namespaces |= (map(select(.type != \"cgroup\")) + [{type: \"cgroup\"}])" rootless
  chown -R tester "$W/$id"
  as_user bash -c "cd $W/$id && $b --root /run/user/1000/vmtest-$r --systemd-cgroup run $id </dev/null" || return 1
  rm -rf "${W:?}/$id"
}
compare "rootless v2 systemd driver (user manager): scope in user.slice, limits" '^0::/.30' s_rootless_systemd

# ---- containerd with SystemdCgroup = true ----------------------------------------------------------------------
s_containerd() {
  local r=$1 b d=$W/ctrd-$1; b=$(rt "$r")
  mkdir -p "$d"
  conf_containerd_config "$d" "$d/sock" > "$d/config.toml"
  containerd --config "$d/config.toml" >"$d/log" 2>&1 &
  local cpid=$!
  retry_until 20 ctr -a "$d/sock" version || { kill $cpid; cat "$d/log"; return 1; }
  local out
  # --rootfs: no image config, so no PATH: the command is absolute. The limit is read from the scope on the host.
  local c=(timeout 60 ctr -a "$d/sock")
  "${c[@]}" run -d --rootfs --runc-binary "$b" --runc-systemd-cgroup --env PATH=/bin \
    --cgroup "system.slice:ctrtest:c1" --memory-limit 67108864 "$ROOTFS" c1 /bin/sleep 300 >/dev/null 2>&1 || echo "ctr run -d failed"
  "${c[@]}" task exec --exec-id e1 c1 /bin/cat /proc/self/cgroup 2>&1
  echo "host: scope $(systemctl is-active ctrtest-c1.scope) memory.max $(cat /sys/fs/cgroup/system.slice/ctrtest-c1.scope/memory.max 2>&1)"
  "${c[@]}" task kill -s KILL c1 >/dev/null 2>&1; sleep 1
  "${c[@]}" task delete c1 >/dev/null 2>&1; "${c[@]}" container rm c1 >/dev/null 2>&1
  echo "after: $(systemctl is-active ctrtest-c1.scope 2>/dev/null)"
  kill $cpid; wait $cpid 2>/dev/null
  umount -R "$d/root" "$d/state" 2>/dev/null; rm -rf "$d"
}
compare "containerd (SystemdCgroup = true, --runc-systemd-cgroup) runs a container" \
  '0::/system.slice/ctrtest-c1.scope.host: scope active memory.max 67108864.after: inactive' s_containerd

rmdir $CG/vmtest 2>/dev/null
rm -rf "$W"
tap_summary
