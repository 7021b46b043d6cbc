#!/usr/bin/env bash
# checkpoint/restore (CRIU) in the VM test stage, runc and ocirun side by side (docs/checkpoint.md). CRIU 3.17 does not
# work on the 6.18 host kernel but does in the Debian 12 guest (kernel 6.1) of conformance/vm/run.sh.
#   On the host:  conformance/vm/tests/checkpoint.sh     builds the console-socket helper (static, from
#                 checkpoint-console-recv.c: the guest has no python), appends it to a copy of this script and boots
#                 the stage with that copy as its guest script (conformance/vm/run.sh GUEST_SCRIPT; OCIRUN_VM_RUN=path
#                 to use another run.sh). FILTER=regex; OCIRUN=binary, as run.sh.
#   In the guest: the same script (run.sh's guest.sh runs it as /mnt/share/tests.sh); TAP on stdout.
# Each scenario runs under runc and under ocirun and prints what it observes; both must print the same, and runc's
# output must match what the scenario expects.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)

if [ "${OCIRUN_CHECKPOINT_GUEST:-}" != 1 ] && [ "$0" != /mnt/share/tests.sh ]; then
  repo=$(cd "$here/../../.." && pwd)
  tmp=$(mktemp -d /var/tmp/ocirun-vm-checkpoint.XXXXXX)
  trap 'rm -rf "$tmp"' EXIT
  gcc -static -Os -s -Wall -Werror -o "$tmp/console-recv" "$here/checkpoint-console-recv.c" || { echo "Bail out! cannot build the console helper"; exit 1; }
  { cat "$0"; echo; echo 'exit $?'; echo "__CONSOLE_RECV__"; base64 -w0 "$tmp/console-recv"; echo; } > "$tmp/checkpoint-guest.sh"
  "${OCIRUN_VM_RUN:-$repo/conformance/vm/run.sh}" "$tmp/checkpoint-guest.sh"
  exit $?
fi

source "$here/lib/common.sh"
TAP_TIMEOUT=${TAP_TIMEOUT:-180}
OCIRUN=/usr/local/bin/ocirun
RUNC=$(command -v runc)
CG=/sys/fs/cgroup
W=$(mktemp -d /var/tmp/crtest.XXXXXX)
chmod 0755 "$W"
ROOTFS=$W/rootfs
conf_rootfs "$ROOTFS" >/dev/null
chmod -R a+rX "$W"
RECV=$W/console-recv
sed -n '/^__CONSOLE_RECV__$/{n;p;q}' "$0" | base64 -d > "$RECV" 2>/dev/null && chmod +x "$RECV" || rm -f "$RECV"
echo "# guest: $(uname -r), criu $(criu --version | sed -n 's/^Version: //p'), runc $($RUNC --version | head -1 | cut -d' ' -f3)"
criu check >/dev/null 2>&1 && echo "# criu check: looks good" || echo "# criu check: $(criu check 2>&1 | tail -1)"

rt() { [ "$1" = runc ] && echo "$RUNC" || echo "$OCIRUN"; }
state_dir() { [ "$1" = runc ] && echo "/run/runc/$2" || echo "/run/ocirun/$2"; }

compare() {
  local name=$1 expect=$2 fn=$3
  [ -n "${FILTER:-}" ] && ! [[ $name =~ $FILTER ]] && return 0
  local t0=$SECONDS
  tap_run "$name" _compare "$expect" "$fn"
  echo "# took $((SECONDS - t0)) s (runc and ocirun)"
}
_compare() {
  local expect=$1 fn=$2 a b
  a=$("$fn" runc 2>&1) || fail "runc: scenario failed: $a"
  printf '%s\n' "$a" | grep -Eqz -- "$expect" || fail "runc's observations do not match /$expect/: $a"
  b=$("$fn" ocirun 2>&1) || fail "ocirun: scenario failed: $b"$'\n'"runc printed: $a"
  [ "$a" = "$b" ] || fail "$(printf 'runc and ocirun differ:\n--- runc\n%s\n--- ocirun\n%s' "$a" "$b")"
  printf '%s\n' "$a" | sed 's/^/# runc = ocirun: /'
}

# No --shell-job (its restore wants CRIU's stdin to be a terminal: "tty: Can't place stdin fd to fdstore"). Both
# runtimes' container init leads its own session (runc's nsexec and ocirun call setsid for every container), which
# CRIU needs ("A session leader of N(1) is outside of its pid namespace" otherwise); s_no_shell_job checks it.
SHELL_JOB=
COUNTER='i=0; while :; do i=$((i+1)); echo $i; [ -d /data ] && echo $i > /data/n; sleep 0.2; done'

