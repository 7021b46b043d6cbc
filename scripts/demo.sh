#!/usr/bin/env bash
# `make demo`: builds a busybox bundle and runs it with `ocirun run`, printing the container's view.
set -euo pipefail
cd "$(dirname "$0")/.."
bundle=demo-bundle
scripts/make-bundle.sh "$bundle" ./ocirun
cat > "$bundle/rootfs/demo.sh" <<'S'
echo "hostname:   $(hostname)"
echo "id:         $(id)"
echo "PID 1:      $(cat /proc/1/cmdline | tr '\0' ' ')(my pid: $$)"
echo "processes:"; ps -o pid,user,args
echo "mounts:";    cat /proc/self/mounts
echo "hello from busybox $(busybox | head -1 | cut -d' ' -f2) inside ocirun"
S
tmp=$(mktemp)
jq '.process.terminal = false | .process.args = ["sh", "/demo.sh"] | .hostname = "ocirun-demo"' "$bundle/config.json" > "$tmp"
mv "$tmp" "$bundle/config.json"
echo "== ocirun run -b $bundle demo-$$"
./ocirun run -b "$bundle" "demo-$$"
echo "== exit status $?"
