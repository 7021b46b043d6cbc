using OciRuntime.Interop;
using OciRuntime.Spec;

namespace OciRuntime.Cgroups;

/// <summary>The freezer state of a container's cgroup (runc's configs.FreezerState).</summary>
public enum FreezerState
{
    /// <summary>Not frozen.</summary>
    Thawed,

    /// <summary>Frozen (every task stopped).</summary>
    Frozen,

    /// <summary>No freezer (v1 without the freezer hierarchy, or a v2 kernel without cgroup.freeze).</summary>
    Undefined,
}

/// <summary>
/// One container's cgroup(s), whatever the host's mode (v1, v2, hybrid): create, apply linux.resources, join, freeze,
/// list and signal processes, read stats, watch OOM kills, remove. runtime-spec config-linux.md#control-groups.
/// Implementations: <see cref="V1CgroupManager"/> (v1 and hybrid) and <see cref="V2CgroupManager"/>; see <see cref="CgroupManagerFactory"/>.
/// </summary>
public interface ICgroupManager
{
    /// <summary>The host mode this manager works in.</summary>
    CgroupMode Mode { get; }

    /// <summary>The cgroup path as given by linux.cgroupsPath or derived from the container id (relative "ID", as runc).</summary>
    string Path { get; }

    /// <summary>
    /// The container's cgroup directories, by hierarchy: v1 hierarchy names ("memory", "cpu,cpuacct", "systemd") and
    /// "" for the cgroup2 one (v2, or hybrid's unified hierarchy). Absolute paths on the host.
    /// </summary>
    IReadOnlyDictionary<string, string> Paths { get; }

    /// <summary>What to record in the container's state to rebuild this manager later (<see cref="CgroupManagerFactory.Load"/>).</summary>
    CgroupState State { get; }

    /// <summary>
    /// Creates the cgroup directories that do not exist yet (recording which; v1 cpuset gets its parent's cpus/mems;
    /// v2 ancestors get the available controllers in cgroup.subtree_control). Idempotent.
    /// </summary>
    /// <exception cref="CgroupException">a directory cannot be created.</exception>
    void Create();

    /// <summary>
    /// Whether the cgroup only comes into being with a process in it (a systemd scope: StartTransientUnit's PIDs): the
    /// runtime then calls <see cref="Apply"/> with the init's pid instead of <see cref="Create"/>.
    /// </summary>
    bool CreatedWithProcess => false;

    /// <summary>Creates the cgroups if needed and moves process <paramref name="pid"/> (with all its threads) into every one.</summary>
    /// <exception cref="CgroupException">a cgroup cannot be created or joined.</exception>
    void Apply(int pid);

    /// <summary>
    /// Opens, for writing (O_WRONLY|O_CLOEXEC), the file of every container cgroup through which a process joins it later
    /// by writing "0" (itself), even after pivot_root, setuid or dropping capabilities (cgroup permission checks use the
    /// opener's credentials): a v1 hierarchy's <c>tasks</c> file, which moves only the writing thread (the one that
    /// execs) and takes no global lock, and a cgroup2 directory's cgroup.procs, which moves the whole process under the
    /// kernel's cgroup_threadgroup_rwsem (a full RCU grace period, 4–18 ms here, when no migration happened lately).
    /// The cgroup2 directory of <see cref="CreateBirthCgroup"/> is left out when <paramref name="bornInCgroup2"/>.
    /// </summary>
    /// <param name="bornInCgroup2">The process is born in the cgroup2 directory (CLONE_INTO_CGROUP): no file for it.</param>
    /// <exception cref="CgroupException">a file cannot be opened.</exception>
    IReadOnlyList<SafeFd> OpenJoinFiles(bool bornInCgroup2);

    /// <summary>
    /// For a hybrid host whose cgroup2 hierarchy charges nothing to the container (neither memory nor pids is enabled
    /// there): creates the container's cgroup2 directory now and returns an fd of it for clone3's CLONE_INTO_CGROUP, so
    /// that no process-wide migration (and its global lock) is needed for it. Null otherwise: pure v1 has no cgroup2
    /// directory, and on a pure v2 host the init joins late (<see cref="OpenJoinFiles"/>) so that its own set-up is not
    /// charged to the container's limits.
    /// </summary>
    /// <exception cref="CgroupException">the directory cannot be created.</exception>
    SafeFd? CreateBirthCgroup();

    /// <summary>
    /// Whether a process may be born in this container's cgroup2 directory instead of joining it (<see cref="CreateBirthCgroup"/>'s
    /// condition: a hybrid host whose cgroup2 hierarchy has neither memory nor pids enabled).
    /// </summary>
    bool CanBeBornInCgroup2 { get; }

    /// <summary>
    /// Writes <paramref name="resources"/> (null = nothing) to the cgroup files, devices included. On a v1 host the
    /// devices controller gets the effective rule list (<see cref="DeviceRules.Effective"/>); on v2 an eBPF program.
    /// </summary>
    /// <param name="resources">linux.resources.</param>
    /// <param name="devices">linux.devices (their paths drop the matching default rules, as runc does).</param>
    /// <exception cref="CgroupException">a value is refused; the message names the linux.resources field.</exception>
    void ApplyResources(LinuxResources? resources, IReadOnlyList<LinuxDevice>? devices = null);

    /// <summary>
    /// Writes the resources of an update (runc update: everything but devices; memory.checkBeforeUpdate honoured).
    /// <paramref name="resources"/> is the merged result (<see cref="ResourceMerge"/>).
    /// </summary>
    /// <exception cref="CgroupException">a value is refused; the message names the linux.resources field.</exception>
    void Update(LinuxResources resources);

    /// <summary>Freezes (<see cref="FreezerState.Frozen"/>) or thaws every process, and waits until the kernel says it is done.</summary>
    /// <exception cref="CgroupException">no freezer, or the cgroup did not reach the state.</exception>
    void Freeze(FreezerState state);

    /// <summary>The current freezer state.</summary>
    FreezerState GetFreezerState();

    /// <summary>Pids of every process in the container's cgroup and the cgroups below it.</summary>
    IReadOnlyList<int> GetPids();

    /// <summary>
    /// Sends <paramref name="signal"/> to every process of the cgroup: v2 SIGKILL through cgroup.kill when the kernel
    /// has it; otherwise freeze, kill(2) each pid, thaw (runc's signalAllProcesses), so no fork escapes.
    /// </summary>
    void SignalAll(int signal);

    /// <summary>The container's resource usage, in runc's stats shape.</summary>
    ContainerStats GetStats();

    /// <summary>Starts watching OOM kills in the container's memory cgroup, or null when there is no memory controller.</summary>
    IOomWatcher? WatchOom();

    /// <summary>
    /// Kills whatever is left in the cgroups, then removes the directories this manager created (the container's own
    /// ones together with the cgroups below them; created parents only when empty). Never removes a directory it did
    /// not create. Idempotent.
    /// </summary>
    /// <exception cref="CgroupException">a directory cannot be removed.</exception>
    void Destroy();
}

/// <summary>Reports OOM kills of one cgroup: poll <see cref="Fd"/> for POLLIN, then call <see cref="ReadEvents"/>.</summary>
public interface IOomWatcher : IDisposable
{
    /// <summary>An fd that becomes readable when something may have happened.</summary>
    int Fd { get; }

    /// <summary>The number of OOM events since the last call (0 when the wake-up was for something else).</summary>
    int ReadEvents();
}
