using OciRuntime.Spec;
using OciRuntime.Interop;

namespace OciRuntime.Cgroups;

/// <summary>How the host mounts its cgroups (kernel cgroup-v2.rst; runc's cgroups.IsCgroup2UnifiedMode / IsCgroup2HybridMode).</summary>
public enum CgroupMode
{
    /// <summary>Only v1 hierarchies: /sys/fs/cgroup is a tmpfs of per-controller cgroup mounts.</summary>
    V1,

    /// <summary>v1 hierarchies plus a cgroup2 hierarchy at /sys/fs/cgroup/unified (holding the controllers not bound to v1).</summary>
    Hybrid,

    /// <summary>Pure cgroup v2: /sys/fs/cgroup is the cgroup2 mount (CGROUP2_SUPER_MAGIC).</summary>
    V2,
}

/// <summary>One mounted cgroup v1 hierarchy, e.g. "cpu,cpuacct" at /sys/fs/cgroup/cpu,cpuacct, or "name=systemd".</summary>
/// <param name="Name">The mount directory's name under the cgroup root ("cpu,cpuacct", "memory", "systemd"): the key of the manager's paths.</param>
/// <param name="MountPoint">The absolute mount point.</param>
/// <param name="Controllers">The controllers bound to it as /proc/self/cgroup lists them ("cpu", "cpuacct", "name=systemd").</param>
public sealed record V1Hierarchy(string Name, string MountPoint, IReadOnlyList<string> Controllers)
{
    /// <summary>Whether <paramref name="controller"/> is bound to this hierarchy.</summary>
    public bool Has(string controller) => Lists.ContainsOrdinal(Controllers, controller);
}

/// <summary>
/// The cgroup filesystem a manager works on: its mode, the v1 hierarchies, the cgroup2 mount, and the cgroups of the
/// calling process (for relative cgroupsPath values). <see cref="Detect"/> reads the real host; tests build one over a
/// fake directory tree with the constructor.
/// </summary>
public sealed class CgroupHost
{
    /// <summary>Describes a host.</summary>
    /// <param name="mode">v1, hybrid or v2.</param>
    /// <param name="root">The cgroup root, e.g. /sys/fs/cgroup.</param>
    /// <param name="v1">The v1 hierarchies (empty for v2).</param>
    /// <param name="unifiedMount">The cgroup2 mount point (root for v2, root/unified for hybrid, null for v1).</param>
    /// <param name="ownCgroups">The caller's cgroup per hierarchy name ("" = the cgroup2 hierarchy), e.g. {"memory": "/user.slice"}.</param>
    /// <param name="fs">File access (a <see cref="CgroupFs.Fake"/> one for fake trees).</param>
    /// <param name="deviceFilter">Loads and attaches the cgroup v2 device program (tests pass a recording one).</param>
    public CgroupHost(CgroupMode mode, string root, IReadOnlyList<V1Hierarchy> v1, string? unifiedMount,
        IReadOnlyDictionary<string, string> ownCgroups, CgroupFs? fs = null, IDeviceFilterAttacher? deviceFilter = null)
    {
        Mode = mode;
        Root = root.TrimEnd('/');
        V1 = v1;
        UnifiedMount = unifiedMount?.TrimEnd('/');
        OwnCgroups = ownCgroups;
        Fs = fs ?? CgroupFs.Real;
        DeviceFilter = deviceFilter ?? BpfDeviceFilterAttacher.Instance;
    }

    /// <summary>The host mode.</summary>
    public CgroupMode Mode { get; }

    /// <summary>The cgroup root directory (no trailing slash), e.g. /sys/fs/cgroup.</summary>
    public string Root { get; }

    /// <summary>The mounted v1 hierarchies (none on a v2 host).</summary>
    public IReadOnlyList<V1Hierarchy> V1 { get; }

    /// <summary>The cgroup2 mount point (v2: the root; hybrid: root/unified; v1: null).</summary>
    public string? UnifiedMount { get; }

    /// <summary>The calling process's cgroup path per hierarchy name; "" is the cgroup2 hierarchy (/proc/self/cgroup).</summary>
    public IReadOnlyDictionary<string, string> OwnCgroups { get; }

    /// <summary>File access.</summary>
    public CgroupFs Fs { get; }

