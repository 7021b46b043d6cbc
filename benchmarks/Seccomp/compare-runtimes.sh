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
# ocirun's compiled-profile cache (SeccompCache.DefaultDirectory; /run/ocirun-cache by default) in the work directory.
export OCIRUN_SECCOMP_CACHE=$work/seccomp-cache

"$repo/scripts/make-bundle.sh" "$work/plain" "$ocirun" >/dev/null
jq '.process.terminal = false | .process.args = ["true"] | .root.path = "'"$work/plain/rootfs"'"' \
  "$work/plain/config.json" > "$work/config.tmp" && mv "$work/config.tmp" "$work/plain/config.json"
mkdir -p "$work/seccomp"
jq --slurpfile s "$here/fixtures/docker-default.json" '.linux.seccomp = $s[0]' "$work/plain/config.json" > "$work/seccomp/config.json"

declare -A bin=([ocirun]="$ocirun" [runc]="$(command -v runc || true)" [crun]="$(command -v crun || true)")
# Median and minimum: this is usually a shared machine, and the mean follows the neighbours' load.
printf '%-14s %22s %22s %16s\n' runtime "plain: median/min ms" "seccomp: median/min" "profile: median"
for rt in ocirun runc crun; do
  b=${bin[$rt]}
  [ -n "$b" ] || { echo "$rt: not installed, skipped"; continue; }
  hyperfine -N --warmup 5 --runs "$runs" --export-json "$work/$rt.json" \
    "$b --root $work/state-$rt run --bundle $work/plain bench-$rt-plain" \
    "$b --root $work/state-$rt run --bundle $work/seccomp bench-$rt-seccomp" >/dev/null
  jq -r --arg rt "$rt" '.results as $r | [$r[0].median, $r[0].min, $r[1].median, $r[1].min] | map(. * 1000)
    | "\($rt) \(.[0]) \(.[1]) \(.[2]) \(.[3]) \(.[2] - .[0])"' "$work/$rt.json" |
    while read -r name pm pn sm sn d; do printf '%-14s %12.1f / %6.1f %12.1f / %6.1f %16.1f\n' "$name" "$pm" "$pn" "$sm" "$sn" "$d"; done
done
# ocirun without its compiled-profile cache (every run compiles with libseccomp, as runc and crun do).
hyperfine -N --warmup 3 --runs "$runs" --export-json "$work/ocirun-cold.json" \
  --prepare "sh -c 'rm -f $work/seccomp-cache/.seccomp-*.bpf'" \
  "$ocirun --root $work/state-ocirun run --bundle $work/seccomp bench-ocirun-cold" >/dev/null
jq -r '.results[0] | [.median, .min] | map(. * 1000) | "\(.[0]) \(.[1])"' "$work/ocirun-cold.json" |
  while read -r m n; do printf '%-14s %22s %12.1f / %6.1f\n' "ocirun (cold)" "" "$m" "$n"; done
