namespace OciRuntime.Spec;

// Plain Dictionary and HashSet, not the Frozen collections: a short-lived process builds each table once and looks up a
// handful of names; building a FrozenDictionary analyses its keys first (≈0.1 ms in NativeAOT for the 41 capabilities).
internal static class KnownNames
{
    /// <summary>name → its index in <paramref name="all"/>.</summary>
    internal static Dictionary<string, int> Index(IReadOnlyList<string> all)
    {
        var index = new Dictionary<string, int>(all.Count, StringComparer.Ordinal);
        for (var i = 0; i < all.Count; i++) index[all[i]] = i;
        return index;
    }
}

/// <summary>Linux capability names ("CAP_*", capabilities(7)); the list index is the kernel capability number.</summary>
public static class CapabilityNames
{
    /// <summary>All 41 capabilities known to Linux 5.9+ in kernel number order: CAP_CHOWN = 0 .. CAP_CHECKPOINT_RESTORE = 40.</summary>
    public static IReadOnlyList<string> All { get; } =
    [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID",
        "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN",
        "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
        "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
        "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
        "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
        "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
    ];

    private static readonly Dictionary<string, int> s_numbers =
        KnownNames.Index(All);

    /// <summary>Whether <paramref name="name"/> is a known capability name (case-sensitive, with the "CAP_" prefix).</summary>
    /// <param name="name">A capability name such as "CAP_KILL".</param>
    /// <returns><see langword="true"/> when known.</returns>
    public static bool IsKnown(string? name) => name is not null && s_numbers.ContainsKey(name);

    /// <summary>Looks up the kernel number of a capability, e.g. "CAP_SYS_ADMIN" = 21.</summary>
    /// <param name="name">A capability name such as "CAP_KILL".</param>
    /// <param name="number">The capability number (bit index for capset(2)), or -1.</param>
    /// <returns><see langword="true"/> when known.</returns>
    public static bool TryGetNumber(string? name, out int number)
    {
        if (name is not null && s_numbers.TryGetValue(name, out number))
        {
            return true;
        }
        number = -1;
        return false;
    }
}

/// <summary>Resource names of <c>process.rlimits[].type</c> (setrlimit(2)), with their Linux numbers (generic ABI: x86, arm, arm64, riscv).</summary>
public static class RlimitTypes
{
    /// <summary>All 16 rlimit names; the list index is the RLIMIT_* resource number of the generic Linux ABI.</summary>
    public static IReadOnlyList<string> All { get; } =
    [
        "RLIMIT_CPU", "RLIMIT_FSIZE", "RLIMIT_DATA", "RLIMIT_STACK", "RLIMIT_CORE", "RLIMIT_RSS", "RLIMIT_NPROC",
        "RLIMIT_NOFILE", "RLIMIT_MEMLOCK", "RLIMIT_AS", "RLIMIT_LOCKS", "RLIMIT_SIGPENDING", "RLIMIT_MSGQUEUE",
        "RLIMIT_NICE", "RLIMIT_RTPRIO", "RLIMIT_RTTIME",
    ];

    private static readonly Dictionary<string, int> s_numbers =
        KnownNames.Index(All);

    /// <summary>Whether <paramref name="type"/> is a known rlimit name such as "RLIMIT_NOFILE".</summary>
    /// <param name="type">An rlimit name.</param>
    /// <returns><see langword="true"/> when known.</returns>
    public static bool IsKnown(string? type) => type is not null && s_numbers.ContainsKey(type);

    /// <summary>Looks up the resource number for setrlimit(2)/prlimit(2), e.g. "RLIMIT_NOFILE" = 7.</summary>
    /// <param name="type">An rlimit name.</param>
    /// <param name="resource">The resource number, or -1.</param>
    /// <returns><see langword="true"/> when known.</returns>
    public static bool TryGetResource(string? type, out int resource)
    {
        if (type is not null && s_numbers.TryGetValue(type, out resource))
        {
            return true;
        }
        resource = -1;
        return false;
    }
}

/// <summary>Seccomp actions of <c>linux.seccomp.defaultAction</c> / <c>syscalls[].action</c> (config-linux.md#seccomp).</summary>
public static class SeccompActions
{
    /// <summary>"SCMP_ACT_KILL": kill the thread (same as SCMP_ACT_KILL_THREAD).</summary>
    public const string Kill = "SCMP_ACT_KILL";

