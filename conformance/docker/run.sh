#!/usr/bin/env bash
# Docker drives the runtime: Debian's dockerd 20.10 (docker.io) with a private containerd (own config, root,
# state, gRPC/ttrpc sockets under a temp dir, passed with --containerd), its own --data-root, --exec-root,
# --pidfile, -H unix socket and --cgroup-parent, the runtime under test registered with --add-runtime and made
# the default runtime. Two images built here, no registry: busybox-static (`docker import`), and a glibc userland
# (debootstrap --variant=minbase bookworm, cached in /var/cache/ocirun-docker; when debootstrap cannot run, an
# image assembled from the host's bash, coreutils and their libraries, said so in the output). No bridge and no
# iptables (--bridge=none --iptables=false): containers use --network none, host or container:X.
#
#   conformance/docker/run.sh                 the runtime under test is ./ocirun (built with make when missing)
#   RUNTIME=runc conformance/docker/run.sh    the same scenarios with runc (the oracle); RUNTIME=crun or a path
#   OCIRUN=/path/to/ocirun                    another ocirun binary
#   ONLY=REGEX                                only the scenarios whose function name matches (grep -E)
#   DOCKER_NO_DEBOOTSTRAP=1                   the glibc image from the host's libraries, not debootstrap's
#
# Prints TAP and "N passed, N failed, N skipped"; exits non-zero on any failure. Each scenario has a hard time
# limit (TAP_TIMEOUT, 90 s), the whole suite DOCKER_SUITE_TIMEOUT (900 s): then it is killed and cleaned up.
# Artifacts (kept, gitignored): conformance/docker/artifacts/{runtime-invocations.log,dockerd.log,containerd.log}.
# Docker's own CLI is /usr/bin/docker (Debian's, 20.10) whatever else is on PATH.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/common.sh"

[ "$(id -u)" = 0 ] || conf_die "run as root"
# The whole suite under one time limit; the trap below still cleans up when it strikes (SIGTERM).
if [ -z "${_DOCKER_SUITE_TIMED:-}" ]; then
  _DOCKER_SUITE_TIMED=1 exec timeout -k 120 "${DOCKER_SUITE_TIMEOUT:-900}" "$0" "$@"
fi
conf_need docker.io containerd tini busybox-static jq debootstrap python3 bsdutils util-linux tar >&2 \
  || conf_die "installing docker.io and its companions failed"

case ${RUNTIME:-ocirun} in
  ocirun) RT_BIN=$(conf_ocirun) || exit 1; RT_NAME=ocirun ;;
  runc|crun) RT_BIN=$(command -v "$RUNTIME") || conf_die "$RUNTIME not found"; RT_NAME=$RUNTIME-oracle ;;
  *) RT_BIN=$(readlink -f "$RUNTIME"); [ -x "$RT_BIN" ] || conf_die "RUNTIME=$RUNTIME is not executable"
     RT_NAME=$(basename "$RT_BIN")-under-test ;;
esac
DOCKER_CLI=/usr/bin/docker
[ -x "$DOCKER_CLI" ] || conf_die "$DOCKER_CLI missing (Debian's docker.io)"
TAP_TIMEOUT=${TAP_TIMEOUT:-90}
ART=$here/artifacts
rm -rf "$ART"; mkdir -p "$ART/configs"
INVOCATIONS=$ART/runtime-invocations.log
: > "$INVOCATIONS"
TMP=$(mktemp -d /tmp/ocirun-docker.XXXXXX)
chmod 0755 "$TMP"
CTD_SOCK=$TMP/containerd.sock
DOCKER_SOCK=$TMP/docker.sock
EXEC_ROOT=$TMP/exec
DATA_ROOT=$TMP/data
CG_PARENT=$(basename "$TMP")          # /sys/fs/cgroup/<controller>/ocirun-docker.XXXXXX/<container id>
CACHE=/var/cache/ocirun-docker
BUSYBOX=localhost/conformance/busybox:latest
GLIBC=localhost/conformance/glibc:latest
HEALTHY=localhost/conformance/healthcheck:latest
CONTAINERD_PID= DOCKERD_PID=
# Directories dockerd and the shims make at fixed paths, removed at the end when the suite made them (and only if empty).
made_dirs=()
for dir in /etc/docker /run/docker /run/containerd; do [ -e "$dir" ] || made_dirs+=("$dir"); done
started=$SECONDS
export DOCKER_HOST=unix://$DOCKER_SOCK DOCKER_CONFIG=$TMP/cli-config DOCKER_BUILDKIT=0

d() { timeout 60 "$DOCKER_CLI" "$@"; }

# Every cgroup directory this suite's dockerd created, deepest first (the parent included).
our_cgroups() { find /sys/fs/cgroup/*/"$CG_PARENT" -depth -type d 2>/dev/null; }
our_shims() { pgrep -f "containerd-shim-runc-v2 .*-address $CTD_SOCK" 2>/dev/null; }

stop_daemons() {
  local pid
  if [ -n "$DOCKERD_PID" ] && kill -0 "$DOCKERD_PID" 2>/dev/null; then
    kill -TERM "$DOCKERD_PID"
    retry_until 20 sh -c "! kill -0 $DOCKERD_PID 2>/dev/null" || kill -KILL "$DOCKERD_PID" 2>/dev/null
    wait "$DOCKERD_PID" 2>/dev/null
  fi
  if [ -n "$CONTAINERD_PID" ] && kill -0 "$CONTAINERD_PID" 2>/dev/null; then
    kill -TERM "$CONTAINERD_PID"
    retry_until 10 sh -c "! kill -0 $CONTAINERD_PID 2>/dev/null" || kill -KILL "$CONTAINERD_PID" 2>/dev/null
    wait "$CONTAINERD_PID" 2>/dev/null
  fi
  # Shims of our containerd that outlived it, and their containers' processes (by cgroup), by pid. A killed shim
  # leaves its socket, /run/containerd/s/sha256(<containerd address>/<namespace>/<id>) (containerd 1.6): removed too.
  local id
  for pid in $(our_shims); do
    id=$(tr '\0' '\n' < "/proc/$pid/cmdline" 2>/dev/null | grep -A1 -x -- -id | tail -n 1)
    kill -KILL "$pid" 2>/dev/null
    [ -n "$id" ] && rm -f "/run/containerd/s/$(printf '%s' "$CTD_SOCK/moby/$id" | sha256sum | cut -d' ' -f1)"
  done
  for pid in $(cat /sys/fs/cgroup/pids/"$CG_PARENT"/*/cgroup.procs 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
}

cleanup() {
  local cg m
  # timeout(1) signals the whole process group: a second SIGTERM must not cut the cleanup short.
  trap '' INT TERM
  if [ -n "$DOCKERD_PID" ] && kill -0 "$DOCKERD_PID" 2>/dev/null; then
    timeout 10 "$DOCKER_CLI" ps -aq 2>/dev/null | xargs -r timeout 30 "$DOCKER_CLI" rm -f >/dev/null 2>&1
  fi
  stop_daemons
  grep -o " $TMP[^ ]*" /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
  for cg in $(our_cgroups); do
    [ -e "$cg/freezer.state" ] && echo THAWED > "$cg/freezer.state" 2>/dev/null
    rmdir "$cg" 2>/dev/null
  done
  rm -rf "$TMP"
  # dockerd 20.10 writes its trust key to /etc/docker/key.json and makes /run/docker/plugins whatever --data-root and
  # --exec-root say; containerd-shim-runc-v2 puts its sockets in /run/containerd/s.
  for dir in "${made_dirs[@]}"; do
    case $dir in
      /etc/docker) rm -f /etc/docker/key.json; rmdir /etc/docker ;;
      /run/docker) rmdir /run/docker/plugins /run/docker ;;
      /run/containerd) rmdir /run/containerd/s /run/containerd ;;
    esac 2>/dev/null
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- the wrapper that records what containerd-shim-runc-v2 asks of the runtime -----------------------------------
mkdir -p "$TMP/bin"
cat > "$TMP/bin/$RT_NAME" <<EOF
#!/bin/bash
# Records the argv of every call, runs the runtime, records its exit status.
start=\$(date +%H:%M:%S.%N)
# Keeps the config.json of every create (artifacts/configs/ID.json), to compare what Docker asked with what ran.
prev= log=
for arg in "\$@"; do
  [ "\$prev" = --bundle ] && cp "\$arg/config.json" "$ART/configs/\$(basename "\$arg").json" 2>/dev/null
  [ "\$prev" = --log ] && log=\$arg
  prev=\$arg
