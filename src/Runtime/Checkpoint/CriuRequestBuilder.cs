using System.Globalization;
using OciRuntime.Runtime.Init;
using OciRuntime.Runtime.Lifecycle;
using OciRuntime.Spec;

namespace OciRuntime.Runtime.Checkpoint;

/// <summary>
/// The CRIU options of a dump and a restore, from config.json and the flags, as runc sets them
/// (libcontainer's Checkpoint and Restore): no syscalls here, so tests check the mapping exactly.
/// </summary>
public static class CriuRequestBuilder
{
    /// <summary>CRIU's log of a dump or pre-dump, in the work directory.</summary>
    public const string DumpLog = "dump.log";

    /// <summary>CRIU's log of a restore, in the work directory.</summary>
    public const string RestoreLog = "restore.log";

    /// <summary>The CRIU version from which a network namespace joined by path can be external (3.11).</summary>
    public const int ExternalNetNsVersion = 31100;

    /// <summary>The CRIU version from which a pid namespace joined by path can be external (3.15).</summary>
    public const int ExternalPidNsVersion = 31500;

    /// <summary>The CRIU configuration file runc points CRIU at, unless the org.criu.config annotation names another ("" = none).</summary>
    public const string DefaultConfigFile = "/etc/criu/runc.conf";

    /// <summary>
    /// The options of a dump (or pre-dump) of the container whose init is <paramref name="pid"/>.
    /// <paramref name="externalNamespaces"/> are the "net[INODE]:extRootNetNS" entries of namespaces joined by path.
    /// </summary>
    public static CriuOptions Dump(Spec.Spec spec, CheckpointOptions flags, string rootfs, int pid, int imageDirFd, int? workDirFd,
        string? freezeCgroup, IReadOnlyList<string> externalNamespaces, IReadOnlyList<string> maskedFiles)
    {
        var o = Common(spec, flags, imageDirFd, workDirFd, DumpLog);
        o.Root = rootfs;
        o.Pid = pid;
        o.LeaveRunning = flags.LeaveRunning;
        o.FreezeCgroup = freezeCgroup;
        o.External.AddRange(externalNamespaces);
        if (flags.ParentPath is { Length: > 0 } parent)
        {
            o.ParentImg = parent;
            o.TrackMem = true;
        }
        if (flags.PreDump) return o; // no mounts or devices in a pre-dump (runc's)
        foreach (var m in BindMounts(spec)) o.ExtMounts.Add(new CriuPair(m.Destination, m.Destination));
        foreach (var masked in maskedFiles) o.ExtMounts.Add(new CriuPair(masked, "/dev/null"));
        foreach (var device in DevicePaths(spec)) o.ExtMounts.Add(new CriuPair(device, device));
        return o;
    }

    /// <summary>
    /// The options of a restore into <paramref name="criuRoot"/> (the rootfs bind-mounted on itself).
    /// <paramref name="inheritedNamespaces"/> are the namespace types (network, pid) joined by path whose fds are the
    /// CRIU process's 4, 5…; every other namespace joined by path is a join_ns entry.
    /// </summary>
    /// <exception cref="RuntimeException">a cgroup namespace joined by path (CRIU cannot).</exception>
    public static CriuOptions Restore(Spec.Spec spec, RestoreOptions flags, string criuRoot, int imageDirFd, int? workDirFd,
        IReadOnlyList<string> inheritedNamespaces, IReadOnlyList<string> descriptors)
    {
        var o = Common(spec, flags, imageDirFd, workDirFd, RestoreLog);
        o.Root = criuRoot;
        o.EvasiveDevices = true;
        o.RestoreSibling = true;
        o.LsmProfile = flags.LsmProfile;
        o.LsmMountContext = flags.LsmMountContext;
        for (var i = 0; i < inheritedNamespaces.Count; i++) o.InheritFds.Add((ExternalKey(inheritedNamespaces[i]), 4 + i));
        foreach (var ns in spec.Linux?.Namespaces ?? [])
        {
            if (string.IsNullOrEmpty(ns.Path) || ns.Type is NamespaceType.Network or NamespaceType.Pid) continue;
            if (ns.Type == NamespaceType.Cgroup) throw new RuntimeException("restore: config.json: linux.namespaces: CRIU cannot join a cgroup namespace by path");
            o.JoinNamespaces.Add(new CriuPair(CriuNamespaceName(ns.Type), ns.Path));
        }
        foreach (var m in BindMounts(spec)) o.ExtMounts.Add(new CriuPair(m.Destination, m.Source ?? ""));
        if (spec.Linux?.MaskedPaths is { Count: > 0 }) o.ExtMounts.Add(new CriuPair("/dev/null", "/dev/null"));
        foreach (var device in DevicePaths(spec)) o.ExtMounts.Add(new CriuPair(device, device));
        // The container's stdio that were pipes: CRIU gives the restored tasks its own fds 0–2 in their place.
        for (var i = 0; i < descriptors.Count && i < 3; i++)
        {
            if (descriptors[i].Contains("pipe:", StringComparison.Ordinal)) o.InheritFds.Add((descriptors[i], i));
        }
        return o;
    }

