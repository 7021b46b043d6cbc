using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using OciRuntime.Interop;
using OciRuntime.Runtime.Init;
using OciRuntime.Spec;

namespace OciRuntime.Runtime.ProcessModel;

/// <summary>
/// <c>exec</c> without an <c>ocirun init</c> in between (docs/process-model.md, "exec: the direct path"): everything
/// runc's setns init does for an exec'd process (cgroup join, rlimits, stdio ownership, bounding set, groups, gid, uid,
/// capabilities, umask, no_new_privs, cwd, close-on-exec, signal reset, seccomp, PATH lookup) is decided here, in the
/// runtime, and written into a plan of raw syscalls in native memory; the child cloned by <see cref="InitLauncher"/>
/// runs that plan after its setns joins and execs process.args through the exec trampoline (<see cref="ExecTrampoline"/>,
/// CVE-2019-5736). It saves the second .NET start of an exec; create's direct path (<see cref="DirectCreate"/>) runs the
/// same plan after a stage of its own.
/// </summary>
/// <remarks>
/// Only what the plan can express takes this path (<see cref="WhyNot"/>): a terminal, a seccomp notify listener, LSM
/// labels, execCPUAffinity, personality, scheduler, ioPriority or a user namespace go through <c>ocirun init</c>, which
/// applies them in the same order. A failed step is reported as a ChildFailed frame (step, errno, index) and described
/// by <see cref="Describe"/> with the same words the init uses.
/// </remarks>
internal sealed unsafe class DirectExec : IDisposable
{
    /// <summary>Steps of the plan, as reported in a ChildFailed frame (below -100, apart from <see cref="InitLauncher"/>'s own).</summary>
    internal enum Step
    {
        CgroupJoin = -101,
        Rlimit = -102,
        StdioOwner = -103,
        Bounding = -104,
        KeepCaps = -105,
        Setgroups = -106,
        Setgid = -107,
        Setuid = -108,
        Capset = -109,
        NoNewPrivileges = -110,
        Chdir = -111,
        Getcwd = -112,
        CwdOutside = -113,
        Seccomp = -114,
        CapsetAfterSeccomp = -115,
        Exec = -116,
        NotFound = -117,
        ProcContext = -118,
        Go = -119,
        JoinNet = -120,
        ProcFd = -121,
        Pivot = -122,
        Propagation = -123,
        Keyring = -124,
        CgroupNamespace = -125,
        Setsid = -126,
        DevNull = -127,
    }

    /// <summary>The plan as the child reads it: blittable, every pointer into native memory.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct Plan
    {
        public int CgroupCount;
        public int* CgroupFds;
        public int RlimitCount;
        public int* RlimitResources;
        public RLimit* Rlimits;
        public int LastCap;
        public ulong Bounding;
        public int GroupCount;
        public uint* Groups;
        public uint Uid;
        public uint Gid;
        public ulong Effective, Permitted, Inheritable, Ambient;
        public int DeferCapabilities;
        public ulong FinalEffective, FinalPermitted, FinalInheritable;
        public uint Umask;
        public int NoNewPrivileges;
        public byte* Cwd;
        public byte* DevNull;
        public byte* Empty;
        public int PreserveFds;
        public int HasSeccomp;
        public uint SeccompFlags;
        public SockFprog Seccomp;
        public int CandidateCount;
        public int NameHasSlash;
        public byte** Candidates;
        public byte** Argv;
        public byte** Envp;
        public long NrSetsid, NrSetgroups, NrSetresgid, NrSetresuid, NrCapset, NrSeccomp, NrRtSigaction, NrRtSigprocmask;
        public int StatMode, StatUid, StatRdev;
        /// <summary>create's direct path: the stage before the process attributes (DirectCreate), or null for exec.</summary>
        public DirectCreate.Stage* Create;
        /// <summary>The sealed memfd of the exec trampoline (ExecTrampoline) and its argv: [name, PATH (set in the child), args…].</summary>
        public int TrampolineFd;
        public byte** TrampolineArgv;
        /// <summary>The candidate the PATH lookup chose (set in the child).</summary>
        public int Chosen;
        public byte* SeccompMemfdName;
        public long NrFcntl;
    }

    private readonly List<nint> _blocks = [];
    private readonly Spec.Process _process;
    private readonly List<string> _candidates;
    private string _rootfs = "";
    private uint _seccompFlags;
    private Plan* _plan;

