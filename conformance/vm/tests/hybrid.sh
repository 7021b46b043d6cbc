#!/usr/bin/env bash
# A cgroup v1 hybrid host in the VM, runc 1.1.5 and ocirun side by side (docs/cgroups.md, "Host modes"). Opt-in, not
# part of `make test` (a third boot, ~2.5 min under TCG).
#   On the host:  conformance/vm/tests/hybrid.sh      boots conformance/vm/run.sh with OCIRUN_VM_CGROUP=hybrid and this
#                 script as its guest script. FILTER=regex; OCIRUN=binary, as run.sh.
#   In the guest: systemd mounts every v1 controller; the script unmounts the v1 hugetlb hierarchy (systemd makes no
#                 cgroup in it), so hugetlb is bound to the cgroup2 hierarchy at /sys/fs/cgroup/unified, as on a host
#                 whose init mounts no v1 hugetlb (crun 1.8.1 refuses such a host: "cgroups in hybrid mode not
#                 supported"). TAP on stdout.
# The scenarios print what they observe, runc's and ocirun's output must be the same where both can run the config;
# where runc refuses it (hugepageLimits without v1 hugetlb, linux.resources.unified) ocirun's result is checked alone.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)

if [ "$0" != /mnt/share/tests.sh ]; then
  repo=$(cd "$here/../../.." && pwd)
  OCIRUN_VM_CGROUP=hybrid exec "${OCIRUN_VM_RUN:-$repo/conformance/vm/run.sh}" "$0"
fi

source "$here/lib/common.sh"
TAP_TIMEOUT=${TAP_TIMEOUT:-120}
OCIRUN=/usr/local/bin/ocirun
RUNC=$(command -v runc)
U=/sys/fs/cgroup/unified
W=$(mktemp -d /var/tmp/hybtest.XXXXXX)
chmod 0755 "$W"
ROOTFS=$W/rootfs
conf_rootfs "$ROOTFS" >/dev/null
chmod -R a+rX "$W"

rt() { [ "$1" = runc ] && echo "$RUNC" || echo "$OCIRUN"; }

umount /sys/fs/cgroup/hugetlb 2>/dev/null
for _ in $(seq 1 50); do grep -qw hugetlb $U/cgroup.controllers && break; sleep 0.1; done
echo "# guest: $(uname -r), runc $($RUNC --version | head -1 | cut -d' ' -f3); cgroup2 root controllers: '$(cat $U/cgroup.controllers)'"
grep -qw hugetlb $U/cgroup.controllers || { echo "Bail out! hugetlb did not move to the cgroup2 hierarchy"; exit 1; }

# bundle DIR CGROUPS_PATH JQ_FILTER: busybox, sleep 300, no network namespace.
bundle() {
  mkdir -p "$1"; (cd "$1" && $RUNC spec)
  jq --arg rootfs "$ROOTFS" --arg cg "$2" '.root.path = $rootfs | .root.readonly = true | .process.terminal = false
    | .linux.namespaces |= map(select(.type != "network")) | .process.args = ["sleep", "300"]
    | if $cg != "" then .linux.cgroupsPath = $cg else . end' "$1/config.json" | jq "$3" > "$1/c.json" && mv "$1/c.json" "$1/config.json"
}
# enabled: every cgroup2 directory whose cgroup.subtree_control enables something ("DIR: CONTROLLERS").
enabled() { local d c; find $U -type d | sort | while read -r d; do c=$(<"$d/cgroup.subtree_control"); [ -n "$c" ] && echo "${d#$U}: $c"; done; }
init_pid() { "$(rt "$1")" state "$2" | jq -r .pid; }
# v1_mount_works: what crun's users on such a host do (benchmarks/lifecycle.sh): hugetlb moved to a v1 hierarchy.
v1_mount_works() {
  local m=$W/v1-hugetlb; mkdir -p "$m"
  mount -t cgroup -o hugetlb cgroup "$m" 2>/dev/null || return 1
  umount "$m"
  for _ in $(seq 1 50); do grep -qw hugetlb $U/cgroup.controllers && return 0; sleep 0.1; done
  return 0
}

compare() {
  local name=$1 fn=$2
  [ -n "${FILTER:-}" ] && ! [[ $name =~ $FILTER ]] && return 0
  tap_run "$name" _compare "$fn"
}
_compare() {
  local a b
  a=$("$1" runc 2>&1); [ $? -eq 0 ] || fail "runc: $a"
  b=$("$1" ocirun 2>&1); [ $? -eq 0 ] || fail "ocirun: $b"$'\n'"runc printed: $a"
  [ "$a" = "$b" ] || fail "$(printf 'runc and ocirun differ:\n--- runc\n%s\n--- ocirun\n%s' "$a" "$b")"
  printf '%s\n' "$a" | sed 's/^/# runc = ocirun: /'
}
only() {
  local name=$1; shift
  [ -n "${FILTER:-}" ] && ! [[ $name =~ $FILTER ]] && return 0
  tap_run "$name" "$@"
}