# bundle DIR ID JQ: runc spec's config (own network namespace, as runc's own checkpoint tests), read-only busybox rootfs,
# the counter as the process, cgroupsPath /crtest/ID.
bundle() {
  local dir=$1 id=$2 filter=$3
  mkdir -p "$dir"
  (cd "$dir" && $RUNC spec)
  jq --arg rootfs "$ROOTFS" --arg id "$id" --arg c "$COUNTER" '.root.path = $rootfs | .root.readonly = true
    | .process.terminal = false | .process.args = ["sh", "-c", $c] | .linux.cgroupsPath = "/crtest/" + $id' "$dir/config.json" \
    | jq "$filter" > "$dir/config.json.new" && mv "$dir/config.json.new" "$dir/config.json"
}

# with_pipes OUT CMD...: runs CMD with stdin a pipe (held by a sleep) and stdout+stderr a pipe into OUT (runc's
# tests use pipes too: CRIU cannot dump a container's stdio that are files outside its mount namespace).
with_pipes() {
  local out=$1; shift
  "$@" < <(exec sleep 600 2>/dev/null) > >(exec cat > "$out" 2>/dev/null) 2>&1
}

# start R ID DIR: the counter container, detached, output into DIR/out1.
start() { (cd "$3" && with_pipes "$3/out1" "$(rt "$1")" run -d "$2"); }
# restore R ID DIR IMG [FLAGS...]: restores detached, output into DIR/out2.
restore() {
  local r=$1 id=$2 dir=$3 img=$4; shift 4
  (cd "$dir" && with_pipes "$dir/out2" "$(rt "$r")" restore -d $SHELL_JOB --image-path "$img" "$@" "$id") \
    || { echo "restore failed: $(cat "$dir/out2")"; grep -h Error "$img"/restore.log 2>/dev/null | head -3; return 1; }
}
checkpoint() {
  local r=$1 id=$2 img=$3; shift 3
  "$(rt "$r")" checkpoint $SHELL_JOB --image-path "$img" "$@" "$id" || { grep -h Error "$img"/dump.log 2>/dev/null | head -3; return 1; }
}
# lastline FILE: the last line once FILE stops growing (the output of a checkpointed counter has drained).
lastline() { local a b; b=$(tail -n 1 "$1"); while sleep 0.6; a=$b; b=$(tail -n 1 "$1"); [ "$a" != "$b" ]; do :; done; echo "$b"; }
# firstline FILE: the first line, once there is one (guard: 30 s; TCG is slow).
firstline() { local l i; for i in $(seq 60); do l=$(head -n 1 "$1" 2>/dev/null); [ -n "$l" ] && break; sleep 0.5; done; echo "${l:-0}"; }
continues() {
  [[ $1 =~ ^[0-9]+$ && $2 =~ ^[0-9]+$ ]] && [ "$2" -eq $(($1 + 1)) ] && echo "count continues: yes" || echo "count continues: no ($1 -> $2)"
}

# leftovers R ID: what delete must not leave behind.
leftovers() {
  local r=$1 id=$2 l=()
  [ -e "$(state_dir "$r" "$id")" ] && l+=(state-dir)
  [ -e "$CG/crtest/$id" ] && l+=(cgroup)
  grep -q "criu-root" /proc/self/mountinfo && l+=(criu-root-mount)
  echo "leftovers: ${l[*]:-none}"
}
finish() { "$(rt "$1")" delete -f "$2" >/dev/null 2>&1; leftovers "$1" "$2"; rm -rf "${W:?}/$3"; }

s_count() {
  local r=$1 id=cnt-$1 d=$W/cnt-$1 b last first pid0
  b=$(rt "$r")
  bundle "$d" "$id" '.' && start "$r" "$id" "$d" || return 1
  sleep 1.5
  pid0=$("$b" state "$id" | jq .pid)
  checkpoint "$r" "$id" "$d/img" || return 1
  last=$(lastline "$d/out1")
  echo "after checkpoint: $("$b" state "$id" >/dev/null 2>&1 && echo exists || echo gone)"
  leftovers "$r" "$id"
  local t0; t0=$(date +%s)
  restore "$r" "$id" "$d" "$d/img" || return 1
  first=$(firstline "$d/out2")
  local st; st=$("$b" state "$id")
  echo "restored: $(jq -r .status <<<"$st")"
  local pid; pid=$(jq .pid <<<"$st")
  [ "$pid" != "$pid0" ] && [ "$(tr '\0' ' ' < /proc/"$pid"/cmdline)" = "sh -c $COUNTER " ] && echo "state pid: the restored init" || echo "state pid: $pid (was $pid0)"
  [ "$(date -d "$(jq -r .created <<<"$st")" +%s)" -ge "$t0" ] && echo "state created: at restore" || echo "state created: $(jq -r .created <<<"$st")"
  continues "$last" "$first"
  finish "$r" "$id" "cnt-$r"
}
compare "checkpoint, restore: the count continues, state.json of the restored init, delete leaves nothing" \
  'after checkpoint: gone.leftovers: none.restored: running.state pid: the restored init.state created: at restore.count continues: yes.leftovers: none' s_count

