using System.Runtime.InteropServices;
using OciRuntime.Interop;
using OciRuntime.Runtime.Init;
using OciRuntime.Runtime.Lifecycle;
using OciRuntime.Spec;

namespace OciRuntime.Runtime.ProcessModel;

/// <summary>
/// <c>create</c> without an <c>ocirun init</c> (docs/process-model.md, "create: the direct path"). The container's
/// first process is the cloned one-thread copy of the runtime, and it never starts a second .NET runtime: the runtime
/// builds the container's mounts itself, on a thread of its own that has entered the child's mount, uts, ipc and network
/// namespaces (<see cref="NamespaceThread"/>: setns of a mount namespace needs a thread with a private fs_struct, which
/// unshare(CLONE_FS) gives it), while the child waits; then it sends the child the last orders (the network namespace
/// and cgroup join fds, the seccomp program) and the child finishes with raw syscalls only: pivot_root, keyring,
/// rlimits, cgroups, user and capabilities, cwd, the PATH lookup, Ready, the exec fifo, seccomp and execve
/// (<see cref="DirectExec.RunInChild"/> with a <see cref="Stage"/>).
/// </summary>
/// <remarks>
/// A procfs instance belongs to the pid namespace of the process that opened its fs context: the child opens one per
/// proc mount (fsopen) and sends them to the runtime before it waits, and the runtime's thread creates and attaches them
/// in config order. What this path cannot express (<see cref="WhyNot"/>) goes through <c>ocirun init</c>.
/// </remarks>
internal static unsafe class DirectCreate
{
    /// <summary>The payload of the Go frame after its 8-byte header: netns flag, seccomp flags, program bytes (u32 each).</summary>
    private const int GoHeader = 12;

    /// <summary>The largest seccomp program the kernel loads (BPF_MAXINSNS × sizeof(struct sock_filter)).</summary>
    private const int MaxProgram = 4096 * 8;

    private const int MaxFds = 64;

    /// <summary>The create-only part of a <see cref="DirectExec.Plan"/>: blittable, pointers into native memory.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct Stage
    {
        public int SyncFd;
        public int FifoFd;
        public int ProcFdDir;
        public int ProcContexts;
        public int UnshareCgroupNs;
        public int TrampolineFd;
        public int NetNsFd;
        public int ReopenDevNull;
        public byte* Rootfs;
        public byte* Slash;
        public byte* Dot;
        public byte* ProcName;
        public byte* ProcSelfFd;
        public byte* KeyringName;
        public ulong FinalPropagation;
        public long NrPivotRoot, NrKeyctl, NrFsopen;
        public byte* Buffer;
        public int BufferSize;
        public byte* Control;
        public int ControlSize;
        public byte** ErrnoText;
        public int ErrnoCount;
        public byte* SeccompText, CapsetText, ExecText;
    }

    /// <summary>Sub-steps of the pivot_root sequence (the index of a <see cref="DirectExec.Step.Pivot"/> failure).</summary>
    internal enum PivotStep { OpenOldRoot, OpenNewRoot, ChdirNewRoot, PivotRoot, ChdirOldRoot, SlaveOldRoot, UnmountOldRoot, ChdirSlash }

    /// <summary>
    /// Why this container needs <c>ocirun init</c>, or null when the direct path applies. <c>OCIRUN_INIT=1</c> forces the
    /// init, <c>OCIRUN_DIRECT=1</c> the direct path (<see cref="PathSwitch"/>).
    /// </summary>
    /// <exception cref="RuntimeException">OCIRUN_DIRECT=1 and the direct path cannot take this container, or both switches.</exception>
    public static string? WhyNot(Spec.Spec spec, bool noPivot, bool consoleSocket, bool seccompListener, bool idmapped, bool rootless) =>
        PathSwitch.Apply(Reason(spec, noPivot, consoleSocket, seccompListener, idmapped, rootless), "create");

    private static string? Reason(Spec.Spec spec, bool noPivot, bool consoleSocket, bool seccompListener, bool idmapped, bool rootless)
    {
        if (consoleSocket) return "a terminal";
        if (DirectExec.WhyNotInPlan(spec, seccompListener) is { } why) return why;
        if (spec.Linux?.MountLabel is not null) return "an LSM label";
        if (rootless) return "a rootless runtime";
        if (idmapped) return "idmapped mounts";
        if (noPivot) return "--no-pivot";
        var namespaces = spec.Linux?.Namespaces ?? [];
        if (NamespaceType.Has(namespaces, NamespaceType.User) || NamespaceType.Has(namespaces, NamespaceType.Time)) return "a user or time namespace";
        if (!NamespaceType.IsNew(namespaces, NamespaceType.Mount)) return "no new mount namespace";
        if (HookRunner.Of(spec.Hooks, "createContainer").Count + HookRunner.Of(spec.Hooks, "startContainer").Count > 0)
            return "createContainer or startContainer hooks";
        foreach (var m in spec.Mounts ?? [])
        {
            if (m.Type != "proc") continue;
            var parsed = MountOptions.Parse(m.Options);
            if (parsed.IsBind) continue;
            if (parsed.Data is not null || parsed.CopyUp || (parsed.Flags & ~(MountFlags.ReadOnly | MountFlags.NoSuid | MountFlags.NoDev | MountFlags.NoExec | MountFlags.RelAtime)) != 0)
                return "a proc mount with options the mount API path does not take";
        }
        if (UserHome.IsMissing(spec.Process!.Env) && (spec.Mounts ?? []).Exists(m => SecurePath.Clean(m.Destination) is "/etc" or "/etc/passwd"))
            return "HOME from an /etc/passwd mounted by config.json";
        if (Libc.FsType("/") == FsMagic.Ramfs) return "a ramfs root (no pivot_root)";
        return null;
    }

    /// <summary>How many proc mounts the child opens an fs context for (config order).</summary>
    public static int ProcMountCount(Spec.Spec spec) =>
        (spec.Mounts ?? []).FindAll(m => m.Type == "proc" && !MountOptions.Parse(m.Options).IsBind).Count;

    /// <summary>Adds the create stage to <paramref name="plan"/>.</summary>
    /// <param name="plan">The exec plan of process (built with the seccomp program to come later).</param>
    /// <param name="spec">The container's config.</param>
    /// <param name="id">The container id (keyring name).</param>
    /// <param name="rootfs">The rootfs (host path).</param>
    /// <param name="fifoFd">The O_PATH fd of exec.fifo.</param>
    /// <param name="preserveFds">fds 3 … 3+N-1 kept.</param>
    /// <param name="noNewKeyring">--no-new-keyring.</param>
    public static void AddStage(DirectExec plan, Spec.Spec spec, string id, string rootfs, int fifoFd, int preserveFds, bool noNewKeyring)
    {
        var s = (Stage*)plan.Alloc(sizeof(Stage));
        s->SyncFd = -1; // the child's end of the sync socket: set by InitLauncher.Launch
        s->FifoFd = fifoFd;
        s->ProcFdDir = -1;
        s->ProcContexts = ProcMountCount(spec);
        s->UnshareCgroupNs = NamespaceType.IsNew(spec.Linux?.Namespaces, NamespaceType.Cgroup) ? 1 : 0;
        s->TrampolineFd = plan.Native->TrampolineFd;
        s->NetNsFd = -1;
        s->ReopenDevNull = RootfsSetup.NeedsDevSetup(spec) ? 1 : 0;
        s->Rootfs = plan.Utf8(rootfs);
        s->Slash = plan.Utf8("/");
        s->Dot = plan.Utf8(".");
        s->ProcName = plan.Utf8("proc");
        s->ProcSelfFd = plan.Utf8("/proc/self/fd");
        s->KeyringName = noNewKeyring ? null : plan.Utf8("_ses." + id);
        s->FinalPropagation = (ulong)RootfsSetup.FinalPropagationOf(spec);
        s->NrPivotRoot = SyscallNumbers.PivotRoot;
        s->NrKeyctl = SyscallNumbers.Keyctl;
        s->NrFsopen = 430;
        s->BufferSize = 8 + GoHeader + MaxProgram;
        s->Buffer = (byte*)plan.Alloc(s->BufferSize);
        s->ControlSize = 16 + MaxFds * sizeof(int);
        s->Control = (byte*)plan.Alloc(s->ControlSize);
        // strerror of what the late steps (seccomp, capset, execveat) can fail with; others print as "error".
        s->ErrnoCount = 41;
        var texts = new List<string>(s->ErrnoCount);
        for (var i = 0; i < s->ErrnoCount; i++) texts.Add(i is 1 or 2 or 7 or 8 or 9 or 12 or 13 or 14 or 22 or 26 or 38 or 40 ? Libc.StrError(i) : "error");
        s->ErrnoText = plan.Strings(texts);
        s->SeccompText = plan.Utf8("ocirun: load the seccomp filter: ");
        s->CapsetText = plan.Utf8("ocirun: capset: ");
        s->ExecText = plan.Utf8("exec "); // runc's line for a failed execve (os.PathError), no prefix
        plan.Native->Create = s;
    }

    /// <summary>The Cgroups frame: the cgroup join fds (SCM_RIGHTS), sent as soon as the cgroups exist.</summary>
    public static void SendCgroups(SyncChannel channel, IReadOnlyList<SafeFd> cgroupFds)
    {
        if (cgroupFds.Count > Math.Min(MaxFds, UnixSocket.MaxFds)) throw new InitException($"too many cgroup hierarchies to join ({cgroupFds.Count})");
        Span<int> fds = stackalloc int[cgroupFds.Count];
        for (var i = 0; i < fds.Length; i++) fds[i] = cgroupFds[i].Fd;
        channel.Send(SyncMessage.Cgroups, [], fds);
    }

    /// <summary>The Go frame: the network namespace fd (or none) as SCM_RIGHTS, the seccomp program in the payload.</summary>
    /// <summary>
    /// The network namespace the builder made (null: none, or clone3 makes it): the child joins it first thing, so that it
    /// is in every namespace of the container before the prestart and createRuntime hooks (which read /proc/PID/ns/net of
    /// the state's pid, as Docker's libnetwork-setkey does). The fd must stay open until the clone.
    /// </summary>
    public static void UseNetNamespace(DirectExec plan, SafeFd? netns) => plan.Native->Create->NetNsFd = netns?.Fd ?? -1;

    /// <summary>
    /// Waits for the child's <see cref="SyncMessage.CgroupsJoined"/>: from then on it is in all its namespaces and its
    /// cgroups, and the hooks may run.
    /// </summary>
    /// <exception cref="RuntimeException">the child failed (the reason of its ChildFailed frame) or exited.</exception>
    public static void AwaitCgroupsJoined(InitProcess init, LaunchRequest request)
    {
        if (!init.Channel.TryReceive(out var type, out var payload))
            throw new RuntimeException("container init exited before the container was ready");
        if (type == SyncMessage.ChildFailed) throw new RuntimeException(InitLauncher.DescribeChildFailure(request, payload));
        if (type != SyncMessage.CgroupsJoined) throw new RuntimeException($"container init sent an unexpected message {type}");
    }

    public static void SendGo(SyncChannel channel, SafeFd? netns, byte[]? program, uint seccompFlags)
    {
        if (program is { Length: > MaxProgram }) throw new InitException($"linux.seccomp: the compiled filter has {program.Length / 8} instructions, more than the kernel's 4096");
        var payload = new byte[GoHeader + (program?.Length ?? 0)];
        BitConverter.TryWriteBytes(payload.AsSpan(0), netns is null ? 0 : 1);
        BitConverter.TryWriteBytes(payload.AsSpan(4), seccompFlags);
        BitConverter.TryWriteBytes(payload.AsSpan(8), program?.Length ?? 0);
        program?.CopyTo(payload, GoHeader);
        Span<int> fds = stackalloc int[1];
        if (netns is not null) fds[0] = netns.Fd;
        channel.Send(SyncMessage.Go, payload, netns is null ? [] : fds);
    }

    /// <summary>
    /// The runtime thread that builds the rootfs inside the container's namespaces (docs/process-model.md, "create: the
    /// direct path"). It is started before the clone, with its own fs_struct (unshare CLONE_FS, which setns of a mount
    /// namespace requires) and, when the container gets a new network namespace without a user namespace, makes that
    /// namespace for itself (unshare CLONE_NEWNET; the fd is kept for the child). Then it parks: blocked in read(2) inside
    /// a P/Invoke (GC-preemptive, no runtime lock held, nothing allocated) until <see cref="Go"/> sends the child's pid, so
    /// no other managed thread runs at clone time. It then enters the child's uts, ipc and mount namespaces (or the
    /// paths the child joins) and runs its work; umask 0, as the init's while it builds the rootfs.
    /// </summary>
    internal sealed unsafe class NamespaceThread : IDisposable
    {
        private readonly (SafeFd Read, SafeFd Write) _parked = Libc.Pipe();
        private readonly (SafeFd Read, SafeFd Write) _go = Libc.Pipe();
        private readonly NativeThread _thread;
        private int _pid;
        private IReadOnlyList<NamespaceJoin> _joins = [];
        private SafeFd? _enterNet;
        private Action? _first;
        private Action<NamespaceThread>? _work;
        private Exception? _setupFailure;

        private NamespaceThread(bool makeNet) => _thread = NativeThread.Start(() => Body(makeNet));

        /// <summary>The network namespace the thread made (its own; the caller passes it to the child; closed by <see cref="Dispose"/>), or null.</summary>
        public SafeFd? NetNamespace { get; private set; }

        /// <summary>Starts the thread; it prepares itself and parks (<see cref="WaitParked"/>).</summary>
        /// <param name="makeNet">Make a new network namespace on the thread (see the class remarks).</param>
        public static NamespaceThread Start(bool makeNet) => new(makeNet);

        /// <summary>Blocks until the thread is parked, before the clone.</summary>
        /// <exception cref="Exception">what the thread's set-up threw (SyscallException: it could not make the network namespace or unshare CLONE_FS).</exception>
        public void WaitParked()
        {
            byte b;
            _ = Libc.read(_parked.Read.Fd, &b, 1);
            if (_setupFailure is not { } e) return;
            Dispose();
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e);
        }

        /// <summary>
        /// Releases the parked thread into <paramref name="pid"/>'s namespaces: <paramref name="first"/> runs before it
        /// enters them, <paramref name="work"/> inside. <paramref name="enterNet"/>: a network namespace to enter
        /// (instead of the child's, when the thread did not make it).
        /// </summary>
        public void Go(int pid, IReadOnlyList<NamespaceJoin> joins, Action? first, Action<NamespaceThread> work, SafeFd? enterNet = null)
        {
            _pid = pid;
            _joins = joins;
            _first = first;
            _work = work;
            _enterNet = enterNet;
            var n = pid;
            Libc.WriteAll(_go.Write.Fd, new ReadOnlySpan<byte>(&n, sizeof(int)), "namespace thread");
        }

        /// <summary>Waits until the thread has ended and rethrows what its work threw.</summary>
        public void Join()
        {
            _go.Write.Dispose(); // a thread never released reads EOF and ends
            _thread.Join();
        }

        private void Body(bool makeNet)
        {
            try
            {
                Libc.Check(Libc.unshare((int)CloneFlags.Fs), "unshare(CLONE_FS)");
                if (makeNet)
                {
                    Libc.Check(Libc.unshare((int)CloneFlags.NewNet), "create the network namespace (unshare CLONE_NEWNET)");
                    NetNamespace = SafeFd.Check(Libc.open("/proc/thread-self/ns/net", OpenFlags.O_RDONLY | OpenFlags.O_CLOEXEC), "open the new network namespace");
                }
            }
            catch (Exception e)
            {
                _setupFailure = e; // rethrown by WaitParked, which must return in any case
            }
            byte parked = 1;
            int pid;
            _ = Libc.write(_parked.Write.Fd, &parked, 1);
            // Parked: the next call blocks in the kernel until Go (or EOF: released without work).
            if (Libc.read(_go.Read.Fd, (byte*)&pid, sizeof(int)) != sizeof(int) || _setupFailure is not null) return;
            _first?.Invoke();
            // The child's namespaces by /proc/PID/ns (made at its birth), or the paths it joins itself.
            foreach (var (type, file, flag) in new[] { ("network", "net", CloneFlags.NewNet), ("uts", "uts", CloneFlags.NewUts), ("ipc", "ipc", CloneFlags.NewIpc), ("mount", "mnt", CloneFlags.NewNs) })
            {
                if (type == "network" && NetNamespace is not null) continue; // already in it
                if (type == "network" && _enterNet is not null)
                {
                    Libc.Check(Libc.setns(_enterNet.Fd, (int)flag), "enter the container's network namespace");
                    continue;
                }
                var path = InitLauncher.JoinPath(_joins, type) ?? $"/proc/{_pid}/ns/{file}";
                using var fd = SafeFd.Check(Libc.open(path, OpenFlags.O_RDONLY | OpenFlags.O_CLOEXEC), $"open {type} namespace {path}");
                Libc.Check(Libc.setns(fd.Fd, (int)flag), $"enter the container's {type} namespace");
            }
            _ = Libc.umask(0);
            _work!(this);
        }

