#!/usr/bin/env bash
# The project's runtime-spec conformance suite: one test per observable MUST/SHOULD of runtime.md, config.md and
# config-linux.md, each a small busybox script in a container (or an operation and its error), reported as TAP.
#
#   RUNTIME=ocirun|runc|crun|/path/to/runtime conformance/spec/run.sh [FILTER]
#
# FILTER is a grep -E pattern on test ids (e.g. 'hooks|state'). Results also go to
# $RESULTS_DIR/<runtime>.tsv (id, ok|not ok|skip|todo, level, section, note, requirement) for compare.sh.
# Exit status: 0 when nothing failed (known gaps of known-gaps.<runtime> are TAP TODO, not failures). PENDING=off runs the tests of ocirun features that are not merged yet
# (cgroups, seccomp) instead of skipping them.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/common.sh"

# Container inits left by `create` are reparented to the nearest subreaper: make this shell one (bash reaps
# every child it inherits), so an exited init never lingers as a zombie keeping its pid namespace alive.
if [ -z "${CONF_SUBREAPER:-}" ]; then
  conf_need python3 >&2
  export CONF_SUBREAPER=1
  exec python3 -c 'import ctypes, os, sys
if ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0) != 0: sys.exit("prctl(PR_SET_CHILD_SUBREAPER) failed")
os.execvp(sys.argv[1], sys.argv[1:])' bash "$0" "$@"
fi

[ "$(id -u)" = 0 ] || conf_die "the spec suite needs root"
conf_need busybox-static jq util-linux python3 >&2

RUNTIME=${RUNTIME:-ocirun}
case $RUNTIME in
  ocirun) RT_BIN=$(conf_ocirun) ;;
  runc | crun) RT_BIN=$(command -v "$RUNTIME") || { conf_need "$RUNTIME" >&2; RT_BIN=$(command -v "$RUNTIME"); } ;;
  *) RT_BIN=$(readlink -f "$RUNTIME") ;;
esac
[ -x "$RT_BIN" ] || conf_die "runtime $RUNTIME not found"
RT_NAME=$(basename "$RUNTIME")
RT_SPEC=$("$RT_BIN" --version 2>/dev/null | awk '/^spec/ { print $2 }')
RT_SPEC=${RT_SPEC:-1.0.0}
FILTER=${1:-}
RESULTS_DIR=${RESULTS_DIR:-$CONF_DIR/spec/results}
mkdir -p "$RESULTS_DIR"
RESULTS=$RESULTS_DIR/$RT_NAME.tsv
# Known gaps of the runtime under test (id<TAB>reason): failures reported as TAP "not ok ... # TODO reason",
# which do not fail the run. Only ocirun has such a list; a gap that passes is reported for removal.
GAPS=$here/known-gaps.$RT_NAME
TAP_TODO=0
: > "$RESULTS"

WORK=$(mktemp -d "/tmp/ocirun-spec-$RT_NAME.XXXXXX")
STATE_ROOT=$WORK/state
ROOTFS_TEMPLATE=$WORK/rootfs
mkdir -p "$STATE_ROOT"
chmod 0755 "$WORK"   # a user namespace's root (host uid 100000) must reach the bundles
trap 'umount_under "$WORK" 2>/dev/null; rm -rf "$WORK"' EXIT
conf_rootfs "$ROOTFS_TEMPLATE"
export -n CONF_SUBREAPER

# crun on a cgroup v1 hybrid host whose hugetlb controller sits on the v2 hierarchy: crun needs it on v1
# (mount it there once; only when a trial container fails and hugetlb is not mounted as v1 yet).
if [ "$RT_NAME" = crun ]; then
  probe=$WORK/probe; mkdir -p "$probe"; cp -a "$ROOTFS_TEMPLATE" "$probe/rootfs"
  (B=$probe; source "$here/lib.sh"; base_config | jq '.process.args = ["true"]' > "$probe/config.json")
  if ! "$RT_BIN" --root "$STATE_ROOT" run --bundle "$probe" conf-probe </dev/null >/dev/null 2>"$probe/err"; then
    if grep -qi hugetlb "$probe/err" && ! grep -q ' /sys/fs/cgroup/hugetlb ' /proc/self/mountinfo; then
      conf_log "crun needs the hugetlb controller on cgroup v1: mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb"
      mkdir -p /sys/fs/cgroup/hugetlb && mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb
    else
      conf_log "crun trial run failed: $(cat "$probe/err")"
    fi
  fi
  "$RT_BIN" --root "$STATE_ROOT" delete --force conf-probe >/dev/null 2>&1
  rm -rf "$probe"
fi

source "$here/lib.sh"

# spec_test ID LEVEL SECTION TEXT FUNCTION [ARGS...]: registers a requirement.
SPEC_IDS=() SPEC_LEVEL=() SPEC_SECTION=() SPEC_TEXT=() SPEC_CALL=()
spec_test() {
  SPEC_IDS+=("$1"); SPEC_LEVEL+=("$2"); SPEC_SECTION+=("$3"); SPEC_TEXT+=("$4")
  local call; printf -v call '%q ' "${@:5}"; SPEC_CALL+=("$call")
}
for f in "$here"/tests/*.sh; do source "$f"; done

echo "# runtime-spec conformance: $RT_NAME ($RT_BIN, declares runtime-spec $RT_SPEC)"
started=$SECONDS
for i in "${!SPEC_IDS[@]}"; do
  id=${SPEC_IDS[$i]}
  [ -n "$FILTER" ] && ! grep -qE "$FILTER" <<<"$id" && continue
  TEST_NO=$i
  name="$id (${SPEC_LEVEL[$i]} ${SPEC_SECTION[$i]}): ${SPEC_TEXT[$i]}"
  line=$(tap_run "$name" eval "${SPEC_CALL[$i]}")
  gap=$(awk -F'\t' -v id="$id" '$1 == id { print $2 }' "$GAPS" 2>/dev/null)
  case $line in
    "not ok"*) note=$(sed -n '2,$p' <<<"$line" | sed 's/^#   //' | tail -n 3 | tr '\n\t' '  ' | cut -c1-300)
               if [ -n "$gap" ]; then
                 result=todo; TAP_TODO=$((TAP_TODO + 1)); line="${line%%$'\n'*} # TODO $gap"$'\n'"${line#*$'\n'}"
               else
                 result="not ok"; TAP_FAIL=$((TAP_FAIL + 1)); TAP_FAILED+=("$id")
               fi ;;
    *"# SKIP"*) TAP_SKIP=$((TAP_SKIP + 1)); result=skip; note=${line##*# SKIP } ;;
    *) TAP_PASS=$((TAP_PASS + 1)); result=ok; note=
       [ -n "$gap" ] && line="$line # TODO $gap (passes now: remove it from $(basename "$GAPS"))" ;;
  esac
  TAP_N=$((TAP_N + 1))
  echo "$line"
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$id" "$result" "${SPEC_LEVEL[$i]}" "${SPEC_SECTION[$i]}" "$note" "${SPEC_TEXT[$i]}" >> "$RESULTS"
done
# Leftovers of the whole run: containers in the state root, processes of our bundles.
left=$("$RT_BIN" --root "$STATE_ROOT" list -q 2>/dev/null | grep -c . || true)
[ "${left:-0}" -eq 0 ] || echo "# warning: $left container(s) left in $STATE_ROOT"
echo "# $RT_NAME: $((SECONDS - started)) s"
echo "1..$TAP_N"
echo "# $TAP_PASS passed, $TAP_FAIL failed, $TAP_SKIP skipped, $TAP_TODO known gaps (TODO)"
[ "$TAP_FAIL" -eq 0 ]
