using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using OciRuntime.Cgroups;
using OciRuntime.Interop;
using OciRuntime.Runtime.Logging;
using OciRuntime.Runtime.ProcessModel;
using OciRuntime.Runtime.State;
using OciRuntime.Spec;

namespace OciRuntime.Runtime.Lifecycle;

/// <summary>A lifecycle operation refused or failed; the message is the one line ocirun prints.</summary>
public sealed class RuntimeException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Options of <c>create</c> (and the create half of <c>run</c>).</summary>
public sealed class CreateOptions
{
    /// <summary>The container id (a safe path component, see ContainerId).</summary>
    public required string Id { get; init; }

    /// <summary>The bundle directory; null = the working directory.</summary>
    public string? Bundle { get; init; }

    /// <summary>--pid-file: where to write the init pid (written atomically).</summary>
    public string? PidFile { get; init; }

    /// <summary>--console-socket: AF_UNIX socket path that receives the pty master (process.terminal).</summary>
    public string? ConsoleSocket { get; init; }

    /// <summary>--no-pivot: MS_MOVE + chroot instead of pivot_root.</summary>
    public bool NoPivot { get; init; }

    /// <summary>The container will run detached from the caller (create, run -d): a terminal then needs a console socket.</summary>
    public bool Detached { get; init; } = true;

    /// <summary>--preserve-fds: pass fds 3 … 3+N-1 of the caller to the container process.</summary>
    public int PreserveFds { get; init; }

    /// <summary>--no-new-keyring: do not create a new session keyring for the container.</summary>
    public bool NoNewKeyring { get; init; }

    /// <summary>--pidfd-socket: AF_UNIX socket path that receives a pidfd of the container init.</summary>
    public string? PidfdSocket { get; init; }
}

/// <summary>Options of <c>run</c>.</summary>
public sealed class RunOptions
{
    /// <summary>The create options.</summary>
    public required CreateOptions Create { get; init; }

    /// <summary>-d: return once the container runs.</summary>
    public bool Detach { get; init; }

    /// <summary>--keep: do not delete the container when it exits.</summary>
    public bool Keep { get; init; }

    /// <summary>--no-subreaper: do not become a child subreaper.</summary>
    public bool NoSubreaper { get; init; }
}

/// <summary>
/// The container lifecycle of runtime.md#lifecycle with runc's semantics: create, start, state, kill, delete, run.
/// A library API: the ocirun CLI is a thin shell over it, and tests call it directly.
/// </summary>
public sealed partial class ContainerRuntime
{
    /// <summary>The runtime-spec version ocirun implements (the "ociVersion" of <c>state</c>).</summary>
    public const string SpecVersion = "1.2.0";

    private readonly StateStore _store;
    private readonly RuntimeLog _log;

    /// <summary>A runtime keeping state under <paramref name="root"/> (runc's --root; ocirun's default /run/ocirun).</summary>
    public ContainerRuntime(string root, RuntimeLog? log = null)
    {
        _store = new StateStore(root);
        _log = log ?? RuntimeLog.None;
    }

    /// <summary>The state store.</summary>
    public StateStore Store => _store;

    /// <summary>
    /// create: parses and validates the bundle, makes the state directory and exec fifo, starts the init in its
    /// namespaces, and returns when the container is set up and its init waits on the exec fifo.
    /// On any failure nothing is left: the init is killed and reaped, the state directory removed.
    /// </summary>
    /// <exception cref="SpecException">config.json is malformed or invalid (the message names the field).</exception>
    /// <exception cref="RuntimeException">the container could not be created.</exception>
    public int Create(CreateOptions options)
    {
        using var created = CreateCore(options);
        return created.Init.Pid;
    }

