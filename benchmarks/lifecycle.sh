#!/usr/bin/env bash
# Lifecycle benchmark: the same busybox bundle under ocirun, crun and runc, side by side.
# Prints a markdown table of medians (ms) and the ratio ocirun/crun. `make bench` runs it.
#   RUNS=30 benchmarks/lifecycle.sh
set -euo pipefail
cd "$(dirname "$0")/.."
OCIRUN=${OCIRUN:-$PWD/ocirun}
RUNS=${RUNS:-30}
[ -x "$OCIRUN" ] || { echo "lifecycle.sh: $OCIRUN missing (run make)" >&2; exit 1; }

missing=()
for p in hyperfine crun runc busybox-static jq time; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# crun on a v1-hybrid host wants hugetlb on v1.
if [ -d /sys/fs/cgroup/unified ] && ! mountpoint -q /sys/fs/cgroup/hugetlb; then
  mkdir -p /sys/fs/cgroup/hugetlb && mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb 2>/dev/null || true
fi

work=$(mktemp -d /tmp/ocirun-bench.XXXXXX)
# State roots on tmpfs, like /run/ocirun, /run/crun and /run/runc in real use (bundles stay in $work).
state=$(mktemp -d /dev/shm/ocirun-bench-state.XXXXXX)
declare -A BIN=([ocirun]=$OCIRUN [crun]=$(command -v crun) [runc]=$(command -v runc))
RUNTIMES=(ocirun crun runc)
cleanup() {
  for rt in "${RUNTIMES[@]}"; do
    for id in $("${BIN[$rt]}" --root "$state/root-$rt" list -q 2>/dev/null); do "${BIN[$rt]}" --root "$state/root-$rt" delete -f "$id" >/dev/null 2>&1 || true; done
  done
  rm -rf "$work" "$state"
}
trap cleanup EXIT

scripts/make-bundle.sh "$work/true" "$OCIRUN" >/dev/null
jq '.process.terminal = false | .process.args = ["/bin/true"]' "$work/true/config.json" > "$work/c" && mv "$work/c" "$work/true/config.json"
cp -a "$work/true" "$work/sleep"
jq '.process.args = ["sleep", "100000"]' "$work/true/config.json" > "$work/sleep/config.json"

declare -A RESULT
median() { # hyperfine json -> median ms
  jq -r '.results[0].median * 1000' "$1"
}
bench() { # name runtime [--prepare CMD] command...
  local name=$1 rt=$2; shift 2
  if ! hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$work/h.json" "$@" >"$work/h.log" 2>&1; then
    echo "lifecycle.sh: $rt: $name failed:" >&2; cat "$work/h.log" >&2; exit 1
  fi
  RESULT[$name,$rt]=$(median "$work/h.json")
}

# Case by case, each runtime in turn, after the kernel has settled: deleting a container leaves work behind (network
# namespace clean-up, cgroup release), and a case measured right after another runtime's 100 deletes or 50 parallel
# runs pays for them (the table used to swing by 30% between two runs). SETTLE=seconds (default 2).
settle() { sleep "${SETTLE:-2}"; }
root() { echo "$state/root-$1"; }
for rt in "${RUNTIMES[@]}"; do mkdir -p "$(root "$rt")"; done
for rt in "${RUNTIMES[@]}"; do settle; b=${BIN[$rt]}; bench "run /bin/true" "$rt" "$b --root $(root "$rt") run -b $work/true r1"; done
# Runs 50 ms apart, as pod starts are: the kernel's cgroup migration lock is cold again (docs/process-model.md, cgroups).
for rt in "${RUNTIMES[@]}"; do settle; b=${BIN[$rt]}; bench "run /bin/true, 50 ms apart" "$rt" --prepare "sleep 0.05" "$b --root $(root "$rt") run -b $work/true r1"; done
for rt in "${RUNTIMES[@]}"; do
  settle; b=${BIN[$rt]}; r=$(root "$rt")
  bench "create+start+delete /bin/true" "$rt" "bash -c '$b --root $r create -b $work/true c1 && $b --root $r start c1 && $b --root $r delete -f c1'"
done
for rt in "${RUNTIMES[@]}"; do "${BIN[$rt]}" --root "$(root "$rt")" run -d -b "$work/sleep" s1 >/dev/null 2>&1 </dev/null; done
for rt in "${RUNTIMES[@]}"; do settle; b=${BIN[$rt]}; bench "exec /bin/true" "$rt" "$b --root $(root "$rt") exec s1 /bin/true"; done
for rt in "${RUNTIMES[@]}"; do settle; b=${BIN[$rt]}; bench "state" "$rt" "$b --root $(root "$rt") state s1"; done
for rt in "${RUNTIMES[@]}"; do
  b=${BIN[$rt]}; r=$(root "$rt")
  for i in $(seq 1 99); do "$b" --root "$r" create -b "$work/sleep" "l$i" >/dev/null 2>&1 </dev/null; done
  settle
  bench "list (100 containers)" "$rt" "$b --root $r list"
  for id in $("$b" --root "$r" list -q); do "$b" --root "$r" delete -f "$id" >/dev/null 2>&1; done
done
for rt in "${RUNTIMES[@]}"; do
  settle; settle; b=${BIN[$rt]}
  bench "50 parallel runs (wall)" "$rt" "bash -c 'seq 1 50 | xargs -P 50 -I{} $b --root $(root "$rt") run -b $work/true p{}'"
done
for rt in "${RUNTIMES[@]}"; do
  settle; b=${BIN[$rt]}; rss=0
  for i in 1 2 3 4 5; do
    r=$(/usr/bin/time -f %M "$b" --root "$(root "$rt")" run -b "$work/true" m1 2>&1 >/dev/null | tail -1)
    [ "$r" -gt "$rss" ] && rss=$r
  done
  RESULT["peak RSS of run (KB)",$rt]=$rss
done

printf '| %s | ocirun | crun | runc | ocirun/crun |\n|---|---:|---:|---:|---:|\n' "median (ms)"
for name in "run /bin/true" "run /bin/true, 50 ms apart" "create+start+delete /bin/true" "exec /bin/true" "state" "list (100 containers)" "50 parallel runs (wall)" "peak RSS of run (KB)"; do
  o=${RESULT[$name,ocirun]}; c=${RESULT[$name,crun]}; r=${RESULT[$name,runc]}
  printf "| %s | %.1f | %.1f | %.1f | %.2f |\n" "$name" "$o" "$c" "$r" "$(awk "BEGIN{print $o/$c}")"
done
echo
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, kernel $(uname -r), $(date -u +%Y-%m-%d)"
