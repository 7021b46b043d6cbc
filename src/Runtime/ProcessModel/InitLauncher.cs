using System.Buffers.Binary;
using System.Runtime;
using System.Runtime.InteropServices;
using System.Text;
using OciRuntime.Interop;

namespace OciRuntime.Runtime.ProcessModel;

/// <summary>An existing namespace the new process joins (linux.namespaces[].path).</summary>
/// <param name="Type">runtime-spec namespace type ("network", "ipc", "uts", "mount", "user", "cgroup", "pid").</param>
/// <param name="Path">The namespace file, e.g. /proc/1234/ns/net or a bind mount of one.</param>
public sealed record NamespaceJoin(string Type, string Path);

/// <summary>What to start: namespaces to create and join, the program the child execs, and the fds it keeps.</summary>
public sealed class LaunchRequest
{
    /// <summary>Namespaces the child is born in (CLONE_NEW* flags of clone3).</summary>
    public CloneFlags NewNamespaces { get; init; }

    /// <summary>Existing namespaces the child joins with setns before execve (pid: the parent's thread, see docs/process-model.md).</summary>
    public IReadOnlyList<NamespaceJoin> Joins { get; init; } = [];

    /// <summary>
    /// The program to exec; default /proc/self/exe (ocirun itself). It is opened before the clone and exec'd by fd
    /// (execveat AT_EMPTY_PATH), so nothing is looked up after the child has joined the container's mount namespace.
    /// </summary>
    public string Executable { get; init; } = "/proc/self/exe";

    /// <summary>argv of the exec'd program (argv[0] included).</summary>
    public IReadOnlyList<string> Args { get; init; } = ["ocirun", "init"];

    /// <summary>Extra environment entries (KEY=VALUE) besides <see cref="InitProcess.SyncFdVariable"/>.</summary>
    public IReadOnlyList<string> Environment { get; init; } = [];

    /// <summary>
    /// When the child joins a mount namespace: the fd number at which the exec'd init finds that namespace's root
    /// (see <see cref="InitLauncher"/>); set by <see cref="InitLauncher.Launch"/>, -1 otherwise.
    /// </summary>
    public int NamespaceRootFd { get; internal set; } = -1;

    /// <summary>
    /// Called in the parent right after clone3 with the child's pid, when the child has a new user or time
    /// namespace: it writes the id maps (<see cref="UserNamespace"/>) and the time offsets; the child waits for it
    /// before it execs.
    /// </summary>
    public Action<int>? AfterClone { get; init; }

    /// <summary>fds the child inherits at the same numbers (their close-on-exec flag is cleared for the clone).</summary>
    public IReadOnlyList<SafeFd> InheritedFds { get; init; } = [];

    /// <summary>
    /// exec's direct path: the child runs this plan after its joins and execs the process itself, instead of
    /// exec'ing <see cref="Executable"/> (<see cref="DirectExec"/>). Its sync socket stays close-on-exec, so the
    /// runtime reads EOF at the execve, or a ChildFailed frame.
    /// </summary>
    internal DirectExec? Direct { get; init; }

    /// <summary>
    /// A cgroup2 directory fd the child is born in (clone3 CLONE_INTO_CGROUP, <c>ICgroupManager.CreateBirthCgroup</c>),
    /// or null. <see cref="BornInCgroup"/> says whether the kernel did it (older kernels refuse the flag: the caller joins then).
    /// </summary>
    public SafeFd? IntoCgroup { get; init; }

    /// <summary>Set by <see cref="InitLauncher.Launch"/>: the child was born in <see cref="IntoCgroup"/>.</summary>
    public bool BornInCgroup { get; internal set; }
}

/// <summary>The container init as seen by the runtime: its pid, a pidfd, and the sync channel.</summary>
public sealed class InitProcess : IDisposable
{
    /// <summary>Environment variable carrying the init's sync socket fd number.</summary>
    public const string SyncFdVariable = "_OCIRUN_SYNC_FD";

    internal InitProcess(int pid, SafeFd pidFd, SyncChannel channel)
    {
        Pid = pid;
        PidFd = pidFd;
        Channel = channel;
    }

    /// <summary>The init's pid in the runtime's pid namespace.</summary>
    public int Pid { get; }