done
"$RT_BIN" "\$@"
rc=\$?
printf '%s rc=%s %s %s\n' "\${start:0:15}" "\$rc" "$RT_NAME" "\$(printf '%q ' "\$@")" >> "$INVOCATIONS"
# A failed call: the last line of its --log (the error the shim reads).
[ \$rc -ne 0 ] && [ -n "\$log" ] && printf '    log: %s\n' "\$(tail -n 1 "\$log" 2>/dev/null)" >> "$INVOCATIONS"
exit \$rc
EOF
chmod +x "$TMP/bin/$RT_NAME"
WRAP=$TMP/bin/$RT_NAME
RT_ROOT=$EXEC_ROOT/runtime-runc/moby   # the runtime's --root for Docker's containers (dockerd 20.10: whatever the runtime's name)
rt() { "$RT_BIN" --root "$RT_ROOT" "$@"; }

# ---- private containerd, then dockerd ------------------------------------------------------------------------
conf_containerd_config "$TMP/containerd" "$CTD_SOCK" > "$TMP/containerd.toml"
containerd --config "$TMP/containerd.toml" > "$ART/containerd.log" 2>&1 &
CONTAINERD_PID=$!
retry_until 20 ctr -a "$CTD_SOCK" version || { tail -20 "$ART/containerd.log"; conf_die "containerd did not start"; }

echo '{}' > "$TMP/daemon.json"   # not /etc/docker/daemon.json
dockerd --config-file "$TMP/daemon.json" --containerd "$CTD_SOCK" --data-root "$DATA_ROOT" --exec-root "$EXEC_ROOT" \
  --pidfile "$TMP/dockerd.pid" -H "unix://$DOCKER_SOCK" --bridge=none --iptables=false --ip-masq=false \
  --userland-proxy=false --exec-opt native.cgroupdriver=cgroupfs --cgroup-parent "/$CG_PARENT" \
  --storage-driver overlay2 --add-runtime "$RT_NAME=$WRAP" --default-runtime "$RT_NAME" \
  > "$ART/dockerd.log" 2>&1 &
DOCKERD_PID=$!
retry_until 30 "$DOCKER_CLI" version || { tail -20 "$ART/dockerd.log"; conf_die "dockerd did not start"; }

# ---- images ---------------------------------------------------------------------------------------------------
conf_rootfs "$TMP/rootfs"
mkdir -p "$TMP/rootfs/etc/skel" "$TMP/rootfs/srv"
echo "app:x:1000:1000:app:/home/app:/bin/sh" >> "$TMP/rootfs/etc/passwd"
printf 'app:x:1000:\nstaff:x:50:app\n' >> "$TMP/rootfs/etc/group"
mkdir -p "$TMP/rootfs/home/app" && chown 1000:1000 "$TMP/rootfs/home/app"
echo image-content > "$TMP/rootfs/srv/seed"
tar --sort=name --numeric-owner -C "$TMP/rootfs" -cf "$TMP/busybox.tar" . || conf_die "tar of the busybox rootfs failed"
d import -c 'CMD ["sh"]' -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  "$TMP/busybox.tar" "$BUSYBOX" > "$TMP/import.log" 2>&1 || { cat "$TMP/import.log"; conf_die "docker import (busybox) failed"; }