    private CreatedContainer CreateCore(CreateOptions options)
    {
        var timer = new Init.PhaseTimer();
        ContainerId.Validate(options.Id);
        CheckPreserveFds(options.PreserveFds);
        var bundle = Path.GetFullPath(options.Bundle is { Length: > 0 } b ? b : Directory.GetCurrentDirectory());
        RequireRegularFile(Path.Combine(bundle, SpecSerializer.ConfigFileName), bundle);
        var spec = SpecSerializer.LoadBundle(bundle);
        SpecValidator.Validate(spec, new ValidationOptions
        {
            BundleDir = bundle,
            Detached = options.Detached,
            HasConsoleSocket = options.ConsoleSocket is not null,
        });
        if (spec.Process is null) throw new RuntimeException("config.json: process: required to create a container");
        if (Init.Capabilities.RemoveUnavailable(spec.Process.Capabilities, Init.Capabilities.LastCap()) is { Count: > 0 } ignored)
            _log.Warn(Init.Capabilities.IgnoredWarning(ignored));
        var preserveFds = options.PreserveFds + SocketActivation.Apply(spec.Process);
        var rootfs = ResolveRootfs(bundle, spec);
        timer.Mark("parse+validate");

        var cgroup = CgroupsFor(options.Id, spec.Linux?.CgroupsPath, spec.Linux?.Resources);
        // The path: direct (the runtime builds the container, DirectCreate) unless something needs `ocirun init`, or no
        // exec trampoline can be made (CVE-2019-5736: the container's process is exec'd through it, never by a copy of
        // the runtime).
        var wantsIdmapped = (spec.Mounts ?? []).Exists(IdmappedMounts.IsIdmapped);
        var unprivileged = Rootless || Libc.geteuid() != 0;
        var whyNot = DirectCreate.WhyNot(spec, options.NoPivot, options.ConsoleSocket is not null, NeedsSeccompListener(spec), wantsIdmapped, unprivileged);
        using var trampoline = whyNot is null ? ExecTrampoline.TryCreate() : null;
        if (whyNot is null && trampoline is null) whyNot = "no exec trampoline (executable memfds refused)";
        timer.Mark("path");
        // A new network namespace (without a user namespace, which must own it, not rootless, and not when idmapped
        // mounts clone their helper first) is made by a runtime thread from now until right before the clone, not by
        // clone3: on the direct path the thread that will build the rootfs (it parks until the clone), else
        // NetNamespace.Start.
        var namespacesOfSpec = spec.Linux?.Namespaces ?? [];
        var makeNet = NamespaceType.IsNew(namespacesOfSpec, NamespaceType.Network)
            && !NamespaceType.Has(namespacesOfSpec, NamespaceType.User) && !unprivileged && !wantsIdmapped;
        using var builder = whyNot is null ? DirectCreate.NamespaceThread.Start(makeNet) : null;
        using var pendingNet = whyNot is not null && makeNet ? NetNamespace.Start() : null;
        timer.Mark("thread-start");
        if (_log.IsDebug) _log.Debug($"create {options.Id}: " + (whyNot is null ? "direct path (no ocirun init)" : $"through ocirun init ({whyNot})"));
        var dir = _store.Create(options.Id);
        // After the id is taken (runc's order of errors), before anything is made in the cgroups or torn down from them.
        if (cgroup is not null) CheckExistingCgroup(cgroup, dir);
        InitProcess? init = null;
        try
        {
            var namespaces = spec.Linux?.Namespaces ?? [];
            var configBytes = SpecSerializer.SerializeForRuntime(spec);
            // The first record, before the first side effect (crash consistency, StateStore): no init yet, and the cgroup
            // directories about to be made; the init's pid and start time are added as soon as it exists.
            var record = new ContainerRecord
            {
                Id = options.Id,
                Bundle = bundle,
                Rootfs = rootfs,
                Created = DateTimeOffset.UtcNow,
                Owner = OwnerName(),
                Annotations = spec.Annotations,
                ConfigOciVersion = spec.OciVersion,
                OwnPidNamespace = NamespaceType.IsNew(namespaces, NamespaceType.Pid),
                CgroupsPath = spec.Linux?.CgroupsPath,
                HasRuntimeHooks = HookRunner.Of(spec.Hooks, "poststart").Count + HookRunner.Of(spec.Hooks, "poststop").Count > 0,
                Cgroup = cgroup is null ? null : CgroupPlan.Planned(cgroup),
            };
            dir.Save(record);
            dir.SaveConfig(configBytes);
            var journal = new CreateJournal(dir, record);
            Libc.Check(Libc.mkfifo(dir.ExecFifo, 0x192 /* 0622 */), $"mkfifo {dir.ExecFifo}");
            Libc.Check(Libc.fchmodat(OpenFlags.AT_FDCWD, dir.ExecFifo, 0x192, 0), $"chmod {dir.ExecFifo}");
            using var fifo = SafeFd.Check(Libc.open(dir.ExecFifo, OpenFlags.O_PATH | OpenFlags.O_CLOEXEC), $"open {dir.ExecFifo}");
            timer.Mark("state-dir");
            using var seccompListener = ConnectSeccompListener(spec);
            using var console = TerminalEnds.Open(spec.Process, options.ConsoleSocket);
            using var idmapped = IdmappedMounts.Prepare(spec, bundle);

            InitReport report;
            if (whyNot is null)
            {
                report = CreateDirect(options, spec, bundle, rootfs, fifo, trampoline!, builder!, cgroup, preserveFds, timer, journal, ref init);
            }
            else
            {
                report = CreateThroughInit(options, spec, bundle, rootfs, fifo, pendingNet, cgroup, preserveFds, timer, console, idmapped, seccompListener, configBytes, journal, ref init);
            }
            foreach (var warning in report.Warnings ?? []) _log.Warn($"container {options.Id}: {warning}");
            if (init is null) throw new InvalidOperationException("no container init after create");

            if (!ProcStat.IsAlive(init.Pid, record.InitStartTime)) throw new RuntimeException($"container init {init.Pid} vanished after setup");
            record.NamespacePaths = NamespacePathsOf(namespaces, init.Pid);
            record.Cgroup = cgroup?.State;
            dir.Save(record);
            if (options.PidFile is { Length: > 0 } pidFile) WritePidFile(pidFile, init.Pid);
            if (options.PidfdSocket is { Length: > 0 } pidfdSocket) SendPidFd(pidfdSocket, init);
            var master = console.ReceiveMaster();
            timer.Mark("state");
            if (_log.IsDebug)
            {
                foreach (var p in Init.PhaseTimer.Both(timer.Phases, report.Phases)) _log.Debug($"create {options.Id}: phase {p.Name} took {p.Micros} µs");
                _log.Debug($"create {options.Id}: {GC.GetTotalAllocatedBytes()} bytes allocated on the managed heap, {GC.CollectionCount(0)} collections");
            }
            return new CreatedContainer(dir, record, init, cgroup, master);
        }
        catch (Exception e)
        {
            init?.KillAndReap();
            init?.Dispose();
            // The state directory stays when cgroups are left (delete --force retries them); otherwise nothing is left.
            if (cgroup is null || TryDestroy(cgroup)) dir.Remove();
            dir.Dispose();
            // InitException: create's direct path builds the rootfs in this process (the init path sends its message instead).
            if (e is SyscallException or IOException or UnauthorizedAccessException or HookException or Init.InitException or InvalidDataException)
                throw new RuntimeException(e.Message, e);
            throw;
        }
    }

