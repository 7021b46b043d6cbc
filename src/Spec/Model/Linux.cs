using System.Text.Json.Serialization;

namespace OciRuntime.Spec;

/// <summary><c>linux</c>: the Linux-specific configuration (config-linux.md).</summary>
public sealed class Linux
{
    /// <summary><c>uidMappings</c>: user namespace UID mappings, host to container (config-linux.md#user-namespace-mappings).</summary>
    [JsonPropertyName("uidMappings")]
    public List<LinuxIdMapping>? UidMappings { get; set; }

    /// <summary><c>gidMappings</c>: user namespace GID mappings, host to container.</summary>
    [JsonPropertyName("gidMappings")]
    public List<LinuxIdMapping>? GidMappings { get; set; }

    /// <summary><c>sysctl</c>: kernel parameters to set, e.g. {"net.ipv4.ip_forward": "1"} (config-linux.md#sysctl).</summary>
    [JsonPropertyName("sysctl")]
    public Dictionary<string, string>? Sysctl { get; set; }

    /// <summary><c>resources</c>: cgroup resource limits (config-linux.md#control-groups).</summary>
    [JsonPropertyName("resources")]
    public LinuxResources? Resources { get; set; }

    /// <summary>
    /// <c>cgroupsPath</c>: the container's cgroup, absolute (relative to the cgroup mount) or relative to a runtime-chosen place;
    /// with the systemd driver the "slice:prefix:name" form (config-linux.md#cgroups-path).
    /// </summary>
    [JsonPropertyName("cgroupsPath")]
    public string? CgroupsPath { get; set; }

    /// <summary><c>namespaces</c>: namespaces to create (no path) or join (path) (config-linux.md#namespaces).</summary>
    [JsonPropertyName("namespaces")]
    public List<LinuxNamespace>? Namespaces { get; set; }

    /// <summary><c>devices</c>: device nodes to create in the container (config-linux.md#devices).</summary>
    [JsonPropertyName("devices")]
    public List<LinuxDevice>? Devices { get; set; }

    /// <summary>
    /// <c>netDevices</c>: host network interfaces to move into the container's network namespace, keyed by the host interface name
    /// (config-linux.md#network-devices, runtime-spec 1.3).
    /// </summary>
    [JsonPropertyName("netDevices")]
    public Dictionary<string, LinuxNetDevice>? NetDevices { get; set; }

    /// <summary><c>seccomp</c>: the seccomp filter (config-linux.md#seccomp).</summary>
    [JsonPropertyName("seccomp")]
    public LinuxSeccomp? Seccomp { get; set; }

    /// <summary>
    /// <c>rootfsPropagation</c>: propagation of the rootfs mount, one of <see cref="RootfsPropagationModes.All"/>
    /// (config-linux.md#rootfs-mount-propagation).
    /// </summary>
    [JsonPropertyName("rootfsPropagation")]
    public string? RootfsPropagation { get; set; }

    /// <summary><c>maskedPaths</c>: absolute container paths masked over so that they cannot be read (config-linux.md#masked-paths).</summary>
    [JsonPropertyName("maskedPaths")]
    public List<string>? MaskedPaths { get; set; }

    /// <summary><c>readonlyPaths</c>: absolute container paths made read-only (config-linux.md#readonly-paths).</summary>
    [JsonPropertyName("readonlyPaths")]
    public List<string>? ReadonlyPaths { get; set; }

    /// <summary><c>mountLabel</c>: SELinux context for the container's mounts (config-linux.md#mount-label).</summary>
    [JsonPropertyName("mountLabel")]
    public string? MountLabel { get; set; }

    /// <summary><c>intelRdt</c>: Intel RDT (resctrl) class of service and schemata (config-linux.md#intelrdt).</summary>
    [JsonPropertyName("intelRdt")]
    public LinuxIntelRdt? IntelRdt { get; set; }

    /// <summary><c>personality</c>: personality(2) execution domain (config-linux.md#personality).</summary>
    [JsonPropertyName("personality")]
    public LinuxPersonality? Personality { get; set; }

    /// <summary>
    /// <c>timeOffsets</c>: time namespace clock offsets keyed by clock name ("monotonic", "boottime"),
    /// e.g. {"monotonic": {"secs": 86400, "nanosecs": 0}} (config-linux.md#offset-for-time-namespace).
    /// </summary>
    [JsonPropertyName("timeOffsets")]
    public Dictionary<string, LinuxTimeOffset>? TimeOffsets { get; set; }

    /// <summary><c>memoryPolicy</c>: NUMA memory policy of the container process, set_mempolicy(2) (config-linux.md#memory-policy, runtime-spec 1.3).</summary>
    [JsonPropertyName("memoryPolicy")]
    public LinuxMemoryPolicy? MemoryPolicy { get; set; }
}