# The glibc userland: debootstrap minbase once (cached as a tar), else the host's bash/coreutils and their libraries.
glibc_rootfs_tar() {
  local tar=$CACHE/bookworm-minbase.tar
  if [ ! -s "$tar" ] && [ -z "${DOCKER_NO_DEBOOTSTRAP:-}" ]; then
    mkdir -p "$CACHE"; rm -rf "$CACHE/bookworm.tmp"
    conf_log "debootstrap --variant=minbase bookworm into $CACHE (once; at most 600 s)"
    if timeout 600 debootstrap --variant=minbase bookworm "$CACHE/bookworm.tmp" http://deb.debian.org/debian \
         > "$CACHE/debootstrap.log" 2>&1; then
      rm -rf "$CACHE"/bookworm.tmp/{var/cache/apt,var/lib/apt/lists,usr/share/doc,usr/share/man,usr/share/locale}/*
      tar --sort=name --numeric-owner -C "$CACHE/bookworm.tmp" -cf "$tar.part" . && mv "$tar.part" "$tar"
    fi
    rm -rf "$CACHE/bookworm.tmp"
  fi
  if [ -s "$tar" ] && [ -z "${DOCKER_NO_DEBOOTSTRAP:-}" ]; then echo "$tar debootstrap"; return; fi
  local root=$TMP/glibc-rootfs f lib
  mkdir -p "$root"/{bin,lib,lib64,etc,tmp,proc,sys,dev,root,usr}
  for f in bash sh ls cat id getent stat env sleep mkdir touch cut; do
    f=$(type -P "$f") || continue
    cp -L "$f" "$root/bin/"
    for lib in $(ldd "$f" | grep -o '/[^ ]*'); do mkdir -p "$root$(dirname "$lib")"; cp -L "$lib" "$root$lib"; done
  done
  for lib in /lib/x86_64-linux-gnu/libnss_files.so.2; do [ -e "$lib" ] && cp -L "$lib" "$root$lib"; done
  printf 'root:x:0:0:root:/root:/bin/bash\napp:x:1000:1000:app:/home/app:/bin/bash\n' > "$root/etc/passwd"
  printf 'root:x:0:\napp:x:1000:\n' > "$root/etc/group"
  echo 'passwd: files' > "$root/etc/nsswitch.conf"; echo 'group: files' >> "$root/etc/nsswitch.conf"
  chmod 1777 "$root/tmp"
  tar --sort=name --numeric-owner -C "$root" -cf "$TMP/glibc.tar" . && echo "$TMP/glibc.tar host-libraries"
}
read -r glibc_tar GLIBC_KIND < <(glibc_rootfs_tar)
[ -n "${glibc_tar:-}" ] || conf_die "no glibc rootfs"
d import -c 'CMD ["bash"]' -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  "$glibc_tar" "$GLIBC" > "$TMP/import.log" 2>&1 || { cat "$TMP/import.log"; conf_die "docker import (glibc) failed"; }

echo "# $("$DOCKER_CLI" version -f 'dockerd {{.Server.Version}}, client {{.Client.Version}}') with containerd $(containerd --version | awk '{print $3}') drives $RT_BIN (runtime $RT_NAME)"
echo "# images: $BUSYBOX (busybox-static), $GLIBC ($GLIBC_KIND); network: --bridge=none --iptables=false"

# ---- helpers --------------------------------------------------------------------------------------------------
# Options every container gets: no network (there is no bridge), modest rlimits (Docker's defaults are those of
# dockerd; this VM's bounding set lacks CAP_SYS_RESOURCE, so nothing may raise one).
RUN=(--network none)
cstate() { d inspect -f '{{.State.Status}}' "$1" 2>/dev/null; }
wait_state() { retry_until "${3:-20}" _state_is "$1" "$2"; }
_state_is() { [ "$(cstate "$1")" = "$2" ]; }
cid() { d inspect -f '{{.Id}}' "$1"; }
cpid() { d inspect -f '{{.State.Pid}}' "$1"; }
# cg_file NAME CONTROLLER FILE: a cgroup file of the container, read on the host.
cg_file() { cat "/sys/fs/cgroup/$2/$CG_PARENT/$(cid "$1")/$3"; }
rm_f() { d rm -f "$@" >/dev/null 2>&1; true; }
# expect_eq ACTUAL EXPECTED WHAT: the scenario fails unless ACTUAL is EXPECTED (the same for every runtime).
expect_eq() { [ "$1" = "$2" ] || fail "$3: expected '$2', got '$1'"; }
# daemon NAME [OPTIONS...]: a detached busybox container that waits for SIGTERM (exits 0 on it).
daemon() {
  local name=$1; shift
  d run -d --name "$name" "${RUN[@]}" "$@" "$BUSYBOX" sh -c 'trap "exit 0" TERM; while :; do sleep 1; done' >/dev/null \
    || fail "docker run -d --name $name failed"
  wait_state "$name" running || fail "$name: state $(cstate "$name")"
}

# ---- scenarios ------------------------------------------------------------------------------------------------
s_info() {
  local out; out=$(d info -f '{{.DefaultRuntime}} {{json .Runtimes}}') || fail "docker info failed"
  assert_contains "$out" "$RT_NAME {" "default runtime"
  assert_contains "$out" "$WRAP" "the runtime's path"
}

s_run() {
  local out err rc
  out=$(d run --rm "${RUN[@]}" "$BUSYBOX" sh -c 'echo to-stdout; echo to-stderr >&2; exit 3' 2>"$TMP/err"); rc=$?
  err=$(cat "$TMP/err")
  assert_eq "$rc" 3 "exit status of docker run"
  assert_eq "$out" to-stdout "stdout"
  assert_eq "$err" to-stderr "stderr"
  grep -q " create .*--bundle" "$INVOCATIONS" || fail "the shim did not call $RT_NAME create (see $INVOCATIONS)"
}

s_run_options() {
  local out
  out=$(d run --rm "${RUN[@]}" -u 1000:1000 -w /home/app -e CONF_VAR=set --hostname conf-host "$BUSYBOX" \
    sh -c 'id -u; id -g; pwd; echo $CONF_VAR; hostname; echo "HOME=$HOME"' 2>&1) || fail "docker run failed: $out"
  assert_eq "$(head -5 <<<"$out" | tr '\n' ' ')" "1000 1000 /home/app set conf-host " "-u -w -e --hostname"
  expect_eq "$(sed -n 6p <<<"$out")" HOME=/home/app "HOME (Docker sets none: the runtime takes it from the image's /etc/passwd)"
  out=$(d run --rm "${RUN[@]}" -w /new/dir "$BUSYBOX" pwd 2>&1) || fail "docker run -w /new/dir failed: $out"
  assert_eq "$out" /new/dir "a -w directory that the image lacks is created"
}

s_run_tty() {
  local out rc
  out=$("$PTY_RUN" 60 "$DOCKER_CLI" run --rm -t "${RUN[@]}" "$BUSYBOX" sh -c 'tty; echo tty-ok; exit 2' </dev/null); rc=$?
  out=$(tr -d '\r' <<<"$out")
  assert_contains "$out" /dev/pts/0 "tty of docker run -t"
  assert_contains "$out" tty-ok "output through the pty"
  assert_eq "$rc" 2 "exit status through the pty"
}

s_exec() {
  daemon main
  local out rc
  out=$(d exec main sh -c 'echo in-exec; cat /proc/1/cmdline | tr "\0" " "; exit 7' 2>&1); rc=$?
  assert_eq "$rc" 7 "exit status of docker exec"
  assert_contains "$out" in-exec "exec stdout"
  assert_contains "$out" "while :; do sleep 1; done" "PID 1 seen by the exec"
  out=$(d exec -u 65534:65534 -w /tmp -e CONF_VAR=set main sh -c 'id -u; id -g; pwd; echo $CONF_VAR; echo "HOME=$HOME"' 2>&1)
  assert_eq "$(head -4 <<<"$out" | tr '\n' ' ')" "65534 65534 /tmp set " "exec -u -w -e"
  expect_eq "$(sed -n 5p <<<"$out")" HOME=/nonexistent "HOME of nobody in docker exec -u 65534"
  out=$(d exec -u app main id 2>&1)
  assert_eq "$out" "uid=1000(app) gid=1000(app) groups=50(staff),1000(app)" "exec -u app (name and groups from the image)"
  d exec -d main sh -c 'sleep 1; echo detached > /tmp/exec-d' || fail "docker exec -d failed"
  retry_until 10 d exec main test -s /tmp/exec-d || fail "docker exec -d did not run"
  assert_eq "$(d exec main cat /tmp/exec-d)" detached "file written by exec -d"
  out=$(d exec main /no/such/binary 2>&1); rc=$?
  assert_eq "$rc" 126 "exit status of docker exec of a missing binary"
  assert_contains "$out" "no such file or directory" "error of the exec"
  assert_eq "$(cstate main)" running "container after the failed exec"
  assert_eq "$(rt state "$(cid main)" | jq -r .status)" running "$RT_NAME state of the container"
}

s_exec_tty() {
  [ "$(cstate main)" = running ] || skip "needs the running container"
  local out; out=$("$PTY_RUN" 60 "$DOCKER_CLI" exec -t main sh -c 'tty; echo tty-exec-ok; exit 4' </dev/null); local rc=$?
  out=$(tr -d '\r' <<<"$out")
  assert_contains "$out" /dev/pts/ "tty of docker exec -t"
  assert_contains "$out" tty-exec-ok "output of docker exec -t"
  assert_eq "$rc" 4 "exit status of docker exec -t"
  grep -q " exec .*--console-socket" "$INVOCATIONS" || fail "no exec --console-socket in the log"
}

s_run_missing() {
  local out rc; out=$(d run --rm --name bad-create "${RUN[@]}" "$BUSYBOX" /no/such/binary 2>&1); rc=$?
  assert_eq "$rc" 127 "exit status of docker run of a missing binary"
  assert_contains "$out" "no such file or directory" "docker's error (the runtime's message)"
  rm_f bad-create
}

s_attach() {
  d run -d --name att "${RUN[@]}" "$BUSYBOX" sh -c 'sleep 2; echo got:attached; exit 5' >/dev/null || fail "docker run -d failed"
  local out rc; out=$(timeout 30 "$DOCKER_CLI" attach --no-stdin att 2>&1); rc=$?
  assert_eq "$out" got:attached "output of docker attach"
  assert_eq "$rc" 5 "exit status of docker attach"
  d create -i --name att-in "${RUN[@]}" "$BUSYBOX" sh -c 'read l; echo got:$l; exit 6' >/dev/null || fail "docker create -i failed"
  out=$(echo hello | timeout 30 "$DOCKER_CLI" start -ai att-in 2>&1); rc=$?
  assert_eq "$out" got:hello "output of docker start -ai (stdin piped in)"
  assert_eq "$rc" 6 "exit status of docker start -ai"
  rm_f att att-in
}

s_logs() {
  d run -d --name logger "${RUN[@]}" "$BUSYBOX" sh -c 'echo line1; echo line2 >&2; sleep 0.2; echo line3' >/dev/null || fail "docker run -d failed"
  assert_eq "$(d wait logger)" 0 "docker wait"
  assert_eq "$(d logs logger 2>/dev/null | tr '\n' ' ')" "line1 line3 " "docker logs (stdout)"
  assert_eq "$(d logs logger 2>&1 >/dev/null)" "line2" "docker logs (stderr)"
  assert_eq "$(d logs --tail 1 logger 2>&1)" "line3" "docker logs --tail 1"
  rm_f logger
}

s_stop_term() {
  daemon stopper
  local t0=$SECONDS
  d stop -t 20 stopper >/dev/null || fail "docker stop failed"
  [ $((SECONDS - t0)) -lt 15 ] || fail "stop took $((SECONDS - t0)) s: SIGTERM was not delivered"
  assert_eq "$(d inspect -f '{{.State.Status}} {{.State.ExitCode}}' stopper)" "exited 0" "state and exit code after SIGTERM"
  rm_f stopper
}

s_stop_kill() {
  d run -d --name stubborn "${RUN[@]}" "$BUSYBOX" sh -c 'trap "" TERM; while :; do sleep 1; done' >/dev/null || fail "docker run -d failed"
  wait_state stubborn running || fail "state $(cstate stubborn)"
  local t0; t0=$(date +%s%N)
  d stop -t 2 stubborn >/dev/null || fail "docker stop failed"
  local ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  [ "$ms" -ge 1900 ] || fail "stop returned after $ms ms: the container did not ignore SIGTERM for 2 s"
  assert_eq "$(d inspect -f '{{.State.ExitCode}}' stubborn)" 137 "exit code after stop of a container ignoring SIGTERM"
  rm_f stubborn
}

s_kill() {
  d run -d --name signalled "${RUN[@]}" "$BUSYBOX" sh -c 'trap "echo got-usr1; exit 3" USR1; while :; do sleep 1; done' >/dev/null || fail "docker run -d failed"
  wait_state signalled running || fail "state $(cstate signalled)"
  d kill -s USR1 signalled >/dev/null || fail "docker kill -s USR1 failed"
  wait_state signalled exited || fail "state $(cstate signalled) after USR1"
  assert_contains "$(d logs signalled 2>&1)" got-usr1 "logs after SIGUSR1"
  assert_eq "$(d inspect -f '{{.State.ExitCode}}' signalled)" 3 "exit code after SIGUSR1"
  daemon killed
  d kill killed >/dev/null || fail "docker kill failed"
  wait_state killed exited || fail "state $(cstate killed) after kill"
  assert_eq "$(d inspect -f '{{.State.ExitCode}}' killed)" 137 "exit code after docker kill"
  rm_f signalled killed
}

s_pause() {
  d run -d --name pausing "${RUN[@]}" "$BUSYBOX" sh -c 'i=0; while :; do i=$((i+1)); echo $i > /tmp/count; sleep 0.1; done' >/dev/null || fail "docker run -d failed"
  wait_state pausing running || fail "state $(cstate pausing)"
  d pause pausing >/dev/null || fail "docker pause failed"
  assert_eq "$(cstate pausing)" paused "state after pause"
  assert_eq "$(cg_file pausing freezer freezer.state)" FROZEN "freezer.state"
  local pid c1 c2; pid=$(cpid pausing)
  c1=$(cat "/proc/$pid/root/tmp/count"); sleep 0.5; c2=$(cat "/proc/$pid/root/tmp/count")
  assert_eq "$c2" "$c1" "counter while paused"
  local out; out=$(d exec pausing true 2>&1) && fail "docker exec into a paused container succeeded"
  assert_contains "$out" "paused" "error of docker exec into a paused container"
  d unpause pausing >/dev/null || fail "docker unpause failed"
  assert_eq "$(cstate pausing)" running "state after unpause"
  assert_eq "$(cg_file pausing freezer freezer.state)" THAWED "freezer.state after unpause"
  sleep 0.5; c2=$(cat "/proc/$pid/root/tmp/count")
  assert_ne "$c2" "$c1" "counter after unpause"
  rm_f pausing
}

s_restart() {
  daemon restarted
  local pid1 pid2 started1 started2
  pid1=$(cpid restarted); started1=$(d inspect -f '{{.State.StartedAt}}' restarted)
  d exec restarted sh -c 'echo kept > /srv/state' || fail "exec failed"
  d restart -t 5 restarted >/dev/null || fail "docker restart failed"
  wait_state restarted running || fail "state $(cstate restarted) after restart"
  pid2=$(cpid restarted); started2=$(d inspect -f '{{.State.StartedAt}}' restarted)
  assert_ne "$pid2" "$pid1" "pid after restart"
  assert_ne "$started2" "$started1" "StartedAt after restart"
  assert_eq "$(d exec restarted cat /srv/state)" kept "the container's writable layer after restart"
  rm_f restarted
}

s_wait() {
  d run -d --name waited "${RUN[@]}" "$BUSYBOX" sh -c 'sleep 1; exit 7' >/dev/null || fail "docker run -d failed"
  assert_eq "$(d wait waited)" 7 "docker wait"
  rm_f waited
}

s_restart_on_failure() {
  d run -d --name flaky --restart on-failure:2 "${RUN[@]}" "$BUSYBOX" sh -c 'date +%s%N >> /srv/runs; exit 1' >/dev/null || fail "docker run failed"
  retry_until 30 _restarts_done flaky 2 || fail "RestartCount $(d inspect -f '{{.RestartCount}} {{.State.Status}}' flaky)"
  assert_eq "$(d inspect -f '{{.RestartCount}} {{.State.ExitCode}}' flaky)" "2 1" "RestartCount and exit code"
  assert_eq "$(d cp flaky:/srv/runs - | tar -xO | wc -l)" 3 "runs recorded in the container's layer (1 + 2 restarts)"
  rm_f flaky
}
_restarts_done() { [ "$(d inspect -f '{{.RestartCount}} {{.State.Status}}' "$1")" = "$2 exited" ]; }

s_init() {
  local out
  out=$(d run --rm --init "${RUN[@]}" "$BUSYBOX" sh -c 'cat /proc/1/comm; echo $$; sh -c "sleep 0.2 &"; sleep 1; cat /proc/[0-9]*/stat | awk "\$3 == \"Z\"" | wc -l' 2>&1) \
    || fail "docker run --init failed: $out"
  assert_eq "$(sed -n 1p <<<"$out")" docker-init "PID 1 with --init"
  assert_ne "$(sed -n 2p <<<"$out")" 1 "the command's pid with --init"
  assert_eq "$(sed -n 3p <<<"$out")" 0 "zombies (reaped by docker-init)"
  d run -d --init --name inited "${RUN[@]}" "$BUSYBOX" sleep 300 >/dev/null || fail "docker run -d --init failed"
  wait_state inited running || fail "state $(cstate inited)"
  local t0=$SECONDS
  d stop -t 20 inited >/dev/null
  [ $((SECONDS - t0)) -lt 15 ] || fail "stop of --init sleep took $((SECONDS - t0)) s (docker-init forwards SIGTERM)"
  assert_eq "$(d inspect -f '{{.State.ExitCode}}' inited)" 143 "exit code (sleep killed by SIGTERM)"
  rm_f inited
}