    private DirectExec(Spec.Process process, List<string> candidates)
    {
        _process = process;
        _candidates = candidates;
        _plan = (Plan*)Alloc(sizeof(Plan));
    }

    /// <summary>The plan for <see cref="InitLauncher"/>'s child; valid until <see cref="Dispose"/>.</summary>
    internal Plan* Native => _plan;

    /// <summary>
    /// Why <paramref name="spec"/>'s process needs <c>ocirun init</c>, or null when the direct path applies.
    /// <c>OCIRUN_INIT=1</c> forces the init, <c>OCIRUN_DIRECT=1</c> the direct path (<see cref="PathSwitch"/>).
    /// </summary>
    /// <exception cref="Lifecycle.RuntimeException">OCIRUN_DIRECT=1 and the direct path cannot take this process, or both switches.</exception>
    public static string? WhyNot(Spec.Spec spec, bool seccompListener, IReadOnlyList<NamespaceJoin> joins) =>
        PathSwitch.Apply(Reason(spec, seccompListener, joins), "exec");

    private static string? Reason(Spec.Spec spec, bool seccompListener, IReadOnlyList<NamespaceJoin> joins)
    {
        if (spec.Process!.ExecCpuAffinity is not null) return "process.execCPUAffinity";
        if (WhyNotInPlan(spec, seccompListener) is { } why) return why;
        if (InitLauncher.JoinPath(joins, "user") is not null) return "a user namespace";
        return null;
    }

    /// <summary>
    /// What of <paramref name="spec"/>'s process a plan cannot express (for exec and create alike): a terminal, a seccomp
    /// notify listener, an LSM exec label, personality, scheduler or ioPriority; null when none.
    /// </summary>
    internal static string? WhyNotInPlan(Spec.Spec spec, bool seccompListener)
    {
        var process = spec.Process!;
        if (process.Terminal) return "a terminal";
        if (seccompListener) return "a seccomp notify listener";
        if (Lsm.WantsExecLabel(spec)) return "an LSM label";
        if (spec.Linux?.Personality is not null) return "linux.personality";
        if (process.Scheduler is not null) return "process.scheduler";
        if (process.IoPriority is not null) return "process.ioPriority";
        return null;
    }

