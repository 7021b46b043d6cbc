#!/usr/bin/env bash
# The systemd cgroup driver's unit start as the system bus sees it, in the VM stage's guest (systemd 252): dbus-monitor
# timestamps of StartTransientUnit, the job's JobRemoved signal and the runtime's next call, SetUnitProperties, for
# runc and ocirun (and a second ocirun binary, OCIRUN_BASELINE, e.g. one built from main), N rounds of
# `run -d` + `delete -f` with a pids limit, the runtimes alternating.
#   On the host:  OCIRUN=./ocirun [OCIRUN_BASELINE=/path/to/other/ocirun] [ROUNDS=12] benchmarks/systemd-start.sh
#                 (appends the baseline binary to a copy of this script and boots conformance/vm/run.sh with it)
#   In the guest: the same script, as /mnt/share/tests.sh.
# Prints per runtime: StartTransientUnit -> SetUnitProperties, StartTransientUnit -> JobRemoved (systemd's share), and
# the GetUnit calls in between (a runtime that polls the unit's state instead of waiting for the signal).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)

if [ "$0" != /mnt/share/tests.sh ]; then
  repo=$(cd "$here/.." && pwd)
  tmp=$(mktemp -d /var/tmp/ocirun-vm-sdstart.XXXXXX)
  trap 'rm -rf "$tmp"' EXIT
  { cat "$0"; echo; echo 'exit $?'; echo "__BASELINE__"
    [ -n "${OCIRUN_BASELINE:-}" ] && base64 -w0 "$OCIRUN_BASELINE"; echo; } > "$tmp/guest.sh"
  "$repo/conformance/vm/run.sh" "$tmp/guest.sh"
  exit $?
fi

source "$here/lib/common.sh"
RUNC=$(command -v runc)
W=$(mktemp -d /var/tmp/sdstart.XXXXXX)
chmod 755 "$W"
declare -A BIN=([ocirun]=/usr/local/bin/ocirun [runc]=$RUNC)
sed '1,/^__BASELINE__$/d' "$0" | base64 -d > "$W/baseline" 2>/dev/null
if [ -s "$W/baseline" ]; then
  # On the guest's disk, as the others: a binary on the 9p share pages in far more slowly.
  install -m 0755 "$W/baseline" /usr/local/bin/ocirun-baseline
  BIN[baseline]=/usr/local/bin/ocirun-baseline
fi
conf_rootfs "$W/rootfs" >/dev/null
mkdir -p "$W/b" && (cd "$W/b" && $RUNC spec)
jq --arg rootfs "$W/rootfs" '.root.path = $rootfs | .root.readonly = true | .process.terminal = false
  | .linux.namespaces |= (map(select(.type != "network"))) | .process.args = ["sleep", "300"]
  | .linux.cgroupsPath = "system.slice:sdstart:c" | .linux.resources.pids = {limit: 40}' "$W/b/config.json" > "$W/b/c" \
  && mv "$W/b/c" "$W/b/config.json"
dbus-monitor --system "type='method_call',destination='org.freedesktop.systemd1'" \
  "type='signal',interface='org.freedesktop.systemd1.Manager',member='JobRemoved'" > "$W/monitor" 2>&1 &
mon=$!
sleep 2
for i in $(seq "${ROUNDS:-12}"); do
  for v in "${!BIN[@]}"; do
    # A marker on the bus: the calls that follow are runtime v's.
    busctl call org.freedesktop.systemd1 /org/freedesktop/systemd1 org.freedesktop.systemd1.Manager GetUnit s "mark-$v.scope" >/dev/null 2>&1
    (cd "$W/b" && "${BIN[$v]}" --systemd-cgroup run -d "c$v$i" </dev/null >/dev/null 2>&1) || echo "# $v: run failed"
    "${BIN[$v]}" --systemd-cgroup delete -f "c$v$i" >/dev/null 2>&1
  done
done
sleep 1
kill "$mon"
# One line per message: TIME SENDER MEMBER PATH ARGS... ("TIME SIGNAL MEMBER ARGS..." for signals).
awk '/^method call/ { split($3, a, "="); m = $0; sub(/.*member=/, "", m); p = $0; sub(/.*path=/, "", p); sub(/;.*/, "", p)
       printf "\n%s %s %s %s", a[2], $4, m, p; next }
     /^signal/ { split($2, a, "="); m = $0; sub(/.*member=/, "", m); printf "\n%s SIGNAL %s", a[2], m; next }
     /^   (string|object path|uint32)/ { x = $0; sub(/^ +/, "", x); printf " %s", x }
     END { print "" }' "$W/monitor" \
| awk '$3 == "GetUnit" && $6 ~ /mark-/ { v = $6; gsub(/"|mark-|\.scope/, "", v); next }
       $3 == "StartTransientUnit" { t0 = $1; jr = 0; polls = 0; next }
       $3 == "GetUnit" && t0 { polls++ }
       $2 == "SIGNAL" && $3 == "JobRemoved" && t0 && !jr { jr = $1; next }
       $3 == "SetUnitProperties" && t0 { a[v] += ($1 - t0) * 1000; b[v] += (jr - t0) * 1000; p[v] += polls; n[v]++; t0 = 0 }
       END { for (v in n) printf "# %s: StartTransientUnit -> SetUnitProperties %.0f ms, -> JobRemoved %.0f ms; GetUnit polls %.1f a start (n=%d)\n",
               v, a[v] / n[v], b[v] / n[v], p[v] / n[v], n[v] }'
rm -rf "$W" /usr/local/bin/ocirun-baseline
echo "1..0"