s_leave_running() {
  local r=$1 id=lr-$1 d=$W/lr-$1 b a1 a2
  b=$(rt "$r")
  bundle "$d" "$id" '.' && start "$r" "$id" "$d" || return 1
  sleep 1
  checkpoint "$r" "$id" "$d/img" --leave-running || return 1
  echo "after checkpoint: $("$b" state "$id" | jq -r .status)"
  sleep 0.5; a1=$(tail -n 1 "$d/out1"); sleep 1.5; a2=$(tail -n 1 "$d/out1")
  [ "$a2" -gt "$a1" ] && echo "still counting: yes" || echo "still counting: no ($a1 -> $a2)"
  "$b" delete -f "$id"
  restore "$r" "$id" "$d" "$d/img" || return 1
  echo "restored: $("$b" state "$id" | jq -r .status)"
  [ "$(firstline "$d/out2")" -gt 1 ] && echo "restored count: from the checkpoint" || echo "restored count: from 0"
  finish "$r" "$id" "lr-$r"
}
compare "checkpoint --leave-running: keeps counting; its image restores" \
  'after checkpoint: running.still counting: yes.restored: running.restored count: from the checkpoint.leftovers: none' s_leave_running

s_pre_dump() {
  local r=$1 id=pre-$1 d=$W/pre-$1 b last
  b=$(rt "$r")
  bundle "$d" "$id" '.' && start "$r" "$id" "$d" || return 1
  sleep 1
  checkpoint "$r" "$id" "$d/pre" --pre-dump || return 1
  echo "after pre-dump: $("$b" state "$id" | jq -r .status)"
  sleep 0.5
  checkpoint "$r" "$id" "$d/img" --parent-path ../pre || return 1
  last=$(lastline "$d/out1")
  echo "parent link: $(readlink "$d/img/parent")"
  restore "$r" "$id" "$d" "$d/img" || return 1
  continues "$last" "$(firstline "$d/out2")"
  finish "$r" "$id" "pre-$r"
}
compare "checkpoint --pre-dump, then a dump with --parent-path, restore" \
  'after pre-dump: running.parent link: ../pre.count continues: yes.leftovers: none' s_pre_dump

s_new_id() {
  local r=$1 id=old-$1 id2=new-$1 d=$W/nid-$1 b last
  b=$(rt "$r")
  bundle "$d" "$id" '.' && start "$r" "$id" "$d" || return 1
  sleep 1
  checkpoint "$r" "$id" "$d/img" || return 1
  last=$(lastline "$d/out1")
  restore "$r" "$id2" "$d" "$d/img" || return 1
  echo "new id: $("$b" state "$id2" | jq -r .status); old id: $("$b" state "$id" >/dev/null 2>&1 && echo exists || echo gone)"
  continues "$last" "$(firstline "$d/out2")"
  echo "exec: $("$b" exec "$id2" sh -c 'echo in-restored; cat /proc/1/cmdline | tr "\0" " "')"
  echo "exec pid ns: $("$b" exec "$id2" sh -c 'readlink /proc/1/ns/pid') = $(readlink /proc/"$("$b" state "$id2" | jq .pid)"/ns/pid)" \
    | awk '{print ($4 == $6) ? "exec pid ns: the restored one" : $0}'
  finish "$r" "$id2" "nid-$r"
}
compare "restore under a new id; exec into the restored container" \
  'new id: running; old id: gone.count continues: yes.exec: in-restored.sh -c .*exec pid ns: the restored one.leftovers: none' s_new_id

s_bind() {
  local r=$1 id=bind-$1 d=$W/bind-$1 b n1 n2
  b=$(rt "$r")
  mkdir -p "$d/data"
  bundle "$d" "$id" ".mounts += [{destination: \"/data\", type: \"bind\", source: \"$d/data\", options: [\"rbind\", \"rw\"]}]" \
    && start "$r" "$id" "$d" || return 1
  sleep 1
  checkpoint "$r" "$id" "$d/img" || return 1
  n1=$(sleep 0.5; cat "$d/data/n")
  restore "$r" "$id" "$d" "$d/img" || return 1
  for _ in $(seq 60); do n2=$(cat "$d/data/n"); [ "$n2" -gt "$n1" ] && break; sleep 0.5; done
  [ "$n2" -gt "$n1" ] && echo "bind mount: written after restore" || echo "bind mount: $n1 -> $n2"
  echo "in container: $("$b" exec "$id" sh -c 'grep -c " /data " /proc/self/mountinfo')"
  finish "$r" "$id" "bind-$r"
}
compare "a bind mount (external mount for CRIU) keeps working after restore" \
  'bind mount: written after restore.in container: 1.leftovers: none' s_bind

