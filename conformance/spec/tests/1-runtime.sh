# runtime.md: state, lifecycle, operations and their errors, hooks (with config.md#posix-platform-hooks).
# Each `spec_test ID LEVEL SECTION TEXT FUNCTION` registers one requirement.

# ---- State ------------------------------------------------------------------------------------------------
t_state_fields() {
  new_bundle; args sleep 30
  create_ok
  local s; s=$(ct_state) || fail "state failed: $(cat "$B/stderr")"
  case $1 in
    ociVersion) [ -n "$(jq -r '.ociVersion // empty' <<<"$s")" ] || fail "no ociVersion in $s" ;;
    id) assert_eq "$(jq -r .id <<<"$s")" "$ID" "state.id" ;;
    status) assert_eq "$(jq -r .status <<<"$s")" created "state.status after create" ;;
    pid)
      local pid; pid=$(jq -r '.pid // empty' <<<"$s")
      [ -n "$pid" ] && [ "$pid" -gt 0 ] || fail "no pid in state of a created container: $s"
      [ -d "/proc/$pid" ] || fail "state.pid $pid is not a process on the host"
      assert_ne "$(readlink "/proc/$pid/ns/pid")" "$(host_ns pid)" "pid namespace of state.pid (must be the container process)" ;;
  esac
}
spec_test state.ociVersion MUST runtime.md#state "state includes ociVersion" t_state_fields ociVersion
spec_test state.id MUST runtime.md#state "state.id is the container's ID" t_state_fields id
spec_test state.status-created MUST runtime.md#create "status is \"created\" after create" t_state_fields status
spec_test state.pid MUST runtime.md#state "state.pid (created) is the container process as seen by the host" t_state_fields pid

t_state_running() {
  new_bundle; args sleep 30
  create_ok; start_ok
  assert_eq "$(st status)" running "state.status after start"
  local pid; pid=$(st pid)
  [ -n "$pid" ] && [ -d "/proc/$pid" ] || fail "state.pid of a running container is not a live process: '$pid'"
  assert_contains "$(tr '\0' ' ' < "/proc/$pid/cmdline")" "sleep 30" "cmdline of state.pid"
}
spec_test state.status-running MUST runtime.md#start "status is \"running\" after start; pid is the user process" t_state_running

t_state_stopped() {
  new_bundle; args sh -c 'exit 0'
  create_ok; start_ok
  wait_status stopped 10 || fail "status did not become stopped after the process exited (is $(st status))"
}
spec_test state.status-stopped MUST runtime.md#kill "status is \"stopped\" once the process has exited" t_state_stopped

t_state_bundle() {
  new_bundle; args sleep 30
  local parent name; parent=$(dirname "$B"); name=$(basename "$B")
  (cd "$parent" && rt create --bundle "$name" "$ID" </dev/null >/dev/null 2>"$B/stderr") || fail "create with a relative --bundle failed: $(cat "$B/stderr")"
  assert_eq "$(st bundle)" "$B" "state.bundle (create was given the relative path $name)"
}
spec_test state.bundle MUST runtime.md#state "state.bundle is the absolute path of the bundle" t_state_bundle

t_state_annotations() {
  new_bundle; args sleep 30
  cfg '.annotations = {"org.example.conformance": "yes", "another": "value with spaces"}'
  create_ok
  assert_eq "$(ct_state | jq -cS '.annotations')" '{"another":"value with spaces","org.example.conformance":"yes"}' "state.annotations"
}
spec_test state.annotations MUST runtime.md#state "state.annotations are the config's annotations" t_state_annotations

t_state_unknown() {
  new_bundle
  rt state "$ID" >/dev/null 2>&1 && fail "state of an unknown container succeeded"
  return 0
}
spec_test state.unknown-id MUST runtime.md#query-state "state of a container that does not exist is an error" t_state_unknown

t_no_id() {
  new_bundle
  case $1 in
    create) (cd "$B" && rt create </dev/null >/dev/null 2>&1) ;;
    *) rt "$1" >/dev/null 2>&1 ;;
  esac && fail "\`$1\` without a container id succeeded"
  return 0
}
spec_test op.state-no-id MUST runtime.md#query-state "state without an ID is an error" t_no_id state
spec_test op.create-no-id MUST runtime.md#create "create without an ID is an error" t_no_id create
spec_test op.start-no-id MUST runtime.md#start "start without an ID is an error" t_no_id start
spec_test op.kill-no-id MUST runtime.md#kill "kill without an ID is an error" t_no_id kill
spec_test op.delete-no-id MUST runtime.md#delete "delete without an ID is an error" t_no_id delete