    /// <summary>create through <c>ocirun init</c>: clone, exec of the init, orders, Ready (docs/process-model.md).</summary>
    private InitReport CreateThroughInit(CreateOptions options, Spec.Spec spec, string bundle, string rootfs, SafeFd fifo, PendingNetNamespace? pendingNet, ICgroupManager? cgroup, int preserveFds,
        Init.PhaseTimer timer, TerminalEnds console, IdmappedMounts idmapped, SafeFd? seccompListener, byte[] configBytes, CreateJournal journal, ref InitProcess? init)
    {
        var namespaces = spec.Linux?.Namespaces ?? [];
        var deferNet = pendingNet is not null;
        // A hybrid host's cgroup2 directory (membership only) is entered at birth: no process-wide migration for it.
        using var birthCgroup = CreateBirthCgroup(cgroup);
        var request = new LaunchRequest
        {
            IntoCgroup = birthCgroup,
            NewNamespaces = NewNamespaceFlags(namespaces) & ~(deferNet ? CloneFlags.NewNet : CloneFlags.None),
            Joins = NamespaceJoins(namespaces),
            InheritedFds = [.. console.InitEnd is { } end ? [fifo, end] : new[] { fifo }, .. idmapped.Fds, .. seccompListener is { } listener ? [listener] : Array.Empty<SafeFd>()],
            AfterClone = pid =>
            {
                UserNamespace.WriteMappings(pid, spec.Linux?.UidMappings ?? [], spec.Linux?.GidMappings ?? []);
                TimeNamespace.WriteOffsets(pid, spec.Linux?.TimeOffsets);
            },
        };
        // The network namespace the runtime made meanwhile (CreateCore), taken right before the clone; otherwise clone3 makes it.
        using var netns = pendingNet?.Take();
        timer.Mark("netns");
        var launched = init = LaunchInit(request);
        journal.InitStarted(launched);
        timer.Mark("clone+exec");
        // While the init's runtime starts (≈2 ms), make the cgroups and compile the seccomp profile; the network namespace
        // and cgroup join fds go with the orders (SCM_RIGHTS), for the init to join (docs/process-model.md, "The network
        // namespace" and "cgroups").
        using var cgroupJoin = PrepareCgroups(cgroup, spec, request.BornInCgroup, launched.Pid);
        timer.Mark("cgroups");
        var seccompProgram = CompileSeccomp(spec);
        timer.Mark("seccomp");

        var initOptions = new InitOptions
        {
            Id = options.Id,
            Bundle = bundle,
            Rootfs = rootfs,
            NoPivot = options.NoPivot,
            FifoFd = fifo.Fd,
            NewMountNamespace = NamespaceType.IsNew(namespaces, NamespaceType.Mount),
            Debug = _log.IsDebug,
            HostPid = launched.Pid,
            NamespaceRootFd = request.NamespaceRootFd,
            InUserNamespace = NamespaceType.Has(namespaces, NamespaceType.User),
            PreserveFds = preserveFds,
            NoNewKeyring = options.NoNewKeyring,
            ConsoleSocketFd = console.InitEnd?.Fd ?? -1,
            MountFds = idmapped.FdByMount,
            JoinNetNamespace = netns is not null,
            Cgroups = cgroupJoin.Options,
            SeccompListenerFd = seccompListener?.Fd ?? -1,
            SeccompListenerState = seccompListener is null ? null : SeccompListenerState(spec, options.Id, bundle, launched.Pid, ContainerStatus.Creating),
            SeccompProgram = seccompProgram.Program is { } program ? Convert.ToBase64String(program) : null,
            SeccompFlags = seccompProgram.Flags,
        };
        SendOrders(launched, initOptions, configBytes, netns is null ? cgroupJoin.Fds : [netns, .. cgroupJoin.Fds]);
        // While the init builds the container, pay the cgroup migration lock's grace period here, so the init's
        // late join finds it warm (CgroupHost.WarmMigrationLock) — only where that join moves the whole process
        // (cgroup.procs); v1 tasks files and a cgroup2 directory entered at birth take no global lock.
        if (cgroupJoin.MovesWholeProcess) CgroupHost.Real.WarmMigrationLock();
        timer.Mark("cgroup-warmup");
        var report = AwaitReady(launched, request, () => RunRuntimeHooks(options.Id, launched.Pid, bundle, spec));
        timer.Mark("init-setup");
        return report;
    }

