using OciRuntime.Cgroups;

namespace OciRuntime.Runtime.Lifecycle;

public sealed partial class ContainerRuntime
{
    /// <summary>
    /// Rootless mode (runc's <c>--rootless</c>, resolved by <see cref="RootlessMode.Resolve"/>): ocirun has no host
    /// privileges, so it creates no cgroups (the container stays in the caller's cgroup and linux.resources is not
    /// applied). The one place that decides is <see cref="CgroupsFor"/>: a cgroup manager that can use a delegated
    /// subtree (cgroup v2 with systemd delegation) reads this flag there.
    /// </summary>
    public bool Rootless { get; init; }

    /// <summary>The cgroup manager of a new container <paramref name="id"/>: none (null) in rootless mode, else the factory's.</summary>
    private ICgroupManager? CgroupsFor(string id, string? cgroupsPath) =>
        Rootless ? null : CgroupManagerFactory.Create(id, cgroupsPath);
}