    /// <summary>"SCMP_ACT_KILL_PROCESS": kill the whole process.</summary>
    public const string KillProcess = "SCMP_ACT_KILL_PROCESS";

    /// <summary>"SCMP_ACT_KILL_THREAD": kill the calling thread.</summary>
    public const string KillThread = "SCMP_ACT_KILL_THREAD";

    /// <summary>"SCMP_ACT_TRAP": send SIGSYS.</summary>
    public const string Trap = "SCMP_ACT_TRAP";

    /// <summary>"SCMP_ACT_ERRNO": fail the syscall with an errno (errnoRet, default EPERM).</summary>
    public const string Errno = "SCMP_ACT_ERRNO";

    /// <summary>"SCMP_ACT_TRACE": notify a ptrace tracer (errnoRet is the trace message).</summary>
    public const string Trace = "SCMP_ACT_TRACE";

    /// <summary>"SCMP_ACT_ALLOW": allow the syscall.</summary>
    public const string Allow = "SCMP_ACT_ALLOW";

    /// <summary>"SCMP_ACT_LOG": allow and log the syscall.</summary>
    public const string Log = "SCMP_ACT_LOG";

    /// <summary>"SCMP_ACT_NOTIFY": defer to a user-space listener (needs listenerPath).</summary>
    public const string Notify = "SCMP_ACT_NOTIFY";

    /// <summary>All nine actions.</summary>
    public static IReadOnlyList<string> All { get; } = [Kill, KillProcess, KillThread, Trap, Errno, Trace, Allow, Log, Notify];

    private static readonly HashSet<string> s_set = new(All, StringComparer.Ordinal);

    /// <summary>Whether <paramref name="action"/> is one of <see cref="All"/>.</summary>
    /// <param name="action">An action name.</param>
    /// <returns><see langword="true"/> when known.</returns>
    public static bool IsKnown(string? action) => action is not null && s_set.Contains(action);

    /// <summary>Whether the action takes an errno (errnoRet / defaultErrnoRet): SCMP_ACT_ERRNO and SCMP_ACT_TRACE.</summary>
    /// <param name="action">An action name.</param>
    /// <returns><see langword="true"/> for SCMP_ACT_ERRNO and SCMP_ACT_TRACE.</returns>
    public static bool TakesErrno(string? action) => action is Errno or Trace;
}

/// <summary>Seccomp comparison operators of <c>syscalls[].args[].op</c> (config-linux.md#seccomp).</summary>
public static class SeccompOperators
{
    /// <summary>"SCMP_CMP_NE": argument != value.</summary>
    public const string NotEqual = "SCMP_CMP_NE";

    /// <summary>"SCMP_CMP_LT": argument &lt; value.</summary>
    public const string LessThan = "SCMP_CMP_LT";

    /// <summary>"SCMP_CMP_LE": argument &lt;= value.</summary>
    public const string LessOrEqual = "SCMP_CMP_LE";

    /// <summary>"SCMP_CMP_EQ": argument == value.</summary>
    public const string EqualTo = "SCMP_CMP_EQ";

    /// <summary>"SCMP_CMP_GE": argument &gt;= value.</summary>
    public const string GreaterOrEqual = "SCMP_CMP_GE";

    /// <summary>"SCMP_CMP_GT": argument &gt; value.</summary>
    public const string GreaterThan = "SCMP_CMP_GT";

    /// <summary>"SCMP_CMP_MASKED_EQ": (argument &amp; value) == valueTwo.</summary>
    public const string MaskedEqual = "SCMP_CMP_MASKED_EQ";

    /// <summary>All seven operators.</summary>
    public static IReadOnlyList<string> All { get; } = [NotEqual, LessThan, LessOrEqual, EqualTo, GreaterOrEqual, GreaterThan, MaskedEqual];

    private static readonly HashSet<string> s_set = new(All, StringComparer.Ordinal);

    /// <summary>Whether <paramref name="op"/> is one of <see cref="All"/>.</summary>
    /// <param name="op">An operator name.</param>
    /// <returns><see langword="true"/> when known.</returns>
    public static bool IsKnown(string? op) => op is not null && s_set.Contains(op);
}