    /// <summary>A pidfd of the init (CLONE_PIDFD): signal it without pid reuse races; readable when it exits.</summary>
    public SafeFd PidFd { get; }

    /// <summary>The parent end of the sync socket.</summary>
    public SyncChannel Channel { get; }

    /// <summary>SIGKILLs the init (through the pidfd) and reaps it; for setup failures.</summary>
    public void KillAndReap()
    {
        _ = Libc.pidfd_send_signal(PidFd.Fd, Signals.SIGKILL);
        try { Libc.WaitPid(Pid); } catch (SyscallException) { /* already reaped */ }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Channel.Dispose();
        PidFd.Dispose();
    }
}

/// <summary>
/// Starts a process in new namespaces from this multithreaded .NET process: clone3 with CLONE_NEW* flags, then,
/// in the one-thread child, only raw syscalls (setns for joined namespaces, execve). See docs/process-model.md.
/// </summary>
public static unsafe class InitLauncher
{
    /// <summary>Namespace type to CLONE_NEW* value (also the setns nstype).</summary>
    public static CloneFlags FlagOf(string type) => type switch
    {
        "pid" => CloneFlags.NewPid,
        "network" => CloneFlags.NewNet,
        "mount" => CloneFlags.NewNs,
        "ipc" => CloneFlags.NewIpc,
        "uts" => CloneFlags.NewUts,
        "user" => CloneFlags.NewUser,
        "cgroup" => CloneFlags.NewCgroup,
        "time" => CloneFlags.NewTime,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unknown namespace type"),
    };

    // setns order: the user namespace first (it owns the others), the mount namespace last (the paths of the
    // others were opened before, so it no longer matters, but runc's order is kept).
    private static int JoinOrder(string type) => type switch { "user" => 0, "mount" => 9, _ => 5 };

    /// <summary>The joins in the order the child makes them (by <see cref="JoinOrder"/>, stable), optionally without the pid namespace.</summary>
    private static List<NamespaceJoin> OrderedJoins(IReadOnlyList<NamespaceJoin> joins, bool withoutPid = false)
    {
        var ordered = new List<NamespaceJoin>(joins.Count);
        foreach (var rank in (ReadOnlySpan<int>)[0, 5, 9])
        {
            foreach (var j in joins)
            {
                if (JoinOrder(j.Type) == rank && !(withoutPid && j.Type == "pid")) ordered.Add(j);
            }
        }
        return ordered;
    }

    /// <summary>The path of the join of <paramref name="type"/>, or <see langword="null"/>.</summary>
    internal static string? JoinPath(IReadOnlyList<NamespaceJoin> joins, string type) => JoinOf(joins, type)?.Path;

    private static NamespaceJoin? JoinOf(IReadOnlyList<NamespaceJoin> joins, string type)
    {
        foreach (var j in joins)
        {
            if (j.Type == type) return j;
        }
        return null;
    }

