#!/usr/bin/env bash
# `make test`: every test project, the conformance suites (containerd, cri, podman, docker, runtime-spec), the VM stage
# (conformance/vm/run.sh; OCIRUN_SKIP_VM=1 leaves it out), then one
# summary line ("tests: N passed, N failed, N skipped"): xunit results plus the conformance TAP lines.
set -uo pipefail
cd "$(dirname "$0")/.."
export OCIRUN_BINARY="$PWD/ocirun"
log=$(mktemp)
failures=$(mktemp)
# run_logged LIMIT CMD...: runs CMD with its output in $log (shown live), at most LIMIT seconds. Output goes to a
# file, not a pipe to tee: a process that inherits the pipe and outlives CMD (a shim, a build server) can't hang us.
run_logged() {
  local limit=$1 pid rc; shift
  : > "$log"
  timeout -k 30 "$limit" "$@" > "$log" 2>&1 &
  pid=$!
  tail -n +1 --pid="$pid" -f "$log"
  wait "$pid"; rc=$?
  [ "$rc" -eq 124 ] && echo "test.sh: $* did not finish within $limit s" | tee -a "$log"
  return "$rc"
}
run_logged 2400 dotnet test OciRuntime.sln -c Release --nologo --blame-hang-timeout 10m --blame-hang-dump-type none
status=$?
passed=$(grep -aEo 'Passed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
failed=$(grep -aEo 'Failed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
skipped=$(grep -aEo 'Skipped: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
# The names of what failed, repeated just above the summary line (CI keeps only the end of the output).
grep -aE '^ +Failed [A-Za-z_]' "$log" | sed -E 's/^ +Failed /failed: /' >> "$failures"
grep -a '^test.sh: .* did not finish within' "$log" >> "$failures"
[ "$status" -ne 0 ] && ! [ -s "$failures" ] && echo "failed: dotnet test exited $status" >> "$failures"
# count_tap STAGE RC: adds the TAP lines of $log to the totals (a "# SKIP" ok is skipped; a "# TODO" not ok is not a failure).
count_tap() {
  passed=$((passed + $(grep -aEc '^ok [0-9]+' "$log" | head -1) - $(grep -aEc '^ok [0-9]+.*# (SKIP|skip)' "$log" | head -1)))
  skipped=$((skipped + $(grep -aEc '^ok [0-9]+.*# (SKIP|skip)' "$log" | head -1)))
  failed=$((failed + $(grep -aEc '^not ok [0-9]+' "$log" | head -1) - $(grep -aEc '^not ok [0-9]+.*# (TODO|todo)' "$log" | head -1)))
  grep -aE '^not ok [0-9]+' "$log" | grep -avE '# (TODO|todo)' | sed "s|^not ok [0-9]* *-* *|failed: $1: |" >> "$failures"
  grep -a '^test.sh: .* did not finish within' "$log" >> "$failures"
  grep -aqE '^not ok [0-9]+|^test.sh: .* did not finish' "$log" || [ "$2" -eq 0 ] || echo "failed: $1 exited $2" >> "$failures"
}
run_logged 2400 conformance/run.sh; rc=$?; [ "$rc" -eq 0 ] || status=1
count_tap conformance "$rc"
# The VM stage (pure cgroup v2 + systemd guest under qemu; conformance/vm/run.sh): OCIRUN_SKIP_VM=1 leaves it out.
if [ -z "${OCIRUN_SKIP_VM:-}" ]; then
  run_logged 2700 conformance/vm/run.sh; rc=$?; [ "$rc" -eq 0 ] || status=1
  count_tap vm "$rc"
  # checkpoint/restore through CRIU (works in the guest's 6.1 kernel, not on a 6.18 host): a second boot.
  run_logged 1200 conformance/vm/tests/checkpoint.sh; rc=$?; [ "$rc" -eq 0 ] || status=1
  count_tap vm-checkpoint "$rc"
fi
cat "$failures"
rm -f "$log" "$failures"
echo "tests: ${passed} passed, ${failed} failed, ${skipped} skipped"
exit "$status"