s_terminal() {
  local r=$1 id=tty-$1 d=$W/tty-$1 b last first SHELL_JOB= # a terminal makes both inits session leaders
  b=$(rt "$r")
  [ -x "$RECV" ] || { echo "no console helper"; return 1; }
  bundle "$d" "$id" '.process.terminal = true' || return 1
  "$RECV" "$d/sock1" "$d/tty1" >/dev/null 2>&1 & local rp=$!
  sleep 0.3
  (cd "$d" && "$b" run -d --console-socket "$d/sock1" "$id" </dev/null >/dev/null 2>&1) || { echo "run failed"; return 1; }
  sleep 1.5
  checkpoint "$r" "$id" "$d/img" || return 1
  wait "$rp"
  last=$(tr -d '\r' < "$d/tty1" | grep -E '^[0-9]+$' | tail -n 1)
  "$RECV" "$d/sock2" "$d/tty2" >/dev/null 2>&1 & rp=$!
  sleep 0.3
  (cd "$d" && "$b" restore -d $SHELL_JOB --console-socket "$d/sock2" --image-path "$d/img" "$id" </dev/null >/dev/null 2>&1) \
    || { echo "restore failed"; grep -h Error "$d/img/restore.log" | head -3; kill "$rp"; return 1; }
  for _ in $(seq 60); do first=$(tr -d '\r' < "$d/tty2" | grep -E '^[0-9]+$' | head -n 1); [ -n "$first" ] && break; sleep 0.5; done
  echo "terminal: $("$b" exec "$id" readlink /proc/1/fd/1)"
  continues "$last" "$first"
  finish "$r" "$id" "tty-$r"
  wait "$rp"
}
compare "a terminal through --console-socket survives checkpoint and restore" \
  'terminal: /dev/pts/[0-9]+.count continues: yes.leftovers: none' s_terminal

s_failed_restore() {
  local r=$1 id=fail-$1 d=$W/fail-$1 b
  b=$(rt "$r")
  bundle "$d" "$id" '.' || return 1
  mkdir -p "$d/img" && echo '["pipe:[1]", "pipe:[2]", "pipe:[2]"]' > "$d/img/descriptors.json"
  (cd "$d" && "$b" restore -d --image-path "$d/img" "$id" </dev/null >/dev/null 2>&1) && echo "restore: succeeded?" || echo "restore: failed"
  leftovers "$r" "$id"
  rm -rf "${W:?}/fail-$r"
}
compare "a failed restore leaves nothing behind" 'restore: failed.leftovers: none' s_failed_restore

s_no_shell_job() {
  local r=$1 id=sid-$1 d=$W/sid-$1 b
  b=$(rt "$r")
  bundle "$d" "$id" '.' && start "$r" "$id" "$d" || return 1
  sleep 1
  echo "init is a session leader: $("$b" exec "$id" sh -c 'set -- $(cat /proc/1/stat); [ "$6" = 1 ] && echo yes || echo "no (sid $6)"')"
  SHELL_JOB= checkpoint "$r" "$id" "$d/img" --leave-running >/dev/null 2>&1 && echo "checkpoint without --shell-job: ok" || echo "checkpoint without --shell-job: refused"
  finish "$r" "$id" "sid-$r"
}
compare "checkpoint without --shell-job: the container init is its own session leader (runc's setsid)" \
  'init is a session leader: yes.checkpoint without --shell-job: ok.leftovers: none' s_no_shell_job