    /// <summary>prestart and createRuntime hooks, in the runtime's namespaces, before pivot_root (config.md#posix-platform-hooks).</summary>
    private static void RunRuntimeHooks(string id, int pid, string bundle, Spec.Spec spec)
    {
        var state = HookRunner.StateFor(id, ContainerStatus.Creating, pid, bundle, spec.Annotations);
        HookRunner.Run(spec.Hooks, "prestart", state);
        HookRunner.Run(spec.Hooks, "createRuntime", state);
    }

    // Loops, not LINQ chains: Where(…).Select(…) resolves a generic virtual method at run time in NativeAOT (≈0.2 ms).
    private static CloneFlags NewNamespaceFlags(List<LinuxNamespace> namespaces)
    {
        var flags = CloneFlags.None;
        foreach (var n in namespaces)
        {
            if (string.IsNullOrEmpty(n.Path) && n.Type != NamespaceType.Cgroup) flags |= InitLauncher.FlagOf(n.Type);
        }
        return flags;
    }

    private static List<NamespaceJoin> NamespaceJoins(List<LinuxNamespace> namespaces)
    {
        var joins = new List<NamespaceJoin>();
        foreach (var n in namespaces)
        {
            if (!string.IsNullOrEmpty(n.Path)) joins.Add(new NamespaceJoin(n.Type, n.Path));
        }
        return joins;
    }

    private static InitProcess LaunchInit(LaunchRequest request)
    {
        try
        {
            return InitLauncher.Launch(request);
        }
        catch (NotSupportedException e)
        {
            throw new RuntimeException($"config.json: linux.namespaces: {e.Message}", e);
        }
    }

    /// <summary>
    /// The Bootstrap frame (the init's options, with the cgroup join fds attached: the init fills
    /// <see cref="CgroupJoinOptions.ProcsFds"/> from them) and the Config frame (config.json).
    /// </summary>
    private static void SendOrders(InitProcess init, InitOptions options, byte[] config, IReadOnlyList<SafeFd> cgroupFds)
    {
        try
        {
            Span<int> fds = stackalloc int[cgroupFds.Count];
            for (int i = 0; i < fds.Length; i++) fds[i] = cgroupFds[i].Fd;
            init.Channel.Send(SyncMessage.Bootstrap, RuntimeJson.Write(options), fds);
            init.Channel.Send(SyncMessage.Config, config);
        }
        catch (SyscallException)
        {
            // The child died before reading (a failed setns or exec): its ChildFailed frame tells why.
        }
    }

    private static InitReport AwaitReady(InitProcess init, LaunchRequest request, Action? runHooks = null)
    {
        while (true)
        {
            if (!init.Channel.TryReceive(out var type, out var payload))
            {
                var status = Libc.WaitPid(init.Pid);
                throw new RuntimeException(status.Exited
                    ? $"container init exited before the container was ready (exit status {status.Code})"
                    : $"container init was killed by {Signals.Name(status.Signal)} before the container was ready");
            }
            switch (type)
            {
                case SyncMessage.ChildFailed:
                    throw new RuntimeException(InitLauncher.DescribeChildFailure(request, payload));
                case SyncMessage.Error:
                    throw new RuntimeException(Encoding.UTF8.GetString(payload));
                case SyncMessage.RunHooks when runHooks is not null:
                    runHooks();
                    // An init that died meanwhile (EPIPE) is reported by the next receive, with its exit status.
                    try { init.Channel.Send(SyncMessage.HooksDone, []); } catch (SyscallException) { }
                    break;
                case SyncMessage.Ready:
                    // Empty from create's direct-path child (no phases of its own).
                    return payload.Length == 0 ? new InitReport() : RuntimeJson.ReadInitReport(payload);
                default:
                    throw new RuntimeException($"container init sent an unexpected message {type}");
            }
        }
    }

    /// <summary>start: releases a created container's init from the exec fifo so it execs process.args.</summary>
    /// <exception cref="ContainerNotFoundException">no such container.</exception>
    /// <exception cref="RuntimeException">the container is not in the created state, or its init died.</exception>
    public void Start(string id)
    {
        using var dir = _store.Open(id);
        StartLocked(dir, dir.Load());
    }