    /// <summary>Clones and execs the child of <paramref name="request"/>; returns once the child exists (it may still fail to exec: the first frame on the channel says).</summary>
    /// <exception cref="SyscallException">a namespace file could not be opened, or clone3 failed.</exception>
    public static InitProcess Launch(LaunchRequest request)
    {
        var joins = OrderedJoins(request.Joins);
        // Joining a pid namespace together with the user namespace that owns it (exec into a user-namespaced
        // container): an unprivileged runtime has no CAP_SYS_ADMIN over that pid namespace until it is in the user
        // namespace, so the child joins it after the user namespace and forks once more (see ForkIntoPidNamespace).
        var pidJoinInChild = JoinOf(joins, "user") is not null && JoinOf(joins, "pid") is not null;
        var joinFds = new List<SafeFd>();
        SafeFd? pidNsJoin = null, ownPidNs = null, executable = null, hostRoot = null, nsRootSlot = null;
        string? pidNsPath = null;
        var (parentEnd, childEnd) = Libc.SocketPair();
        var plan = default(NativePlan);
        try
        {
            var childJoins = new List<(int Fd, int Type)>();
            foreach (var join in joins)
            {
                var fd = SafeFd.Check(Libc.open(join.Path, OpenFlags.O_RDONLY | OpenFlags.O_CLOEXEC), $"open {join.Type} namespace {join.Path}");
                if (join.Type == "pid" && !pidJoinInChild)
                {
                    pidNsJoin = fd;
                    pidNsPath = join.Path;
                    continue;
                }
                // A time namespace is joined by the one-thread child like the others: setns(CLONE_NEWTIME) needs a
                // single-threaded caller and moves the caller itself (and its children) into it.
                joinFds.Add(fd);
                if (join.Type == "pid") continue; // pidJoinInChild: joined after the others (NativePlan.PidJoinFd)
                childJoins.Add((fd.Fd, (int)FlagOf(join.Type)));
            }

            var direct = request.Direct;
            if (direct is not null && direct.Native->Create != null) direct.Native->Create->SyncFd = childEnd.Fd;
            if (direct is null)
            {
                foreach (var fd in request.InheritedFds) ClearCloexec(fd.Fd);
                ClearCloexec(childEnd.Fd);
            }

            var env = new List<string>(request.Environment.Count + 1) { $"{InitProcess.SyncFdVariable}={childEnd.Fd}" };
            env.AddRange(request.Environment);
            // CVE-2019-5736: ocirun itself is exec'd from a handle nobody can write, never from the host binary. Inside a
            // user namespace (created or joined) the exec'd init is within reach of every host-root process, whatever its
            // capabilities (the owner of a user namespace has all of them in it; non-dumpable does not help, its memory
            // belongs to that namespace): there only a sealed memfd copy will do, not even a read-only bind of the inode.
            var inUserNamespace = (request.NewNamespaces & CloneFlags.NewUser) != 0 || JoinOf(joins, "user") is not null;
            executable = direct is not null ? null
                : request.Executable == "/proc/self/exe" ? (inUserNamespace ? SealedExecutable.CreateMemfdCopy() : SealedExecutable.Create()).Fd
                : SafeFd.Check(Libc.open(request.Executable, OpenFlags.O_RDONLY | OpenFlags.O_CLOEXEC), $"open {request.Executable}");
            if (direct is null && JoinOf(joins, "mount") is not null)
            {
                // After setns(mnt) the child's root is the container's, where the ELF interpreter of ocirun does not
                // exist. The child keeps that root at a reserved fd, chroots back to the host root and execs; the
                // init chroots into the container from the reserved fd (ContainerInit).
                hostRoot = SafeFd.Check(Libc.open("/", OpenFlags.O_PATH | OpenFlags.O_DIRECTORY | OpenFlags.O_CLOEXEC), "open /");
                nsRootSlot = SafeFd.Check(Libc.open("/dev/null", OpenFlags.O_RDONLY | OpenFlags.O_CLOEXEC), "open /dev/null");
                request.NamespaceRootFd = nsRootSlot.Fd;
            }
            plan = NativePlan.Build(request.Args, env, childJoins, childEnd.Fd, executable?.Fd ?? -1, hostRoot?.Fd ?? -1, nsRootSlot?.Fd ?? -1);
            plan.Direct = direct is null ? null : direct.Native;
            plan.WaitForMappings = (request.NewNamespaces & CloneFlags.NewUser) != 0;
            plan.BecomeNamespaceRoot = plan.WaitForMappings || JoinOf(joins, "user") is not null;
            plan.PidJoinFd = pidJoinInChild ? joinFds[joins.FindIndex(j => j.Type == "pid")].Fd : -1;

            if (pidNsJoin is not null)
            {
                // setns(CLONE_NEWPID) only sets the namespace of this thread's future children, and is allowed in a
                // multithreaded process; the child is born in it. Restored right after the clone.
                ownPidNs = SafeFd.Check(Libc.open("/proc/thread-self/ns/pid", OpenFlags.O_RDONLY | OpenFlags.O_CLOEXEC), "open /proc/thread-self/ns/pid");
                Libc.Check(Libc.setns(pidNsJoin.Fd, (int)CloneFlags.NewPid), $"join pid namespace {pidNsPath}");
            }

            // A time namespace's offsets can be written only before a process enters it: the child unshares it
            // (for its future self: execve enters it) and waits, like for the id maps, while the parent writes them.
            plan.UnshareTime = (request.NewNamespaces & CloneFlags.NewTime) != 0;
            plan.WaitForMappings |= plan.UnshareTime;
            // The child is born non-dumpable (NonDumpableClone). A parent without host privileges cannot write the maps of
            // a non-dumpable child (its /proc files belong to root) nor can newuidmap: such a child is born dumpable and
            // stays so until the maps are written, as runc's is; the binary is then only as writable as the unprivileged
            // runtime's own rights over it.
            plan.DumpableWhileMapped = plan.WaitForMappings && Libc.geteuid() != 0;
            int pidFd = -1;
            var args = new CloneArgs
            {
                Flags = (ulong)((request.NewNamespaces & ~CloneFlags.NewTime) | CloneFlags.PidFd),
                PidFd = (ulong)(nint)(&pidFd),
                ExitSignal = Signals.SIGCHLD,
            };
            if (request.IntoCgroup is { } cgroupDir)
            {
                args.Flags |= (ulong)CloneFlags.IntoCgroup;
                args.Cgroup = (ulong)cgroupDir.Fd;
            }

            long pid;
            int cloneErrno;
            var noGc = TryEnterNoGcRegion();
            var dumpable = plan.DumpableWhileMapped ? -1 : NonDumpableClone.Enter();
            try
            {
                pid = RawSys.Clone3(&args);
                if (pid == 0) ChildAfterClone(plan); // never returns
                cloneErrno = RawSys.ErrnoValue;
                if (pid < 0 && request.IntoCgroup is not null && cloneErrno is Errno.EINVAL or Errno.E2BIG or Errno.EOPNOTSUPP)
                {
                    // A kernel before 5.7 has no CLONE_INTO_CGROUP: born where the runtime is, the caller joins the cgroup instead.
                    args.Flags &= ~(ulong)CloneFlags.IntoCgroup;
                    args.Cgroup = 0;
                    pid = RawSys.Clone3(&args);
                    if (pid == 0) ChildAfterClone(plan); // never returns
                    cloneErrno = RawSys.ErrnoValue;
                }
                else
                {
                    request.BornInCgroup = pid > 0 && request.IntoCgroup is not null;
                }
            }
            finally
            {
                NonDumpableClone.Leave(dumpable);
                if (noGc && GCSettings.LatencyMode == GCLatencyMode.NoGCRegion) GC.EndNoGCRegion();
            }

            if (ownPidNs is not null) Libc.Check(Libc.setns(ownPidNs.Fd, (int)CloneFlags.NewPid), "restore pid namespace");
            if (pid < 0) throw new SyscallException($"clone3 (namespaces {request.NewNamespaces})", cloneErrno);
            var process = new InitProcess((int)pid, new SafeFd(pidFd), new SyncChannel(parentEnd));
            if (plan.WaitForMappings)
            {
                try
                {
                    if (plan.UnshareTime) AwaitChildReady(process, request);
                    request.AfterClone?.Invoke(process.Pid);
                    process.Channel.Send(SyncMessage.MappingsDone, []);
                }
                catch
                {
                    process.KillAndReap();
                    process.Dispose();
                    throw;
                }
            }
            if (pidJoinInChild)
            {
                childEnd.Dispose(); // so that the channel ends when the children do
                process = AwaitForkedChild(process, request);
            }
            return process;
        }
        catch
        {
            parentEnd.Dispose();
            throw;
        }
        finally
        {
            plan.Free();
            childEnd.Dispose();
            foreach (var fd in joinFds) fd.Dispose();
            pidNsJoin?.Dispose();
            ownPidNs?.Dispose();
            executable?.Dispose();
            hostRoot?.Dispose();
            nsRootSlot?.Dispose();
        }
    }