# containerd (its own instance) drives the runtime: `ctr task checkpoint --exit --image-path` goes through
# containerd-shim-runc-v2 to `RUNTIME checkpoint --image-path … --work-path …` (the shim's argv, logged by a wrapper).
s_containerd_checkpoint() {
  local r=$1 b d=$W/ctrd-$1; b=$(rt "$r")
  mkdir -p "$d"
  conf_containerd_config "$d" "$d/sock" > "$d/config.toml"
  printf '#!/bin/sh\necho "$*" >> %s\nexec %s "$@"\n' "$d/argv" "$b" > "$d/runtime" && chmod +x "$d/runtime"
  containerd --config "$d/config.toml" >"$d/log" 2>&1 &
  local cpid=$!
  retry_until 20 ctr -a "$d/sock" version >/dev/null 2>&1 || { kill $cpid; cat "$d/log"; return 1; }
  local c=(timeout 90 ctr -a "$d/sock")
  "${c[@]}" run -d --rootfs --runc-binary "$d/runtime" --env PATH=/bin \
    "$ROOTFS" c1 /bin/sh -c 'i=0; while :; do i=$((i+1)); sleep 0.2; done' >/dev/null 2>&1 || echo "ctr run -d failed"
  sleep 1.5
  "${c[@]}" task checkpoint --exit --image-path "$d/img" c1 >/dev/null 2>"$d/err" && echo "ctr task checkpoint: ok" || echo "ctr task checkpoint: failed $(cat "$d/err")"
  [ -s "$d/img/inventory.img" ] && echo "images: written" || echo "images: none"
  grep -q 'checkpoint .*--image-path' "$d/argv" && echo "the shim called: checkpoint --image-path" || echo "the shim called: $(grep checkpoint "$d/argv")"
  sleep 1
  echo "task after --exit: $("${c[@]}" task ls 2>/dev/null | awk '$1 == "c1" { print $3 }')"
  "${c[@]}" task kill -s KILL c1 >/dev/null 2>&1; sleep 1
  "${c[@]}" task delete c1 >/dev/null 2>&1; "${c[@]}" container rm c1 >/dev/null 2>&1
  kill $cpid; wait $cpid 2>/dev/null
  umount -R "$d/root" "$d/state" 2>/dev/null; rm -rf "${d:?}"
}
compare "containerd: ctr task checkpoint --exit --image-path through the shim" \
  'ctr task checkpoint: ok.images: written.the shim called: checkpoint --image-path.task after --exit: STOPPED' s_containerd_checkpoint

# oci_image OUT NAME: an OCI image layout archive of the busybox rootfs (one uncompressed layer), named NAME for
# `ctr image import` (no registry is reachable from the guest).
oci_image() {
  local out=$1 name=$2 o ld ls cd cs md ms
  o=$(mktemp -d "$W/oci.XXXXXX")
  mkdir -p "$o/blobs/sha256"
  tar -C "$ROOTFS" -cf "$o/layer" . || return 1
  ld=$(sha256sum < "$o/layer" | cut -d' ' -f1); ls=$(stat -c %s "$o/layer"); mv "$o/layer" "$o/blobs/sha256/$ld"
  jq -nc --arg l "sha256:$ld" '{architecture: "amd64", os: "linux", config: {Env: ["PATH=/bin:/sbin"], Cmd: ["sh"]},
    rootfs: {type: "layers", diff_ids: [$l]}}' > "$o/config"
  cd=$(sha256sum < "$o/config" | cut -d' ' -f1); cs=$(stat -c %s "$o/config"); mv "$o/config" "$o/blobs/sha256/$cd"
  jq -nc --arg c "sha256:$cd" --argjson cs "$cs" --arg l "sha256:$ld" --argjson ls "$ls" '{schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $c, size: $cs},
    layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar", digest: $l, size: $ls}]}' > "$o/manifest"
  md=$(sha256sum < "$o/manifest" | cut -d' ' -f1); ms=$(stat -c %s "$o/manifest"); mv "$o/manifest" "$o/blobs/sha256/$md"
  jq -nc --arg m "sha256:$md" --argjson ms "$ms" --arg n "$name" '{schemaVersion: 2, manifests: [{
    mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $m, size: $ms,
    annotations: {"io.containerd.image.name": $n}}]}' > "$o/index.json"
  echo '{"imageLayoutVersion":"1.0.0"}' > "$o/oci-layout"
  tar -C "$o" -cf "$out" oci-layout index.json blobs && rm -rf "$o"
}

# shim_calls ARGV: the runtime calls the shim made (as the wrapper logged them), one a line: the verb and its flags,
# without their values and without the global flags (--root, --log, --log-format).
shim_calls() { sed -E 's/^(--[a-z-]+ [^ ]+ )*//' "$1" | awk '{ s = $1; for (i = 2; i <= NF; i++) if ($i ~ /^-/) s = s " " $i; print s }'; }

