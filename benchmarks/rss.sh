#!/usr/bin/env bash
# Peak RSS of `run` /bin/true, interleaved: benchmarks/rss.sh RUNS RUNTIME...   (e.g. 21 ./ocirun /tmp/ocirun-old crun)
# Each round runs the same busybox bundle once with each runtime in turn (`/usr/bin/time -f %M`, KB: the largest RSS of
# the runtime and its waited-for children) and prints per runtime the median, min and max, and the median's ratio to
# the last runtime's. Interleaving keeps other load on the machine out of the comparison. State roots on /dev/shm.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=$1; shift
work=$(mktemp -d /tmp/ocirun-rss.XXXXXX)
state=$(mktemp -d /dev/shm/ocirun-rss-state.XXXXXX)
trap 'rm -rf "$work" "$state"' EXIT
scripts/make-bundle.sh "$work/true" ./ocirun >/dev/null
jq '.process.terminal = false | .process.args = ["/bin/true"]' "$work/true/config.json" > "$work/c" && mv "$work/c" "$work/true/config.json"
for i in $(seq "$runs"); do
  n=0
  for rt in "$@"; do
    n=$((n + 1)); mkdir -p "$state/$n"
    kb=$(/usr/bin/time -f %M "$(command -v "$rt")" --root "$state/$n" run -b "$work/true" "rss$i" 2>&1 >/dev/null | tail -1)
    echo "$n $rt $kb"
  done
done | python3 -c '
import sys, collections, statistics as st
m = collections.OrderedDict()
for line in sys.stdin:
    n, rt, kb = line.split()
    m.setdefault((int(n), rt), []).append(int(kb))
last = st.median(list(m.values())[-1])
for (n, rt), v in m.items():
    print(f"{rt:32} median {st.median(v):6.0f} KB  min {min(v):6}  max {max(v):6}  ratio to last {st.median(v) / last:4.2f}  runs {len(v)}")'