/// <summary>Seccomp architectures of <c>linux.seccomp.architectures</c> (config-linux.md#seccomp; libseccomp 2.5 names).</summary>
public static class SeccompArchitectures
{
    /// <summary>The architectures listed by the runtime-spec plus libseccomp's LOONGARCH64, M68K, SH and SHEB.</summary>
    public static IReadOnlyList<string> All { get; } =
    [
        "SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_ARM", "SCMP_ARCH_AARCH64", "SCMP_ARCH_MIPS",
        "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32",
        "SCMP_ARCH_PPC", "SCMP_ARCH_PPC64", "SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390", "SCMP_ARCH_S390X", "SCMP_ARCH_PARISC",
        "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64", "SCMP_ARCH_LOONGARCH64", "SCMP_ARCH_M68K", "SCMP_ARCH_SH", "SCMP_ARCH_SHEB",
    ];

    private static readonly HashSet<string> s_set = new(All, StringComparer.Ordinal);

    /// <summary>Whether <paramref name="arch"/> is one of <see cref="All"/>.</summary>
    /// <param name="arch">An architecture name.</param>
    /// <returns><see langword="true"/> when known.</returns>
    public static bool IsKnown(string? arch) => arch is not null && s_set.Contains(arch);
}

/// <summary>seccomp(2) filter flags of <c>linux.seccomp.flags</c> (config-linux.md#seccomp).</summary>
public static class SeccompFlags
{
    /// <summary>"SECCOMP_FILTER_FLAG_TSYNC": synchronise all threads to the filter.</summary>
    public const string Tsync = "SECCOMP_FILTER_FLAG_TSYNC";

    /// <summary>"SECCOMP_FILTER_FLAG_LOG": log all actions except SECCOMP_RET_ALLOW (Linux 4.14).</summary>
    public const string Log = "SECCOMP_FILTER_FLAG_LOG";

    /// <summary>"SECCOMP_FILTER_FLAG_SPEC_ALLOW": disable Speculative Store Bypass mitigation (Linux 4.17).</summary>
    public const string SpecAllow = "SECCOMP_FILTER_FLAG_SPEC_ALLOW";

    /// <summary>"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV": wait-killable semantics for notifications (Linux 5.19).</summary>
    public const string WaitKillableRecv = "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV";

    /// <summary>All four flags.</summary>
    public static IReadOnlyList<string> All { get; } = [Tsync, Log, SpecAllow, WaitKillableRecv];

    /// <summary>Whether <paramref name="flag"/> is one of <see cref="All"/>.</summary>
    /// <param name="flag">A flag name.</param>
    /// <returns><see langword="true"/> when known.</returns>
    public static bool IsKnown(string? flag) => flag is Tsync or Log or SpecAllow or WaitKillableRecv;
}

/// <summary>Values of <c>linux.rootfsPropagation</c> (config-linux.md#rootfs-mount-propagation, plus runc's r* forms).</summary>
public static class RootfsPropagationModes
{
    /// <summary>shared, slave, private, unbindable and their recursive forms rshared, rslave, rprivate, runbindable.</summary>
    public static IReadOnlyList<string> All { get; } = ["shared", "slave", "private", "unbindable", "rshared", "rslave", "rprivate", "runbindable"];

    /// <summary>Whether <paramref name="mode"/> is one of <see cref="All"/>.</summary>
    /// <param name="mode">A propagation mode.</param>
    /// <returns><see langword="true"/> when known.</returns>
    public static bool IsKnown(string? mode) =>
        mode is "shared" or "slave" or "private" or "unbindable" or "rshared" or "rslave" or "rprivate" or "runbindable";
}

/// <summary>Values of <c>linux.personality.domain</c> (config-linux.md#personality).</summary>
public static class PersonalityDomains
{
    /// <summary>"LINUX": the standard personality (PER_LINUX).</summary>
    public const string Linux = "LINUX";

    /// <summary>"LINUX32": uname(2) reports a 32-bit machine (PER_LINUX32).</summary>
    public const string Linux32 = "LINUX32";
}

/// <summary>Values of <c>process.scheduler.policy</c> (config.md#linux-process, sched(7)).</summary>
public static class SchedulerPolicies
{
    /// <summary>SCHED_OTHER, SCHED_FIFO, SCHED_RR, SCHED_BATCH, SCHED_ISO, SCHED_IDLE, SCHED_DEADLINE.</summary>
    public static IReadOnlyList<string> All { get; } =
        ["SCHED_OTHER", "SCHED_FIFO", "SCHED_RR", "SCHED_BATCH", "SCHED_ISO", "SCHED_IDLE", "SCHED_DEADLINE"];