    /// <summary>The cgroup v2 device-program loader.</summary>
    public IDeviceFilterAttacher DeviceFilter { get; }

    /// <summary>The v1 hierarchy <paramref name="controller"/> is bound to, or null.</summary>
    public V1Hierarchy? HierarchyOf(string controller)
    {
        foreach (var h in V1)
        {
            if (h.Has(controller)) return h;
        }
        return null;
    }

    /// <summary>The controllers of the cgroup2 root (its cgroup.controllers), empty when there is no cgroup2 mount.</summary>
    public IReadOnlyList<string> UnifiedControllers =>
        UnifiedMount is null ? [] : (Fs.ReadOrNull(UnifiedMount, "cgroup.controllers") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static CgroupHost? _real;

    /// <summary>Environment variable naming another cgroup root than /sys/fs/cgroup (tests point it at a cgroup2 mount of their own).</summary>
    public const string RootVariable = "OCIRUN_CGROUP_ROOT";

    /// <summary>The real host (detected once per process), rooted at $OCIRUN_CGROUP_ROOT or /sys/fs/cgroup.</summary>
    /// <exception cref="CgroupException">no cgroup filesystem is mounted there.</exception>
    public static CgroupHost Real => _real ??= Detect(Environment.GetEnvironmentVariable(RootVariable) is { Length: > 0 } root ? root : "/sys/fs/cgroup");

    /// <summary>
    /// Takes and releases the kernel's cgroup migration lock once, by moving the calling process to the cgroup it is
    /// already in (a write of "0" to its own cgroup.procs in one hierarchy; the outcome is ignored).
    /// </summary>
    /// <remarks>
    /// Every cgroup migration takes the global cgroup_threadgroup_rwsem for writing; when no migration happened in the
    /// last RCU grace period or so (hierarchies not mounted with favordynmods), that costs a full grace period:
    /// 8–18 ms on this project's VMs, the largest single cost of a `run`. Afterwards the lock stays cheap (≈0.2 ms) for
    /// about one more grace period (15–20 ms measured). So the runtime calls this right after sending the init its
    /// orders: the grace period passes while the init builds the container, and the init's own late join of the
    /// container's cgroups (after its setup, so that setup is not charged to the container) finds the lock warm.
    /// </remarks>
    public void WarmMigrationLock()
    {
        string? dir = null;
        if (UnifiedMount is { } unified && Mode == CgroupMode.V2) dir = unified + (OwnCgroups.GetValueOrDefault("") ?? "/");
        else
        {
            foreach (var h in V1)
            {
                if (OwnCgroups.TryGetValue(h.Name, out var own)) { dir = h.MountPoint + own; break; }
            }
        }
        if (dir is null) return;
        var fd = Libc.open(dir.TrimEnd('/') + "/cgroup.procs", OpenFlags.O_WRONLY | OpenFlags.O_CLOEXEC);
        if (fd < 0) return;
        try
        {
            CgroupFs.WriteOnce(fd, "0"u8, "cgroup.procs");
        }
        catch (SyscallException)
        {
            // EBUSY (a v2 cgroup with controllers in subtree_control) and the like: the lock was taken all the same.
        }
        finally
        {
            Libc.close(fd);
        }
    }

    /// <summary>
    /// Detects the host's mode as runc does: statfs(<paramref name="root"/>) = CGROUP2_SUPER_MAGIC → v2; otherwise
    /// the v1 hierarchies come from /proc/self/mountinfo, and a cgroup2 mount at root/unified makes it hybrid.
    /// </summary>
    /// <exception cref="CgroupException">nothing usable is mounted.</exception>
    public static CgroupHost Detect(string root = "/sys/fs/cgroup")
    {
        root = root.TrimEnd('/');
        // Everything below the root is reached from one fd of it from now on (CgroupFs.UseRootFd says why).
        var rootFd = CgroupFs.UseRootFd(root);
        long type;
        try
        {
            type = rootFd >= 0 ? Libc.FsType(rootFd) : Libc.FsType(root);
        }
        catch (SyscallException e)
        {
            throw new CgroupException($"no cgroup filesystem at {root}: {e.Message}", null, e);
        }
        var own = ParseProcCgroup(Libc.ReadFileLines("/proc/self/cgroup"));
        if (type == FsMagic.Cgroup2)
            return new CgroupHost(CgroupMode.V2, root, [], root, OwnMap(own, []));

        var hierarchies = V1Hierarchies(root, Libc.ReadFileLines("/proc/self/mountinfo"), own);
        var unified = root + "/unified";
        var hybrid = FsTypeOrZero(unified) == FsMagic.Cgroup2;
        if (hierarchies.Count == 0 && !hybrid) throw new CgroupException($"no cgroup v1 hierarchy is mounted under {root}");
        return new CgroupHost(hybrid ? CgroupMode.Hybrid : CgroupMode.V1, root, hierarchies, hybrid ? unified : null, OwnMap(own, hierarchies));
    }

    // The filesystem type of directory `path` (through the cgroup root's fd when below it), 0 when it is missing.
    private static long FsTypeOrZero(string path)
    {
        var fd = CgroupFs.Open(path, OpenFlags.O_PATH | OpenFlags.O_DIRECTORY | OpenFlags.O_CLOEXEC);
        if (fd < 0) return 0;
        try
        {
            return Libc.FsType(fd);
        }
        catch (SyscallException)
        {
            return 0;
        }
        finally
        {
            Libc.close(fd);
        }
    }

    /// <summary>Parses /proc/PID/cgroup lines "ID:controllers:path" into (controllers, path); the v2 line has no controllers.</summary>
    public static List<(string[] Controllers, string Path)> ParseProcCgroup(IEnumerable<string> lines)
    {
        var result = new List<(string[], string)>();
        foreach (var line in lines)
        {
            var parts = line.Split(':', 3);
            if (parts.Length == 3) result.Add((parts[1].Length == 0 ? [] : parts[1].Split(','), parts[2]));
        }
        return result;
    }

    /// <summary>
    /// The v1 hierarchies mounted under <paramref name="root"/>: every mountinfo entry of type "cgroup" whose super
    /// options include the controllers of one /proc/self/cgroup line (so "rw,cpu,cpuacct" gives cpu+cpuacct).
    /// </summary>
    public static List<V1Hierarchy> V1Hierarchies(string root, IEnumerable<string> mountinfo, List<(string[] Controllers, string Path)> own)
    {
        var result = new List<V1Hierarchy>();
        foreach (var line in mountinfo)
        {
            var sep = line.IndexOf(" - ", StringComparison.Ordinal);
            if (sep < 0) continue;
            var tail = line[(sep + 3)..].Split(' ');
            if (tail.Length < 3 || tail[0] != "cgroup") continue;
            var head = line[..sep].Split(' ');
            if (head.Length < 5) continue;
            var mountPoint = Unescape(head[4]);
            if (Path.GetDirectoryName(mountPoint) != root) continue;
            var options = tail[2].Split(',');
            string[]? match = null;
            foreach (var (controllers, _) in own)
            {
                if (controllers.Length > 0 && Array.TrueForAll(controllers, c => Array.IndexOf(options, c) >= 0))
                {
                    match = controllers;
                    break;
                }
            }
            if (match is null || result.Exists(h => h.MountPoint == mountPoint)) continue;
            result.Add(new V1Hierarchy(Path.GetFileName(mountPoint), mountPoint, match));
        }
        return result;
    }

    private static Dictionary<string, string> OwnMap(List<(string[] Controllers, string Path)> own, List<V1Hierarchy> hierarchies)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (controllers, path) in own)
        {
            if (controllers.Length == 0)
            {
                map[""] = path;
                continue;
            }
            var h = hierarchies.Find(h => Lists.SequenceEqualOrdinal(h.Controllers, controllers));
            if (h is not null) map[h.Name] = path;
        }
        return map;
    }

    private static string Unescape(string s)
    {
        if (!s.Contains('\\', StringComparison.Ordinal)) return s;
        var sb = new System.Text.StringBuilder(s.Length);
        for (var i = 0; i < s.Length; i++)
        {
            if (s[i] == '\\' && i + 3 < s.Length && s.AsSpan(i + 1, 3).IndexOfAnyExceptInRange('0', '7') < 0)
            {
                sb.Append((char)Convert.ToInt32(s[(i + 1)..(i + 4)], 8));
                i += 3;
            }
            else
            {
                sb.Append(s[i]);
            }
        }
        return sb.ToString();
    }
}
