using System.Text.Json.Serialization;
using OciRuntime.Spec;

namespace OciRuntime.Cgroups;

/// <summary>
/// What the runtime records about a container's cgroups (in its state.json): enough to find them again from any
/// process (a relative cgroupsPath depends on the creating process's cgroup), to remove exactly what was created, and
/// to merge an update into the resources in force (runc keeps the same in its state.json).
/// </summary>
public sealed class CgroupState
{
    /// <summary>"v1", "hybrid" or "v2": the host mode at create time.</summary>
    [JsonPropertyName("mode")]
    public string Mode { get; set; } = "";

    /// <summary>linux.cgroupsPath as given, or the id when it was absent.</summary>
    [JsonPropertyName("path")]
    public string Path { get; set; } = "";

    /// <summary>The container's cgroup directories by hierarchy ("" = the cgroup2 hierarchy), absolute host paths.</summary>
    [JsonPropertyName("paths")]
    public Dictionary<string, string> Paths { get; set; } = [];

    /// <summary>Every directory ocirun created, in creation order (parents first); only these are ever removed.</summary>
    [JsonPropertyName("created")]
    public List<string> Created { get; set; } = [];

    /// <summary>The linux.resources in force (config.json's, with every update merged in).</summary>
    [JsonPropertyName("resources")]
    public LinuxResources? Resources { get; set; }

    /// <summary>The mode as an enum.</summary>
    [JsonIgnore]
    public CgroupMode ModeValue => Mode switch
    {
        "v2" => CgroupMode.V2,
        "hybrid" => CgroupMode.Hybrid,
        _ => CgroupMode.V1,
    };

    /// <summary>The text of <paramref name="mode"/>.</summary>
    public static string ModeName(CgroupMode mode) => mode switch
    {
        CgroupMode.V2 => "v2",
        CgroupMode.Hybrid => "hybrid",
        _ => "v1",
    };
}

/// <summary>Chooses and rebuilds cgroup managers.</summary>
public static class CgroupManagerFactory
{
    /// <summary>
    /// The manager for container <paramref name="id"/> with linux.cgroupsPath <paramref name="cgroupsPath"/> on
    /// <paramref name="host"/> (default: the real host). An absent path means the relative path "ID", as runc (its
    /// cgroup name is the container id, under the runtime's own cgroup).
    /// </summary>
    /// <exception cref="CgroupException">no usable cgroup filesystem, or a bad cgroupsPath (names linux.cgroupsPath).</exception>
    public static ICgroupManager Create(string id, string? cgroupsPath, CgroupHost? host = null)
    {
        host ??= CgroupHost.Real;
        var path = string.IsNullOrEmpty(cgroupsPath) ? id : cgroupsPath;
        if (path.Contains(':', StringComparison.Ordinal) && !path.StartsWith('/'))
            throw new CgroupException($"\"{path}\" looks like a systemd slice:prefix:name path, but the systemd cgroup driver is not supported", "linux.cgroupsPath");
        var inner = CgroupPaths.Clean(path);
        if (inner is "" or "/") throw new CgroupException($"\"{path}\" resolves to the root cgroup", "linux.cgroupsPath");
        return host.Mode == CgroupMode.V2
            ? new V2CgroupManager(host, path, CgroupPaths.V2Dir(host, inner), [])
            : new V1CgroupManager(host, path, CgroupPaths.V1Dirs(host, inner), []);
    }

    /// <summary>Rebuilds the manager recorded in <paramref name="state"/> (paths as recorded, whatever the caller's cgroup).</summary>
    public static ICgroupManager Load(CgroupState state, CgroupHost? host = null)
    {
        host ??= CgroupHost.Real;
        return state.ModeValue == CgroupMode.V2
            ? new V2CgroupManager(host, state.Path, state.Paths.GetValueOrDefault("") ?? "", state.Created) { Resources = state.Resources }
            : new V1CgroupManager(host, state.Path, state.Paths, state.Created) { Resources = state.Resources };
    }
}

/// <summary>cgroupsPath resolution, as runc's fs and fs2 drivers do it.</summary>
public static class CgroupPaths
{
    /// <summary>
    /// runc's utils.CleanPath: lexically cleans <paramref name="path"/>; a relative path cannot climb above its start
    /// ("../x" → "x"), an absolute one not above "/".
    /// </summary>
    public static string Clean(string path)
    {
        if (path.Length == 0) return "";
        var absolute = path.StartsWith('/');
        var parts = new List<string>();
        foreach (var part in path.Split('/'))
        {
            if (part is "" or ".") continue;
            if (part == "..")
            {
                if (parts.Count > 0) parts.RemoveAt(parts.Count - 1);
                continue;
            }
            parts.Add(part);
        }
        var joined = string.Join('/', parts);
        return absolute ? "/" + joined : joined;
    }

    /// <summary>
    /// The v1 directories: an absolute path is taken under each hierarchy's mount point; a relative one under the
    /// caller's own cgroup of that hierarchy (runc fs: GetOwnCgroupPath). In hybrid mode the cgroup2 hierarchy ("")
    /// is resolved the same way.
    /// </summary>
    public static Dictionary<string, string> V1Dirs(CgroupHost host, string inner)
    {
        var dirs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var h in host.V1)
            dirs[h.Name] = Join(h.MountPoint, inner.StartsWith('/') ? inner : Join(host.OwnCgroups.GetValueOrDefault(h.Name) ?? "/", inner));
        if (host.UnifiedMount is { } unified)
            dirs[""] = Join(unified, inner.StartsWith('/') ? inner : Join(host.OwnCgroups.GetValueOrDefault("") ?? "/", inner));
        return dirs;
    }

    /// <summary>
    /// The v2 directory: an absolute path under the cgroup2 mount; a relative one under the parent of the caller's own
    /// cgroup (runc fs2: the caller's cgroup has tasks, so no controller could be enabled below it).
    /// </summary>
    public static string V2Dir(CgroupHost host, string inner)
    {
        if (inner.StartsWith('/')) return Join(host.UnifiedMount!, inner);
        var own = host.OwnCgroups.GetValueOrDefault("") ?? "/";
        var parent = own.TrimEnd('/');
        var slash = parent.LastIndexOf('/');
        parent = slash <= 0 ? "/" : parent[..slash];
        return Join(host.UnifiedMount!, Join(parent, inner));
    }

    private static string Join(string a, string b) => Clean(a.TrimEnd('/') + "/" + b.TrimStart('/'));
}