# containerd drives checkpoint AND restore: an image-based container (the busybox rootfs imported as an OCI image),
# `ctr container checkpoint --task` into a checkpoint image of the content store (the shim pauses, dumps with
# --leave-running, resumes), the container removed, `ctr container restore --live` from that image: containerd unpacks
# the images and the shim's start calls `RUNTIME restore --detach --pid-file … --no-subreaper --bundle …` with its own
# stdio pipes. The counter holds while /data/stop exists (and says so in /data/held), so the dumped count is exact.
s_containerd_restore() {
  local r=$1 b d=$W/ctrr-$1 img=docker.io/library/crtest:latest ck=crtest-checkpoint:1 last first task; b=$(rt "$r")
  mkdir -p "$d/data"
  conf_containerd_config "$d" "$d/sock" > "$d/config.toml"
  printf '#!/bin/sh\necho "$*" >> %s\nexec %s "$@"\n' "$d/argv" "$b" > "$d/runtime" && chmod +x "$d/runtime"
  oci_image "$d/image.tar" "$img" || { echo "cannot build the OCI image"; return 1; }
  # containerd 1.6 unpacks the checkpoint for the shim into a ctrd-checkpoint* directory of XDG_RUNTIME_DIR (else
  # /tmp) and never removes it: kept under $d.
  XDG_RUNTIME_DIR=$d containerd --config "$d/config.toml" >"$d/log" 2>&1 &
  local cpid=$!
  retry_until 20 ctr -a "$d/sock" version >/dev/null 2>&1 || { kill $cpid; cat "$d/log"; return 1; }
  local c=(timeout 90 ctr -a "$d/sock")
  "${c[@]}" image import "$d/image.tar" >/dev/null 2>"$d/err" || echo "ctr image import failed: $(cat "$d/err")"
  local counter='i=0; while :; do if [ -e /data/stop ]; then : > /data/held; sleep 0.1; continue; fi; i=$((i+1)); echo $i >> /data/log; sleep 0.2; done'
  "${c[@]}" run -d --runc-binary "$d/runtime" --mount "type=bind,src=$d/data,dst=/data,options=rbind:rw" \
    "$img" c1 sh -c "$counter" >/dev/null 2>"$d/err" || echo "ctr run -d failed: $(cat "$d/err")"
  retry_until 30 test -s "$d/data/log"
  : > "$d/data/stop"; retry_until 30 test -e "$d/data/held"
  last=$(tail -n 1 "$d/data/log")
  "${c[@]}" container checkpoint --task c1 "$ck" >/dev/null 2>"$d/err" && echo "ctr container checkpoint --task: ok" \
    || echo "ctr container checkpoint --task: failed $(cat "$d/err")"
  echo "the shim called: $(shim_calls "$d/argv" | grep -B1 -A1 '^checkpoint' | paste -sd';' | sed 's/;/; /g')"
  "${c[@]}" task delete -f c1 >/dev/null 2>&1; "${c[@]}" container rm c1 >/dev/null 2>&1
  "${c[@]}" container restore --live c1 "$ck" >/dev/null 2>"$d/err" && echo "ctr container restore --live: ok" \
    || { echo "ctr container restore --live: failed $(cat "$d/err")"; cat "$d/argv"; }
  echo "the shim called: $(shim_calls "$d/argv" | grep '^restore')"
  task=$("${c[@]}" task ls 2>/dev/null | awk '$1 == "c1" { print $2, $3 }')
  echo "task after restore: ${task#* }"
  [ "$(tr '\0' ' ' < /proc/"${task%% *}"/cmdline 2>/dev/null)" = "sh -c $counter " ] && echo "task pid: the restored init" || echo "task pid: ${task%% *}"
  local n; n=$(wc -l < "$d/data/log")
  rm -f "$d/data/stop"
  retry_until 30 test "$(wc -l < "$d/data/log")" -gt "$n"
  first=$(sed -n "$((n + 1))p" "$d/data/log")
  continues "$last" "$first"
  "${c[@]}" task delete -f c1 >/dev/null 2>&1; "${c[@]}" container rm c1 >/dev/null 2>&1
  local l=()
  [ -e "/run/containerd/runc/default/c1" ] && l+=(state-dir)
  [ -e "$CG/default/c1" ] && l+=(cgroup)
  grep -q "criu-root" /proc/self/mountinfo && l+=(criu-root-mount)
  pgrep -f "containerd-shim-runc-v2 .*$d" >/dev/null && l+=(shim)
  echo "leftovers: ${l[*]:-none}"
  kill $cpid; wait $cpid 2>/dev/null
  umount -R "$d/root" "$d/state" 2>/dev/null; rm -rf "${d:?}"
}
compare "containerd: ctr container checkpoint --task, then ctr container restore --live through the shim" \
  'ctr container checkpoint --task: ok.the shim called: pause; checkpoint --image-path --work-path .*--leave-running; resume.ctr container restore --live: ok.the shim called: restore --image-path .*--detach --pid-file .*--bundle.task after restore: RUNNING.task pid: the restored init.count continues: yes.leftovers: none' s_containerd_restore

