#!/usr/bin/env bash
# Installs the Debian packages ocirun's demo or tests need, only those missing (run as root).
#   scripts/install-deps.sh demo|test
set -euo pipefail
want=(busybox-static jq libseccomp2 gcc)  # gcc: NativeAOT's linker, and the exec trampoline (src/Runtime/native)
case "${1:-demo}" in
  demo) ;;
  test) want+=(runc uidmap strace criu) ;;  # uidmap: newuidmap/newgidmap for the rootless tests; strace: fault injection (tests/fault); criu: the checkpoint RPC tests
  *) echo "usage: $0 demo|test" >&2; exit 2 ;;
esac
command -v dotnet >/dev/null || { echo "install-deps: the .NET SDK (dotnet) is required on PATH" >&2; exit 1; }
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi
