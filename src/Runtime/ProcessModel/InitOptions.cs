using System.Text.Json.Serialization;

namespace OciRuntime.Runtime.ProcessModel;

/// <summary>What the runtime tells the container init besides config.json (the <see cref="SyncMessage.Bootstrap"/> frame).</summary>
public sealed class InitOptions
{
    /// <summary>The container id.</summary>
    public string Id { get; set; } = "";

    /// <summary>Absolute path of the bundle directory (relative bind sources resolve against it).</summary>
    public string Bundle { get; set; } = "";

    /// <summary>Absolute, symlink-free path of the rootfs on the host.</summary>
    public string Rootfs { get; set; } = "";

    /// <summary>runc's --no-pivot: move the rootfs onto / and chroot instead of pivot_root.</summary>
    public bool NoPivot { get; set; }

    /// <summary>The init's fd number of the exec fifo (opened O_PATH by the parent), or -1 for none (exec).</summary>
    public int FifoFd { get; set; } = -1;

    /// <summary>Mount namespace is new (not joined): the init prepares the rootfs.</summary>
    public bool NewMountNamespace { get; set; } = true;

    /// <summary>Debug tracing (phase timings) requested.</summary>
    public bool Debug { get; set; }

    /// <summary>
    /// True for <c>exec</c>: the process joins a running container, so the container-wide steps (rootfs, hostname,
    /// sysctl, oom_score_adj) are skipped and there is no exec fifo.
    /// </summary>
    public bool IsExec { get; set; }

    /// <summary>--preserve-fds: fds 3 … 3+N-1 stay open in the container process (plus LISTEN_FDS ones, already counted).</summary>
    public int PreserveFds { get; set; }

    /// <summary>The init's fd of the console socket (process.terminal): the pty master goes there; -1 = no terminal.</summary>
    public int ConsoleSocketFd { get; set; } = -1;

    /// <summary>The init's fd of the root of the mount namespace it joined (it runs chrooted to the host root until it enters it); -1 = none.</summary>
    public int NamespaceRootFd { get; set; } = -1;

    /// <summary>The container has a user namespace (new or joined): mount flags locked by the host must be kept on remounts.</summary>
    public bool InUserNamespace { get; set; }

    /// <summary>The init's pid as the host sees it (what hooks get in the state's "pid").</summary>
    public int HostPid { get; set; }

    /// <summary>--no-new-keyring: keep the caller's session keyring instead of joining a new one.</summary>
    public bool NoNewKeyring { get; set; }

    /// <summary>
    /// Per entry of config.json's mounts: the init's fd of the detached, already idmapped copy of its source
    /// (<see cref="IdmappedMounts"/>), attached with move_mount instead of a bind mount; -1 = none. Null when no mount is idmapped.
    /// </summary>
    public int[]? MountFds { get; set; }

    /// <summary>
    /// The runtime made the container's new network namespace while the init started (docs/process-model.md, "The
    /// network namespace"): its fd is the first one sent with the Bootstrap frame, and the init joins it before anything else.
    /// </summary>
    public bool JoinNetNamespace { get; set; }

    /// <summary>The container's cgroups: the init's fds and the host paths (see docs/process-model.md, "cgroups").</summary>
    public CgroupJoinOptions? Cgroups { get; set; }

    /// <summary>
    /// The init's fd number of a socket the runtime connected to <c>linux.seccomp.listenerPath</c> (the profile has
    /// SCMP_ACT_NOTIFY rules), or -1. The init sends the notify fd through it right after loading the filter.
    /// </summary>
    public int SeccompListenerFd { get; set; } = -1;

    /// <summary>The container process state JSON (config-linux.md#the-container-process-state) sent with the notify fd.</summary>
    public string? SeccompListenerState { get; set; }

    /// <summary>linux.seccomp compiled by the runtime: the BPF program (struct sock_filter[]) in base64, or null.</summary>
    public string? SeccompProgram { get; set; }

    /// <summary>The seccomp(2) SECCOMP_FILTER_FLAG_* bits to load <see cref="SeccompProgram"/> with.</summary>
    public uint SeccompFlags { get; set; }
}

/// <summary>The init's report on success: how long each phase took, in microseconds, in order.</summary>
public sealed class InitReport
{
    /// <summary>Phase name and duration in µs, e.g. ("mounts", 412).</summary>
    public List<PhaseTiming> Phases { get; set; } = [];

    /// <summary>Things the init worked around (a mount it replaced or skipped); the runtime logs them as warnings.</summary>
    public List<string>? Warnings { get; set; }
}

/// <summary>One timed phase of container setup.</summary>
public sealed class PhaseTiming
{
    /// <summary>Phase name (parse, mounts, devices, pivot_root, ...).</summary>
    public string Name { get; set; } = "";

    /// <summary>Duration in microseconds.</summary>
    public long Micros { get; set; }
}
