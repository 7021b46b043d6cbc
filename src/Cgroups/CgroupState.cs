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

    /// <summary>The systemd unit (scope) holding the cgroup under the systemd driver, e.g. "runc-ID.scope"; null for cgroupfs.</summary>
    [JsonPropertyName("systemdUnit")]
    public string? SystemdUnit { get; set; }

    /// <summary>The slice of <see cref="SystemdUnit"/>, e.g. "system.slice".</summary>
    [JsonPropertyName("systemdSlice")]
    public string? SystemdSlice { get; set; }

    /// <summary>True when the user's manager (systemd --user) runs <see cref="SystemdUnit"/>; null for the system manager.</summary>
    [JsonPropertyName("systemdUser")]
    public bool? SystemdUser { get; set; }

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
        // A "slice:prefix:name" path without the systemd driver is a plain relative path, as runc takes it.
        var path = string.IsNullOrEmpty(cgroupsPath) ? id : cgroupsPath;
        var inner = CgroupPaths.Clean(path);
        if (inner is "" or "/") throw new CgroupException($"\"{path}\" resolves to the root cgroup", "linux.cgroupsPath");
        return host.Mode == CgroupMode.V2
            ? new V2CgroupManager(host, path, CgroupPaths.V2Dir(host, inner), [])
            : new V1CgroupManager(host, path, CgroupPaths.V1Dirs(host, inner), []);
    }

    /// <summary>
    /// The systemd driver's manager (runc --systemd-cgroup) for container <paramref name="id"/>: cgroupsPath
    /// "slice:prefix:name" or absent (":runc:ID"), the user's manager when <paramref name="rootless"/>.
    /// </summary>
    /// <exception cref="CgroupException">not a cgroup v2 host, a bad cgroupsPath (names linux.cgroupsPath), or no systemd to talk to.</exception>
    public static ICgroupManager CreateSystemd(string id, string? cgroupsPath, bool rootless, CgroupHost? host = null) =>
        Systemd.SystemdCgroupManager.Create(id, cgroupsPath, rootless, host ?? CgroupHost.Real);

    /// <summary>
    /// A rootless runtime's cgroupfs manager on a cgroup v2 host (runc fs2 with rootless cgroups): the cgroup is made
    /// when the runtime may (a delegated, writable cgroupsPath, e.g. under user@UID.service) and then used as by root,
    /// the device filter aside. When it may not: with an explicit cgroupsPath, or with limits asked for in
    /// <paramref name="resources"/>, an error; otherwise null (no cgroup of its own, the caller's is kept). Null on a
    /// v1 or hybrid host (rootless cgroups are v2 only).
    /// </summary>
    /// <exception cref="CgroupException">the cgroup is not usable and a cgroupsPath or limits were asked for.</exception>
    public static ICgroupManager? CreateRootless(string id, string? cgroupsPath, LinuxResources? resources, CgroupHost? host = null)
    {
        host ??= CgroupHost.Real;
        if (host.Mode != CgroupMode.V2) return null;
        var path = string.IsNullOrEmpty(cgroupsPath) ? id : cgroupsPath;
        var inner = CgroupPaths.Clean(path);
        if (inner is "" or "/") throw new CgroupException($"\"{path}\" resolves to the root cgroup", "linux.cgroupsPath");
        var manager = new V2CgroupManager(host, path, CgroupPaths.V2Dir(host, inner), []) { Rootless = true };
        try
        {
            manager.Create();
            return manager;
        }
        catch (CgroupException e)
        {
            if (string.IsNullOrEmpty(cgroupsPath) && !NeedsControllers(resources)) return null;
            throw new CgroupException($"rootless needs no limits + no cgrouppath when no permission is granted for cgroups: {e.Message}", null, e);
        }
    }

    /// <summary>Whether <paramref name="r"/> sets anything a cgroup controller enforces (runc's needAnyControllers; devices aside).</summary>
    public static bool NeedsControllers(LinuxResources? r)
    {
        if (r is null) return false;
        var m = r.Memory;
        var c = r.Cpu;
        var b = r.BlockIO;
        return (m is not null && (m.Limit is not null and not 0 || m.Reservation is not null and not 0 || m.Swap is not null and not 0))
            || (c is not null && (c.Shares is not null and not 0 || c.Quota is not null and not 0 || c.Period is not null and not 0
                || !string.IsNullOrEmpty(c.Cpus) || !string.IsNullOrEmpty(c.Mems) || c.Burst is not null || c.Idle is not null))
            || r.Pids is { Limit: not 0 }
            || (b is not null && (b.Weight is not null and not 0 || b.WeightDevice is { Count: > 0 } || b.ThrottleReadBpsDevice is { Count: > 0 }
                || b.ThrottleWriteBpsDevice is { Count: > 0 } || b.ThrottleReadIopsDevice is { Count: > 0 } || b.ThrottleWriteIopsDevice is { Count: > 0 }))
            || r.HugepageLimits is { Count: > 0 } || r.Rdma is { Count: > 0 } || r.Unified is { Count: > 0 };
    }

    /// <summary>Rebuilds the manager recorded in <paramref name="state"/> (paths as recorded, whatever the caller's cgroup).</summary>
    public static ICgroupManager Load(CgroupState state, CgroupHost? host = null)
    {
        host ??= CgroupHost.Real;
        if (state.SystemdUnit is { } unit)
        {
            var dir = state.Paths.GetValueOrDefault("") ?? "";
            return new Systemd.SystemdCgroupManager(host, state.Path, new Systemd.SystemdUnitPath(state.SystemdSlice ?? "system.slice", unit),
                state.SystemdUser == true, dir, unit, started: true) { Resources = state.Resources };
        }
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
    /// takes both under its mount point, whatever the caller's cgroup2 cgroup: runc 1.1's GetOwnCgroupPath("") is the
    /// hybrid mount point itself (measured: relative "exp/rel" from a service in /system.slice/x.service gives
    /// 0::/exp/rel for runc 1.1.5).
    /// </summary>
    public static Dictionary<string, string> V1Dirs(CgroupHost host, string inner)
    {
        var dirs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var h in host.V1)
            dirs[h.Name] = Join(h.MountPoint, inner.StartsWith('/') ? inner : Join(host.OwnCgroups.GetValueOrDefault(h.Name) ?? "/", inner));
        if (host.UnifiedMount is { } unified) dirs[""] = Join(unified, inner);
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