    /// <summary>Resolves <paramref name="process"/> into a plan (every config.json error is raised here, before the clone).</summary>
    /// <param name="process">The process to exec (args, env, cwd, user, capabilities, rlimits, noNewPrivileges).</param>
    /// <param name="cgroupJoinFds">The runtime's fds of the container's cgroup join files (the child inherits them).</param>
    /// <param name="seccompProgram">The compiled filter (struct sock_filter[]) or null.</param>
    /// <param name="seccompFlags">Its seccomp(2) flags.</param>
    /// <param name="preserveFds">--preserve-fds: fds 3 … 3+N-1 stay open.</param>
    /// <param name="seccompLater">create's direct path: a filter will come with the Go frame (<see cref="DirectCreate"/>).</param>
    /// <exception cref="InitException">an unknown capability or rlimit, naming the field.</exception>
    /// <param name="trampoline">The exec trampoline's sealed memfd (<see cref="ExecTrampoline.TryCreate"/>), open until the child has exec'd.</param>
    public static DirectExec Build(Spec.Process process, IReadOnlyList<int> cgroupJoinFds, byte[]? seccompProgram, uint seccompFlags, int preserveFds, SafeFd trampoline, bool seccompLater = false)
    {
        var lastCap = Capabilities.LastCap();
        var sets = Capabilities.Resolve(process.Capabilities, lastCap);
        var rlimits = process.Rlimits ?? [];
        var numbers = new int[rlimits.Count];
        for (var i = 0; i < rlimits.Count; i++)
        {
            numbers[i] = Libc.RlimitNumber(rlimits[i].Type);
            if (numbers[i] < 0) throw new InitException($"config.json: process.rlimits[{i}].type: unknown rlimit \"{rlimits[i].Type}\"");
        }
        var name = process.Args![0];
        var candidates = name.Contains('/', StringComparison.Ordinal)
            ? [name]
            : new List<string>(ProcessSetup.PathCandidates(name, ProcessSetup.GetEnv(process.Env, "PATH") ?? ProcessSetup.DefaultPath));

        var exec = new DirectExec(process, candidates);
        try
        {
            var p = exec._plan;
            p->CgroupCount = cgroupJoinFds.Count;
            p->CgroupFds = exec.Array([.. cgroupJoinFds]);
            p->RlimitCount = rlimits.Count;
            p->RlimitResources = exec.Array(numbers);
            p->Rlimits = exec.Array(rlimits.ConvertAll(r => new RLimit { Cur = r.Soft, Max = r.Hard }).ToArray());
            p->LastCap = lastCap;
            p->Bounding = sets.Bounding;
            var groups = process.User.DistinctAdditionalGids();
            p->GroupCount = groups.Length;
            p->Groups = exec.Array(groups);
            p->Uid = process.User.Uid;
            p->Gid = process.User.Gid;
            // Without no_new_privs, seccomp(2) needs CAP_SYS_ADMIN: it stays until the filter is loaded (ProcessSetup).
            const ulong sysAdmin = 1UL << Capabilities.SysAdmin;
            var defer = (seccompProgram is not null || seccompLater) && !process.NoNewPrivileges && (sets.Effective & sysAdmin) == 0;
            p->Effective = sets.Effective | (defer ? sysAdmin : 0);
            p->Permitted = sets.Permitted | (defer ? sysAdmin : 0);
            p->Inheritable = sets.Inheritable;
            p->Ambient = sets.Ambient;
            p->DeferCapabilities = defer ? 1 : 0;
            p->FinalEffective = sets.Effective;
            p->FinalPermitted = sets.Permitted;
            p->FinalInheritable = sets.Inheritable;
            p->Umask = process.User.Umask ?? 0x12; // 0022
            p->NoNewPrivileges = process.NoNewPrivileges ? 1 : 0;
            p->Cwd = exec.Utf8(string.IsNullOrEmpty(process.Cwd) ? "/" : process.Cwd);
            p->DevNull = exec.Utf8("/dev/null");
            p->Empty = exec.Utf8("");
            p->PreserveFds = Math.Max(0, preserveFds);
            if (seccompProgram is not null)
            {
                p->HasSeccomp = 1;
                p->SeccompFlags = exec._seccompFlags = seccompFlags;
                p->Seccomp = new SockFprog { Len = (ushort)(seccompProgram.Length / sizeof(SockFilter)), Filter = (SockFilter*)exec.Array(seccompProgram) };
            }
            p->CandidateCount = candidates.Count;
            p->NameHasSlash = name.Contains('/', StringComparison.Ordinal) ? 1 : 0;
            p->Candidates = exec.Strings(candidates);
            p->Argv = exec.Strings(process.Args);
            p->TrampolineFd = trampoline.Fd;
            // [name, PATH, DIRFD, FIFOFD, SECCOMPFD, args…]: the child writes PATH and the fd numbers (16 bytes each).
            p->TrampolineArgv = exec.Strings([ExecTrampoline.Name, "", "-" + new string('\0', 15), "-" + new string('\0', 15), "-" + new string('\0', 15), .. process.Args]);
            p->SeccompMemfdName = exec.Utf8("ocirun-seccomp");
            p->NrFcntl = SyscallNumbers.Fcntl;
            p->Chosen = -1;
            p->Envp = exec.Strings(process.Env ?? []);
            // Read here: the child must not run a class constructor.
            p->NrSetsid = SyscallNumbers.Setsid;
            p->NrSetgroups = SyscallNumbers.Setgroups;
            p->NrSetresgid = SyscallNumbers.Setresgid;
            p->NrSetresuid = SyscallNumbers.Setresuid;
            p->NrCapset = SyscallNumbers.Capset;
            p->NrSeccomp = SeccompKernel.SyscallNumber;
            p->NrRtSigaction = SyscallNumbers.RtSigaction;
            p->NrRtSigprocmask = SyscallNumbers.RtSigprocmask;
            p->StatMode = RawSys.StatModeOffset;
            p->StatUid = RawSys.StatUidOffset;
            p->StatRdev = RawSys.StatRdevOffset;
            return exec;
        }
        catch
        {
            exec.Dispose();
            throw;
        }
    }

    /// <summary>The rootfs (create's direct path), for messages.</summary>
    internal string Rootfs { set => _rootfs = value; }