    /// <summary>
    /// The first child forked the real one into the joined pid namespace (CLONE_PARENT: it is our child too) and reports
    /// its pid in a <see cref="SyncMessage.ChildPid"/> frame before it exits; a ChildFailed frame may come first (the exec
    /// failed: the first child was suspended by CLONE_VFORK until then) or alone (the first child failed).
    /// Returns the real child's process, the first one reaped.
    /// </summary>
    private static InitProcess AwaitForkedChild(InitProcess first, LaunchRequest request)
    {
        byte[]? failure = null;
        var childPid = -1;
        try
        {
            while (childPid < 0 && first.Channel.TryReceive(out var type, out var payload))
            {
                if (type == SyncMessage.ChildFailed) failure ??= payload;
                else if (type == SyncMessage.ChildPid && payload.Length == 4) childPid = BinaryPrimitives.ReadInt32LittleEndian(payload);
                else throw new IOException($"unexpected message {type} from the new process");
            }
        }
        catch
        {
            first.KillAndReap();
            first.Dispose();
            throw;
        }
        try { Libc.WaitPid(first.Pid); } catch (SyscallException) { /* already reaped */ }
        first.PidFd.Dispose();
        if (failure is not null || childPid < 0)
        {
            if (childPid > 0) try { Libc.WaitPid(childPid); } catch (SyscallException) { }
            first.Channel.Dispose();
            throw new IOException(failure is not null ? DescribeChildFailure(request, failure) : "the new process exited before it forked into the pid namespace");
        }
        var pidFd = Libc.pidfd_open(childPid);
        if (pidFd < 0)
        {
            var e = SyscallException.FromLastError($"pidfd_open {childPid}");
            first.Channel.Dispose();
            throw e;
        }
        return new InitProcess(childPid, new SafeFd(pidFd), first.Channel);
    }