/// <summary>One entry of <c>linux.namespaces</c> (config-linux.md#namespaces).</summary>
public sealed class LinuxNamespace
{
    /// <summary><c>type</c> (REQUIRED): one of <see cref="NamespaceType.All"/>.</summary>
    [JsonPropertyName("type")]
    public string Type { get; set; } = "";

    /// <summary><c>path</c>: absolute path of an existing namespace to join (e.g. "/proc/1234/ns/net"); absent = create a new one.</summary>
    [JsonPropertyName("path")]
    public string? Path { get; set; }
}

/// <summary>The namespace type names of <c>linux.namespaces[].type</c> (config-linux.md#namespaces).</summary>
public static class NamespaceType
{
    /// <summary>"pid": process IDs (CLONE_NEWPID).</summary>
    public const string Pid = "pid";

    /// <summary>"network": network stack (CLONE_NEWNET).</summary>
    public const string Network = "network";

    /// <summary>"mount": mount table (CLONE_NEWNS).</summary>
    public const string Mount = "mount";

    /// <summary>"ipc": System V IPC and POSIX message queues (CLONE_NEWIPC).</summary>
    public const string Ipc = "ipc";

    /// <summary>"uts": hostname and NIS domain name (CLONE_NEWUTS).</summary>
    public const string Uts = "uts";

    /// <summary>"user": user and group IDs (CLONE_NEWUSER).</summary>
    public const string User = "user";

    /// <summary>"cgroup": cgroup root directory (CLONE_NEWCGROUP).</summary>
    public const string Cgroup = "cgroup";

    /// <summary>"time": boot and monotonic clocks (CLONE_NEWTIME).</summary>
    public const string Time = "time";

    /// <summary>All eight known namespace types.</summary>
    public static IReadOnlyList<string> All { get; } = [Pid, Network, Mount, Ipc, Uts, User, Cgroup, Time];

    /// <summary>Whether <paramref name="type"/> is one of <see cref="All"/> (ordinal comparison).</summary>
    /// <param name="type">A <c>linux.namespaces[].type</c> value.</param>
    /// <returns><see langword="true"/> when known.</returns>
    public static bool IsKnown(string? type) => type is Pid or Network or Mount or Ipc or Uts or User or Cgroup or Time;

    /// <summary>The first entry of <paramref name="namespaces"/> of type <paramref name="type"/>, or <see langword="null"/>.</summary>
    /// <param name="namespaces"><c>linux.namespaces</c>; <see langword="null"/> holds none.</param>
    /// <param name="type">One of the type names above.</param>
    /// <returns>The entry, or <see langword="null"/> when the container shares the runtime's namespace of that type.</returns>
    public static LinuxNamespace? Find(IReadOnlyList<LinuxNamespace>? namespaces, string type)
    {
        if (namespaces is null) return null;
        for (int i = 0; i < namespaces.Count; i++)
        {
            if (namespaces[i].Type == type) return namespaces[i];
        }
        return null;
    }

    /// <summary>Whether <paramref name="namespaces"/> has an entry of type <paramref name="type"/> (new or joined).</summary>
    /// <param name="namespaces"><c>linux.namespaces</c>.</param>
    /// <param name="type">One of the type names above.</param>
    /// <returns><see langword="true"/> when listed.</returns>
    public static bool Has(IReadOnlyList<LinuxNamespace>? namespaces, string type) => Find(namespaces, type) is not null;

    /// <summary>Whether <paramref name="namespaces"/> asks for a new namespace of type <paramref name="type"/> (listed without a path).</summary>
    /// <param name="namespaces"><c>linux.namespaces</c>.</param>
    /// <param name="type">One of the type names above.</param>
    /// <returns><see langword="true"/> when the runtime creates it.</returns>
    public static bool IsNew(IReadOnlyList<LinuxNamespace>? namespaces, string type) =>
        Find(namespaces, type) is { } ns && string.IsNullOrEmpty(ns.Path);
}

/// <summary>A UID/GID mapping (config-linux.md#user-namespace-mappings, also used by idmapped mounts).</summary>
public sealed class LinuxIdMapping
{
    /// <summary><c>containerID</c> (REQUIRED): first ID inside the container.</summary>
    [JsonPropertyName("containerID")]
    public uint ContainerId { get; set; }

    /// <summary><c>hostID</c> (REQUIRED): first ID on the host mapped to <see cref="ContainerId"/>.</summary>
    [JsonPropertyName("hostID")]
    public uint HostId { get; set; }

    /// <summary><c>size</c> (REQUIRED): number of IDs mapped.</summary>
    [JsonPropertyName("size")]
    public uint Size { get; set; }
}

/// <summary>One clock of <c>linux.timeOffsets</c> (config-linux.md#offset-for-time-namespace).</summary>
public sealed class LinuxTimeOffset
{
    /// <summary><c>secs</c>: offset of the clock in seconds.</summary>
    [JsonPropertyName("secs")]
    public long? Secs { get; set; }

    /// <summary><c>nanosecs</c>: additional offset in nanoseconds, 0..999999999.</summary>
    [JsonPropertyName("nanosecs")]
    public uint? Nanosecs { get; set; }
}