    /// <summary>The seccomp flags of a filter that comes later (create's direct path), for messages.</summary>
    internal uint SeccompFlags { set => _seccompFlags = value; }

    /// <summary>The one-line error of a failed step, in the init's words (config.json field first).</summary>
    public string Describe(Step step, int errno, int index)
    {
        if (DirectCreate.Describe(step, errno, index, _rootfs) is { } created) return created;
        var error = Libc.StrError(errno);
        var cwd = string.IsNullOrEmpty(_process.Cwd) ? "/" : _process.Cwd;
        var name = _process.Args![0];
        return step switch
        {
            Step.CgroupJoin => $"join the container's cgroup: write its join file: {error}",
            Step.Rlimit => $"config.json: process.rlimits[{index}] ({_process.Rlimits![index].Type}): setrlimit: {error}",
            Step.StdioOwner => $"config.json: process.user.uid: give stdio fd {index} to uid {_process.User.Uid}: {error}",
            Step.Bounding => $"config.json: process.capabilities.bounding: drop {Capabilities.Names[index]} from the bounding set: {error}",
            Step.KeepCaps => $"prctl PR_SET_KEEPCAPS: {error}",
            Step.Setsid => $"setsid: {error}",
            Step.Setgroups => $"config.json: process.user.additionalGids: setgroups: {error}",
            Step.Setgid => $"config.json: process.user.gid: setgid {_process.User.Gid}: {error}",
            Step.Setuid => $"config.json: process.user.uid: setuid {_process.User.Uid}: {error}",
            Step.Capset => $"config.json: process.capabilities: capset: {error}",
            Step.NoNewPrivileges => $"prctl PR_SET_NO_NEW_PRIVS: {error}",
            Step.Chdir => $"config.json: process.cwd: chdir {cwd}: {error}",
            Step.Getcwd when errno != Errno.ENOENT => $"config.json: process.cwd: getcwd after chdir {cwd}: {error}",
            Step.Getcwd or Step.CwdOutside => $"config.json: process.cwd: {cwd} is outside the container's root (refused: possible container breakout, CVE-2024-21626)",
            Step.Seccomp => $"load the seccomp filter (linux.seccomp, flags 0x{_seccompFlags:x}): {error}",
            Step.CapsetAfterSeccomp => $"capset: {error}",
            Step.Exec when name.Contains('/', StringComparison.Ordinal) && errno is Errno.ENOENT or Errno.EISDIR or Errno.EACCES =>
                $"exec: \"{name}\": {(errno == Errno.ENOENT ? "no such file or directory" : errno == Errno.EISDIR ? "is a directory" : "permission denied")}",
            Step.Exec => $"exec {_candidates[Math.Clamp(index, 0, _candidates.Count - 1)]}: {error}",
            Step.NotFound => $"exec: \"{name}\": executable file not found in $PATH",
            _ => $"exec: step {(int)step}: {error}",
        };
    }