# ---- Create -----------------------------------------------------------------------------------------------
t_create_not_run() {
  new_bundle; share; args sh -c 'touch /shared/ran; sleep 30'
  create_ok
  sleep 0.5
  [ -e "$B/shared/ran" ] && fail "the user process ran before start"
  start_ok
  retry_until 10 test -e "$B/shared/ran" || fail "the user process did not run after start"
}
spec_test create.user-code-not-run MUST runtime.md#create "create does not run the user-specified program; start does" t_create_not_run

t_create_applies() {
  new_bundle; args sleep 30
  cfg '.hostname = "applied-at-create" | .mounts += [{"destination": "/created-mount", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]}]'
  create_ok
  local pid; pid=$(st pid)
  assert_eq "$(nsenter -t "$pid" -u hostname)" applied-at-create "hostname of the created container"
  grep -q ' /created-mount ' "/proc/$pid/mountinfo" || fail "mount /created-mount is not there in the created state"
}
spec_test create.environment MUST runtime.md#lifecycle "create sets up the environment (hostname, mounts) before start" t_create_applies

t_create_config_frozen() {
  new_bundle; share; args sh -c 'echo original > /shared/out'
  create_ok
  cfg '.process.args = ["sh", "-c", "echo changed > /shared/out"]'
  start_ok
  retry_until 10 test -s "$B/shared/out" || fail "the process did not run"
  assert_eq "$(cat "$B/shared/out")" original "process that ran after config.json was changed"
}
spec_test create.config-frozen MUST runtime.md#lifecycle "changes to config.json after create do not affect the container" t_create_config_frozen

t_create_duplicate() {
  new_bundle; args sleep 30
  create_ok
  local pid; pid=$(st pid)
  local first=$B id=$ID
  new_bundle; ID=$id
  ct_create && fail "a second create with the same id succeeded"
  B=$first
  assert_eq "$(st status)" created "status of the first container after the duplicate create"
  assert_eq "$(st pid)" "$pid" "pid of the first container after the duplicate create"
}
spec_test create.duplicate-id MUST runtime.md#create "create with an ID in use is an error and leaves the existing container alone" t_create_duplicate

t_create_invalid_id() {
  new_bundle; args true
  rt create --bundle "$B" "../escape-$ID" </dev/null >/dev/null 2>&1 && fail "create accepted the id ../escape-$ID"
  [ -e "$(dirname "$STATE_ROOT")/escape-$ID" ] && fail "create with id ../escape-$ID wrote outside its state root"
  return 0
}
spec_test create.invalid-id MUST runtime.md#create "create with an invalid ID (../x) is an error" t_create_invalid_id

t_create_error_clean() {
  new_bundle; args /no/such/binary
  ct_create && fail "create with a missing executable succeeded"
  state_gone "$ID" || fail "a failed create left container $ID behind: $(rt state "$ID")"
  args sleep 30
  create_ok
}
spec_test create.error-leaves-nothing MUST runtime.md#errors "a failed create leaves no container; the ID can be used again" t_create_error_clean

t_create_no_root() {
  new_bundle; args true
  cfg '.root.path = "no-such-rootfs"'
  ct_create && fail "create succeeded with a missing root.path"
  state_gone "$ID" || fail "container left behind"
}
spec_test create.missing-root MUST runtime.md#lifecycle "create fails when root.path does not exist" t_create_no_root

# ---- Start ------------------------------------------------------------------------------------------------
t_start_unknown() {
  new_bundle
  rt start "$ID" >/dev/null 2>&1 && fail "start of an unknown container succeeded"
  return 0
}
spec_test start.unknown-id MUST runtime.md#start "start of a container that does not exist is an error" t_start_unknown

t_start_twice() {
  new_bundle; share; args sh -c 'echo x >> /shared/runs; sleep 30'
  create_ok; start_ok
  local pid; pid=$(st pid)
  rt start "$ID" >/dev/null 2>&1 && fail "a second start succeeded"
  sleep 0.3
  assert_eq "$(st status)" running "status after the second start"
  assert_eq "$(st pid)" "$pid" "pid after the second start"
  assert_eq "$(wc -l < "$B/shared/runs")" 1 "times the process ran"
}
spec_test start.already-started MUST runtime.md#start "start of a running container is an error and has no effect" t_start_twice