# For each cgroupsPath form: the init's cgroup2 cgroup (the id replaced by ID), the controllers enabled anywhere in the
# cgroup2 hierarchy while it runs and after delete, and whether its directory is gone. runc leaves the parents it
# made (ocirun removes them): they are removed between runs and not compared.
s_paths() {
  local r=$1 id cg path before
  trap '"$(rt "$r")" delete -f "paths-$r"' EXIT
  before=$(enabled)
  for cg in "" "hyb/rel-ID" "/hyb/abs-ID" "/default/ID"; do
    id=paths-$r; path=${cg//ID/$id}; bundle "$W/$id" "$path" '.'
    (cd "$W/$id" && "$(rt "$r")" run -d "$id" </dev/null >/dev/null 2>"$W/$id.err") || { cat "$W/$id.err"; return 1; }
    echo "cgroupsPath '$cg': $(grep '^0::' "/proc/$(init_pid "$r" "$id")/cgroup" | sed "s/$id/ID/g")"
    [ "$(enabled)" = "$before" ] || echo "  enabled while running: $(enabled | tr '\n' ';')"
    "$(rt "$r")" delete -f "$id" >/dev/null
    [ "$(enabled)" = "$before" ] || echo "  enabled after delete: $(enabled | tr '\n' ';')"
    [ -d "$U/${path:-$id}" ] && echo "  left: ${cg:-ID}"
    rmdir $U/hyb $U/default 2>/dev/null; rm -rf "${W:?}/$id" "$W/$id.err"
  done
  v1_mount_works && echo "v1 hugetlb mount: works" || echo "v1 hugetlb mount: EBUSY"
}
compare "hybrid: a cgroup2 directory per container, relative paths under the cgroup2 root, nothing enabled" s_paths

# hugepageLimits with hugetlb on cgroup2 only: runc refuses the config; ocirun applies it there, enabling hugetlb in
# the ancestors while the container lives, and leaves the host as it found it (the v1 mount works again).
s_hugepages() {
  local before out id=huge
  trap '$OCIRUN delete -f huge; $RUNC delete -f huge-runc' EXIT
  before=$(enabled)
  bundle "$W/$id-runc" "/hyb/$id-runc" '.linux.resources.hugepageLimits = [{"pageSize": "2MB", "limit": 4194304}]'
  out=$(cd "$W/$id-runc" && $RUNC run -d "$id-runc" </dev/null 2>&1) && fail "runc accepted hugepageLimits without v1 hugetlb: $out"
  assert_contains "$out" "cannot set hugetlb limit" "runc's refusal"
  $RUNC delete -f "$id-runc" >/dev/null 2>&1; rmdir $U/hyb 2>/dev/null
  bundle "$W/$id" "/hyb/$id" '.linux.resources.hugepageLimits = [{"pageSize": "2MB", "limit": 4194304}]'
  (cd "$W/$id" && $OCIRUN run -d "$id" </dev/null) || fail "ocirun run failed"
  assert_eq "$(cat $U/hyb/$id/hugetlb.2MB.max)" 4194304 "hugetlb.2MB.max"
  assert_contains "$(enabled)" "/hyb: hugetlb" "enabled while running"
  v1_mount_works && fail "hugetlb could be mounted as v1 while a container has a hugetlb limit on cgroup2"
  $OCIRUN delete -f "$id" || fail "ocirun delete failed"
  assert_eq "$(enabled)" "$before" "cgroup.subtree_control after delete"
  [ -d $U/hyb ] && fail "/hyb left"
  v1_mount_works || fail "after delete: mount -t cgroup -o hugetlb fails"
  echo "# runc: $out"
}
only "hybrid: hugepageLimits go through cgroup2 and delete gives the host back (runc refuses them)" s_hugepages

# The unified map, for a cgroup2 controller: runc refuses it on any non-v2 host; ocirun writes it.
s_unified() {
  local out before
  trap '$OCIRUN delete -f uni; $RUNC delete -f uni-runc' EXIT
  before=$(enabled)
  bundle "$W/uni-runc" "/hyb/uni-runc" '.linux.resources.unified = {"hugetlb.2MB.max": "6291456"}'
  out=$(cd "$W/uni-runc" && $RUNC run -d uni-runc </dev/null 2>&1) && fail "runc accepted unified on a hybrid host: $out"
  assert_contains "$out" "cannot use unified on cgroup v1" "runc's refusal"
  $RUNC delete -f uni-runc >/dev/null 2>&1; rmdir $U/hyb 2>/dev/null
  bundle "$W/uni" "/hyb/uni" '.linux.resources.unified = {"hugetlb.2MB.max": "6291456"}'
  (cd "$W/uni" && $OCIRUN run -d uni </dev/null) || fail "ocirun run failed"
  assert_eq "$(cat $U/hyb/uni/hugetlb.2MB.max)" 6291456 "hugetlb.2MB.max"
  $OCIRUN delete -f uni || fail "ocirun delete failed"
  assert_eq "$(enabled)" "$before" "cgroup.subtree_control after delete"
  echo "# runc: $out"
}
only "hybrid: linux.resources.unified for a cgroup2 controller (runc refuses it)" s_unified

# Two containers with hugepage limits under one parent: deleting the first keeps the second's limit; the last one
# out disables hugetlb again.
s_two() {
  local before
  trap '$OCIRUN delete -f two-a; $OCIRUN delete -f two-b' EXIT
  before=$(enabled)
  for id in two-a two-b; do
    bundle "$W/$id" "/hyb/$id" '.linux.resources.hugepageLimits = [{"pageSize": "2MB", "limit": 2097152}]'
    (cd "$W/$id" && $OCIRUN run -d "$id" </dev/null) || fail "ocirun run $id failed"
  done
  $OCIRUN delete -f two-a || fail "delete two-a"
  assert_eq "$(cat $U/hyb/two-b/hugetlb.2MB.max 2>&1)" 2097152 "two-b's limit after two-a's delete"
  $OCIRUN delete -f two-b || fail "delete two-b"
  rmdir $U/hyb 2>/dev/null # made by two-a, left while two-b lived (as runc leaves parents)
  assert_eq "$(enabled)" "$before" "cgroup.subtree_control after both deletes"
}
only "hybrid: a second container keeps its hugepage limit when the first is deleted" s_two

rm -rf "$W"
tap_summary
