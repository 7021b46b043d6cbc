#!/usr/bin/env bash
# `make conformance`: the real clients (containerd, containerd's CRI plugin, podman, docker) and the runtime-spec
# suite against ./ocirun.
#   conformance/run.sh                 containerd + cri + podman + docker + spec (ocirun)
#   COMPARE=1 conformance/run.sh       ... then the spec suite against runc and crun too, and the side-by-side table
# Each suite prints TAP; this prints one line per suite and exits non-zero if any failed.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/common.sh"
[ "$(id -u)" = 0 ] || conf_die "run as root"
# Everything the suites use, installed at once (one apt-get update on a fresh machine; nothing when present).
pkgs=(containerd runc podman conmon docker.io tini debootstrap busybox-static jq python3 python3-grpcio bsdutils util-linux tar)
[ -n "${COMPARE:-}" ] && pkgs+=(crun)
conf_need "${pkgs[@]}" || conf_die "installing ${pkgs[*]} failed"
status=0 summary=()
suite() {
  local name=$1 t0=$SECONDS rc; shift
  echo "=== $name"
  "$@"; rc=$?
  summary+=("$name: $([ $rc -eq 0 ] && echo ok || echo FAILED) in $((SECONDS - t0)) s")
  [ $rc -eq 0 ] || status=1
}
suite containerd "$here/containerd/run.sh"
suite cri "$here/cri/run.sh"
suite podman "$here/podman/run.sh"
suite docker "$here/docker/run.sh"
if [ -n "${COMPARE:-}" ]; then
  suite "spec (ocirun, runc, crun)" "$here/spec/compare.sh"
  grep -q $'\tnot ok\t' "$here/spec/results/ocirun.tsv" && status=1
else
  suite "spec (ocirun)" env RUNTIME=ocirun "$here/spec/run.sh"
fi
echo "=== conformance"
printf '%s\n' "${summary[@]}"
exit $status
