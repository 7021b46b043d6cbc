#!/usr/bin/env bash
# Runs the runtime-spec suite against several runtimes and prints the side-by-side table
# (requirement × runtime: ok / not ok / skip / todo), the counts, and the requirements ocirun does not meet
# while runc does, with the reasons.
#
#   conformance/spec/compare.sh [--markdown FILE] [--no-run] [RUNTIME...]     (default: ocirun runc crun)
#
# --no-run reuses results/<runtime>.tsv of an earlier run. TAP logs go to results/<runtime>.tap.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
results=${RESULTS_DIR:-$here/results}
markdown= run=1 runtimes=()
while [ $# -gt 0 ]; do
  case $1 in
    --markdown) markdown=$2; shift 2 ;;
    --no-run) run=; shift ;;
    *) runtimes+=("$1"); shift ;;
  esac
done
[ ${#runtimes[@]} -gt 0 ] || runtimes=(ocirun runc crun)
mkdir -p "$results"

if [ -n "$run" ]; then
  for rt in "${runtimes[@]}"; do
    t0=$SECONDS
    RUNTIME=$rt RESULTS_DIR=$results "$here/run.sh" > "$results/$rt.tap" 2>&1
    echo "$rt: $(tail -n 1 "$results/$rt.tap" | sed 's/^# //') in $((SECONDS - t0)) s (TAP: $results/$rt.tap)"
  done
fi

for rt in "${runtimes[@]}"; do [ -s "$results/$rt.tsv" ] || { echo "no results for $rt in $results" >&2; exit 1; }; done
first=$results/${runtimes[0]}.tsv
cell() { awk -F'\t' -v id="$2" '$1 == id { print $2 }' "$results/$1.tsv"; }
note() { awk -F'\t' -v id="$2" '$1 == id { print $5 }' "$results/$1.tsv"; }

# Plain table.
printf '%-34s %-5s' requirement level
for rt in "${runtimes[@]}"; do printf ' %-7s' "$rt"; done; echo
while IFS=$'\t' read -r id _ level _ _; do
  printf '%-34s %-5s' "$id" "$level"
  for rt in "${runtimes[@]}"; do printf ' %-7s' "$(cell "$rt" "$id")"; done; echo
done < "$first"
echo
for rt in "${runtimes[@]}"; do
  f=$results/$rt.tsv
  printf '%s: %s ok, %s not ok, %s skip, %s todo (of %s)\n' "$rt" "$(grep -c $'\tok\t' "$f")" "$(grep -c $'\tnot ok\t' "$f")" \
    "$(grep -c $'\tskip\t' "$f")" "$(grep -c $'\ttodo\t' "$f")" "$(grep -c . "$f")"
done

gaps=$here/known-gaps.ocirun
worse() { # ids where ocirun is not ok/todo and runc is ok
  while IFS=$'\t' read -r id _; do
    o=$(cell ocirun "$id"); r=$(cell runc "$id")
    [ "$r" = ok ] && { [ "$o" = "not ok" ] || [ "$o" = todo ]; } && echo "$id"
  done < "$first"
}
if printf '%s\n' "${runtimes[@]}" | grep -qx ocirun && printf '%s\n' "${runtimes[@]}" | grep -qx runc; then
  echo; echo "ocirun fails, runc passes:"
  for id in $(worse); do
    echo "  $id: $(awk -F'\t' -v id="$id" '$1 == id { print $2 }' "$gaps" 2>/dev/null) [$(note ocirun "$id")]"
  done
fi

if [ -n "$markdown" ]; then
  {
    printf '| id | requirement | level | section |'; for rt in "${runtimes[@]}"; do printf ' %s |' "$rt"; done; echo
    printf '|---|---|---|---|'; for _ in "${runtimes[@]}"; do printf -- '---|'; done; echo
    # (tab is IFS whitespace: empty fields would collapse, so the columns are re-joined with \x1f)
    awk -F'\t' '{ print $1 "\x1f" $3 "\x1f" $4 "\x1f" $6 }' "$first" | while IFS=$'\x1f' read -r id level section text; do
      printf '| `%s` | %s | %s | [%s](https://github.com/opencontainers/runtime-spec/blob/v1.2.0/%s) |' "$id" "${text//|/\\|}" "$level" "$section" "$section"
      for rt in "${runtimes[@]}"; do printf ' %s |' "$(cell "$rt" "$id")"; done; echo
    done
    printf '| **total** | | | |'
    for rt in "${runtimes[@]}"; do
      f=$results/$rt.tsv
      printf ' %s ok, %s not ok, %s skip, %s todo |' "$(grep -c $'\tok\t' "$f")" "$(grep -c $'\tnot ok\t' "$f")" "$(grep -c $'\tskip\t' "$f")" "$(grep -c $'\ttodo\t' "$f")"
    done; echo
  } > "$markdown"
  echo; echo "markdown table: $markdown"
fi