    private static void AwaitChildReady(InitProcess process, LaunchRequest request)
    {
        if (!process.Channel.TryReceive(out var type, out var payload)) throw new SyscallException("the new process exited before it was ready", Errno.ECHILD);
        if (type == SyncMessage.ChildFailed) throw new IOException(DescribeChildFailure(request, payload));
        if (type != SyncMessage.ChildReady) throw new IOException($"unexpected message {type} from the new process");
    }

    private static bool TryEnterNoGcRegion()
    {
        // No collection may start while the child is a one-thread copy of this process (the hard rule of
        // docs/process-model.md). 1 MiB is far more than the few objects the clone path touches.
        try
        {
            return GC.TryStartNoGCRegion(1 << 20, disallowFullBlockingGC: true);
        }
        catch (InvalidOperationException)
        {
            return false; // already in a no-GC region
        }
    }

    private static void ClearCloexec(int fd)
    {
        var flags = Libc.Check(Libc.fcntl(fd, OpenFlags.F_GETFD, 0), "fcntl F_GETFD");
        Libc.Check(Libc.fcntl(fd, OpenFlags.F_SETFD, flags & ~OpenFlags.FD_CLOEXEC), "fcntl F_SETFD");
    }

    /// <summary>Runs in the cloned child: raw, non-allocating syscalls only, then execve or _exit.</summary>
    private static void ChildAfterClone(in NativePlan plan)
    {
        // CVE-2016-9962 and CVE-2019-5736: born non-dumpable (NonDumpableClone), so until execve no process of the
        // container may ptrace this copy of the runtime or open its /proc files (exe is the host binary); the exec'd init
        // does the same first thing, the exec trampoline too. Set again here in case the parent's prctl failed.
        if (!plan.DumpableWhileMapped) _ = RawSys.Prctl(Prctl.PR_SET_DUMPABLE, 0, 0, 0, 0);
        for (var i = 0; i < plan.JoinCount; i++)
        {
            if (RawSys.Setns(plan.JoinFds[i], plan.JoinTypes[i]) != 0) ChildFail(plan.ErrorFd, i, RawSys.ErrnoValue);
        }
        if (plan.PidJoinFd >= 0 && RawSys.Setns(plan.PidJoinFd, (int)CloneFlags.NewPid) != 0) ChildFail(plan.ErrorFd, -6, RawSys.ErrnoValue);
        if (plan.UnshareTime)
        {
            if (RawSys.Unshare((int)CloneFlags.NewTime) != 0) ChildFail(plan.ErrorFd, -5, RawSys.ErrnoValue);
            byte* ready = stackalloc byte[8];
            *(uint*)ready = (uint)SyncMessage.ChildReady;
            *(uint*)(ready + 4) = 0;
            RawSys.Write(plan.ErrorFd, ready, 8);
        }
        if (plan.WaitForMappings)
        {
            // The MappingsDone frame: 8 bytes, written once the parent has written uid_map and gid_map.
            byte* frame = stackalloc byte[8];
            var got = 0;
            while (got < 8)
            {
                var n = RawSys.Read(plan.ErrorFd, frame + got, (nuint)(8 - got));
                if (n <= 0) RawSys.Exit(1); // the parent gave up
                got += (int)n;
            }
        }
        if (plan.DumpableWhileMapped) _ = RawSys.Prctl(Prctl.PR_SET_DUMPABLE, 0, 0, 0, 0);
        if (plan.BecomeNamespaceRoot)
        {
            // Root of the (new or joined) user namespace: otherwise execve would leave the init without capabilities.
            if (RawSys.Setresgid(0, 0, 0) != 0 || RawSys.Setresuid(0, 0, 0) != 0) ChildFail(plan.ErrorFd, -4, RawSys.ErrnoValue);
            _ = RawSys.ClearGroups(); // refused where setgroups is denied; nothing to drop then
        }
        if (plan.HostRootFd >= 0)
        {
            var nsRoot = RawSys.Open(plan.SlashPath, OpenFlags.O_PATH | OpenFlags.O_DIRECTORY | OpenFlags.O_CLOEXEC);
            if (nsRoot < 0 || RawSys.Dup3(nsRoot, plan.NsRootSlot, 0) < 0) ChildFail(plan.ErrorFd, -2, RawSys.ErrnoValue);
            _ = RawSys.Close(nsRoot);
            if (RawSys.Fchdir(plan.HostRootFd) != 0 || RawSys.Chroot(plan.DotPath) != 0) ChildFail(plan.ErrorFd, -3, RawSys.ErrnoValue);
        }
        if (plan.PidJoinFd >= 0) ForkIntoPidNamespace(plan.ErrorFd);
        if (plan.Direct != null) DirectExec.RunInChild(plan.Direct, plan.ErrorFd); // never returns
        _ = RawSys.Execveat(plan.ExecutableFd, plan.EmptyPath, plan.Argv, plan.Envp, OpenFlags.AT_EMPTY_PATH);
        ChildFail(plan.ErrorFd, -1, RawSys.ErrnoValue);
    }

