using System.Text.Json.Serialization;

namespace OciRuntime.Spec;

/// <summary>
/// The output of the <c>features</c> command (features.md, features-linux.md; specs-go/features/features.go).
/// For every list a <see langword="null"/> value means "unknown", not "none supported".
/// </summary>
public sealed class Features
{
    /// <summary><c>ociVersionMin</c> (REQUIRED): minimum runtime-spec version recognised, e.g. "1.0.0".</summary>
    [JsonPropertyName("ociVersionMin")]
    public string? OciVersionMin { get; set; }

    /// <summary><c>ociVersionMax</c> (REQUIRED): maximum runtime-spec version recognised, e.g. "1.2.1".</summary>
    [JsonPropertyName("ociVersionMax")]
    public string? OciVersionMax { get; set; }

    /// <summary><c>hooks</c>: recognised hook names, e.g. "createRuntime".</summary>
    [JsonPropertyName("hooks")]
    public List<string>? Hooks { get; set; }

    /// <summary><c>mountOptions</c>: recognised filesystem-independent mount options, e.g. "ro", "rbind".</summary>
    [JsonPropertyName("mountOptions")]
    public List<string>? MountOptions { get; set; }

    /// <summary><c>linux</c>: Linux-specific features (features-linux.md).</summary>
    [JsonPropertyName("linux")]
    public FeaturesLinux? Linux { get; set; }

    /// <summary><c>annotations</c>: implementation-specific strings, e.g. {"org.opencontainers.runc.version": "1.1.5"}.</summary>
    [JsonPropertyName("annotations")]
    public Dictionary<string, string>? Annotations { get; set; }

    /// <summary>
    /// <c>potentiallyUnsafeConfigAnnotations</c>: config.json annotations that may change the runtime's behaviour;
    /// a value ending in "." is a prefix.
    /// </summary>
    [JsonPropertyName("potentiallyUnsafeConfigAnnotations")]
    public List<string>? PotentiallyUnsafeConfigAnnotations { get; set; }
}

/// <summary>The <c>linux</c> object of the features structure (features-linux.md).</summary>
public sealed class FeaturesLinux
{
    /// <summary><c>namespaces</c>: recognised namespace types, e.g. "mount".</summary>
    [JsonPropertyName("namespaces")]
    public List<string>? Namespaces { get; set; }

    /// <summary><c>capabilities</c>: recognised capability names, e.g. "CAP_SYS_ADMIN".</summary>
    [JsonPropertyName("capabilities")]
    public List<string>? Capabilities { get; set; }

    /// <summary><c>cgroup</c>: cgroup support compiled in.</summary>
    [JsonPropertyName("cgroup")]
    public FeaturesCgroup? Cgroup { get; set; }

    /// <summary><c>seccomp</c>: seccomp support.</summary>
    [JsonPropertyName("seccomp")]
    public FeaturesSeccomp? Seccomp { get; set; }

    /// <summary><c>apparmor</c>: AppArmor support.</summary>
    [JsonPropertyName("apparmor")]
    public FeaturesEnabled? Apparmor { get; set; }

    /// <summary><c>selinux</c>: SELinux support.</summary>
    [JsonPropertyName("selinux")]
    public FeaturesEnabled? Selinux { get; set; }

    /// <summary><c>intelRdt</c>: Intel RDT support.</summary>
    [JsonPropertyName("intelRdt")]
    public FeaturesIntelRdt? IntelRdt { get; set; }

    /// <summary><c>memoryPolicy</c>: memory policy support (runtime-spec 1.3).</summary>
    [JsonPropertyName("memoryPolicy")]
    public FeaturesMemoryPolicy? MemoryPolicy { get; set; }

    /// <summary><c>mountExtensions</c>: mount extensions such as idmapped mounts.</summary>
    [JsonPropertyName("mountExtensions")]
    public FeaturesMountExtensions? MountExtensions { get; set; }

    /// <summary><c>netDevices</c>: <c>linux.netDevices</c> support (runtime-spec 1.3).</summary>
    [JsonPropertyName("netDevices")]
    public FeaturesEnabled? NetDevices { get; set; }
}

