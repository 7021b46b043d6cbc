namespace OciRuntime.Cgroups.Systemd;

/// <summary>
/// A container's place under the systemd cgroup driver, from linux.cgroupsPath in the "slice:prefix:name" form
/// (runtime-spec config-linux.md#cgroups-path; runc's systemd driver): the transient unit <c>prefix-name.scope</c>
/// inside <c>slice</c>, or, when the name ends in ".slice", the slice unit <c>name</c> itself (runc's getUnitName).
/// An empty cgroupsPath is <c>:runc:ID</c>; an empty slice is <c>system.slice</c> (<c>user.slice</c> of the user's
/// manager for rootless).
/// </summary>
/// <param name="Slice">The parent slice unit, e.g. "system.slice" or "machine-app.slice".</param>
/// <param name="Unit">The unit to create, e.g. "runc-ID.scope" (or "system-app.slice").</param>
/// <param name="Name">The name part of cgroupsPath (the container id when there is none): the unit's description
/// says "libcontainer container NAME", as runc's. Null for a unit loaded from the state.</param>
public sealed record SystemdUnitPath(string Slice, string Unit, string? Name = null)
{
    /// <summary>Whether the unit is a slice (cgroupsPath's name ends in ".slice"), not a scope.</summary>
    public bool IsSlice => Unit.EndsWith(".slice", StringComparison.Ordinal);

    /// <summary>
    /// Parses <paramref name="cgroupsPath"/> for container <paramref name="id"/>.
    /// </summary>
    /// <exception cref="CgroupException">not three colon-separated parts, a bad slice name, or an empty name or one with "/" (names linux.cgroupsPath).</exception>
    public static SystemdUnitPath Parse(string id, string? cgroupsPath, bool rootless)
    {
        string slice, prefix, name;
        if (string.IsNullOrEmpty(cgroupsPath))
        {
            (slice, prefix, name) = ("", "runc", id);
        }
        else
        {
            var parts = cgroupsPath.Split(':');
            if (parts.Length != 3)
                throw new CgroupException($"expected cgroupsPath to be of format \"slice:prefix:name\" for systemd cgroups, got \"{cgroupsPath}\" instead", "linux.cgroupsPath");
            (slice, prefix, name) = (parts[0], parts[1], parts[2]);
        }
        if (slice.Length == 0) slice = rootless ? "user.slice" : "system.slice";
        _ = ExpandSlice(slice); // validates
        if (name.Length == 0 || name.Contains('/', StringComparison.Ordinal))
            throw new CgroupException($"\"{cgroupsPath}\": the unit name must be non-empty and have no \"/\"", "linux.cgroupsPath");
        // A name ending in ".slice" is the unit itself, a slice (runc's getUnitName); anything else names a scope.
        var unit = name.EndsWith(".slice", StringComparison.Ordinal) ? name : prefix + "-" + name + ".scope";
        return new SystemdUnitPath(slice, unit, name);
    }

    /// <summary>
    /// The cgroup path of a slice relative to its manager's cgroup, as systemd nests them: "a-b-c.slice" →
    /// "/a.slice/a-b.slice/a-b-c.slice"; "-.slice" → "/".
    /// </summary>
    /// <exception cref="CgroupException">not "NAME.slice", a "/" in it, or an empty dash-separated component.</exception>
    public static string ExpandSlice(string slice)
    {
        const string suffix = ".slice";
        if (slice.Length <= suffix.Length || !slice.EndsWith(suffix, StringComparison.Ordinal) || slice.Contains('/', StringComparison.Ordinal))
            throw new CgroupException($"invalid slice name: {slice}", "linux.cgroupsPath");
        var name = slice[..^suffix.Length];
        if (name == "-") return "/";
        var path = "";
        var prefix = "";
        foreach (var component in name.Split('-'))
        {
            if (component.Length == 0) throw new CgroupException($"invalid slice name: {slice}", "linux.cgroupsPath");
            path += "/" + prefix + component + suffix;
            prefix += component + "-";
        }
        return path;
    }

    /// <summary>
    /// The unit's cgroup directory: the cgroup2 mount + the manager's own cgroup (""/"/" for the system manager,
    /// e.g. "/user.slice/user-1000.slice/user@1000.service" for a user's) + the expanded slice + the unit. For a slice
    /// unit too, as runc computes it (systemd itself nests a slice by its own name's dashes).
    /// </summary>
    public string Directory(string unifiedMount, string managerCgroup)
    {
        var slice = ExpandSlice(Slice);
        var dir = unifiedMount.TrimEnd('/') + "/" + managerCgroup.Trim('/') + "/" + slice.Trim('/') + "/" + Unit;
        return CgroupPaths.Clean(dir);
    }
}
