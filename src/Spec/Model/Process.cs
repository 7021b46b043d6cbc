using System.Text.Json.Serialization;

namespace OciRuntime.Spec;

/// <summary><c>process</c>: the container process (config.md#process, Linux fields from config.md#linux-process).</summary>
public sealed class Process
{
    /// <summary><c>terminal</c>: attach a pseudo-terminal to the process. <see langword="false"/> is written as an absent key.</summary>
    [JsonPropertyName("terminal")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool Terminal { get; set; }

    /// <summary><c>consoleSize</c>: initial console size in characters; ignored unless <see cref="Terminal"/> is set.</summary>
    [JsonPropertyName("consoleSize")]
    public Box? ConsoleSize { get; set; }

    /// <summary><c>user</c> (REQUIRED): the user and groups the process runs as, in the container's user namespace.</summary>
    [JsonPropertyName("user")]
    public User User { get; set; } = new();

    /// <summary><c>args</c>: argv of the process including argv[0]; MUST have at least one entry on Linux.</summary>
    [JsonPropertyName("args")]
    public List<string>? Args { get; set; }

    /// <summary><c>commandLine</c>: full command line (Windows only; kept for round trips).</summary>
    [JsonPropertyName("commandLine")]
    public string? CommandLine { get; set; }

    /// <summary><c>env</c>: environment as "KEY=value" strings (environ(7) semantics).</summary>
    [JsonPropertyName("env")]
    public List<string>? Env { get; set; }

    /// <summary><c>cwd</c> (REQUIRED): absolute working directory inside the container. Empty when the key was absent.</summary>
    [JsonPropertyName("cwd")]
    public string Cwd { get; set; } = "";

    /// <summary><c>capabilities</c>: capability sets of the process (config.md#linux-process).</summary>
    [JsonPropertyName("capabilities")]
    public LinuxCapabilities? Capabilities { get; set; }

    /// <summary><c>rlimits</c>: resource limits applied with setrlimit(2) / prlimit(2).</summary>
    [JsonPropertyName("rlimits")]
    public List<PosixRlimit>? Rlimits { get; set; }

    /// <summary><c>noNewPrivileges</c>: set PR_SET_NO_NEW_PRIVS. <see langword="false"/> is written as an absent key.</summary>
    [JsonPropertyName("noNewPrivileges")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool NoNewPrivileges { get; set; }

    /// <summary><c>apparmorProfile</c>: name of the AppArmor profile to exec the process under.</summary>
    [JsonPropertyName("apparmorProfile")]
    public string? ApparmorProfile { get; set; }

    /// <summary><c>oomScoreAdj</c>: value for /proc/[pid]/oom_score_adj, -1000..1000.</summary>
    [JsonPropertyName("oomScoreAdj")]
    public int? OomScoreAdj { get; set; }

    /// <summary><c>scheduler</c>: sched_setattr(2) attributes of the process (config.md#linux-process, runtime-spec 1.2).</summary>
    [JsonPropertyName("scheduler")]
    public Scheduler? Scheduler { get; set; }

    /// <summary><c>selinuxLabel</c>: SELinux process label, e.g. "system_u:system_r:svirt_lxc_net_t:s0:c124,c675".</summary>
    [JsonPropertyName("selinuxLabel")]
    public string? SelinuxLabel { get; set; }

    /// <summary><c>ioPriority</c>: ioprio_set(2) class and priority of the process (runtime-spec 1.2).</summary>
    [JsonPropertyName("ioPriority")]
    public LinuxIoPriority? IoPriority { get; set; }

    /// <summary><c>execCPUAffinity</c>: CPU affinity for processes started with exec (not the init process; runtime-spec 1.2.1).</summary>
    [JsonPropertyName("execCPUAffinity")]
    public ExecCpuAffinity? ExecCpuAffinity { get; set; }
}

/// <summary><c>consoleSize</c>: a rectangle in character cells (config.md#process).</summary>
public sealed class Box
{
    /// <summary><c>height</c> (REQUIRED): rows.</summary>
    [JsonPropertyName("height")]
    public uint Height { get; set; }

    /// <summary><c>width</c> (REQUIRED): columns.</summary>
    [JsonPropertyName("width")]
    public uint Width { get; set; }
}

/// <summary><c>process.user</c>: the identity of the process in the container's user namespace (config.md#user).</summary>
public sealed class User
{
    /// <summary><c>uid</c> (REQUIRED): user ID.</summary>
    [JsonPropertyName("uid")]
    public uint Uid { get; set; }

    /// <summary><c>gid</c> (REQUIRED): primary group ID.</summary>
    [JsonPropertyName("gid")]
    public uint Gid { get; set; }

    /// <summary><c>umask</c>: umask of the process, 0..0777 (runtime-spec 1.1).</summary>
    [JsonPropertyName("umask")]
    public uint? Umask { get; set; }

    /// <summary><c>additionalGids</c>: supplementary group IDs.</summary>
    [JsonPropertyName("additionalGids")]
    public List<uint>? AdditionalGids { get; set; }

    /// <summary>The supplementary groups to hand to setgroups(2): <see cref="AdditionalGids"/> with each gid once, in
    /// the order first seen; empty when there are none. runc collects them into a set (Docker sends e.g.
    /// <c>[1000,50,4242,50]</c> and its process shows <c>Groups: 50 1000 4242</c>); setgroups itself keeps
    /// duplicates.</summary>
    public uint[] DistinctAdditionalGids()
    {
        if (AdditionalGids is not { Count: > 0 } gids) return [];
        var result = new List<uint>(gids.Count);
        foreach (var gid in gids)
            if (!result.Contains(gid)) result.Add(gid);
        return result.ToArray();
    }

    /// <summary><c>username</c>: user name (Windows only; kept for round trips).</summary>
    [JsonPropertyName("username")]
    public string? Username { get; set; }
}

/// <summary><c>process.capabilities</c>: capability sets as "CAP_*" names (config.md#linux-process, capabilities(7)).</summary>
public sealed class LinuxCapabilities
{
    /// <summary><c>bounding</c>: the bounding set.</summary>
    [JsonPropertyName("bounding")]
    public List<string>? Bounding { get; set; }

    /// <summary><c>effective</c>: the effective set.</summary>
    [JsonPropertyName("effective")]
    public List<string>? Effective { get; set; }

    /// <summary><c>inheritable</c>: the inheritable set.</summary>
    [JsonPropertyName("inheritable")]
    public List<string>? Inheritable { get; set; }

    /// <summary><c>permitted</c>: the permitted set.</summary>
    [JsonPropertyName("permitted")]
    public List<string>? Permitted { get; set; }

    /// <summary><c>ambient</c>: the ambient set.</summary>
    [JsonPropertyName("ambient")]
    public List<string>? Ambient { get; set; }
}

/// <summary>One entry of <c>process.rlimits</c> (config.md#posix-process, setrlimit(2)).</summary>
public sealed class PosixRlimit
{
    /// <summary><c>type</c> (REQUIRED): resource name, one of <see cref="RlimitTypes.All"/>, e.g. "RLIMIT_NOFILE".</summary>
    [JsonPropertyName("type")]
    public string Type { get; set; } = "";

    /// <summary><c>hard</c> (REQUIRED): hard limit (ceiling for <see cref="Soft"/>); 18446744073709551615 = RLIM_INFINITY.</summary>
    [JsonPropertyName("hard")]
    public ulong Hard { get; set; }

    /// <summary><c>soft</c> (REQUIRED): soft limit enforced by the kernel; must not exceed <see cref="Hard"/>.</summary>
    [JsonPropertyName("soft")]
    public ulong Soft { get; set; }
}

/// <summary><c>process.scheduler</c>: sched_setattr(2) attributes (config.md#linux-process, runtime-spec 1.2).</summary>
public sealed class Scheduler
{
    /// <summary><c>policy</c> (REQUIRED): one of <see cref="SchedulerPolicies.All"/>, e.g. "SCHED_OTHER".</summary>
    [JsonPropertyName("policy")]
    public string Policy { get; set; } = "";

    /// <summary><c>nice</c>: nice value, -20..19 (SCHED_OTHER / SCHED_BATCH).</summary>
    [JsonPropertyName("nice")]
    public int? Nice { get; set; }

    /// <summary><c>priority</c>: static priority, 1..99 for SCHED_FIFO / SCHED_RR, 0 otherwise.</summary>
    [JsonPropertyName("priority")]
    public int? Priority { get; set; }

    /// <summary><c>flags</c>: scheduling flags, each one of <see cref="SchedulerFlags.All"/>.</summary>
    [JsonPropertyName("flags")]
    public List<string>? Flags { get; set; }

    /// <summary><c>runtime</c>: SCHED_DEADLINE runtime in nanoseconds.</summary>
    [JsonPropertyName("runtime")]
    public ulong? Runtime { get; set; }

    /// <summary><c>deadline</c>: SCHED_DEADLINE deadline in nanoseconds.</summary>
    [JsonPropertyName("deadline")]
    public ulong? Deadline { get; set; }

    /// <summary><c>period</c>: SCHED_DEADLINE period in nanoseconds.</summary>
    [JsonPropertyName("period")]
    public ulong? Period { get; set; }
}

/// <summary><c>process.ioPriority</c>: ioprio_set(2) settings (config.md#linux-process, runtime-spec 1.2).</summary>
public sealed class LinuxIoPriority
{
    /// <summary><c>class</c> (REQUIRED): "IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE" or "IOPRIO_CLASS_IDLE" (<see cref="IoPriorityClasses"/>).</summary>
    [JsonPropertyName("class")]
    public string Class { get; set; } = "";

    /// <summary><c>priority</c> (REQUIRED): level within the class, 0 (highest) .. 7 (lowest).</summary>
    [JsonPropertyName("priority")]
    public int Priority { get; set; }
}

/// <summary>
/// <c>process.execCPUAffinity</c>: CPU affinity of processes started by exec (runtime-spec 1.2.1, config.md#linux-process).
/// Both values are cpuset lists such as "0-3,7".
/// </summary>
public sealed class ExecCpuAffinity
{
    /// <summary><c>initial</c>: CPUs the runtime's exec child runs on before it joins the container's cgroup.</summary>
    [JsonPropertyName("initial")]
    public string? Initial { get; set; }

    /// <summary><c>final</c>: CPUs the process runs on after it joined the container's cgroup.</summary>
    [JsonPropertyName("final")]
    public string? Final { get; set; }
}
