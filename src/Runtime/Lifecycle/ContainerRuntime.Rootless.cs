using OciRuntime.Cgroups;
using OciRuntime.Spec;

namespace OciRuntime.Runtime.Lifecycle;

public sealed partial class ContainerRuntime
{
    /// <summary>
    /// Rootless mode (runc's <c>--rootless</c>, resolved by <see cref="RootlessMode.Resolve"/>): ocirun has no host
    /// privileges. On a cgroup v2 host it uses the container's cgroup when the caller may (a delegated subtree, e.g.
    /// under user@UID.service) and applies linux.resources there; otherwise, without a cgroupsPath or limits, the
    /// container stays in the caller's cgroup, and with them create fails (runc's rules). On v1 it creates no
    /// cgroups. The one place that decides is <see cref="CgroupsFor"/>.
    /// </summary>
    public bool Rootless { get; init; }

    /// <summary>
    /// runc's global <c>--systemd-cgroup</c>: the container's cgroup is a transient systemd scope (the system manager's,
    /// or the user's when <see cref="Rootless"/>), cgroupsPath "slice:prefix:name" (see SystemdCgroupManager).
    /// </summary>
    public bool SystemdCgroup { get; init; }

    /// <summary>
    /// The cgroup manager of a new container <paramref name="id"/>: the systemd driver's with --systemd-cgroup; in
    /// rootless mode a delegated cgroup v2 subtree's when usable (CgroupManagerFactory.CreateRootless), else none (null);
    /// otherwise the cgroupfs driver's.
    /// </summary>
    private ICgroupManager? CgroupsFor(string id, string? cgroupsPath, LinuxResources? resources)
    {
        if (SystemdCgroup) return CgroupManagerFactory.CreateSystemd(id, cgroupsPath, Rootless);
        return Rootless ? CgroupManagerFactory.CreateRootless(id, cgroupsPath, resources) : CgroupManagerFactory.Create(id, cgroupsPath);
    }
}
