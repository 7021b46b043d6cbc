using OciRuntime.Spec;

namespace OciRuntime.Cgroups;

/// <summary>
/// One container's cgroup(s), whatever the host's mode (v1, v2, hybrid): create and join, apply
/// linux.resources, freeze, list processes, remove. runtime-spec config-linux.md#control-groups.
/// Implementations: see <see cref="CgroupManagerFactory"/>.
/// </summary>
public interface ICgroupManager
{
    /// <summary>The cgroup path as given by linux.cgroupsPath or derived from the container id (e.g. "/ocirun/ID").</summary>
    string Path { get; }

    /// <summary>Creates the cgroup(s) and moves process <paramref name="pid"/> into them.</summary>
    /// <exception cref="IOException">a cgroup cannot be created or joined.</exception>
    void Apply(int pid);

    /// <summary>Writes <paramref name="resources"/> (null = nothing) to the cgroup files.</summary>
    /// <exception cref="IOException">a value is refused by the kernel; the message names the linux.resources field.</exception>
    void ApplyResources(LinuxResources? resources);

    /// <summary>Pids of every process in the container's cgroup(s).</summary>
    IReadOnlyList<int> GetPids();

    /// <summary>Removes the cgroup(s) this manager created (never one it did not create). Idempotent.</summary>
    void Destroy();
}

/// <summary>Chooses the cgroup manager for a container.</summary>
public static class CgroupManagerFactory
{
    /// <summary>
    /// The manager for container <paramref name="id"/> with linux.cgroupsPath <paramref name="cgroupsPath"/>.
    /// Until the v1/v2 managers land (issue "Cgroups v1 and v2") this is <see cref="NoCgroupManager"/>: the
    /// container stays in the runtime's cgroup and linux.resources is not applied.
    /// </summary>
    public static ICgroupManager Create(string id, string? cgroupsPath) =>
        new NoCgroupManager(string.IsNullOrEmpty(cgroupsPath) ? "/ocirun/" + id : cgroupsPath);
}

/// <summary>A manager that leaves processes where they are and applies nothing.</summary>
/// <param name="path">The cgroup path it stands for.</param>
public sealed class NoCgroupManager(string path) : ICgroupManager
{
    /// <inheritdoc />
    public string Path { get; } = path;

    /// <inheritdoc />
    public void Apply(int pid) { }

    /// <inheritdoc />
    public void ApplyResources(LinuxResources? resources) { }

    /// <inheritdoc />
    public IReadOnlyList<int> GetPids() => [];

    /// <inheritdoc />
    public void Destroy() { }
}