t_start_stopped() {
  new_bundle; share; args sh -c 'echo x >> /shared/runs'
  create_ok; start_ok
  wait_status stopped 10 || fail "container did not stop"
  rt start "$ID" >/dev/null 2>&1 && fail "start of a stopped container succeeded"
  assert_eq "$(wc -l < "$B/shared/runs")" 1 "times the process ran"
}
spec_test start.stopped MUST runtime.md#start "start of a stopped container is an error" t_start_stopped

# ---- Kill -------------------------------------------------------------------------------------------------
t_kill_signal() {
  new_bundle; share
  args sh -c 'trap "echo usr1 > /shared/got; exit 0" USR1; echo ready > /shared/ready; while true; do sleep 0.1; done'
  create_ok; start_ok
  retry_until 10 test -e "$B/shared/ready" || fail "process not ready"
  rt kill "$ID" USR1 2>>"$B/stderr" || fail "kill USR1 failed: $(cat "$B/stderr")"
  retry_until 10 test -e "$B/shared/got" || fail "the process did not receive SIGUSR1"
  wait_status stopped 10 || fail "status is $(st status) after the process exited"
}
spec_test kill.signal MUST runtime.md#kill "kill sends the given signal to the container process" t_kill_signal

t_kill_created() {
  new_bundle; args sleep 30
  create_ok
  rt kill "$ID" KILL 2>>"$B/stderr" || fail "kill of a created container failed: $(cat "$B/stderr")"
  wait_status stopped 10 || fail "status is $(st status) after SIGKILL"
}
spec_test kill.created MUST runtime.md#kill "kill of a created container sends the signal (status becomes stopped)" t_kill_created

t_kill_stopped() {
  new_bundle; args true
  create_ok; start_ok
  wait_status stopped 10 || fail "container did not stop"
  rt kill "$ID" KILL >/dev/null 2>&1 && fail "kill of a stopped container succeeded"
  assert_eq "$(st status)" stopped "status after kill"
}
spec_test kill.stopped MUST runtime.md#kill "kill of a stopped container is an error" t_kill_stopped

t_kill_unknown() {
  new_bundle
  rt kill "$ID" KILL >/dev/null 2>&1 && fail "kill of an unknown container succeeded"
  return 0
}
spec_test kill.unknown-id MUST runtime.md#kill "kill of a container that does not exist is an error" t_kill_unknown

# ---- Delete -----------------------------------------------------------------------------------------------
t_delete_running() {
  new_bundle; args sleep 30
  create_ok; start_ok
  rt delete "$ID" >/dev/null 2>&1 && fail "delete of a running container succeeded"
  assert_eq "$(st status)" running "status after the refused delete"
}
spec_test delete.running MUST runtime.md#delete "delete of a running container is an error and has no effect" t_delete_running

t_delete_unknown() {
  new_bundle
  rt delete "$ID" >/dev/null 2>&1 && fail "delete of an unknown container succeeded"
  return 0
}
spec_test delete.unknown-id MUST runtime.md#delete "delete of a container that does not exist is an error" t_delete_unknown

t_delete_removes() {
  new_bundle; args true
  create_ok; start_ok
  wait_status stopped 10 || fail "container did not stop"
  rt delete "$ID" 2>>"$B/stderr" || fail "delete failed: $(cat "$B/stderr")"
  state_gone "$ID" || fail "state still answers after delete"
  args sleep 30
  create_ok
}
spec_test delete.removes MUST runtime.md#delete "delete removes the container; its ID can be used again" t_delete_removes

t_delete_cgroup() {
  pending cgroups
  new_bundle; args true
  cfg '.linux.cgroupsPath = $p' --arg p "/conformance-delete-$ID"
  create_ok
  local pid; pid=$(st pid)
  local path; path=$(cgroup_of "$pid" pids)
  assert_eq "$path" "/conformance-delete-$ID" "pids cgroup of the container"
  [ -d "/sys/fs/cgroup/pids$path" ] || fail "cgroup /sys/fs/cgroup/pids$path not there"
  start_ok; wait_status stopped 10 || fail "container did not stop"
  rt delete "$ID" 2>>"$B/stderr" || fail "delete failed: $(cat "$B/stderr")"
  [ -d "/sys/fs/cgroup/pids$path" ] && fail "delete left /sys/fs/cgroup/pids$path"
  [ -d "/sys/fs/cgroup/memory$path" ] && fail "delete left /sys/fs/cgroup/memory$path"
  return 0
}
spec_test delete.cgroups MUST runtime.md#delete "delete removes the cgroups create made" t_delete_cgroup

