namespace OciRuntime.Spec;

/// <summary>
/// The configuration written by the <c>spec</c> command. <see cref="Create()"/> is exactly what <c>runc spec</c> (runc 1.1,
/// libcontainer/specconv/example.go) writes and <see cref="CreateRootless"/> what <c>runc spec --rootless</c> writes, so that
/// <see cref="SpecSerializer.Serialize"/> of them is byte-identical to runc's config.json.
/// </summary>
public static class DefaultSpec
{
    /// <summary>The <c>ociVersion</c> runc 1.1 writes: "1.0.2-dev".</summary>
    public const string RuncOciVersion = "1.0.2-dev";

    /// <summary>The hostname runc writes: "runc".</summary>
    public const string RuncHostname = "runc";

    /// <summary>Creates runc's default configuration (terminal "sh", rootfs "rootfs" read-only, pid/network/ipc/uts/mount namespaces).</summary>
    /// <returns>A new, mutable configuration.</returns>
    public static Spec Create() => Create(RuncHostname, RuncOciVersion);

    /// <summary>Creates runc's default configuration with another hostname and version.</summary>
    /// <param name="hostname">The <c>hostname</c> value.</param>
    /// <param name="ociVersion">The <c>ociVersion</c> value.</param>
    /// <returns>A new, mutable configuration.</returns>
    public static Spec Create(string hostname, string ociVersion)
    {
        List<string> defaultCaps() => ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"];
        return new Spec
        {
            OciVersion = ociVersion,
            Process = new Process
            {
                Terminal = true,
                User = new User { Uid = 0, Gid = 0 },
                Args = ["sh"],
                Env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
                Cwd = "/",
                Capabilities = new LinuxCapabilities
                {
                    Bounding = defaultCaps(),
                    Effective = defaultCaps(),
                    Permitted = defaultCaps(),
                    Ambient = defaultCaps(),
                },
                Rlimits = [new PosixRlimit { Type = "RLIMIT_NOFILE", Hard = 1024, Soft = 1024 }],
                NoNewPrivileges = true,
            },
            Root = new Root { Path = "rootfs", Readonly = true },
            Hostname = hostname,
            Mounts =
            [
                new Mount { Destination = "/proc", Type = "proc", Source = "proc" },
                new Mount { Destination = "/dev", Type = "tmpfs", Source = "tmpfs", Options = ["nosuid", "strictatime", "mode=755", "size=65536k"] },
                new Mount
                {
                    Destination = "/dev/pts", Type = "devpts", Source = "devpts",
                    Options = ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
                },
                new Mount { Destination = "/dev/shm", Type = "tmpfs", Source = "shm", Options = ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"] },
                new Mount { Destination = "/dev/mqueue", Type = "mqueue", Source = "mqueue", Options = ["nosuid", "noexec", "nodev"] },
                new Mount { Destination = "/sys", Type = "sysfs", Source = "sysfs", Options = ["nosuid", "noexec", "nodev", "ro"] },
                new Mount { Destination = "/sys/fs/cgroup", Type = "cgroup", Source = "cgroup", Options = ["nosuid", "noexec", "nodev", "relatime", "ro"] },
            ],
            Linux = new Linux
            {
                Resources = new LinuxResources
                {
                    Devices = [new LinuxDeviceCgroup { Allow = false, Access = "rwm" }],
                },
                Namespaces =
                [
                    new LinuxNamespace { Type = NamespaceType.Pid },
                    new LinuxNamespace { Type = NamespaceType.Network },
                    new LinuxNamespace { Type = NamespaceType.Ipc },
                    new LinuxNamespace { Type = NamespaceType.Uts },
                    new LinuxNamespace { Type = NamespaceType.Mount },
                ],
                MaskedPaths =
                [
                    "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
                    "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi",
                ],
                ReadonlyPaths = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
            },
        };
    }

    /// <summary>
    /// Creates runc's rootless configuration (<c>runc spec --rootless</c>) for a host user: the default configuration passed
    /// through <see cref="ToRootless"/>.
    /// </summary>
    /// <param name="uid">The host UID mapped to container UID 0 (runc uses the caller's effective UID).</param>
    /// <param name="gid">The host GID mapped to container GID 0 (runc uses the caller's effective GID).</param>
    /// <returns>A new, mutable configuration.</returns>
    public static Spec CreateRootless(uint uid, uint gid)
    {
        Spec spec = Create();
        ToRootless(spec, uid, gid);
        return spec;
    }

    /// <summary>
    /// Converts a configuration for rootless use the way runc's specconv.ToRootless does: drops the network and user namespaces
    /// and appends a new user namespace, maps container ID 0 to <paramref name="uid"/>/<paramref name="gid"/> (size 1),
    /// replaces the /sys mount with a read-only rbind of the host's /sys, strips "uid=" and "gid=" mount options and removes
    /// <c>linux.resources</c>.
    /// </summary>
    /// <param name="spec">The configuration to change in place; <c>linux</c> is created when absent.</param>
    /// <param name="uid">The host UID mapped to container UID 0.</param>
    /// <param name="gid">The host GID mapped to container GID 0.</param>
    public static void ToRootless(Spec spec, uint uid, uint gid)
    {
        ArgumentNullException.ThrowIfNull(spec);
        Linux linux = spec.Linux ??= new Linux();

        var namespaces = new List<LinuxNamespace>();
        foreach (LinuxNamespace ns in linux.Namespaces ?? [])
        {
            if (ns.Type is not (NamespaceType.Network or NamespaceType.User))
            {
                namespaces.Add(ns);
            }
        }
        namespaces.Add(new LinuxNamespace { Type = NamespaceType.User });
        linux.Namespaces = namespaces;
        linux.UidMappings = [new LinuxIdMapping { ContainerId = 0, HostId = uid, Size = 1 }];
        linux.GidMappings = [new LinuxIdMapping { ContainerId = 0, HostId = gid, Size = 1 }];

        if (spec.Mounts is { } mounts)
        {
            var result = new List<Mount>(mounts.Count);
            foreach (Mount mount in mounts)
            {
                if (CleanPath(mount.Destination) == "/sys")
                {
                    result.Add(new Mount { Destination = "/sys", Type = "none", Source = "/sys", Options = ["rbind", "nosuid", "noexec", "nodev", "ro"] });
                    continue;
                }
                if (mount.Options is { } mountOptions)
                {
                    List<string> kept = mountOptions.FindAll(o => !o.StartsWith("gid=", StringComparison.Ordinal) && !o.StartsWith("uid=", StringComparison.Ordinal));
                    mount.Options = kept.Count > 0 ? kept : null;
                }
                result.Add(mount);
            }
            spec.Mounts = result;
        }

        linux.Resources = null;
    }

    private static string CleanPath(string path)
    {
        string trimmed = path.TrimEnd('/');
        return trimmed.Length == 0 && path.Length > 0 ? "/" : trimmed;
    }
}