    /// <summary>Whether <paramref name="policy"/> is one of <see cref="All"/>.</summary>
    /// <param name="policy">A policy name.</param>
    /// <returns><see langword="true"/> when known.</returns>
    public static bool IsKnown(string? policy) =>
        policy is "SCHED_OTHER" or "SCHED_FIFO" or "SCHED_RR" or "SCHED_BATCH" or "SCHED_ISO" or "SCHED_IDLE" or "SCHED_DEADLINE";
}

/// <summary>Values of <c>process.scheduler.flags</c> (config.md#linux-process, sched_setattr(2)).</summary>
public static class SchedulerFlags
{
    /// <summary>The seven SCHED_FLAG_* names.</summary>
    public static IReadOnlyList<string> All { get; } =
    [
        "SCHED_FLAG_RESET_ON_FORK", "SCHED_FLAG_RECLAIM", "SCHED_FLAG_DL_OVERRUN", "SCHED_FLAG_KEEP_POLICY",
        "SCHED_FLAG_KEEP_PARAMS", "SCHED_FLAG_UTIL_CLAMP_MIN", "SCHED_FLAG_UTIL_CLAMP_MAX",
    ];

    /// <summary>Whether <paramref name="flag"/> is one of <see cref="All"/>.</summary>
    /// <param name="flag">A flag name.</param>
    /// <returns><see langword="true"/> when known.</returns>
    public static bool IsKnown(string? flag) => flag is not null && Lists.ContainsOrdinal(All, flag);
}

/// <summary>Values of <c>process.ioPriority.class</c> (config.md#linux-process, ioprio_set(2)).</summary>
public static class IoPriorityClasses
{
    /// <summary>"IOPRIO_CLASS_RT": real-time class (IOPRIO_CLASS_RT = 1).</summary>
    public const string RealTime = "IOPRIO_CLASS_RT";

    /// <summary>"IOPRIO_CLASS_BE": best-effort class (IOPRIO_CLASS_BE = 2).</summary>
    public const string BestEffort = "IOPRIO_CLASS_BE";

    /// <summary>"IOPRIO_CLASS_IDLE": idle class (IOPRIO_CLASS_IDLE = 3).</summary>
    public const string Idle = "IOPRIO_CLASS_IDLE";

    /// <summary>Whether <paramref name="ioClass"/> is one of the three classes.</summary>
    /// <param name="ioClass">A class name.</param>
    /// <returns><see langword="true"/> when known.</returns>
    public static bool IsKnown(string? ioClass) => ioClass is RealTime or BestEffort or Idle;
}

/// <summary>Values of <c>linux.memoryPolicy.mode</c> (config-linux.md#memory-policy, set_mempolicy(2)).</summary>
public static class MemoryPolicyModes
{
    /// <summary>The seven MPOL_* modes.</summary>
    public static IReadOnlyList<string> All { get; } =
    [
        "MPOL_DEFAULT", "MPOL_BIND", "MPOL_INTERLEAVE", "MPOL_WEIGHTED_INTERLEAVE", "MPOL_PREFERRED",
        "MPOL_PREFERRED_MANY", "MPOL_LOCAL",
    ];

    /// <summary>Whether <paramref name="mode"/> is one of <see cref="All"/>.</summary>
    /// <param name="mode">A mode name.</param>
    /// <returns><see langword="true"/> when known.</returns>
    public static bool IsKnown(string? mode) => mode is not null && Lists.ContainsOrdinal(All, mode);
}

/// <summary>Values of <c>linux.memoryPolicy.flags</c> (config-linux.md#memory-policy).</summary>
public static class MemoryPolicyFlags
{
    /// <summary>MPOL_F_NUMA_BALANCING, MPOL_F_RELATIVE_NODES, MPOL_F_STATIC_NODES.</summary>
    public static IReadOnlyList<string> All { get; } = ["MPOL_F_NUMA_BALANCING", "MPOL_F_RELATIVE_NODES", "MPOL_F_STATIC_NODES"];

    /// <summary>Whether <paramref name="flag"/> is one of <see cref="All"/>.</summary>
    /// <param name="flag">A flag name.</param>
    /// <returns><see langword="true"/> when known.</returns>
    public static bool IsKnown(string? flag) => flag is "MPOL_F_NUMA_BALANCING" or "MPOL_F_RELATIVE_NODES" or "MPOL_F_STATIC_NODES";
}