t_delete_keeps_external() {
  new_bundle; args true
  touch "$B/netns"
  unshare --net="$B/netns" true || skip "cannot make a persistent network namespace (unshare --net=FILE)"
  at_exit "umount '$B/netns'"
  mkdir -p "$B/volume"; echo keep > "$B/volume/data"
  cfg '(.linux.namespaces[] | select(.type == "network")) |= {type: "network", path: $ns}
       | .mounts += [{"destination": "/volume", "type": "bind", "source": $vol, "options": ["rbind", "rw"]}]' --arg ns "$B/netns" --arg vol "$B/volume"
  create_ok; start_ok; wait_status stopped 10 || fail "container did not stop"
  rt delete "$ID" 2>>"$B/stderr" || fail "delete failed: $(cat "$B/stderr")"
  nsenter --net="$B/netns" true || fail "the joined network namespace $B/netns is gone after delete"
  assert_eq "$(cat "$B/volume/data" 2>&1)" keep "bind-mount source after delete"
}
spec_test delete.keeps-external MUST runtime.md#delete "delete leaves resources it did not create (joined netns, bind sources)" t_delete_keeps_external

# ---- Hooks (config.md#posix-platform-hooks, runtime.md#lifecycle) ------------------------------------------
# hook NAME [in-container]: a hook entry recording NAME in shared/order and its stdin in shared/NAME.json.
# Host hooks run /bin/sh of the host; in-container ones (startContainer) /bin/sh of the rootfs.
hook() {
  if [ "${2:-}" = in-container ]; then
    jq -cn --arg n "$1" '{path: "/bin/sh", args: ["sh", "-c", "cat > /shared/$0.json; echo $0 >> /shared/order", $n]}'
  else
    jq -cn --arg n "$1" --arg d "$B/shared" '{path: "/bin/sh", args: ["sh", "-c", "cat > \"$1/$0.json\"; echo $0 >> \"$1/order\"", $n, $d]}'
  fi
}
# add_hook KIND ENTRY
add_hook() { cfg '.hooks[$k] += [$h]' --arg k "$1" --argjson h "$2"; }

all_hooks() {
  share
  add_hook prestart "$(hook prestart)"
  add_hook createRuntime "$(hook createRuntime)"
  add_hook createContainer "$(hook createContainer)"
  add_hook startContainer "$(hook startContainer in-container)"
  add_hook poststart "$(hook poststart)"
  add_hook poststop "$(hook poststop)"
}

order() { tr '\n' ' ' < "$B/shared/order" 2>/dev/null | sed 's/ $//'; }

t_hooks_create_phase() {
  new_bundle; all_hooks; args sleep 30
  create_ok
  assert_eq "$(order)" "prestart createRuntime createContainer" "hooks run by create"
}
spec_test hooks.create-phase MUST runtime.md#lifecycle "create runs prestart, createRuntime, createContainer (in that order), not the later hooks" t_hooks_create_phase

t_hooks_order() {
  new_bundle; share
  add_hook prestart "$(hook prestart)"
  add_hook createRuntime "$(hook createRuntime)"
  add_hook createContainer "$(hook createContainer)"
  # A slow startContainer hook: poststart (after the user process started) must still come after it.
  add_hook startContainer '{"path": "/bin/sh", "args": ["sh", "-c", "sleep 0.5; cat > /shared/startContainer.json; echo startContainer >> /shared/order"]}'
  add_hook poststart "$(hook poststart)"
  add_hook poststop "$(hook poststop)"
  args sh -c 'echo process >> /shared/order; sleep 30'
  create_ok; start_ok
  assert_contains "$(order)" "prestart createRuntime createContainer startContainer" "hook order at start"
  assert_contains "$(order)" poststart "hooks run by the time start returned"
  retry_until 10 grep -q process "$B/shared/order" || fail "the process did not run"
  rt kill "$ID" KILL; wait_status stopped 10 || fail "container did not stop"
  rt delete "$ID" 2>>"$B/stderr" || fail "delete failed: $(cat "$B/stderr")"
  local o; o=$(order)
  assert_eq "$(tr ' ' '\n' <<<"$o" | grep -v -e process -e poststart | tr '\n' ' ' | sed 's/ $//')" \
    "prestart createRuntime createContainer startContainer poststop" "lifecycle order of the hooks ($o)"
  case $o in *startContainer*process*) ;; *) fail "startContainer did not run before the process: $o" ;; esac
  case $o in *poststart*poststop) ;; *) fail "poststart not before poststop: $o" ;; esac
}
spec_test hooks.lifecycle-order MUST runtime.md#lifecycle "hooks run in lifecycle order (a slow startContainer before poststart); poststop at delete" t_hooks_order