# The systemd cgroup driver (--systemd-cgroup, as podman's conmon and Kubernetes' SystemdCgroup run it): a scope
# comes into being with its first process, so at restore that is CRIU's (runc's criuApplyCgroups: Apply, then Set);
# the resources are the scope's again, the restored init is in it, delete stops it.
s_systemd() {
  local r=$1 id=sd-$1 d=$W/sd-$1 b unit last cg pid
  b="$(rt "$r") --systemd-cgroup"
  unit=crtest-$id.scope
  # The counter without /data (s_bind leaves a /data directory in the shared read-only rootfs).
  bundle "$d" "$id" '.linux.resources.memory = {limit: 67108864} | .process.args[2] |= sub("\\[ -d /data \\] && echo \\$i > /data/n; "; "")' || return 1
  jq --arg id "$id" '.linux.cgroupsPath = "system.slice:crtest:" + $id' "$d/config.json" > "$d/c.new" && mv "$d/c.new" "$d/config.json"
  (cd "$d" && with_pipes "$d/out1" $b run -d "$id") || { echo "run failed: $(cat "$d/out1")"; return 1; }
  sleep 1.5
  $b checkpoint $SHELL_JOB --image-path "$d/img" "$id" || { grep -h Error "$d/img"/dump.log 2>/dev/null | head -3; return 1; }
  last=$(lastline "$d/out1")
  echo "unit after checkpoint: $(systemctl is-active "$unit" 2>/dev/null || true)"
  (cd "$d" && with_pipes "$d/out2" $b restore -d $SHELL_JOB --image-path "$d/img" "$id") \
    || { echo "restore failed: $(cat "$d/out2")"; grep -h Error "$d/img"/restore.log 2>/dev/null | head -3; return 1; }
  echo "restored: $($b state "$id" | jq -r .status)"
  echo "unit after restore: $(systemctl is-active "$unit" 2>/dev/null)"
  cg=$CG/system.slice/$unit
  echo "memory.max: $(cat "$cg/memory.max" 2>/dev/null)"
  pid=$($b state "$id" | jq .pid)
  grep -qx "$pid" "$cg/cgroup.procs" 2>/dev/null && echo "init in the scope: yes" || echo "init in the scope: no"
  continues "$last" "$(firstline "$d/out2")"
  $b delete -f "$id" >/dev/null 2>&1
  echo "unit after delete: $(systemctl is-active "$unit" 2>/dev/null || true)"
  leftovers "$r" "$id"
  rm -rf "${d:?}"
}
compare "--systemd-cgroup: checkpoint, restore into a new scope with the resources, delete stops it" \
  'unit after checkpoint: inactive.restored: running.unit after restore: active.memory.max: 67108864.init in the scope: yes.count continues: yes.unit after delete: inactive.leftovers: none' s_systemd