s_users() {
  local out
  out=$(d run --rm "${RUN[@]}" -u 1000 --group-add 50 --group-add 4242 "$BUSYBOX" sh -c 'id -u; id -g; id -G' 2>&1) || fail "$out"
  # Docker sends additionalGids [1000, 50, 4242, 50] (the image's /etc/group, then --group-add); runc sets each once.
  expect_eq "$(tr '\n' ' ' <<<"$out")" "1000 1000 1000 50 4242 " "-u 1000 --group-add 50 --group-add 4242 (id -u, id -g, id -G)"
  out=$(d run --rm "${RUN[@]}" -u nobody "$BUSYBOX" sh -c 'id; echo "HOME=$HOME"' 2>&1) || fail "$out"
  assert_eq "$(sed -n 1p <<<"$out")" "uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)" "-u nobody"
  expect_eq "$(sed -n 2p <<<"$out")" HOME=/nonexistent "HOME of -u nobody"
  out=$(d run --rm "${RUN[@]}" -u 0:0 "$GLIBC" bash -c 'id -un; IFS=: read -r _ _ _ _ _ home _ < <(getent passwd root); echo $home; echo $BASH_VERSION' 2>&1) || fail "glibc image: $out"
  assert_eq "$(sed -n 1,2p <<<"$out" | tr '\n' ' ')" "root /root " "glibc image: id -un, getent passwd"
  [ -n "$(sed -n 3p <<<"$out")" ] || fail "glibc image: bash did not run: $out"
  # The debootstrap image has no user app: Docker refuses the container; the host-libraries image has one.
  out=$(d run --rm "${RUN[@]}" -u app "$GLIBC" id -u 2>&1)
  if [ "$GLIBC_KIND" = debootstrap ]; then assert_contains "$out" "unable to find user app" "glibc image: -u of an unknown user"
  else assert_eq "$out" 1000 "glibc image: -u app"; fi
}

