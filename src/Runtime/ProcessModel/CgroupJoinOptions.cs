namespace OciRuntime.Runtime.ProcessModel;

/// <summary>
/// How the init joins its cgroups (the "cgroups" section of docs/process-model.md): the runtime creates them and
/// writes linux.resources before the clone, passes an O_WRONLY fd of each join file (a v1 tasks file, or cgroup.procs), and the init writes "0" to
/// them itself once its own setup is done, so the runtime's setup work is not charged to the container.
/// </summary>
public sealed class CgroupJoinOptions
{
    /// <summary>
    /// The init's fd numbers of the join files to write "0" to (one per hierarchy: a v1 hierarchy's tasks file, which moves
    /// the writing thread without the kernel's global lock; cgroup.procs on cgroup2, unless the init was born there). Sent
    /// empty: the fds travel as SCM_RIGHTS with the Bootstrap frame, and the init fills this list from them, in order.
    /// </summary>
    public List<int> ProcsFds { get; set; } = [];

    /// <summary>
    /// A new cgroup namespace was asked for (linux.namespaces "cgroup" without path): the init unshares it right after
    /// joining, so its root is the container's cgroup (clone3 would have rooted it at the runtime's cgroup).
    /// </summary>
    public bool NewNamespace { get; set; }

    /// <summary>
    /// The container's cgroup directories on the host by hierarchy ("memory", "cpu,cpuacct", "systemd"; "" = cgroup2),
    /// bind-mounted for mounts of type "cgroup".
    /// </summary>
    public Dictionary<string, string> Paths { get; set; } = [];

    /// <summary>"v1", "hybrid" or "v2".</summary>
    public string Mode { get; set; } = "";
}