    /// <summary>
    /// setns(CLONE_NEWPID) only places the caller's future children in the namespace: fork once more (raw clone3).
    /// CLONE_PARENT makes the new child the runtime's child (a sibling of this one), CLONE_VFORK holds this one until the
    /// new child has exec'd (or failed), then it reports the new child's pid and exits. Returns in the new child only.
    /// </summary>
    private static void ForkIntoPidNamespace(int errorFd)
    {
        CloneArgs args = default;
        args.Flags = CloneParent | CloneVfork; // exit_signal must be 0 with CLONE_PARENT: the child inherits ours (SIGCHLD)
        var pid = RawSys.Clone3(&args);
        if (pid == 0) return;
        if (pid < 0) ChildFail(errorFd, -7, RawSys.ErrnoValue);
        byte* frame = stackalloc byte[12];
        *(uint*)frame = (uint)SyncMessage.ChildPid;
        *(uint*)(frame + 4) = 4;
        *(int*)(frame + 8) = (int)pid;
        RawSys.Write(errorFd, frame, 12);
        RawSys.Exit(0);
    }

    private const ulong CloneVfork = 0x4000, CloneParent = 0x8000;

    /// <summary>In the child: writes a ChildFailed frame (step, errno, index) and _exits.</summary>
    internal static void ChildFail(int fd, int step, int errno, int index = 0)
    {
        byte* frame = stackalloc byte[20];
        *(uint*)frame = (uint)SyncMessage.ChildFailed;
        *(uint*)(frame + 4) = 12;
        *(int*)(frame + 8) = step;
        *(int*)(frame + 12) = errno;
        *(int*)(frame + 16) = index;
        RawSys.Write(fd, frame, 20);
        RawSys.Exit(1);
    }

