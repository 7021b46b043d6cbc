#!/usr/bin/env bash
# `make test`: every test project, then the conformance suites (containerd, podman, runtime-spec), then one
# summary line ("tests: N passed, N failed, N skipped"): xunit results plus the conformance TAP lines.
set -uo pipefail
cd "$(dirname "$0")/.."
export OCIRUN_BINARY="$PWD/ocirun"
log=$(mktemp)
dotnet test OciRuntime.sln -c Release --nologo 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
passed=$(grep -Eo 'Passed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
failed=$(grep -Eo 'Failed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
skipped=$(grep -Eo 'Skipped: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
conformance/run.sh 2>&1 | tee "$log"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
passed=$((passed + $(grep -Ec '^ok [0-9]+' "$log" | head -1) - $(grep -Ec '^ok [0-9]+.*# (SKIP|skip)' "$log" | head -1)))
skipped=$((skipped + $(grep -Ec '^ok [0-9]+.*# (SKIP|skip)' "$log" | head -1)))
failed=$((failed + $(grep -Ec '^not ok [0-9]+' "$log" | head -1) - $(grep -Ec '^not ok [0-9]+.*# (TODO|todo)' "$log" | head -1)))
rm -f "$log"
echo "tests: ${passed} passed, ${failed} failed, ${skipped} skipped"
exit "$status"