t_hooks_listed_order() {
  new_bundle; share; args true
  add_hook prestart "$(hook first)"; add_hook prestart "$(hook second)"; add_hook prestart "$(hook third)"
  create_ok
  assert_eq "$(order)" "first second third" "order of three prestart hooks"
}
spec_test hooks.listed-order MUST config.md#posix-platform-hooks "hooks of one kind run in the listed order" t_hooks_listed_order

t_hooks_state() {
  new_bundle; all_hooks; args sleep 30
  cfg '.annotations = {"hook.test": "1"}'
  create_ok; start_ok
  rt kill "$ID" KILL; wait_status stopped 10; rt delete "$ID"
  local h s
  for h in prestart createRuntime createContainer startContainer poststart poststop; do
    s=$(cat "$B/shared/$h.json" 2>/dev/null)
    [ -n "$s" ] || fail "$h: no state on stdin"
    jq -e . >/dev/null 2>&1 <<<"$s" || fail "$h: stdin is not JSON: $s"
    assert_eq "$(jq -r .id <<<"$s")" "$ID" "$h: state.id"
    assert_eq "$(jq -r .bundle <<<"$s")" "$B" "$h: state.bundle"
    [ -n "$(jq -r '.ociVersion // empty' <<<"$s")" ] || fail "$h: no ociVersion in $s"
    [ -n "$(jq -r '.status // empty' <<<"$s")" ] || fail "$h: no status in $s"
    assert_eq "$(jq -r '.annotations["hook.test"] // empty' <<<"$s")" 1 "$h: state.annotations"
  done
}
spec_test hooks.state-stdin MUST runtime.md#lifecycle "every hook gets the container state (id, bundle, status, annotations) on stdin" t_hooks_state

t_hooks_create_container_ns() {
  new_bundle; share; args sleep 30
  add_hook createContainer "$(jq -cn --arg d "$B/shared" '{path: "/bin/sh", args: ["sh", "-c", "for n in uts mnt ipc net pid; do readlink /proc/self/ns/$n; done > \"$0/ns\"", $d]}')"
  create_ok
  local pid n want got; pid=$(st pid)
  for n in uts mnt ipc net; do
    want=$(readlink "/proc/$pid/ns/$n")
    got=$(grep -m1 "^$n:" "$B/shared/ns" 2>/dev/null)
    assert_eq "$got" "$want" "$n namespace of the createContainer hook (the container's)"
  done
}
spec_test hooks.createContainer-namespace MUST runtime.md#lifecycle "createContainer hooks run in the container namespaces (path from the runtime namespace)" t_hooks_create_container_ns

t_hooks_start_container_ns() {
  new_bundle; share; args sleep 30
  cfg '.hostname = "in-the-container"'
  echo "container-only" > "$B/rootfs/marker"
  add_hook startContainer '{"path": "/bin/sh", "args": ["sh", "-c", "cat /marker > /shared/marker; hostname > /shared/hostname"]}'
  create_ok; start_ok
  # (start may return before the hook finished: it runs in the container once released; order is hooks.lifecycle-order's)
  retry_until 10 test -s "$B/shared/hostname" || fail "the startContainer hook did not run"
  assert_eq "$(cat "$B/shared/marker" 2>/dev/null)" container-only "file of the rootfs read by the startContainer hook"
  assert_eq "$(cat "$B/shared/hostname" 2>/dev/null)" in-the-container "hostname seen by the startContainer hook"
}
spec_test hooks.startContainer-namespace MUST runtime.md#lifecycle "startContainer hooks resolve and run in the container (after pivot)" t_hooks_start_container_ns

