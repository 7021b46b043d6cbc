#!/usr/bin/env bash
# Turns a Docker-format seccomp profile (default: containers-common's /usr/share/containers/seccomp.json, the
# Docker/Podman default profile) into the OCI linux.seccomp object a container engine would hand to the runtime
# for an x86-64 container with Docker's default capabilities:
#   fixtures/docker-default.json   the profile as engines send it (rules grouped by action, as in the source)
#   fixtures/docker-default-exploded.json   the same filter with one rule per syscall name (the "300-rule" form)
set -euo pipefail
cd "$(dirname "$0")"
src=${1:-/usr/share/containers/seccomp.json}
caps='["CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_FSETID","CAP_FOWNER","CAP_MKNOD","CAP_NET_RAW","CAP_SETGID","CAP_SETUID","CAP_SETFCAP","CAP_SETPCAP","CAP_NET_BIND_SERVICE","CAP_SYS_CHROOT","CAP_KILL","CAP_AUDIT_WRITE"]'
jq --argjson caps "$caps" '
  def wanted: ((.includes.arches // null) as $a | $a == null or ($a | index("amd64")) != null)
          and ((.excludes.arches // null) as $a | $a == null or ($a | index("amd64")) == null)
          and ((.includes.caps // []) | all(. as $c | $caps | index($c) != null))
          and ((.excludes.caps // []) | all(. as $c | $caps | index($c) == null));
  {
    defaultAction,
    defaultErrnoRet,
    architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
    syscalls: [ .syscalls[] | select(wanted) | {names, action} + (if (.args // []) | length > 0 then {args} else {} end)
                + (if .errnoRet then {errnoRet} else {} end) ]
  }' "$src" > fixtures/docker-default.json
jq '.syscalls = [ .syscalls[] | . as $r | .names[] | ($r + {names: [.]}) ]' fixtures/docker-default.json > fixtures/docker-default-exploded.json
for f in fixtures/docker-default.json fixtures/docker-default-exploded.json; do
  echo "$f: $(jq '.syscalls | length' "$f") rules, $(jq '[.syscalls[].names | length] | add' "$f") syscall names"
done