        /// <summary>Ends a thread never released (it reads EOF), joins it, and closes the network namespace fd.</summary>
        public void Dispose()
        {
            _go.Write.Dispose();
            _thread.Dispose();
            NetNamespace?.Dispose();
            _parked.Read.Dispose();
            _parked.Write.Dispose();
            _go.Read.Dispose();
        }
    }


    // ───────────────────────────── in the child: raw syscalls only ─────────────────────────────

    /// <summary>
    /// The child's part before its process attributes: signal handlers, fds, proc fs contexts for the runtime, the Go
    /// frame, the network namespace, pivot_root, the final propagation of / and the session keyring.
    /// </summary>
    internal static void Prepare(DirectExec.Plan* p, Stage* s, int errorFd)
    {
        // The copied runtime's signal handlers must never run here (the trampoline installs its own for the wait).
        RawSys.ResetHandlers(p->NrRtSigaction, p->NrRtSigprocmask);
        // If the runtime dies before the container is ready, so does this process (ContainerInit does the same).
        _ = RawSys.Prctl(Prctl.PR_SET_PDEATHSIG, Signals.SIGKILL, 0, 0, 0);
        // The network namespace the runtime's builder thread made: entered before anything else (UseNetNamespace).
        if (s->NetNsFd >= 0 && RawSys.Setns(s->NetNsFd, (int)CloneFlags.NewNet) != 0) DirectExec.Fail(errorFd, DirectExec.Step.JoinNet, 0);
        // Nothing of the runtime's stays open (its state directory lock above all): only stdio, the preserved fds, the
        // sync socket and the exec fifo.
        CloseAllBut((uint)(3 + p->PreserveFds), s->SyncFd, s->FifoFd, s->TrampolineFd);

        // Always sent, with no fds when there is no proc mount: the runtime's thread starts its work on it, so that a failed
        // namespace join (a ChildFailed frame instead) is reported as such.
        var fds = stackalloc int[Math.Max(1, s->ProcContexts)];
        for (var i = 0; i < s->ProcContexts; i++)
        {
            fds[i] = (int)RawSys.Syscall(s->NrFsopen, (nint)s->ProcName, (nint)Libc.FSOPEN_CLOEXEC, 0);
            if (fds[i] < 0) DirectExec.Fail(errorFd, DirectExec.Step.ProcContext, i);
        }
        if (!SendFds(errorFd, SyncMessage.ProcContexts, fds, s->ProcContexts, s->Control)) RawSys.Exit(1);
        for (var i = 0; i < s->ProcContexts; i++) _ = RawSys.Close(fds[i]);

        // The cgroups, joined as soon as the runtime has made them (the rootfs is still being built meanwhile): this copy
        // does little from here on, nothing of the runtime's start-up is charged to the container.
        var cgroupFds = (int*)(s->Control + 16);
        var cgroupCount = ReceiveFrame(s, errorFd, SyncMessage.Cgroups);
        byte zero = (byte)'0';
        for (var i = 0; i < cgroupCount; i++)
        {
            if (RawSys.Write(cgroupFds[i], &zero, 1) != 1) DirectExec.Fail(errorFd, DirectExec.Step.CgroupJoin, i);
            _ = RawSys.Close(cgroupFds[i]);
        }
        // A cgroup namespace of its own, rooted at the container's cgroups (CgroupJoin).
        if (s->UnshareCgroupNs != 0 && RawSys.Unshare((int)CloneFlags.NewCgroup) != 0) DirectExec.Fail(errorFd, DirectExec.Step.CgroupNamespace, 0);
        // In all its namespaces and cgroups now: the runtime waits for this before the hooks (AwaitCgroupsJoined).
        byte* joined = stackalloc byte[8];
        *(uint*)joined = (uint)SyncMessage.CgroupsJoined;
        *(uint*)(joined + 4) = 0;
        if (RawSys.Write(errorFd, joined, 8) != 8) RawSys.Exit(1);

        ReceiveGo(p, s, errorFd);

        // The host's /proc, before pivot_root: the exec fifo is reopened through it later, never through the container's.
        s->ProcFdDir = RawSys.Open(s->ProcSelfFd, OpenFlags.O_PATH | OpenFlags.O_DIRECTORY | OpenFlags.O_CLOEXEC);
        if (s->ProcFdDir < 0) DirectExec.Fail(errorFd, DirectExec.Step.ProcFd, 0);

        // pivot_root(".", "."): the old root is stacked under the new one, then detached (RootfsSetup.PivotRoot).
        var oldRoot = RawSys.Open(s->Slash, OpenFlags.O_DIRECTORY | OpenFlags.O_RDONLY | OpenFlags.O_CLOEXEC);
        if (oldRoot < 0) PivotFail(errorFd, PivotStep.OpenOldRoot);
        var newRoot = RawSys.Open(s->Rootfs, OpenFlags.O_DIRECTORY | OpenFlags.O_RDONLY | OpenFlags.O_CLOEXEC);
        if (newRoot < 0) PivotFail(errorFd, PivotStep.OpenNewRoot);
        if (RawSys.Fchdir(newRoot) != 0) PivotFail(errorFd, PivotStep.ChdirNewRoot);
        if (RawSys.Syscall(s->NrPivotRoot, (nint)s->Dot, (nint)s->Dot, 0) != 0) PivotFail(errorFd, PivotStep.PivotRoot);
        if (RawSys.Fchdir(oldRoot) != 0) PivotFail(errorFd, PivotStep.ChdirOldRoot);
        if (RawSys.Mount(null, s->Dot, null, (nuint)(MountFlags.Slave | MountFlags.Rec), null) != 0) PivotFail(errorFd, PivotStep.SlaveOldRoot);
        if (RawSys.Umount2(s->Dot, Libc.MNT_DETACH) != 0) PivotFail(errorFd, PivotStep.UnmountOldRoot);
        if (RawSys.Chdir(s->Slash) != 0) PivotFail(errorFd, PivotStep.ChdirSlash);
        _ = RawSys.Close(oldRoot);
        _ = RawSys.Close(newRoot);
        if (s->ReopenDevNull != 0) ReopenDevNull(p, errorFd);
        if (s->FinalPropagation != 0 && RawSys.Mount(null, s->Slash, null, (nuint)s->FinalPropagation, null) != 0)
            DirectExec.Fail(errorFd, DirectExec.Step.Propagation, 0);

        if (s->KeyringName != null && RawSys.Syscall(s->NrKeyctl, 1 /* KEYCTL_JOIN_SESSION_KEYRING */, (nint)s->KeyringName, 0) < 0)
        {
            var errno = RawSys.ErrnoValue;
            if (errno is not (Errno.ENOSYS or Errno.EPERM or Errno.EACCES)) DirectExec.Fail(errorFd, DirectExec.Step.Keyring, 0, errno);
        }
    }

    /// <summary>
    /// After the PATH lookup: Ready to the runtime, and the sync socket closed; later failures go to stderr
    /// (<see cref="FailLate"/>). The exec trampoline waits for <c>start</c> on the exec fifo.
    /// </summary>
    internal static void Ready(Stage* s, int errorFd)
    {
        // The runtime may exit as soon as it reads Ready: the death signal must be gone before that.
        _ = RawSys.Prctl(Prctl.PR_SET_PDEATHSIG, 0, 0, 0, 0);
        byte* frame = stackalloc byte[8];
        *(uint*)frame = (uint)SyncMessage.Ready;
        *(uint*)(frame + 4) = 0;
        if (RawSys.Write(errorFd, frame, 8) != 8) RawSys.Exit(1);
        _ = RawSys.Close(errorFd);
    }

    /// <summary>A failure after Ready: "PREFIX[PATH: ]strerror" on stderr, then _exit(<paramref name="status"/>).</summary>
    internal static void FailLate(Stage* s, byte* prefix, byte* path, int errno, int status)
    {
        WriteString(2, prefix);
        if (path != null)
        {
            WriteString(2, path);
            byte* colon = stackalloc byte[3] { (byte)':', (byte)' ', 0 };
            WriteString(2, colon);
        }
        if (errno >= 0 && errno < s->ErrnoCount) WriteString(2, s->ErrnoText[errno]);
        byte newline = (byte)'\n';
        _ = RawSys.Write(2, &newline, 1);
        RawSys.Exit(status);
    }

    private static void WriteString(int fd, byte* text)
    {
        nuint n = 0;
        while (text[n] != 0) n++;
        _ = RawSys.Write(fd, text, n);
    }

    // runc's reOpenDevNull (RootfsSetup.ReopenDevNull): fds 0-2 that are a /dev/null (the host's) become the container's.
    private static void ReopenDevNull(DirectExec.Plan* p, int errorFd)
    {
        var devNull = RawSys.Open(p->DevNull, OpenFlags.O_RDWR | OpenFlags.O_CLOEXEC);
        if (devNull < 0) DirectExec.Fail(errorFd, DirectExec.Step.DevNull, 0);
        byte* st = stackalloc byte[RawSys.StatSize];
        if (RawSys.Fstatat(devNull, p->Empty, st, OpenFlags.AT_EMPTY_PATH) != 0) DirectExec.Fail(errorFd, DirectExec.Step.DevNull, 0);
        var nullRdev = *(ulong*)(st + p->StatRdev);
        for (var fd = 0; fd < 3; fd++)
        {
            if (RawSys.Fstatat(fd, p->Empty, st, OpenFlags.AT_EMPTY_PATH) != 0) continue; // closed
            if (!DirectExec.IsCharDevice(p, st, nullRdev)) continue;
            if (RawSys.Dup3(devNull, fd, 0) < 0) DirectExec.Fail(errorFd, DirectExec.Step.DevNull, 1 + fd);
        }
        _ = RawSys.Close(devNull);
    }

    private static void PivotFail(int errorFd, PivotStep step) => DirectExec.Fail(errorFd, DirectExec.Step.Pivot, (int)step);

    // close_range of everything from first on but the three fds to keep.
    private static void CloseAllBut(uint first, int a, int b, int c)
    {
        var keep = stackalloc uint[3] { (uint)a, (uint)b, (uint)c };
        for (var i = 0; i < 2; i++)
        {
            for (var j = 0; j < 2 - i; j++)
            {
                if (keep[j] <= keep[j + 1]) continue;
                (keep[j], keep[j + 1]) = (keep[j + 1], keep[j]);
            }
        }
        var from = first;
        for (var i = 0; i < 3; i++)
        {
            if (keep[i] < from) continue;
            if (keep[i] > from) _ = RawSys.CloseRange(from, keep[i] - 1, 0);
            from = keep[i] + 1;
        }
        _ = RawSys.CloseRange(from, uint.MaxValue, 0);
    }

    private static bool SendFds(int fd, SyncMessage type, int* fds, int count, byte* control)
    {
        byte* header = stackalloc byte[8];
        *(uint*)header = (uint)type;
        *(uint*)(header + 4) = 0;
        var iov = new RawSys.IoVec { Base = header, Length = 8 };
        var length = 16 + (count * sizeof(int));
        *(nuint*)control = (nuint)length; // cmsg_len
        *(int*)(control + 8) = 1; // SOL_SOCKET
        *(int*)(control + 12) = 1; // SCM_RIGHTS
        for (var i = 0; i < count; i++) ((int*)(control + 16))[i] = fds[i];
        var msg = new RawSys.MsgHdr { Iov = &iov, IovLength = 1 };
        if (count > 0)
        {
            msg.Control = control;
            msg.ControlLength = (nuint)((length + 7) & ~7);
        }
        return RawSys.Sendmsg(fd, &msg, 0x4000 /* MSG_NOSIGNAL */) == 8;
    }

    // One frame into the stage's buffer (whole; its fds come with the first bytes, at Control + 16): returns the fd count.
    private static int ReceiveFrame(Stage* s, int errorFd, SyncMessage expected)
    {
        var iov = new RawSys.IoVec { Base = s->Buffer, Length = (nuint)s->BufferSize };
        var msg = new RawSys.MsgHdr { Iov = &iov, IovLength = 1, Control = s->Control, ControlLength = (nuint)s->ControlSize };
        var got = (long)RawSys.Recvmsg(errorFd, &msg, 0x40000000 /* MSG_CMSG_CLOEXEC */);
        if (got <= 0) RawSys.Exit(1); // the runtime gave up
        var fdCount = 0;
        if (msg.ControlLength >= 16 && *(int*)(s->Control + 8) == 1 && *(int*)(s->Control + 12) == 1)
            fdCount = (int)((*(nuint*)s->Control - 16) / sizeof(int));
        while (got < 8 || got < 8 + *(uint*)(s->Buffer + 4))
        {
            if (got >= s->BufferSize) RawSys.Exit(1);
            var n = (long)RawSys.Read(errorFd, s->Buffer + got, (nuint)(s->BufferSize - got));
            if (n <= 0) RawSys.Exit(1);
            got += n;
        }
        if (*(uint*)s->Buffer != (uint)expected) DirectExec.Fail(errorFd, DirectExec.Step.Go, fdCount, Errno.EPROTO);
        return fdCount;
    }

    // The Go frame (SendGo): the network namespace, the seccomp program.
    private static void ReceiveGo(DirectExec.Plan* p, Stage* s, int errorFd)
    {
        var fdCount = ReceiveFrame(s, errorFd, SyncMessage.Go);
        var fds = (int*)(s->Control + 16);
        var payload = s->Buffer + 8;
        var netns = *(int*)payload;
        if (fdCount != netns) DirectExec.Fail(errorFd, DirectExec.Step.Go, fdCount, Errno.EPROTO);
        if (netns != 0)
        {
            if (RawSys.Setns(fds[0], (int)CloneFlags.NewNet) != 0) DirectExec.Fail(errorFd, DirectExec.Step.JoinNet, 0);
            _ = RawSys.Close(fds[0]);
        }
        var programBytes = *(int*)(payload + 8);
        if (programBytes > 0)
        {
            p->HasSeccomp = 1;
            p->SeccompFlags = *(uint*)(payload + 4);
            p->Seccomp = new SockFprog { Len = (ushort)(programBytes / sizeof(SockFilter)), Filter = (SockFilter*)(payload + GoHeader) };
        }
    }

    /// <summary>The one-line error of a failed create-only step (<see cref="DirectExec.Describe"/> for the rest).</summary>
    public static string? Describe(DirectExec.Step step, int errno, int index, string rootfs)
    {
        var error = Libc.StrError(errno);
        return step switch
        {
            DirectExec.Step.ProcContext => $"open a procfs context in the container's pid namespace (fsopen proc): {error}",
            DirectExec.Step.Go => $"container init: bad orders from the runtime ({index} fds): {error}",
            DirectExec.Step.JoinNet => $"join the container's network namespace: {error}",
            DirectExec.Step.ProcFd => $"open /proc/self/fd: {error}",
            DirectExec.Step.Pivot => (PivotStep)index switch
            {
                PivotStep.OpenOldRoot => $"open /: {error}",
                PivotStep.OpenNewRoot => $"open {rootfs}: {error}",
                PivotStep.ChdirNewRoot => $"chdir {rootfs}: {error}",
                PivotStep.PivotRoot => $"pivot_root {rootfs}: {error}",
                PivotStep.ChdirOldRoot => $"chdir to the old root: {error}",
                PivotStep.SlaveOldRoot => $"mount . (slave): {error}",
                PivotStep.UnmountOldRoot => $"unmount the old root: {error}",
                _ => $"chdir /: {error}",
            },
            DirectExec.Step.Propagation => $"config.json: linux.rootfsPropagation: mount /: {error}",
            DirectExec.Step.Keyring => $"join session keyring: {error}",
            DirectExec.Step.DevNull => index == 0 ? $"reopen /dev/null inside the container: open /dev/null: {error}"
                : $"reopen /dev/null inside the container: dup3 onto fd {index - 1}: {error}",
            DirectExec.Step.CgroupNamespace => $"config.json: linux.namespaces: cgroup: unshare(CLONE_NEWCGROUP): {error}",
            _ => null,
        };
    }
}
