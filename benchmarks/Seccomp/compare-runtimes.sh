#!/usr/bin/env bash
# Times `run` of a busybox container (`true`) without seccomp and with the Docker default profile
# (fixtures/docker-default.json) for ocirun, runc and crun, with hyperfine. The difference of the two means is what
# the seccomp profile costs each runtime (parse + compile with libseccomp + load), end to end.
#   benchmarks/Seccomp/compare-runtimes.sh [RUNS]        (as root; OCIRUN=path overrides ./ocirun)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
runs=${1:-40}
ocirun=${OCIRUN:-$repo/ocirun}
command -v hyperfine >/dev/null || { echo "hyperfine is missing: apt-get install hyperfine" >&2; exit 1; }
work=$(mktemp -d /tmp/seccomp-compare.XXXXXX)
trap 'rm -rf "$work"' EXIT

"$repo/scripts/make-bundle.sh" "$work/plain" "$ocirun" >/dev/null
jq '.process.terminal = false | .process.args = ["true"] | .root.path = "'"$work/plain/rootfs"'"' \
  "$work/plain/config.json" > "$work/config.tmp" && mv "$work/config.tmp" "$work/plain/config.json"
mkdir -p "$work/seccomp"
jq --slurpfile s "$here/fixtures/docker-default.json" '.linux.seccomp = $s[0]' "$work/plain/config.json" > "$work/seccomp/config.json"

declare -A bin=([ocirun]="$ocirun" [runc]="$(command -v runc || true)" [crun]="$(command -v crun || true)")
printf '%-8s %14s %14s %14s\n' runtime "plain (ms)" "seccomp (ms)" "profile (ms)"
for rt in ocirun runc crun; do
  b=${bin[$rt]}
  [ -n "$b" ] || { echo "$rt: not installed, skipped"; continue; }
  hyperfine -N --warmup 5 --runs "$runs" --export-json "$work/$rt.json" \
    "$b --root $work/state-$rt run --bundle $work/plain bench-$rt-plain" \
    "$b --root $work/state-$rt run --bundle $work/seccomp bench-$rt-seccomp" >/dev/null
  read -r plain seccomp < <(jq -r '[.results[].mean * 1000] | "\(.[0]) \(.[1])"' "$work/$rt.json")
  read -r plainSd seccompSd < <(jq -r '[.results[].stddev * 1000] | "\(.[0]) \(.[1])"' "$work/$rt.json")
  printf '%-8s %8.1f ± %4.1f %8.1f ± %4.1f %10.1f\n' "$rt" "$plain" "$plainSd" "$seccomp" "$seccompSd" "$(echo "$seccomp - $plain" | bc -l)"
done
