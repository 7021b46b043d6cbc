#!/usr/bin/env bash
# `make test`: every test project, then one summary line ("N passed, N failed").
set -uo pipefail
cd "$(dirname "$0")/.."
export OCIRUN_BINARY="$PWD/ocirun"
log=$(mktemp)
dotnet test OciRuntime.sln -c Release --nologo 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
passed=$(grep -Eo 'Passed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
failed=$(grep -Eo 'Failed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
skipped=$(grep -Eo 'Skipped: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
rm -f "$log"
echo "tests: ${passed:-0} passed, ${failed:-0} failed, ${skipped:-0} skipped"
exit "$status"