    private void StartLocked(ContainerDirectory dir, ContainerRecord record)
    {
        var status = StatusOf(dir, record);
        if (status == ContainerStatus.Stopped) throw new RuntimeException("cannot start a container that has stopped");
        if (status != ContainerStatus.Created) throw new RuntimeException($"cannot start an already {status} container");

        // The pidfd first: opening the fifo releases the init, which may exec and exit at once.
        using var pidFd = OpenPidFd(record) ?? throw new RuntimeException("cannot start a container that has stopped");
        using var fifo = SafeFd.Check(Libc.open(dir.ExecFifo, OpenFlags.O_RDONLY | OpenFlags.O_NONBLOCK | OpenFlags.O_CLOEXEC), $"open {dir.ExecFifo}");
        Span<PollFd> fds = stackalloc PollFd[2];
        fds[0] = new PollFd { Fd = fifo.Fd, Events = PollFd.POLLIN };
        fds[1] = new PollFd { Fd = pidFd.Fd, Events = PollFd.POLLIN };
        Libc.Poll(fds, -1);
        Span<byte> one = stackalloc byte[1];
        if ((fds[0].REvents & PollFd.POLLIN) == 0 || Libc.ReadSome(fifo.Fd, one, "exec fifo") != 1)
            throw new RuntimeException("container init exited before start");
        File.Delete(dir.ExecFifo);
        // poststart runs after the user process: wait for EOF on the fifo, whose write end the init holds close-on-exec
        // (so startContainer hooks have run too), or for the init to die.
        while (true)
        {
            fds[0] = new PollFd { Fd = fifo.Fd, Events = PollFd.POLLIN };
            fds[1] = new PollFd { Fd = pidFd.Fd, Events = PollFd.POLLIN };
            Libc.Poll(fds, -1);
            if ((fds[0].REvents & (PollFd.POLLIN | PollFd.POLLHUP)) != 0 && Libc.ReadSome(fifo.Fd, one, "exec fifo") == 0) break;
            if ((fds[1].REvents & PollFd.POLLIN) != 0) break;
        }
        if (!record.HasRuntimeHooks) return;
        var spec = dir.LoadConfig();
        HookRunner.RunWarnOnly(spec.Hooks, "poststart", HookRunner.StateFor(record.Id, ContainerStatus.Running, record.InitPid, record.Bundle, record.Annotations), _log.Warn);
    }

    /// <summary>state: runc's state JSON of container <paramref name="id"/>.</summary>
    /// <exception cref="ContainerNotFoundException">no such container.</exception>
    public ContainerStateOutput State(string id)
    {
        using var dir = _store.Open(id);
        return StateOutput(dir.Load(), dir.ExecFifo);
    }

    private static ContainerStateOutput StateOutput(ContainerRecord record, string execFifo)
    {
        var status = StatusOf(execFifo, record);
        return new ContainerStateOutput
        {
            OciVersion = SpecVersion,
            Id = record.Id,
            Pid = status == ContainerStatus.Stopped ? 0 : record.InitPid,
            Status = status,
            Bundle = record.Bundle,
            Rootfs = record.Rootfs,
            Created = Rfc3339.Nano(record.Created),
            Annotations = record.Annotations is { Count: > 0 } a ? a : null,
            // runc's state leaves owner empty; list fills it in from the state directory (ListOwner).
            Owner = "",
        };
    }

    /// <summary>Serializes <see cref="State"/> output as runc prints it (2-space indented JSON).</summary>
    public static string FormatState(ContainerStateOutput state) => RuntimeJson.Format(state);