/// <summary>A feature object whose only field is <c>enabled</c> (apparmor, selinux, netDevices, idmap).</summary>
public sealed class FeaturesEnabled
{
    /// <summary><c>enabled</c>: support is compiled in; <see langword="null"/> = unknown.</summary>
    [JsonPropertyName("enabled")]
    public bool? Enabled { get; set; }
}

/// <summary>The <c>cgroup</c> object of the Linux features (features-linux.md#cgroup).</summary>
public sealed class FeaturesCgroup
{
    /// <summary><c>v1</c>: cgroup v1 support is compiled in.</summary>
    [JsonPropertyName("v1")]
    public bool? V1 { get; set; }

    /// <summary><c>v2</c>: cgroup v2 support is compiled in.</summary>
    [JsonPropertyName("v2")]
    public bool? V2 { get; set; }

    /// <summary><c>systemd</c>: the systemd cgroup driver is compiled in.</summary>
    [JsonPropertyName("systemd")]
    public bool? Systemd { get; set; }

    /// <summary><c>systemdUser</c>: the user-scoped systemd cgroup driver is compiled in.</summary>
    [JsonPropertyName("systemdUser")]
    public bool? SystemdUser { get; set; }

    /// <summary><c>rdma</c>: the rdma controller is supported.</summary>
    [JsonPropertyName("rdma")]
    public bool? Rdma { get; set; }
}

/// <summary>The <c>seccomp</c> object of the Linux features (features-linux.md#seccomp).</summary>
public sealed class FeaturesSeccomp
{
    /// <summary><c>enabled</c>: seccomp support is compiled in.</summary>
    [JsonPropertyName("enabled")]
    public bool? Enabled { get; set; }

    /// <summary><c>actions</c>: recognised actions, e.g. "SCMP_ACT_NOTIFY".</summary>
    [JsonPropertyName("actions")]
    public List<string>? Actions { get; set; }

    /// <summary><c>operators</c>: recognised operators, e.g. "SCMP_CMP_NE".</summary>
    [JsonPropertyName("operators")]
    public List<string>? Operators { get; set; }

    /// <summary><c>archs</c>: recognised architectures, e.g. "SCMP_ARCH_X86_64".</summary>
    [JsonPropertyName("archs")]
    public List<string>? Archs { get; set; }

    /// <summary><c>knownFlags</c>: recognised filter flags, e.g. "SECCOMP_FILTER_FLAG_LOG".</summary>
    [JsonPropertyName("knownFlags")]
    public List<string>? KnownFlags { get; set; }

    /// <summary><c>supportedFlags</c>: the subset of <see cref="KnownFlags"/> the kernel and libseccomp support.</summary>
    [JsonPropertyName("supportedFlags")]
    public List<string>? SupportedFlags { get; set; }
}

/// <summary>The <c>intelRdt</c> object of the Linux features (features-linux.md#intelrdt).</summary>
public sealed class FeaturesIntelRdt
{
    /// <summary><c>enabled</c>: Intel RDT support is compiled in.</summary>
    [JsonPropertyName("enabled")]
    public bool? Enabled { get; set; }

    /// <summary><c>schemata</c>: <c>linux.intelRdt.schemata</c> is implemented.</summary>
    [JsonPropertyName("schemata")]
    public bool? Schemata { get; set; }
}

/// <summary>The <c>memoryPolicy</c> object of the Linux features (features-linux.md, runtime-spec 1.3).</summary>
public sealed class FeaturesMemoryPolicy
{
    /// <summary><c>modes</c>: recognised modes, e.g. "MPOL_INTERLEAVE".</summary>
    [JsonPropertyName("modes")]
    public List<string>? Modes { get; set; }

    /// <summary><c>flags</c>: recognised flags, e.g. "MPOL_F_STATIC_NODES".</summary>
    [JsonPropertyName("flags")]
    public List<string>? Flags { get; set; }
}

/// <summary>The <c>mountExtensions</c> object of the Linux features (features-linux.md#mountextensions).</summary>
public sealed class FeaturesMountExtensions
{
    /// <summary><c>idmap</c>: idmapped mount support.</summary>
    [JsonPropertyName("idmap")]
    public FeaturesEnabled? IdMap { get; set; }
}
