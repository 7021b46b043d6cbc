#!/usr/bin/env bash
# Interleaved 50-parallel `run` rounds: benchmarks/parallel.sh ROUNDS BUNDLE RUNTIME...
# Each round starts 50 containers of BUNDLE at once (xargs -P 50) with each runtime in turn, after a 1.5 s settle (the
# previous round's network namespaces are cleaned up by kernel workers meanwhile), and prints per runtime the median
# wall time and the median busy and idle CPU of the whole machine during the round (from /proc/stat, ms summed over
# CPUs). Interleaving keeps the VM's drift out of the ratio, which back-to-back hyperfine runs (make bench) do not.
set -euo pipefail
rounds=$1 bundle=$2; shift 2
state=$(mktemp -d /dev/shm/ocirun-parallel.XXXXXX)
trap 'rm -rf "$state"' EXIT
busy() { awk '/^cpu /{print ($2+$3+$4+$7+$8)*10, ($5+$6)*10}' /proc/stat; }
for _ in $(seq "$rounds"); do
  for rt in "$@"; do
    sleep 1.5
    root="$state/$(basename "$rt")"
    read -r b0 i0 < <(busy); s=$(date +%s%N)
    seq 1 50 | xargs -P 50 -I{} "$rt" --root "$root" run -b "$bundle" p{} >/dev/null 2>&1 || true
    e=$(date +%s%N); read -r b1 i1 < <(busy)
    echo "$rt $(( (e - s) / 1000000 )) $((b1 - b0)) $((i1 - i0))"
  done
done | python3 -c '
import sys, collections, statistics as st
m = collections.defaultdict(list)
for line in sys.stdin:
    rt, wall, busy, idle = line.split()
    m[rt].append((int(wall), int(busy), int(idle)))
first = None
for rt, v in m.items():
    wall = st.median(x[0] for x in v)
    first = first or wall
    print(f"{rt:28} wall {wall:6.0f} ms  busy {st.median(x[1] for x in v):6.0f}  idle {st.median(x[2] for x in v):5.0f}  ratio to first {wall / first:4.2f}  rounds {sorted(x[0] for x in v)}")'