    /// <summary>kill: sends <paramref name="signal"/> to the container's init.</summary>
    /// <exception cref="ContainerNotFoundException">no such container.</exception>
    /// <exception cref="RuntimeException">"container not running" when it has stopped.</exception>
    public void Kill(string id, int signal)
    {
        using var dir = _store.Open(id);
        var record = dir.Load();
        using var pidFd = OpenPidFd(record) ?? throw new RuntimeException("container not running");
        // A frozen init gets SIGKILL only once thawed (cgroup v1): a paused container is thawed for SIGKILL only, as
        // runc does (its state taken before the signal, which may end the init at once on cgroup v2).
        var thaw = signal == Signals.SIGKILL && IsPaused(record);
        if (Libc.pidfd_send_signal(pidFd.Fd, signal) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno == Errno.ESRCH) throw new RuntimeException("container not running");
            throw new RuntimeException(new SyscallException($"send {Signals.Name(signal)} to container init {record.InitPid}", errno).Message);
        }
        if (thaw) ThawForKill(record);
    }

    /// <summary>
    /// delete: removes a stopped container (its state and cgroups). A created container is killed first; a running
    /// one only with <paramref name="force"/>. With <paramref name="force"/> a missing id is not an error.
    /// </summary>
    /// <exception cref="ContainerNotFoundException">no such container (without force).</exception>
    /// <exception cref="RuntimeException">the container runs and <paramref name="force"/> is false.</exception>
    public void Delete(string id, bool force)
    {
        ContainerDirectory dir;
        try
        {
            dir = _store.Open(id, incomplete: force);
        }
        catch (ContainerNotFoundException) when (force)
        {
            return;
        }
        using (dir)
        {
            ContainerRecord record;
            var recovered = false;
            try
            {
                record = dir.Load();
            }
            catch (ContainerNotFoundException) when (force)
            {
                // A create killed before its first record: nothing but the directory exists.
                dir.Remove();
                return;
            }
            catch (DamagedStateException e) when (force)
            {
                _log.Warn($"{e.Message}; removing what can be found of it");
                record = RecoveredRecord(dir);
                recovered = true;
            }
            var status = StatusOf(dir, record);
            if (status is ContainerStatus.Running or ContainerStatus.Paused && !force)
                throw new RuntimeException($"cannot delete container {id} that is not stopped: {status}");
            if (recovered && status != ContainerStatus.Stopped) WarnIfCgroupsLost(record);
            if (status != ContainerStatus.Stopped) KillCgroupForDelete(record, status);
            // Without a pid namespace of its own, killing the init leaves the rest: where no cgroup of the record holds
            // them (none, or only those recovered from the config.json copy, which may not be the container's), they are
            // found through the init (ContainerProcesses).
            if (status != ContainerStatus.Stopped && !record.OwnPidNamespace && (record.Cgroup is null || recovered))
            {
                var killed = ContainerProcesses.KillAll(record.InitPid, record.InitStartTime, OwnMountNamespace(record));
                if (_log.IsDebug) _log.Debug($"container {id}: {killed} process(es) killed through the init {record.InitPid}");
            }
            if (status != ContainerStatus.Stopped) KillAndWait(record);
            Destroy(dir, record);
        }
    }

    /// <summary>
    /// delete --force of a damaged container whose init lives while none of the cgroups recovered for it exists (the
    /// config.json copy gone or damaged, and a cgroupsPath that is not the id's default): one warning naming the
    /// init's cgroups (/proc/&lt;pid&gt;/cgroup), which are left: that the init is in them now does not make them the
    /// container's to remove.
    /// </summary>
    private void WarnIfCgroupsLost(ContainerRecord record)
    {
        if (CgroupOf(record) is not { } cgroup) return;
        foreach (var dir in cgroup.Paths.Values)
        {
            if (Directory.Exists(dir)) return;
        }
        string? text;
        try
        {
            text = Libc.TryReadFileText($"/proc/{record.InitPid.ToString(CultureInfo.InvariantCulture)}/cgroup", out _);
        }
        catch (IOException)
        {
            return;
        }
        if (text is null) return;
        var paths = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            // "ID:CONTROLLERS:PATH"
            var second = line.IndexOf(':', line.IndexOf(':', StringComparison.Ordinal) + 1);
            if (second > 0) paths.Add(line[(second + 1)..]);
        }
        _log.Warn($"container {record.Id}: its cgroups were not found (not at {cgroup.Path}); its init {record.InitPid} is in {string.Join(", ", paths)}: left as they are");
    }

    /// <summary>Whether the container made its own mount namespace (its path in the record is the init's, not one it joined).</summary>
    private static bool OwnMountNamespace(ContainerRecord record) =>
        record.NamespacePaths?.GetValueOrDefault(NamespaceType.Mount) is { } path
        && path == $"/proc/{record.InitPid.ToString(CultureInfo.InvariantCulture)}/ns/mnt";

    /// <summary>
    /// What delete --force knows of a container whose state.json is damaged: its id; its init from the init mark
    /// (ContainerDirectory.SaveInitMark: pid and start time, so a reused pid is not taken for it); its namespaces from the
    /// config.json copy (whether killing the init ends the rest, or they are to be found through it: ContainerProcesses);
    /// and its cgroups from that copy (or the id's default cgroupsPath when that is gone too), the container's own
    /// directories counted as created. Without the mark (a container made by an older ocirun) the processes are found
    /// through the cgroups only.
    /// </summary>
    private ContainerRecord RecoveredRecord(ContainerDirectory dir)
    {
        var record = new ContainerRecord { Id = dir.Id };
        if (dir.LoadInitMark() is { } mark)
        {
            record.InitPid = mark.Pid;
            record.InitStartTime = mark.StartTime;
        }
        else
        {
            _log.Debug($"container {dir.Id}: no init mark {dir.InitMarkFile}: its processes are found through its cgroups only");
        }
        string? cgroupsPath = null;
        try
        {
            if (File.Exists(dir.ConfigFile))
            {
                var linux = dir.LoadConfig().Linux;
                cgroupsPath = linux?.CgroupsPath;
                var namespaces = linux?.Namespaces ?? [];
                record.OwnPidNamespace = NamespaceType.IsNew(namespaces, NamespaceType.Pid);
                if (record.InitPid > 0) record.NamespacePaths = NamespacePathsOf(namespaces, record.InitPid);
            }
        }
        catch (SpecException e)
        {
            _log.Debug($"container {dir.Id}: {e.Message}");
        }
        record.CgroupsPath = cgroupsPath;
        if (Rootless) return record;
        try
        {
            record.Cgroup = CgroupPlan.Recovered(CgroupManagerFactory.Create(dir.Id, cgroupsPath));
        }
        catch (CgroupException e)
        {
            _log.Debug($"container {dir.Id}: {e.Message}");
        }
        return record;
    }

    /// <summary>
    /// run: create + start. In the foreground it forwards signals to the init, waits for it, deletes the container
    /// (unless keep) and returns the init's status (exit code, or 128 + signal). With detach it returns 0 once started.
    /// </summary>
    public int Run(RunOptions options)
    {
        if (!options.NoSubreaper && !options.Detach) _ = Libc.prctl(Prctl.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        var created = CreateCore(options.Create);
        // Forwarding starts before the container does (after the clone, as the hard rule wants), as runc's run does: a
        // signal sent as soon as the container's process runs must reach it, not end this process with its default
        // action while the container lives on.
        var forwarder = options.Detach ? null : SignalForwarder.Start(created.Init.PidFd);
        try
        {
            StartLocked(created.Directory, created.Record);
        }
        catch
        {
            forwarder?.Dispose();
            created.Init.KillAndReap();
            if (created.Cgroup is not { } cgroup || TryDestroy(cgroup)) created.Directory.Remove();
            created.Dispose();
            throw;
        }
        var id = options.Create.Id;
        var pid = created.Init.Pid;
        created.Directory.Dispose(); // let state/kill from other processes in
        if (options.Detach)
        {
            created.Dispose();
            return 0;
        }

        WaitStatus status;
        var relay = created.ConsoleMaster is { } master ? TerminalRelay.Start(master) : null;
        using (forwarder)
        {
            status = WaitForInit(pid);
        }
        relay?.Dispose();
        created.Dispose();
        if (!options.Keep)
        {
            try
            {
                Delete(id, force: true);
            }
            catch (Exception e) when (e is RuntimeException or IOException)
            {
                _log.Warn($"delete {id} after run: {e.Message}");
            }
        }
        return status.ShellStatus;
    }

    private static WaitStatus WaitForInit(int pid)
    {
        // As a subreaper we also inherit the container's orphans when its pid namespace ends: reap them all,
        // or the init could not finish exiting.
        while (true)
        {
            var reaped = Libc.ReapAny(out var status);
            if (reaped == pid) return status;
            if (reaped == -1) return Libc.WaitPid(pid);
        }
    }

    /// <summary>created | running | stopped, from the init's liveness and the exec fifo (runtime.md#state).</summary>
    internal static string StatusOf(ContainerDirectory dir, ContainerRecord record) => StatusOf(dir.ExecFifo, record);

    private static string StatusOf(string execFifo, ContainerRecord record)
    {
        if (!ProcStat.IsAlive(record.InitPid, record.InitStartTime)) return ContainerStatus.Stopped;
        return File.Exists(execFifo) ? ContainerStatus.Created : IsPaused(record) ? ContainerStatus.Paused : ContainerStatus.Running;
    }

    /// <summary>A pidfd of the recorded init, or null when that process is gone (or the pid now belongs to another).</summary>
    private static SafeFd? OpenPidFd(ContainerRecord record)
    {
        var fd = Libc.pidfd_open(record.InitPid);
        if (fd < 0) return null;
        var pidFd = new SafeFd(fd);
        // Checked after opening: the pidfd now pins this exact process, so the start time proves it is ours.
        if (!ProcStat.IsAlive(record.InitPid, record.InitStartTime))
        {
            pidFd.Dispose();
            return null;
        }
        return pidFd;
    }

    private void KillAndWait(ContainerRecord record)
    {
        using var pidFd = OpenPidFd(record);
        if (pidFd is null) return;
        _ = Libc.pidfd_send_signal(pidFd.Fd, Signals.SIGKILL);
        Span<PollFd> fds = stackalloc PollFd[1];
        fds[0] = new PollFd { Fd = pidFd.Fd, Events = PollFd.POLLIN };
        if (Libc.Poll(fds, 10_000) == 0)
            throw new RuntimeException($"container init {record.InitPid} did not exit within 10 s of SIGKILL");
        _log.Debug($"container {record.Id}: init {record.InitPid} killed");
    }

    private void Destroy(ContainerDirectory dir, ContainerRecord record)
    {
        Spec.Spec? spec = null;
        if (record.HasRuntimeHooks)
        {
            try { spec = dir.LoadConfig(); } catch (SpecException e) { _log.Warn($"container {record.Id}: {e.Message}"); }
        }
        if (CgroupOf(record) is { } cgroup)
        {
            try
            {
                cgroup.Destroy();
            }
            catch (IOException e)
            {
                // Every hierarchy was tried; the state stays, naming what is left, for another delete to finish.
                record.Cgroup = cgroup.State;
                dir.Save(record);
                throw new RuntimeException($"delete {record.Id}: cgroups left: {e.Message}", e);
            }
        }
        dir.Remove();
        if (spec?.Hooks is { } hooks)
            HookRunner.RunWarnOnly(hooks, "poststop", HookRunner.StateFor(record.Id, ContainerStatus.Stopped, 0, record.Bundle, record.Annotations), _log.Warn);
    }

    /// <summary>Removes a failed create's cgroups on every hierarchy; false (after a warning naming them) when some are left.</summary>
    private bool TryDestroy(ICgroupManager cgroup)
    {
        try
        {
            cgroup.Destroy();
            return true;
        }
        catch (IOException e)
        {
            _log.Warn($"remove cgroup {cgroup.Path}: {e.Message}");
            return false;
        }
    }

    /// <summary>--preserve-fds counts descriptors: a negative count is refused (runc's flag is unsigned).</summary>
    private static void CheckPreserveFds(int count)
    {
        if (count < 0) throw new RuntimeException(string.Create(CultureInfo.InvariantCulture, $"--preserve-fds: must not be negative (got {count})"));
    }

    /// <summary>
    /// Refuses a config.json that is a FIFO, a device or a socket before it is opened: opening a FIFO would block until a
    /// writer comes, reading a device has no end. A missing file or a directory is left to the parser's own message.
    /// </summary>
    private static unsafe void RequireRegularFile(string path, string bundle)
    {
        byte* buf = stackalloc byte[RawSys.StatSize];
        var bytes = Encoding.UTF8.GetBytes(path + "\0");
        int rc;
        fixed (byte* p = bytes) rc = RawSys.Fstatat(OpenFlags.AT_FDCWD, p, buf, 0);
        if (rc != 0) return;
        var type = *(uint*)(buf + RawSys.StatModeOffset) & Libc.S_IFMT;
        var what = type switch
        {
            0x8000 or Libc.S_IFDIR => null, // regular file; a directory gets the parser's message
            0x1000 => "a FIFO",
            Libc.S_IFCHR => "a character device",
            0x6000 => "a block device",
            0xC000 => "a socket",
            _ => "not a regular file",
        };
        if (what is not null) throw new SpecException(SpecSerializer.ConfigFileName, null, $"is {what}, not a regular file (in bundle {bundle})");
    }

    private static string ResolveRootfs(string bundle, Spec.Spec spec)
    {
        var path = spec.Root?.Path is { Length: > 0 } p ? p : "rootfs";
        var full = Path.GetFullPath(Path.Combine(bundle, path));
        if (!Directory.Exists(full)) throw new RuntimeException($"config.json: root.path: rootfs {full} does not exist or is not a directory");
        // The init pivots into this path: resolve symlinks now, on the host side.
        return Libc.RealPath(full);
    }

    /// <summary>state.json's namespace paths: each listed namespace by its path, or the init's for the new ones.</summary>
    private static Dictionary<string, string> NamespacePathsOf(List<LinuxNamespace> namespaces, int initPid)
    {
        var paths = new Dictionary<string, string>(namespaces.Count);
        foreach (var n in namespaces) paths.Add(n.Type, string.IsNullOrEmpty(n.Path) ? $"/proc/{initPid}/ns/{NsFile(n.Type)}" : n.Path);
        return paths;
    }

    private static string NsFile(string type) => type switch
    {
        "network" => "net",
        "mount" => "mnt",
        _ => type,
    };

    private static string OwnerName()
    {
        var uid = Libc.geteuid();
        return uid == 0 ? "" : uid.ToString(CultureInfo.InvariantCulture);
    }

    private static void SendPidFd(string socketPath, InitProcess process)
    {
        using var socket = Libc.ConnectUnix(socketPath);
        Libc.SendFd(socket.Fd, process.PidFd.Fd, "pidfd");
    }

    private static void WritePidFile(string path, int pid)
    {
        var full = Path.GetFullPath(path);
        var tmp = Path.Combine(Path.GetDirectoryName(full)!, "." + Path.GetFileName(full) + ".tmp");
        using (var stream = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.None))
        {
            // 0644 whatever the caller's umask (runc's mode under the usual umask 022).
            File.SetUnixFileMode(stream.SafeFileHandle, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            stream.Write(Encoding.ASCII.GetBytes(pid.ToString(CultureInfo.InvariantCulture)));
        }
        File.Move(tmp, full, overwrite: true);
    }

    /// <summary>
    /// The create's record, saved again once the init exists (its pid and start time, for delete to find it), and the
    /// init mark beside it (ContainerDirectory.SaveInitMark: what delete --force finds the init by when state.json is damaged).
    /// </summary>
    private sealed class CreateJournal(ContainerDirectory dir, ContainerRecord record)
    {
        public void InitStarted(InitProcess init)
        {
            record.InitPid = init.Pid;
            record.InitStartTime = ProcStat.Read(init.Pid)?.StartTime ?? 0;
            dir.Save(record);
            dir.SaveInitMark(record.InitPid, record.InitStartTime);
        }
    }

    private sealed class CreatedContainer(ContainerDirectory directory, ContainerRecord record, InitProcess init, ICgroupManager? cgroup, SafeFd? consoleMaster) : IDisposable
    {
        public SafeFd? ConsoleMaster { get; } = consoleMaster;
        public ContainerDirectory Directory { get; } = directory;
        public ContainerRecord Record { get; } = record;
        public InitProcess Init { get; } = init;
        public ICgroupManager? Cgroup { get; } = cgroup;

        public void Dispose()
        {
            Init.Dispose();
            Directory.Dispose();
            ConsoleMaster?.Dispose();
        }
    }
}