t_hooks_prestart_fail() {
  new_bundle; share; args sh -c 'touch /shared/ran'
  add_hook "$1" '{"path": "/bin/false"}'
  ct_create && { ct_start; fail "create succeeded although a $1 hook failed"; }
  state_gone "$ID" || fail "a container is left after the failed $1 hook (status $(st status))"
  [ -e "$B/shared/ran" ] && fail "the user process ran"
  return 0
}
spec_test hooks.prestart-failure MUST runtime.md#lifecycle "a failing prestart hook fails create and the container is destroyed" t_hooks_prestart_fail prestart
spec_test hooks.createRuntime-failure MUST runtime.md#lifecycle "a failing createRuntime hook fails create and the container is destroyed" t_hooks_prestart_fail createRuntime
spec_test hooks.createContainer-failure MUST runtime.md#lifecycle "a failing createContainer hook fails create and the container is destroyed" t_hooks_prestart_fail createContainer

t_hooks_startcontainer_fail() {
  new_bundle; share; args sh -c 'touch /shared/ran'
  add_hook startContainer '{"path": "/bin/false"}'
  create_ok
  # start may return before the hook ran (it runs in the container, after the release): the requirement is
  # that the user process never runs and the container is stopped.
  ct_start
  wait_status stopped 10 || fail "status is $(st status) after the failing startContainer hook"
  [ -e "$B/shared/ran" ] && fail "the user process ran although startContainer failed"
  return 0
}
spec_test hooks.startContainer-failure MUST runtime.md#lifecycle "a failing startContainer hook stops the container; the user process does not run" t_hooks_startcontainer_fail

t_hooks_poststart_fail() {
  new_bundle; share; args sleep 30
  add_hook poststart '{"path": "/bin/false"}'
  add_hook poststart "$(hook after-failure)"
  create_ok
  ct_start || fail "start failed because of a failing poststart hook: $(cat "$B/stderr")"
  assert_eq "$(st status)" running "status after the failing poststart hook"
  retry_until 5 grep -q after-failure "$B/shared/order" || fail "the poststart hook after the failing one did not run"
}
spec_test hooks.poststart-failure MUST runtime.md#lifecycle "a failing poststart hook only warns: start succeeds, later hooks run" t_hooks_poststart_fail

t_hooks_poststop_fail() {
  new_bundle; share; args true
  add_hook poststop '{"path": "/bin/false"}'
  add_hook poststop "$(hook after-failure)"
  create_ok; start_ok; wait_status stopped 10
  rt delete "$ID" 2>>"$B/stderr" || fail "delete failed because of a failing poststop hook: $(cat "$B/stderr")"
  state_gone "$ID" || fail "container still there after delete"
  grep -q after-failure "$B/shared/order" 2>/dev/null || fail "the poststop hook after the failing one did not run"
}
spec_test hooks.poststop-failure MUST runtime.md#lifecycle "a failing poststop hook only warns: delete succeeds, later hooks run" t_hooks_poststop_fail

t_hooks_args_env() {
  new_bundle; share; args true
  add_hook prestart "$(jq -cn --arg d "$B/shared" '{path: "/bin/sh", args: ["my-argv0", "-c", "a0=$(tr \"\\\\0\" \"\\\\n\" < /proc/$$/cmdline | head -n 1); echo \"$a0|$0|$HOOK_VAR|${CONF_LEAK:-unset}\" > \"$0/hook\"", $d], env: ["HOOK_VAR=from-config"]}')"
  CONF_LEAK=leaked create_ok
  assert_eq "$(cat "$B/shared/hook" 2>/dev/null)" "my-argv0|$B/shared|from-config|unset" "hook argv[0]|argv[3]|env|runtime's env"
}
spec_test hooks.args-env MUST config.md#posix-platform-hooks "hook args are execv's argv (argv0 included) and env is its whole environment" t_hooks_args_env

t_hooks_timeout() {
  new_bundle; args true
  add_hook prestart '{"path": "/bin/sleep", "args": ["sleep", "30"], "timeout": 1}'
  local start=$SECONDS
  ct_create && fail "create succeeded although the prestart hook exceeded its 1 s timeout"
  [ $((SECONDS - start)) -lt 15 ] || fail "create took $((SECONDS - start)) s: the 1 s hook timeout was not applied"
  state_gone "$ID" || fail "container left behind"
}
spec_test hooks.timeout MUST config.md#posix-platform-hooks "a hook that outlives its timeout is aborted and fails create" t_hooks_timeout