    private static CriuOptions Common(Spec.Spec spec, CriuFlags flags, int imageDirFd, int? workDirFd, string logFile) => new()
    {
        ImagesDirFd = imageDirFd,
        WorkDirFd = workDirFd,
        LogLevel = 4,
        LogFile = logFile,
        ManageCgroups = true,
        NotifyScripts = true,
        ShellJob = flags.ShellJob,
        ExtUnixSk = flags.ExtUnixSk,
        TcpEstablished = flags.TcpEstablished,
        FileLocks = flags.FileLocks,
        EmptyNs = flags.EmptyNsMask(),
        OrphanPtsMaster = true,
        AutoDedup = flags.AutoDedup,
        LazyPages = flags.LazyPages,
        ManageCgroupsMode = flags.CgroupMode(),
        ConfigFile = ConfigFile(spec),
    };

    /// <summary>The org.criu.config annotation's file, none when it is "", else runc's default.</summary>
    internal static string? ConfigFile(Spec.Spec spec)
    {
        if (spec.Annotations is { } a && a.TryGetValue("org.criu.config", out var file)) return file.Length > 0 ? file : null;
        return DefaultConfigFile;
    }

    /// <summary>config.json's bind mounts (type "bind" or a bind/rbind option), destinations cleaned.</summary>
    public static List<Mount> BindMounts(Spec.Spec spec)
    {
        var binds = new List<Mount>();
        foreach (var m in spec.Mounts ?? [])
        {
            if (m.Type == "bind" || MountOptions.Parse(m.Options).IsBind)
                binds.Add(new Mount { Destination = SecurePath.Clean(m.Destination), Source = m.Source, Type = m.Type, Options = m.Options });
        }
        return binds;
    }

    /// <summary>The default devices and linux.devices (runc describes each as an external mount: bind-mounted ones need it).</summary>
    private static List<string> DevicePaths(Spec.Spec spec)
    {
        var paths = new List<string>();
        foreach (var d in Devices.Defaults) paths.Add(d.Path);
        foreach (var d in spec.Linux?.Devices ?? [])
        {
            if (!paths.Contains(d.Path)) paths.Add(d.Path);
        }
        return paths;
    }

    /// <summary>The key CRIU knows an external namespace by: extRootNetNS, extRootPidNS (runc's).</summary>
    public static string ExternalKey(string type) => type == NamespaceType.Network ? "extRootNetNS" : "extRootPidNS";

    /// <summary>"net[INODE]:extRootNetNS": CRIU's --external for namespace <paramref name="type"/> whose file has <paramref name="inode"/>.</summary>
    public static string ExternalNamespace(string type, ulong inode) =>
        string.Create(CultureInfo.InvariantCulture, $"{CriuNamespaceName(type)}[{inode}]:{ExternalKey(type)}");

    /// <summary>Whether CRIU <paramref name="version"/> can keep namespace <paramref name="type"/> external (network 3.11, pid 3.15).</summary>
    public static bool SupportsExternal(string type, int version) => type switch
    {
        NamespaceType.Network => version >= ExternalNetNsVersion,
        NamespaceType.Pid => version >= ExternalPidNsVersion,
        _ => false,
    };

    /// <summary>The kernel's name of a namespace type (/proc/PID/ns/NAME), which CRIU uses.</summary>
    public static string CriuNamespaceName(string type) => type switch
    {
        NamespaceType.Network => "net",
        NamespaceType.Mount => "mnt",
        _ => type,
    };

    /// <summary>
    /// cg_root entries from a /proc/PID/cgroup text: v2's "0::/path" as one root for every controller (no ctrl), v1's
    /// "N:cpu,cpuacct:/path" as one entry per controller (runc's ParseCgroupFile), named hierarchies included.
    /// </summary>
    public static List<CriuPair> CgroupRoots(string procCgroup)
    {
        var roots = new List<CriuPair>();
        foreach (var line in procCgroup.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = line.Split(':', 3);
            if (parts.Length != 3) continue;
            if (parts[1].Length == 0)
            {
                roots.Add(new CriuPair("", parts[2]));
                continue;
            }
            foreach (var controller in parts[1].Split(',')) roots.Add(new CriuPair(controller, parts[2]));
        }
        return roots;
    }
}