/// <summary>One entry of <c>linux.devices</c> (config-linux.md#devices).</summary>
public sealed class LinuxDevice
{
    /// <summary><c>path</c> (REQUIRED): absolute path of the device node inside the container, e.g. "/dev/fuse".</summary>
    [JsonPropertyName("path")]
    public string Path { get; set; } = "";

    /// <summary><c>type</c> (REQUIRED): "c" (char), "b" (block), "u" (unbuffered char) or "p" (FIFO).</summary>
    [JsonPropertyName("type")]
    public string Type { get; set; } = "";

    /// <summary><c>major</c>: major device number (REQUIRED unless type is "p").</summary>
    [JsonPropertyName("major")]
    public long Major { get; set; }

    /// <summary><c>minor</c>: minor device number (REQUIRED unless type is "p").</summary>
    [JsonPropertyName("minor")]
    public long Minor { get; set; }

    /// <summary><c>fileMode</c>: permission bits of the node, e.g. 438 (= 0666).</summary>
    [JsonPropertyName("fileMode")]
    public uint? FileMode { get; set; }

    /// <summary><c>uid</c>: owner of the node in the container's user namespace.</summary>
    [JsonPropertyName("uid")]
    public uint? Uid { get; set; }

    /// <summary><c>gid</c>: group of the node in the container's user namespace.</summary>
    [JsonPropertyName("gid")]
    public uint? Gid { get; set; }
}

/// <summary>A value of <c>linux.netDevices</c> (config-linux.md#network-devices, runtime-spec 1.3).</summary>
public sealed class LinuxNetDevice
{
    /// <summary><c>name</c>: interface name inside the container; absent = keep the host name.</summary>
    [JsonPropertyName("name")]
    public string? Name { get; set; }
}

/// <summary><c>linux.personality</c>: personality(2) settings (config-linux.md#personality).</summary>
public sealed class LinuxPersonality
{
    /// <summary><c>domain</c> (REQUIRED): "LINUX" or "LINUX32" (<see cref="PersonalityDomains"/>).</summary>
    [JsonPropertyName("domain")]
    public string Domain { get; set; } = "";

    /// <summary><c>flags</c>: additional personality flags; none are defined by the spec.</summary>
    [JsonPropertyName("flags")]
    public List<string>? Flags { get; set; }
}

/// <summary><c>linux.intelRdt</c>: Intel Resource Director Technology settings (config-linux.md#intelrdt).</summary>
public sealed class LinuxIntelRdt
{
    /// <summary><c>closID</c>: resctrl class of service (a directory name); absent = the container ID.</summary>
    [JsonPropertyName("closID")]
    public string? ClosId { get; set; }

    /// <summary><c>schemata</c>: complete schemata written as-is to the resctrl "schemata" file (lines separated by "\n").</summary>
    [JsonPropertyName("schemata")]
    public string? Schemata { get; set; }

    /// <summary><c>l3CacheSchema</c>: L3 cache schema, e.g. "L3:0=7f0;1=1f".</summary>
    [JsonPropertyName("l3CacheSchema")]
    public string? L3CacheSchema { get; set; }

    /// <summary><c>memBwSchema</c>: memory bandwidth schema; MUST start with "MB:" and contain no newline.</summary>
    [JsonPropertyName("memBwSchema")]
    public string? MemBwSchema { get; set; }

    /// <summary><c>enableCMT</c>: enable Cache Monitoring Technology.</summary>
    [JsonPropertyName("enableCMT")]
    public bool? EnableCmt { get; set; }

    /// <summary><c>enableMBM</c>: enable Memory Bandwidth Monitoring.</summary>
    [JsonPropertyName("enableMBM")]
    public bool? EnableMbm { get; set; }

    /// <summary><c>enableMonitoring</c>: create a resctrl monitoring group for the container (runtime-spec 1.3).</summary>
    [JsonPropertyName("enableMonitoring")]
    public bool? EnableMonitoring { get; set; }
}

/// <summary><c>linux.memoryPolicy</c>: set_mempolicy(2) settings (config-linux.md#memory-policy, runtime-spec 1.3).</summary>
public sealed class LinuxMemoryPolicy
{
    /// <summary><c>mode</c> (REQUIRED): one of <see cref="MemoryPolicyModes.All"/>, e.g. "MPOL_INTERLEAVE".</summary>
    [JsonPropertyName("mode")]
    public string Mode { get; set; } = "";

    /// <summary><c>nodes</c>: NUMA node list such as "0-3,7"; required except for MPOL_DEFAULT and MPOL_LOCAL.</summary>
    [JsonPropertyName("nodes")]
    public string? Nodes { get; set; }

    /// <summary><c>flags</c>: mode flags, each one of <see cref="MemoryPolicyFlags.All"/>.</summary>
    [JsonPropertyName("flags")]
    public List<string>? Flags { get; set; }
}