# podman 4.3 drives the runtime, with its defaults (systemd cgroup manager: conmon passes --systemd-cgroup; the bridge
# network: a namespace joined by path, /run/netns/NAME, external for CRIU), from a local image (the busybox rootfs
# through `podman import`: no registry). The runtime is a wrapper that logs its argv, named as the runtime: podman
# treats some names specially (runc gets --log-format=json). The counter appends to a bind-mounted /data/log, so the
# count survives the container. `podman container checkpoint` (the container exits, the images stay in its bundle),
# `podman container restore` (conmon calls the runtime's restore); then the migration path: `checkpoint --export=FILE`,
# `podman rm`, `restore --import=FILE` (a new container from the archive).
PCOUNTER='i=0; while :; do i=$((i+1)); echo $i >> /data/log; sleep 0.2; done'
# podman_calls ARGV VERB: the VERB calls of the wrapper's log (not podman's `checkpoint --help` probe), flags without
# their values and without the global flags (podman's --log, --log-format=json); podman_globals ARGV: the global flags
# other than those.
podman_calls() {
  awk -v verb="$2" '{ i = 1
    while (i <= NF && $i ~ /^-/) { if ($i == "--log" || $i == "--root" || $i == "--log-format") i++; i++ }
    if ($i != verb || $(i + 1) == "--help") next
    s = $i; for (j = i + 1; j <= NF; j++) if ($j ~ /^-/) { sub(/=.*/, "", $j); s = s " " $j }
    print s }' "$1" | sort -u | paste -sd';' | sed 's/;/; /g'
}
podman_globals() {
  awk '{ for (i = 1; i <= NF && $i ~ /^-/; i++) { if ($i == "--log" || $i == "--root" || $i == "--log-format") { i++; continue }
    if ($i !~ /^--log-format=/) print $i } }' "$1" | sort -u | paste -sd' '
}
s_podman() {
  local r=$1 b d=$W/podman-$1 name=crtest-$1 img=localhost/crtest:latest id last n st pid
  b=$(rt "$r")
  mkdir -p "$d/bin" "$d/data"
  printf '#!/bin/sh\necho "$*" >> %s\nexec %s "$@"\n' "$d/argv" "$b" > "$d/bin/$r" && chmod +x "$d/bin/$r"
  local p=(timeout 90 podman)
  if ! podman image exists "$img"; then
    tar -C "$ROOTFS" -cf "$W/rootfs.tar" . && "${p[@]}" import "$W/rootfs.tar" "$img" >/dev/null 2>"$d/err" \
      || { echo "podman import failed: $(cat "$d/err")"; return 1; }
  fi
  "${p[@]}" run -d --pull never --name "$name" --runtime "$d/bin/$r" -v "$d/data:/data" "$img" sh -c "$PCOUNTER" \
    >"$d/id" 2>"$d/err" || { echo "podman run failed: $(cat "$d/err")"; return 1; }
  id=$(cat "$d/id")
  retry_until 60 test -s "$d/data/log"; sleep 1
  # observe NAME: the container's status, and whether its pid is the (restored) counter; then whether the count
  # continued from LAST (the last count before the dump; N lines then).
  observe() {
    st=$(podman inspect -f '{{.State.Status}} {{.State.Pid}}' "$name" 2>&1)
    echo "$1: ${st%% *}"
    [ "$(tr '\0' ' ' < /proc/"${st##* }"/cmdline 2>/dev/null)" = "sh -c $PCOUNTER " ] && echo "pid: the restored counter" || echo "pid: ${st##* }"
    retry_until 60 test "$(wc -l < "$d/data/log")" -gt "$n"
    continues "$last" "$(sed -n "$((n + 1))p" "$d/data/log")"
  }
  "${p[@]}" container checkpoint "$name" >/dev/null 2>"$d/err" && echo "podman container checkpoint: ok" \
    || { echo "podman container checkpoint: failed: $(cat "$d/err")"; return 1; }
  echo "after checkpoint: $(podman inspect -f '{{.State.Status}}' "$name")"
  last=$(tail -n 1 "$d/data/log"); n=$(wc -l < "$d/data/log")
  "${p[@]}" container restore "$name" >/dev/null 2>"$d/err" && echo "podman container restore: ok" \
    || { echo "podman container restore: failed: $(cat "$d/err")"; return 1; }
  observe "after restore"
  "${p[@]}" container checkpoint --export="$d/export.tar.gz" "$name" >/dev/null 2>"$d/err" \
    && echo "podman container checkpoint --export: ok" || { echo "podman container checkpoint --export: failed: $(cat "$d/err")"; return 1; }
  last=$(tail -n 1 "$d/data/log"); n=$(wc -l < "$d/data/log")
  "${p[@]}" rm "$name" >/dev/null 2>&1
  echo "after podman rm: $(podman container exists "$name" && echo exists || echo gone)"
  "${p[@]}" container restore --import="$d/export.tar.gz" >/dev/null 2>"$d/err" && echo "podman container restore --import: ok" \
    || { echo "podman container restore --import: failed: $(cat "$d/err")"; return 1; }
  observe "after restore --import"
  echo "the runtime was called: $(podman_calls "$d/argv" checkpoint); $(podman_calls "$d/argv" restore)"
  echo "global flags: $(podman_globals "$d/argv")"
  "${p[@]}" rm -f -t 0 "$name" >/dev/null 2>&1
  local l=()
  podman container exists "$name" && l+=(container)
  [ -e "$(state_dir "$r" "$id")" ] && l+=(state-dir)
  [ -n "$(find "$CG" -name "*$id*" 2>/dev/null)" ] && l+=(cgroup)
  systemctl list-units --all --plain --no-legend "*$id*" 2>/dev/null | grep -q . && l+=(systemd-unit)
  grep -q "criu-root" /proc/self/mountinfo && l+=(criu-root-mount)
  pgrep -f "conmon .*$id" >/dev/null && l+=(conmon)
  echo "leftovers: ${l[*]:-none}"
  rm -rf "${d:?}"
}
compare "podman: container checkpoint and restore, then checkpoint --export, rm, restore --import" \
  'podman container checkpoint: ok.after checkpoint: exited.podman container restore: ok.after restore: running.pid: the restored counter.count continues: yes.podman container checkpoint --export: ok.after podman rm: gone.podman container restore --import: ok.after restore --import: running.pid: the restored counter.count continues: yes.the runtime was called: checkpoint --image-path --work-path.*; restore .*--image-path.*global flags: --systemd-cgroup.leftovers: none' s_podman

rmdir "$CG/crtest" 2>/dev/null
rm -rf "$W"
tap_summary