    /// <summary>Describes a <see cref="SyncMessage.ChildFailed"/> frame from <see cref="Launch"/>'s child.</summary>
    public static string DescribeChildFailure(LaunchRequest request, ReadOnlySpan<byte> payload)
    {
        var step = BinaryPrimitives.ReadInt32LittleEndian(payload);
        var errno = BinaryPrimitives.ReadInt32LittleEndian(payload[4..]);
        if (step <= -100 && request.Direct is { } direct && payload.Length >= 12)
            return direct.Describe((DirectExec.Step)step, errno, BinaryPrimitives.ReadInt32LittleEndian(payload[8..]));
        if (step == -1) return $"exec {request.Executable}: {Libc.StrError(errno)}";
        if (step == -2) return $"keep the root of the joined mount namespace: {Libc.StrError(errno)}";
        if (step == -3) return $"return to the host root before exec: {Libc.StrError(errno)}";
        if (step == -5) return $"create the time namespace: {Libc.StrError(errno)}";
        if (step == -6) return $"join pid namespace {JoinOf(request.Joins, "pid")?.Path}: {Libc.StrError(errno)}";
        if (step == -7) return $"fork into the joined pid namespace: {Libc.StrError(errno)}";
        if (step == -4) return $"become root in the user namespace (are uid 0 and gid 0 mapped in linux.uidMappings/gidMappings?): {Libc.StrError(errno)}";
        var joins = OrderedJoins(request.Joins, withoutPid: true);
        var join = step < joins.Count ? joins[step] : null;
        return join is null
            ? $"join namespace: {Libc.StrError(errno)}"
            : $"join {join.Type} namespace {join.Path}: {Libc.StrError(errno)}";
    }

    /// <summary>argv, envp and the join list, marshalled to native memory before the clone.</summary>
    private struct NativePlan
    {
        public byte* EmptyPath;
        public byte* SlashPath;
        public byte* DotPath;
        public int ExecutableFd;
        public int HostRootFd;
        public int NsRootSlot;
        public bool WaitForMappings;
        public bool UnshareTime;
        public bool BecomeNamespaceRoot;
        public bool DumpableWhileMapped;
        public int PidJoinFd;
        public byte** Argv;
        public byte** Envp;
        public int* JoinFds;
        public int* JoinTypes;
        public int JoinCount;
        public int ErrorFd;
        public DirectExec.Plan* Direct;
        private byte* _strings;

        public static NativePlan Build(IReadOnlyList<string> args, List<string> env, List<(int Fd, int Type)> joins, int errorFd, int executableFd, int hostRootFd, int nsRootSlot)
        {
            // Strings, NUL-terminated, in one block: "" (execveat's path), argv, envp, then "/" and ".".
            var all = new List<string>(3 + args.Count + env.Count) { "" };
            all.AddRange(args);
            all.AddRange(env);
            all.Add("/");
            all.Add(".");
            var size = 0;
            foreach (var s in all) size += Encoding.UTF8.GetByteCount(s) + 1;
            var plan = new NativePlan
            {
                _strings = (byte*)NativeMemory.Alloc((nuint)size),
                Argv = (byte**)NativeMemory.AllocZeroed((nuint)((args.Count + 1) * sizeof(byte*))),
                Envp = (byte**)NativeMemory.AllocZeroed((nuint)((env.Count + 1) * sizeof(byte*))),
                JoinFds = (int*)NativeMemory.Alloc((nuint)(Math.Max(1, joins.Count) * sizeof(int))),
                JoinTypes = (int*)NativeMemory.Alloc((nuint)(Math.Max(1, joins.Count) * sizeof(int))),
                JoinCount = joins.Count,
                ErrorFd = errorFd,
                ExecutableFd = executableFd,
                HostRootFd = hostRootFd,
                NsRootSlot = nsRootSlot,
                PidJoinFd = -1,
            };
            var cursor = plan._strings;
            for (var i = 0; i < all.Count; i++)
            {
                var start = cursor;
                var n = Encoding.UTF8.GetBytes(all[i], new Span<byte>(cursor, size - (int)(cursor - plan._strings)));
                cursor[n] = 0;
                cursor += n + 1;
                if (i == 0) plan.EmptyPath = start;
                else if (i <= args.Count) plan.Argv[i - 1] = start;
                else if (i <= args.Count + env.Count) plan.Envp[i - 1 - args.Count] = start;
                else if (i == all.Count - 2) plan.SlashPath = start;
                else plan.DotPath = start;
            }
            for (var i = 0; i < joins.Count; i++)
            {
                plan.JoinFds[i] = joins[i].Fd;
                plan.JoinTypes[i] = joins[i].Type;
            }
            return plan;
        }

        public void Free()
        {
            NativeMemory.Free(_strings);
            NativeMemory.Free(Argv);
            NativeMemory.Free(Envp);
            NativeMemory.Free(JoinFds);
            NativeMemory.Free(JoinTypes);
            this = default;
        }
    }
}