    /// <summary>
    /// Runs the plan in the cloned child, after its namespace joins: raw syscalls only, nothing allocated, nothing
    /// thrown; ends in execve of process.args, or in a ChildFailed frame on <paramref name="errorFd"/> and _exit.
    /// The order is <c>ocirun init</c>'s (ContainerInit.Prepare, ExecPlan.RunFinalSteps).
    /// </summary>
    internal static void RunInChild(Plan* p, int errorFd)
    {
        var create = p->Create;
        if (create != null) DirectCreate.Prepare(p, create, errorFd);
        // A session of its own, as runc's nsexec gives every init and exec'd process: the process is its session and
        // process-group leader in the container (CRIU refuses to dump a session leader outside the pid namespace).
        if (RawSys.Syscall(p->NrSetsid, 0, 0, 0) < 0) Fail(errorFd, Step.Setsid, 0);
        for (var i = 0; i < p->RlimitCount; i++)
        {
            if (RawSys.Prlimit(0, p->RlimitResources[i], &p->Rlimits[i], null) != 0) Fail(errorFd, Step.Rlimit, i);
        }
        GiveStdioToUser(p, errorFd);

        // The late cgroup join: after the setup, so that none of it is charged to the container (CgroupJoin). create's
        // direct path has joined already (DirectCreate.Prepare: its cgroup count is 0 here).
        byte zero = (byte)'0';
        for (var i = 0; i < p->CgroupCount; i++)
        {
            if (RawSys.Write(p->CgroupFds[i], &zero, 1) != 1) Fail(errorFd, Step.CgroupJoin, i);
        }

        // cwd first as the runtime's user (runc): a directory only root may enter works for any process.user; refused
        // with EACCES/EPERM, it is tried again after the user change (ProcessSetup.EnterCwdEarly).
        var cwdEntered = RawSys.Chdir(p->Cwd) == 0;
        if (!cwdEntered && RawSys.ErrnoValue is not (Errno.EACCES or Errno.EPERM)) Fail(errorFd, Step.Chdir, 0);

        // Bounding set, groups, gid, uid with keep-caps, then the sets, umask and no_new_privs (ProcessSetup.SetUserAndCapabilities).
        for (var c = 0; c <= p->LastCap; c++)
        {
            if ((p->Bounding & (1UL << c)) == 0 && RawSys.Prctl(Prctl.PR_CAPBSET_DROP, (nuint)c, 0, 0, 0) != 0) Fail(errorFd, Step.Bounding, c);
        }
        if (RawSys.Prctl(Prctl.PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) Fail(errorFd, Step.KeepCaps, 0);
        if (RawSys.Syscall(p->NrSetgroups, p->GroupCount, (nint)p->Groups, 0) != 0) Fail(errorFd, Step.Setgroups, 0);
        if (RawSys.Syscall(p->NrSetresgid, (nint)p->Gid, (nint)p->Gid, (nint)p->Gid) != 0) Fail(errorFd, Step.Setgid, 0);
        if (RawSys.Syscall(p->NrSetresuid, (nint)p->Uid, (nint)p->Uid, (nint)p->Uid) != 0) Fail(errorFd, Step.Setuid, 0);
        if (RawSys.Capset(p->NrCapset, p->Effective, p->Permitted, p->Inheritable) != 0) Fail(errorFd, Step.Capset, 0);
        _ = RawSys.Prctl(Prctl.PR_CAP_AMBIENT, Prctl.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
        for (var c = 0; c <= p->LastCap; c++)
        {
            // Refused for a capability outside permitted or inheritable: not an error (runc).
            if ((p->Ambient & (1UL << c)) != 0) _ = RawSys.Prctl(Prctl.PR_CAP_AMBIENT, Prctl.PR_CAP_AMBIENT_RAISE, (nuint)c, 0, 0);
        }
        if (RawSys.Prctl(Prctl.PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) Fail(errorFd, Step.KeepCaps, 0);
        _ = RawSys.Umask(p->Umask);
        if (p->NoNewPrivileges != 0 && RawSys.Prctl(Prctl.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) Fail(errorFd, Step.NoNewPrivileges, 0);

        // cwd, and CVE-2024-21626: the working directory must be inside the container's root (ProcessSetup.ChangeDirectory).
        if (!cwdEntered && RawSys.Chdir(p->Cwd) != 0) Fail(errorFd, Step.Chdir, 0);
        byte* cwd = stackalloc byte[4096];
        if (RawSys.Getcwd(cwd, 4096) is null) Fail(errorFd, Step.Getcwd, 0);
        if (cwd[0] != (byte)'/') Fail(errorFd, Step.CwdOutside, 0, errno: 0);
        LookPath(p, errorFd);
        // create: Ready; the sync socket is closed from here on, failures go to stderr (FailLate).
        if (create != null) DirectCreate.Ready(create, errorFd);

        // CVE-2024-21626: no fd of the runtime reaches the process (the sync socket stays usable until execve).
        _ = RawSys.CloseRange(3 + (uint)p->PreserveFds, uint.MaxValue, (int)OpenFlags.CLOSE_RANGE_CLOEXEC);
        RawSys.ResetSignalsForExec(p->NrRtSigaction, p->NrRtSigprocmask);
        var seccompFd = -1;
        if (p->HasSeccomp != 0 && p->NoNewPrivileges != 0)
        {
            // With no_new_privs the filter is loaded as late as runc does it: by the trampoline, after the exec fifo.
            seccompFd = FilterForTrampoline(p);
            if (seccompFd < 0) FailAt(p, errorFd, Step.Seccomp, 0, create == null ? null : create->SeccompText, null, 1);
        }
        else if (p->HasSeccomp != 0 && RawSys.Syscall(p->NrSeccomp, (nint)SeccompKernel.SECCOMP_SET_MODE_FILTER, (nint)p->SeccompFlags, (nint)(&p->Seccomp)) < 0)
        {
            // Without no_new_privs it needs CAP_SYS_ADMIN: now, before the capabilities are dropped (runc's order too).
            FailAt(p, errorFd, Step.Seccomp, 0, create == null ? null : create->SeccompText, null, 1);
        }
        if (p->DeferCapabilities != 0 && RawSys.Capset(p->NrCapset, p->FinalEffective, p->FinalPermitted, p->FinalInheritable) != 0)
            FailAt(p, errorFd, Step.CapsetAfterSeccomp, 0, create == null ? null : create->CapsetText, null, 1);

        // The exec trampoline (ExecTrampoline, CVE-2019-5736: this process's /proc/self/exe is the host's ocirun) waits
        // for start, loads a late filter and execs the program; the fds it uses stay open across its exec.
        if (create != null)
        {
            _ = RawSys.SetFdFlags(p->NrFcntl, create->ProcFdDir, 0);
            _ = RawSys.SetFdFlags(p->NrFcntl, create->FifoFd, 0);
            WriteNumber(p->TrampolineArgv[2], create->ProcFdDir);
            WriteNumber(p->TrampolineArgv[3], create->FifoFd);
        }
        else
        {
            // exec: the sync socket stays open in the trampoline until its execve (it makes it close-on-exec), so the
            // runtime returns once the container's program runs, as runc's exec does (its sync pipe closes at execve).
            _ = RawSys.SetFdFlags(p->NrFcntl, errorFd, 0);
            WriteNumber(p->TrampolineArgv[3], errorFd);
        }
        if (seccompFd >= 0)
        {
            _ = RawSys.SetFdFlags(p->NrFcntl, seccompFd, 0);
            WriteNumber(p->TrampolineArgv[4], seccompFd);
        }
        p->TrampolineArgv[1] = p->Candidates[p->Chosen];
        _ = RawSys.Execveat(p->TrampolineFd, p->Empty, p->TrampolineArgv, p->Envp, OpenFlags.AT_EMPTY_PATH);
        FailAt(p, errorFd, Step.Exec, p->Chosen, create == null ? null : create->ExecText, p->Candidates[p->Chosen], 1);
    }

    /// <summary>A failed step: a ChildFailed frame, or on create's direct path after Ready a line on stderr (<paramref name="lateText"/>).</summary>
    private static void FailAt(Plan* p, int errorFd, Step step, int index, byte* lateText, byte* latePath, int lateStatus)
    {
        var errno = RawSys.ErrnoValue;
        if (p->Create != null) DirectCreate.FailLate(p->Create, lateText, latePath, errno, lateStatus);
        Fail(errorFd, step, index, errno);
    }

    /// <summary>The seccomp filter in a memfd for the trampoline: u32 flags, u32 length, struct sock_filter[]; -1 on failure.</summary>
    private static int FilterForTrampoline(Plan* p)
    {
        var fd = RawSys.MemfdCreate(p->SeccompMemfdName, 0);
        if (fd < 0) return -1;
        uint* header = stackalloc uint[2];
        header[0] = p->SeccompFlags;
        header[1] = (uint)(p->Seccomp.Len * sizeof(SockFilter));
        if (RawSys.Write(fd, header, 8) != 8 || RawSys.Write(fd, p->Seccomp.Filter, header[1]) != (nint)header[1] || RawSys.Lseek(fd, 0, 0) != 0)
        {
            _ = RawSys.Close(fd);
            return -1;
        }
        return fd;
    }

    // Decimal digits of a non-negative fd number into a 16-byte argv slot.
    private static void WriteNumber(byte* slot, int n)
    {
        byte* digits = stackalloc byte[12];
        var count = 0;
        do
        {
            digits[count++] = (byte)('0' + (n % 10));
            n /= 10;
        }
        while (n > 0);
        for (var i = 0; i < count; i++) slot[i] = digits[count - 1 - i];
        slot[count] = 0;
    }

    /// <summary>
    /// execvp's search as ProcessSetup.LookPath does it (after the user change and chdir, like the init): the first
    /// candidate that exists, is not a directory and is executable (access X_OK); a name with a slash must be one.
    /// </summary>
    private static void LookPath(Plan* p, int errorFd)
    {
        byte* st = stackalloc byte[RawSys.StatSize];
        if (p->NameHasSlash != 0)
        {
            if (!IsExecutable(p, p->Candidates[0], st))
            {
                var errno = RawSys.Fstatat(OpenFlags.AT_FDCWD, p->Candidates[0], st, 0) != 0 ? Errno.ENOENT
                    : (*(uint*)(st + p->StatMode) & 0xf000) == 0x4000 ? Errno.EISDIR : Errno.EACCES;
                Fail(errorFd, Step.Exec, 0, errno);
            }
            p->Chosen = 0;
            return;
        }
        for (var i = 0; i < p->CandidateCount; i++)
        {
            if (!IsExecutable(p, p->Candidates[i], st)) continue;
            p->Chosen = i;
            return;
        }
        Fail(errorFd, Step.NotFound, 0, Errno.ENOENT);
    }

    // File.Exists (not a directory) and access(X_OK), as ProcessSetup.LookPath.
    private static bool IsExecutable(Plan* p, byte* path, byte* st) =>
        RawSys.Fstatat(OpenFlags.AT_FDCWD, path, st, 0) == 0 && (*(uint*)(st + p->StatMode) & 0xf000) != 0x4000
        && RawSys.Faccessat(OpenFlags.AT_FDCWD, path, Libc.X_OK, 0) == 0;

    /// <summary>Whether the stat buffer <paramref name="st"/> is the character device <paramref name="rdev"/> (how /dev/null is told apart; StdioFds.IsCharDevice).</summary>
    internal static bool IsCharDevice(Plan* p, byte* st, ulong rdev) =>
        (*(uint*)(st + p->StatMode) & 0xf000) == 0x2000 && *(ulong*)(st + p->StatRdev) == rdev;

    /// <summary>runc's fixStdioPermissions (UserNamespaceFixups.FixStdioOwnership): fds 0-2 go to the process's uid unless they are /dev/null.</summary>
    private static void GiveStdioToUser(Plan* p, int errorFd)
    {
        const int EROFS = 30;
        byte* st = stackalloc byte[RawSys.StatSize];
        if (RawSys.Fstatat(OpenFlags.AT_FDCWD, p->DevNull, st, 0) != 0) return;
        var nullRdev = *(ulong*)(st + p->StatRdev);
        for (var fd = 0; fd < 3; fd++)
        {
            if (RawSys.Fstatat(fd, p->Empty, st, OpenFlags.AT_EMPTY_PATH) != 0) continue; // closed
            var uid = *(uint*)(st + p->StatUid);
            var gid = *(uint*)(st + p->StatUid + 4);
            if (uid == p->Uid || IsCharDevice(p, st, nullRdev)) continue;
            if (RawSys.Fchown(fd, p->Uid, gid) != 0)
            {
                var errno = RawSys.ErrnoValue;
                if (errno is not (Errno.EINVAL or Errno.EPERM or EROFS)) Fail(errorFd, Step.StdioOwner, fd, errno);
            }
        }
    }

    internal static void Fail(int fd, Step step, int index, int errno = -1) =>
        InitLauncher.ChildFail(fd, (int)step, errno < 0 ? RawSys.ErrnoValue : errno, index);

    internal void* Alloc(int bytes)
    {
        var p = NativeMemory.AllocZeroed((nuint)Math.Max(1, bytes));
        _blocks.Add((nint)p);
        return p;
    }

    internal T* Array<T>(T[] items) where T : unmanaged
    {
        var p = (T*)Alloc(items.Length * sizeof(T));
        items.CopyTo(new Span<T>(p, items.Length));
        return p;
    }

    internal byte* Utf8(string s)
    {
        var p = (byte*)Alloc(Encoding.UTF8.GetByteCount(s) + 1);
        Encoding.UTF8.GetBytes(s, new Span<byte>(p, Encoding.UTF8.GetByteCount(s)));
        return p;
    }

    internal byte** Strings(List<string> items)
    {
        var a = (byte**)Alloc((items.Count + 1) * sizeof(byte*));
        for (var i = 0; i < items.Count; i++) a[i] = Utf8(items[i]);
        return a;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var b in _blocks) NativeMemory.Free((void*)b);
        _blocks.Clear();
        _plan = null;
    }
}