s_read_only_tmpfs() {
  local out
  out=$(d run --rm "${RUN[@]}" --read-only --tmpfs /run:size=1m,mode=1770 --tmpfs /scratch "$BUSYBOX" sh -c '
    touch /x 2>&1; touch /run/w /scratch/w /dev/shm/w && echo writable
    stat -c %a /run; df -k /run | awk "NR == 2 { print \$2 }"; grep " /scratch " /proc/mounts | cut -d" " -f3,4' 2>&1)
  assert_contains "$(sed -n 1p <<<"$out")" "Read-only file system" "write to the read-only root"
  assert_eq "$(sed -n 2,4p <<<"$out" | tr '\n' ' ')" "writable 1770 1024 " "--tmpfs /run:size=1m,mode=1770"
  assert_contains "$(sed -n 5p <<<"$out")" "tmpfs rw,nosuid,nodev,noexec" "--tmpfs /scratch (Docker's default options)"
}

s_mounts() {
  mkdir -p "$TMP/host-dir" && echo from-host > "$TMP/host-dir/in"
  local out
  out=$(d run --rm "${RUN[@]}" -v "$TMP/host-dir:/data" -v "$TMP/host-dir:/ro:ro" "$BUSYBOX" sh -c '
    cat /data/in; echo from-container > /data/out; touch /ro/x 2>&1' 2>&1)
  assert_eq "$(sed -n 1p <<<"$out")" from-host "bind mount read"
  assert_contains "$(sed -n 2p <<<"$out")" "Read-only file system" "write to a :ro bind mount"
  assert_eq "$(cat "$TMP/host-dir/out" 2>&1)" from-container "the container's write seen on the host"
  d volume create vol1 >/dev/null || fail "docker volume create failed"
  d run --rm "${RUN[@]}" -v vol1:/v "$BUSYBOX" sh -c 'echo persisted > /v/f' || fail "write to the volume failed"
  assert_eq "$(d run --rm "${RUN[@]}" --mount type=volume,src=vol1,dst=/w,readonly "$BUSYBOX" cat /w/f 2>&1)" persisted "volume content in a second container"
  assert_eq "$(d run --rm "${RUN[@]}" -v vol2:/srv "$BUSYBOX" cat /srv/seed 2>&1)" image-content "a new volume is filled from the image"
  d volume rm vol1 vol2 >/dev/null || fail "docker volume rm failed"
}

s_memory_oom() {
  d run --name oom "${RUN[@]}" --memory 32m --memory-swap 32m "$BUSYBOX" sh -c \
    'cat /sys/fs/cgroup/memory/memory.limit_in_bytes; x=$(head -c 200m /dev/zero | tr "\0" a); echo survived' > "$TMP/oom.out" 2>&1
  local rc=$?
  assert_eq "$(head -1 "$TMP/oom.out")" 33554432 "memory.limit_in_bytes seen in the container"
  assert_eq "$rc" 137 "exit status of the OOM-killed container"
  assert_eq "$(d inspect -f '{{.State.OOMKilled}}' oom)" true "State.OOMKilled"
  rm_f oom
}

s_pids_limit() {
  local out
  out=$(d run --rm "${RUN[@]}" --pids-limit 10 "$BUSYBOX" sh -c '
    cat /sys/fs/cgroup/pids/pids.max; for i in $(seq 20); do sleep 5 & done 2>/dev/null; sleep 0.2; ls /proc | grep -c "^[0-9]"' 2>&1)
  assert_eq "$(sed -n 1p <<<"$out")" 10 "pids.max seen in the container"
  local n; n=$(tail -1 <<<"$out")
  [ "$n" -le 10 ] 2>/dev/null || fail "processes in the container: $n (limit 10): $out"
}

s_cpu() {
  d run -d --name cpus "${RUN[@]}" --cpus 0.5 --cpu-shares 512 --cpuset-cpus 1 "$BUSYBOX" sleep 300 >/dev/null || fail "docker run failed"
  wait_state cpus running || fail "state $(cstate cpus)"
  assert_eq "$(cg_file cpus cpu cpu.cfs_quota_us) $(cg_file cpus cpu cpu.cfs_period_us)" "50000 100000" "--cpus 0.5: cfs quota and period"
  assert_eq "$(cg_file cpus cpu cpu.shares)" 512 "--cpu-shares"
  assert_eq "$(cg_file cpus cpuset cpuset.cpus)" 1 "--cpuset-cpus: cpuset.cpus"
  assert_eq "$(d exec cpus sh -c 'grep Cpus_allowed_list /proc/self/status | cut -f2')" 1 "CPUs allowed in the container"
  rm_f cpus
}

s_blkio() {
  local dev; dev=$(findmnt -no SOURCE / | sed 's/[0-9]*$//' | grep '^/dev/') ; [ -b "$dev" ] || dev=$(lsblk -dnpo NAME | head -1)
  [ -b "$dev" ] || skip "no block device"
  local mm; mm=$(printf '%d:%d' "0x$(stat -c %t "$dev")" "0x$(stat -c %T "$dev")")
  d run -d --name blk "${RUN[@]}" --device-read-bps "$dev:1mb" --device-write-iops "$dev:100" "$BUSYBOX" sleep 300 >/dev/null || fail "docker run failed"
  wait_state blk running || fail "state $(cstate blk)"
  assert_eq "$(cg_file blk blkio blkio.throttle.read_bps_device)" "$mm 1048576" "--device-read-bps"
  assert_eq "$(cg_file blk blkio blkio.throttle.write_iops_device)" "$mm 100" "--device-write-iops"
  rm_f blk
}

s_device() {
  # A character device outside Docker's default allow list (/dev/null, zero, full, random, urandom, tty, ptmx, tun
  # are in it), harmless to open: /dev/fuse, else /dev/kmsg.
  local dev mm out
  for dev in /dev/fuse /dev/kmsg; do [ -c "$dev" ] && break; done
  [ -c "$dev" ] || skip "neither /dev/fuse nor /dev/kmsg on the host"
  mm=$(printf '%d:%d' "0x$(stat -c %t "$dev")" "0x$(stat -c %T "$dev")")
  out=$(d run --rm "${RUN[@]}" --device "$dev:/dev/mydev:r" "$BUSYBOX" sh -c '
    stat -c "%F" /dev/mydev; exec 3</dev/mydev && echo open-r-ok; (exec 4>/dev/mydev) 2>&1' 2>&1)
  assert_eq "$(sed -n 1p <<<"$out")" "character special file" "--device node"
  assert_eq "$(sed -n 2p <<<"$out")" open-r-ok "open of the device for reading"
  assert_contains "$(sed -n 3p <<<"$out")" "Operation not permitted" "open for writing of a device allowed r only"
  out=$(d run -d --name devd "${RUN[@]}" --device "$dev:/dev/mydev:r" "$BUSYBOX" sleep 300) || fail "docker run -d --device failed: $out"
  assert_contains "$(cg_file devd devices devices.list)" "c $mm r" "devices.list of the container"
  rm_f devd
}

s_caps() {
  local out
  out=$(d run --rm "${RUN[@]}" "$BUSYBOX" grep -E '^Cap(Eff|Bnd)' /proc/self/status 2>&1)
  assert_eq "$(awk '{print $2}' <<<"$out" | tr '\n' ' ')" "00000000a80425fb 00000000a80425fb " "Docker's default capabilities"
  out=$(d run --rm "${RUN[@]}" --cap-drop ALL --cap-add NET_ADMIN --cap-add SYS_TIME "$BUSYBOX" grep CapEff /proc/self/status 2>&1)
  assert_eq "$(awk '{print $2}' <<<"$out")" 0000000002001000 "--cap-drop ALL --cap-add NET_ADMIN --cap-add SYS_TIME"
  out=$(d run --rm "${RUN[@]}" --cap-drop CHOWN "$BUSYBOX" sh -c 'touch /f; chown 1 /f 2>&1; echo rc=$?')
  assert_contains "$out" "Operation not permitted" "chown without CAP_CHOWN"
  out=$(d run --rm "${RUN[@]}" --cap-add NET_ADMIN "$BUSYBOX" sh -c 'ip link set lo up && ip link show lo | grep -c UP')
  assert_eq "$out" 1 "ip link set lo up with NET_ADMIN"
}

s_no_new_privs() {
  assert_eq "$(d run --rm "${RUN[@]}" --security-opt no-new-privileges "$BUSYBOX" grep NoNewPrivs /proc/self/status | awk '{print $2}')" 1 "NoNewPrivs with the option"
  assert_eq "$(d run --rm "${RUN[@]}" "$BUSYBOX" grep NoNewPrivs /proc/self/status | awk '{print $2}')" 0 "NoNewPrivs without"
}

s_seccomp() {
  local out
  out=$(d run --rm "${RUN[@]}" "$BUSYBOX" sh -c 'grep ^Seccomp: /proc/self/status | cut -f2; unshare -U true 2>&1; echo rc=$?' 2>&1)
  assert_eq "$(sed -n 1p <<<"$out")" 2 "Seccomp mode with Docker's default profile"
  assert_contains "$out" "Operation not permitted" "unshare(CLONE_NEWUSER) under the default profile"
  out=$(d run --rm "${RUN[@]}" --security-opt seccomp=unconfined "$BUSYBOX" sh -c 'grep ^Seccomp: /proc/self/status | cut -f2; unshare -U true 2>&1; echo rc=$?' 2>&1)
  assert_eq "$(tr '\n' ' ' <<<"$out")" "0 rc=0 " "seccomp=unconfined: no filter, unshare works"
  cat > "$TMP/seccomp.json" <<'J'
{"defaultAction": "SCMP_ACT_ALLOW",
 "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
              {"names": ["chmod", "fchmod", "fchmodat"], "action": "SCMP_ACT_ERRNO"}]}
J
  out=$(d run --rm "${RUN[@]}" --security-opt "seccomp=$TMP/seccomp.json" "$BUSYBOX" sh -c 'mkdir /tmp/d 2>&1; chmod 600 /tmp 2>&1; touch /tmp/f && echo touch-ok' 2>&1)
  assert_contains "$(sed -n 1p <<<"$out")" "Permission denied" "mkdir with errnoRet 13 (EACCES)"
  assert_contains "$(sed -n 2p <<<"$out")" "Operation not permitted" "chmod with the default errno (EPERM)"
  assert_eq "$(sed -n 3p <<<"$out")" touch-ok "syscalls the profile allows"
}

s_ulimit() {
  local out
  out=$(d run --rm "${RUN[@]}" --ulimit nofile=512:1024 --ulimit nproc=100:200 "$BUSYBOX" sh -c 'ulimit -n; ulimit -Hn; ulimit -u; ulimit -Hu' 2>&1)
  assert_eq "$(tr '\n' ' ' <<<"$out")" "512 1024 100 200 " "--ulimit nofile=512:1024 nproc=100:200"
}

s_ulimit_raise() {
  # Raising a hard limit needs CAP_SYS_RESOURCE, which this VM's bounding set (hence dockerd's) lacks: then every
  # runtime refuses the container, and Docker shows the runtime's error.
  [ $(( 0x$(awk '/^CapBnd/ { print $2 }' /proc/self/status) >> 24 & 1 )) -eq 0 ] || skip "the host has CAP_SYS_RESOURCE: raising a limit is allowed"
  local hard out rc
  hard=$(awk '/^Max open files/ { print $5 }' "/proc/$CONTAINERD_PID/limits")
  out=$(d run --name rlimit-raise "${RUN[@]}" --ulimit "nofile=$((hard * 2)):$((hard * 2))" "$BUSYBOX" true 2>&1); rc=$?
  assert_eq "$rc" 125 "exit status of docker run"
  assert_contains "$out" "operation not permitted" "docker's error (the runtime's)"
  assert_contains "$(tr A-Z a-z <<<"$out")" "rlimit" "docker's error names the rlimit"
  assert_eq "$(cstate rlimit-raise)" created "state of the refused container"
  rm_f rlimit-raise
}

s_sysctl() {
  local out
  out=$(d run --rm "${RUN[@]}" --sysctl net.ipv4.ip_forward=1 --sysctl kernel.shm_rmid_forced=1 --sysctl net.core.somaxconn=333 "$BUSYBOX" \
    sh -c 'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shm_rmid_forced /proc/sys/net/core/somaxconn' 2>&1)
  assert_eq "$(tr '\n' ' ' <<<"$out")" "1 1 333 " "sysctls in the container's namespaces"
  assert_ne "$(cat /proc/sys/net/core/somaxconn)" 333 "the host's net.core.somaxconn"
  out=$(d run --rm "${RUN[@]}" --sysctl kernel.domainname=x --uts host "$BUSYBOX" true 2>&1) && fail "a uts sysctl with --uts host was accepted"
  return 0
}

s_shm_size() {
  local out; out=$(d run --rm "${RUN[@]}" --shm-size 8m "$BUSYBOX" sh -c 'df -k /dev/shm | awk "NR == 2 { print \$2 }"; grep " /dev/shm " /proc/mounts | cut -d" " -f4' 2>&1)
  assert_eq "$(sed -n 1p <<<"$out")" 8192 "size of /dev/shm"
  assert_contains "$(sed -n 2p <<<"$out")" "nosuid,nodev,noexec" "options of /dev/shm"
}

s_host_namespaces() {
  local out ns want=""
  for ns in ipc pid uts net; do want+="$(readlink /proc/self/ns/$ns) "; done
  out=$(d run --rm --ipc host --pid host --uts host --network host "$BUSYBOX" sh -c 'for ns in ipc pid uts net; do readlink /proc/self/ns/$ns; done' 2>&1)
  assert_eq "$(tr '\n' ' ' <<<"$out")" "$want" "--ipc/--pid/--uts/--network host: the host's namespaces"
  assert_eq "$(d run --rm --uts host "${RUN[@]}" "$BUSYBOX" hostname)" "$(hostname)" "hostname with --uts host"
  out=$(d run --rm "${RUN[@]}" "$BUSYBOX" sh -c 'for ns in ipc pid uts net; do readlink /proc/self/ns/$ns; done' 2>&1)
  for ns in $want; do assert_not_contains "$out" "$ns" "the default namespaces (not the host's)"; done
}

s_network_sandbox() {
  # dockerd's libnetwork-setkey prestart hook reads the init's pid from the state on its stdin and registers
  # /proc/PID/ns/net as the container's sandbox (bind-mounted at NetworkSettings.SandboxKey); libnetwork then
  # brings up lo there. If the hook ran before the init entered its network namespace, the sandbox would be the
  # host's and the container's lo would stay down.
  daemon netns
  local pid key inode lo
  pid=$(cpid netns); key=$(d inspect -f '{{.NetworkSettings.SandboxKey}}' netns)
  [ -e "$key" ] || fail "SandboxKey $key does not exist"
  inode=$(stat -L -c %i "$key")
  expect_eq "net:[$inode]" "$(readlink "/proc/$pid/ns/net")" "the sandbox registered by the prestart hook (host: $(readlink /proc/self/ns/net))"
  lo=$(d exec netns cat /sys/class/net/lo/operstate /sys/class/net/lo/flags | tr '\n' ' ')
  expect_eq "$lo" "unknown 0x9 " "lo in the container (operstate, flags: up, set by libnetwork through the sandbox)"
  rm_f netns
}

s_pid_container() {
  daemon shared --ipc shareable
  local out
  out=$(d run --rm "${RUN[@]}" --pid container:shared "$BUSYBOX" sh -c 'readlink /proc/self/ns/pid; cat /proc/1/cmdline | tr "\0" " "' 2>&1)
  assert_eq "$(sed -n 1p <<<"$out")" "$(readlink "/proc/$(cpid shared)/ns/pid")" "--pid container:X: the pid namespace"
  assert_contains "$(sed -n 2p <<<"$out")" "while :; do sleep 1; done" "PID 1 seen from --pid container:X"
  out=$(d run --rm --network container:shared --ipc container:shared "$BUSYBOX" sh -c 'readlink /proc/self/ns/net; readlink /proc/self/ns/ipc' 2>&1)
  assert_eq "$(tr '\n' ' ' <<<"$out")" "$(readlink "/proc/$(cpid shared)/ns/net") $(readlink "/proc/$(cpid shared)/ns/ipc") " "--network/--ipc container:X"
  # A container sharing another's pid namespace: stop leaves none of its processes (the shim's kill --all).
  d run -d --name joiner "${RUN[@]}" --pid container:shared "$BUSYBOX" sleep 300 >/dev/null || fail "docker run --pid container:X -d failed"
  wait_state joiner running || fail "state $(cstate joiner)"
  d stop -t 2 joiner >/dev/null || fail "docker stop of the joiner failed"
  assert_eq "$(d exec shared sh -c 'ps -o comm | grep -c "^sleep 300"')" 0 "the joiner's processes after its stop"
  rm_f joiner shared
}

s_top() {
  daemon topped
  d exec -d topped sleep 123 || fail "exec -d failed"
  sleep 0.5
  local out; out=$(d top topped 2>&1) || fail "docker top failed: $out"
  assert_contains "$out" "while :; do sleep 1; done" "docker top: PID 1"
  assert_contains "$out" "sleep 123" "docker top: the exec'd process"
  out=$(d top topped -o pid,comm 2>&1) || fail "docker top -o failed: $out"
  assert_contains "$out" "$(cpid topped)" "docker top -o pid: the init's host pid"
  grep -q " ps .*--format json" "$INVOCATIONS" || fail "no ps --format json in the log"
  rm_f topped
}

s_stats() {
  d run -d --name measured "${RUN[@]}" --memory 64m "$BUSYBOX" sh -c 'x=$(head -c 8m /dev/zero | tr "\0" a); sleep 300 & wait' >/dev/null || fail "docker run failed"
  wait_state measured running || fail "state $(cstate measured)"
  sleep 1
  local out; out=$(d stats --no-stream --format '{{.MemUsage}}|{{.PIDs}}' measured 2>&1) || fail "docker stats failed: $out"
  assert_contains "$out" "/ 64MiB|" "docker stats: memory limit"
  [[ "$out" =~ ^[0-9.]+(KiB|MiB)\  ]] || fail "docker stats: memory usage $out"
  [ "$(cut -d'|' -f2 <<<"$out")" -ge 2 ] || fail "docker stats: PIDs $out"
  rm_f measured
}

s_update() {
  d run -d --name updated "${RUN[@]}" --memory 64m --cpus 1 --pids-limit 50 "$BUSYBOX" sleep 300 >/dev/null || fail "docker run failed"
  wait_state updated running || fail "state $(cstate updated)"
  local out; out=$(d update --memory 128m --memory-swap 256m --cpus 0.25 --pids-limit 30 --cpu-shares 256 updated 2>&1) || fail "docker update failed: $out"
  assert_eq "$(cg_file updated memory memory.limit_in_bytes)" 134217728 "memory.limit_in_bytes after update"
  assert_eq "$(cg_file updated memory memory.memsw.limit_in_bytes 2>/dev/null || echo 268435456)" 268435456 "memory.memsw.limit_in_bytes after update"
  assert_eq "$(cg_file updated cpu cpu.cfs_quota_us)" 25000 "cpu.cfs_quota_us after update"
  assert_eq "$(cg_file updated cpu cpu.shares)" 256 "cpu.shares after update"
  assert_eq "$(cg_file updated pids pids.max)" 30 "pids.max after update"
  assert_eq "$(d inspect -f '{{.HostConfig.Memory}} {{.HostConfig.PidsLimit}}' updated)" "134217728 30" "docker inspect after update"
  grep -q " update .*--resources" "$INVOCATIONS" || fail "no update --resources in the log"
  rm_f updated
}

s_events() {
  local since; since=$(date +%s)
  d run --name evented "${RUN[@]}" "$BUSYBOX" sh -c 'exit 4' >/dev/null 2>&1
  d rm evented >/dev/null
  local out; out=$(d events --since "$since" --until "$(( $(date +%s) + 1 ))" --filter container=evented --format '{{.Action}}' 2>&1)
  assert_eq "$(grep -E '^(create|start|die|destroy)$' <<<"$out" | tr '\n' ' ')" "create start die destroy " "docker events"
  out=$(d events --since "$since" --until "$(( $(date +%s) + 1 ))" --filter container=evented --filter event=die --format '{{index .Actor.Attributes "exitCode"}}' 2>&1)
  assert_eq "$out" 4 "exit code in the die event"
  out=$(d events --since 0 --until "$(( $(date +%s) + 1 ))" --filter container=oom --filter event=oom --format '{{.Action}}' 2>&1)
  assert_contains "$out" oom "the oom event of the OOM scenario"
}

s_healthcheck() {
  mkdir -p "$TMP/build"
  printf 'FROM %s\nHEALTHCHECK --interval=1s --timeout=5s --retries=2 CMD test -f /tmp/healthy\nCMD ["sh", "-c", "touch /tmp/healthy; trap \\"exit 0\\" TERM; while :; do sleep 1; done"]\n' "$BUSYBOX" > "$TMP/build/Dockerfile"
  local out; out=$(d build -q -t "$HEALTHY" "$TMP/build" 2>&1) || fail "docker build failed: $out"
  d run -d --name healthy "${RUN[@]}" "$HEALTHY" >/dev/null || fail "docker run failed"
  retry_until 30 _health_is healthy healthy || fail "health of healthy: $(d inspect -f '{{json .State.Health}}' healthy)"
  d run -d --name unhealthy "${RUN[@]}" "$HEALTHY" sh -c 'while :; do sleep 1; done' >/dev/null || fail "docker run failed"
  retry_until 30 _health_is unhealthy unhealthy || fail "health of unhealthy: $(d inspect -f '{{json .State.Health}}' unhealthy)"
  assert_eq "$(d inspect -f '{{(index .State.Health.Log 0).ExitCode}}' unhealthy)" 1 "exit code of the failing check"
  rm_f healthy unhealthy
}
_health_is() { [ "$(d inspect -f '{{.State.Health.Status}}' "$1")" = "$2" ]; }

s_cp() {
  daemon copied
  echo to-container > "$TMP/cp-in"
  d cp "$TMP/cp-in" copied:/tmp/cp-in || fail "docker cp into the container failed"
  assert_eq "$(d exec copied cat /tmp/cp-in)" to-container "file copied in"
  d exec copied sh -c 'mkdir -p /out && echo from-container > /out/f' || fail "exec failed"
  d cp copied:/out "$TMP/cp-out" || fail "docker cp from the container failed"
  assert_eq "$(cat "$TMP/cp-out/f")" from-container "directory copied out"
  d stop -t 5 copied >/dev/null
  d cp copied:/tmp/cp-in "$TMP/cp-stopped" || fail "docker cp from a stopped container failed"
  assert_eq "$(cat "$TMP/cp-stopped")" to-container "file copied out of a stopped container"
  rm_f copied
}

s_parallel() {
  local i pids=() t0=$SECONDS bad=0
  for i in $(seq 1 20); do
    d run --rm --name "par-$i" "${RUN[@]}" "$BUSYBOX" sh -c "echo par-$i; sleep 1" > "$TMP/par-$i.out" 2>&1 &
    pids+=($!)
  done
  for i in "${!pids[@]}"; do wait "${pids[$i]}" || bad=$((bad + 1)); done
  echo "# 20 containers in parallel in $((SECONDS - t0)) s"
  [ $bad -eq 0 ] || fail "$bad of 20 docker run failed: $(cat "$TMP"/par-*.out | sort | uniq -c | head)"
  for i in $(seq 1 20); do assert_eq "$(cat "$TMP/par-$i.out")" "par-$i" "output of par-$i"; done
  sleep 1
  local left; left=$(d ps -aq --filter name=par-); [ -z "$left" ] || fail "containers left: $left"
}

s_nothing_left() {
  d ps -aq | xargs -r "$DOCKER_CLI" rm -f >/dev/null 2>&1
  sleep 1
  local left
  left=$(d ps -aq); [ -z "$left" ] || fail "containers left: $left"
  left=$(ls -A "$RT_ROOT" 2>/dev/null | grep -v '^\.seccomp-.*\.bpf$'); [ -z "$left" ] || fail "runtime state left in $RT_ROOT: $left"
  expect_eq "$(ls -A "$RT_ROOT" 2>/dev/null | grep -c '^\.seccomp-.*\.bpf$')" 0 "seccomp program cache files left in the runtime's --root"
  left=$(our_shims); [ -z "$left" ] || fail "shims left: $(ps -o pid=,args= -p "$(paste -sd, <<<"$left")")"
  left=$(grep -c " $DATA_ROOT/overlay2/[^ ]*/merged " /proc/self/mountinfo); [ "$left" = 0 ] || fail "$left overlay mounts left"
  left=$(grep " $DATA_ROOT/containers/" /proc/self/mountinfo); [ -z "$left" ] || fail "container mounts left: $left"
  left=$(find /sys/fs/cgroup/*/"$CG_PARENT" -mindepth 1 -type d 2>/dev/null); [ -z "$left" ] || fail "cgroups left: $left"
  left=$(pgrep -af -- "--root $RT_ROOT" || true); [ -z "$left" ] || fail "runtime processes left: $left"
  stop_daemons
  # dockerd itself leaves its exec-root/netns/default bind mount (with any runtime): the trap unmounts it.
  left=$(grep " $TMP" /proc/self/mountinfo | cut -d' ' -f5 | grep -v -x "$EXEC_ROOT/netns/default"); [ -z "$left" ] || fail "mounts left after dockerd stopped: $left"
  return 0
}

s_invocations() {
  [ -s "$INVOCATIONS" ] || fail "no invocation recorded"
  echo "# $RT_NAME invocations by verb: $(awk '/^[0-9]/ { for (i = 4; i <= NF; i++) if ($i !~ /^-/ && $(i-1) !~ /^--(root|log|log-format|criu)$/) { print $i; break } }' "$INVOCATIONS" | sort | uniq -c | awk '{printf "%s=%s ", $2, $1}')"
  local unexpected
  # The shim sends `kill --all ID 9` after a container has exited (containers sharing a pid namespace, and on delete).
  expect_eq "$(awk '/^[0-9]/ && $2 != "rc=0"' "$INVOCATIONS" | grep -c ' kill --all ')" 0 "failed kill --all calls"
  unexpected=$(awk '/^[0-9]/ && $2 != "rc=0"' "$INVOCATIONS" | grep -v -e '/no/such/binary' -e ' kill --all ' | grep -e ' delete ' -e ' start ' -e ' kill ' -e ' state ' -e ' pause ' -e ' resume ' -e ' update ' -e ' ps ' || true)
  [ -z "$unexpected" ] || fail "runtime calls failed:
$unexpected"
}

# ONLY=REGEX (grep -E on the scenario functions' names) runs a subset; the last two scenarios always run.
t() { [ -z "${ONLY:-}" ] || grep -qE "$ONLY" <<<"$2" || [ "$2" = s_nothing_left ] || [ "$2" = s_invocations ] || return 0; tap_run "$1" "$2"; }
t "docker info: the runtime under test is registered and the default" s_info
t "docker run: stdout, stderr and exit status apart" s_run
t "docker run -u -w -e --hostname" s_run_options
t "docker run -t under a pty (tty, exit status)" s_run_tty
t "docker run -d + docker exec (exit status, -u, -w, -e, -d, a missing binary)" s_exec
t "docker exec -t" s_exec_tty
t "docker run of a missing binary: 127 and the runtime's message" s_run_missing
t "docker attach; docker start -ai with stdin piped in" s_attach
t "docker logs (stdout, stderr, --tail)" s_logs
t "docker stop: SIGTERM ends the container (exit 0)" s_stop_term
t "docker stop: SIGKILL after the timeout (137)" s_stop_kill
t "docker kill -s USR1 and docker kill" s_kill
t "docker pause / unpause (freezer, a counter stops and resumes)" s_pause
t "docker restart (new pid, writable layer kept)" s_restart
t "docker wait prints the exit code" s_wait
t "--restart on-failure:2" s_restart_on_failure
t "--init: docker-init is PID 1, reaps zombies, forwards SIGTERM" s_init
t "users and groups (-u uid, -u name, --group-add, glibc image)" s_users
t "--read-only and --tmpfs" s_read_only_tmpfs
t "bind mounts (rw, ro) and volumes (named, copied from the image)" s_mounts
t "--memory 32m: OOM kill, exit 137, State.OOMKilled true" s_memory_oom
t "--pids-limit 10" s_pids_limit
t "--cpus, --cpu-shares, --cpuset-cpus (cgroup files, CPUs allowed)" s_cpu
t "blkio: --device-read-bps, --device-write-iops" s_blkio
t "--device /dev/fuse:/dev/mydev:r (read allowed, write refused, devices.list)" s_device
t "capabilities: default set, --cap-drop ALL --cap-add, --cap-drop CHOWN" s_caps
t "--security-opt no-new-privileges" s_no_new_privs
t "seccomp: Docker's default profile, unconfined, a custom profile" s_seccomp
t "--ulimit nofile, nproc (lowered)" s_ulimit
t "--ulimit above the hard limit without CAP_SYS_RESOURCE: refused" s_ulimit_raise
t "--sysctl (net, ipc) in the container's namespaces" s_sysctl
t "--shm-size 8m" s_shm_size
t "--ipc/--pid/--uts/--network host" s_host_namespaces
t "--network none: the libnetwork-setkey prestart hook registers the container's network namespace" s_network_sandbox
t "--pid/--network/--ipc container:X (stop of a pid-sharing container)" s_pid_container
t "docker top (runtime ps)" s_top
t "docker stats --no-stream" s_stats
t "docker update (memory, swap, cpus, cpu-shares, pids)" s_update
t "docker events (create, start, die with exit code, destroy, oom)" s_events
t "HEALTHCHECK (docker build; healthy and unhealthy)" s_healthcheck
t "docker cp in and out (running and stopped)" s_cp
t "20 containers in parallel (docker run --rm)" s_parallel
t "nothing left behind: runtime state, shims, mounts, cgroups, processes; dockerd stops" s_nothing_left
t "runtime calls: no lifecycle call failed" s_invocations

echo "# invocation log: $INVOCATIONS"
echo "# docker suite ($RT_NAME): $((SECONDS - started)) s"
tap_summary
