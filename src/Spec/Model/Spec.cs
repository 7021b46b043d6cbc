using System.Text.Json.Serialization;

namespace OciRuntime.Spec;

/// <summary>
/// The container configuration, <c>config.json</c> of a bundle (runtime-spec config.md).
/// Mirrors <c>specs.Spec</c> of runtime-spec specs-go/config.go; properties are declared in the Go field order so that
/// serialisation writes keys in the order runc writes them. A <see langword="null"/> property is an absent key.
/// Only the Linux platform section is modelled; <c>solaris</c>, <c>windows</c>, <c>vm</c> and <c>zos</c> keys are ignored on read.
/// </summary>
public sealed class Spec
{
    /// <summary>
    /// <c>ociVersion</c> (REQUIRED): the SemVer 2.0.0 version of the runtime-spec the bundle complies with, e.g. "1.2.0" or
    /// runc's "1.0.2-dev" (config.md#specification-version). Empty when the key was absent.
    /// </summary>
    [JsonPropertyName("ociVersion")]
    public string OciVersion { get; set; } = "";

    /// <summary><c>process</c>: the container process (config.md#process). REQUIRED for create/start.</summary>
    [JsonPropertyName("process")]
    public Process? Process { get; set; }

    /// <summary><c>root</c>: the container's root filesystem (config.md#root). REQUIRED on Linux.</summary>
    [JsonPropertyName("root")]
    public Root? Root { get; set; }

    /// <summary><c>hostname</c>: the container's hostname; needs a UTS namespace (config.md#hostname).</summary>
    [JsonPropertyName("hostname")]
    public string? Hostname { get; set; }

    /// <summary><c>domainname</c>: the container's NIS domain name; needs a UTS namespace (config.md#domainname).</summary>
    [JsonPropertyName("domainname")]
    public string? Domainname { get; set; }

    /// <summary><c>mounts</c>: additional mounts beyond <see cref="Root"/>, performed in order (config.md#mounts).</summary>
    [JsonPropertyName("mounts")]
    public List<Mount>? Mounts { get; set; }

    /// <summary><c>hooks</c>: lifecycle hooks (config.md#posix-platform-hooks).</summary>
    [JsonPropertyName("hooks")]
    public Hooks? Hooks { get; set; }

    /// <summary><c>annotations</c>: arbitrary key/value metadata; keys SHOULD be reverse-domain names (config.md#annotations).</summary>
    [JsonPropertyName("annotations")]
    public Dictionary<string, string>? Annotations { get; set; }

    /// <summary><c>linux</c>: the Linux-specific configuration (config-linux.md).</summary>
    [JsonPropertyName("linux")]
    public Linux? Linux { get; set; }
}

/// <summary><c>root</c>: the container's root filesystem (config.md#root).</summary>
public sealed class Root
{
    /// <summary>
    /// <c>path</c> (REQUIRED): path to the root filesystem, absolute or relative to the bundle directory
    /// (runc's default is "rootfs"). Empty when the key was absent.
    /// </summary>
    [JsonPropertyName("path")]
    public string Path { get; set; } = "";

    /// <summary><c>readonly</c>: make the root filesystem read-only inside the container. <see langword="false"/> is written as an absent key.</summary>
    [JsonPropertyName("readonly")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool Readonly { get; set; }
}

/// <summary>One entry of <c>mounts</c> (config.md#mounts).</summary>
public sealed class Mount
{
    /// <summary>
    /// <c>destination</c> (REQUIRED): absolute path of the mount point inside the container.
    /// Relative destinations (deprecated by the spec) are refused by <see cref="SpecValidator"/>.
    /// </summary>
    [JsonPropertyName("destination")]
    public string Destination { get; set; } = "";

    /// <summary><c>type</c>: filesystem type as passed to mount(2), e.g. "proc", "tmpfs", "bind", "none".</summary>
    [JsonPropertyName("type")]
    public string? Type { get; set; }

    /// <summary><c>source</c>: device name, path (for bind mounts) or a dummy such as "proc".</summary>
    [JsonPropertyName("source")]
    public string? Source { get; set; }

    /// <summary><c>options</c>: fstab-style mount options, e.g. "nosuid", "rbind", "ro", "mode=755", "size=65536k".</summary>
    [JsonPropertyName("options")]
    public List<string>? Options { get; set; }

    /// <summary><c>uidMappings</c>: user ID mappings for an idmapped mount (config.md#posix-platform-mounts, runtime-spec 1.2).</summary>
    [JsonPropertyName("uidMappings")]
    public List<LinuxIdMapping>? UidMappings { get; set; }

    /// <summary><c>gidMappings</c>: group ID mappings for an idmapped mount (runtime-spec 1.2).</summary>
    [JsonPropertyName("gidMappings")]
    public List<LinuxIdMapping>? GidMappings { get; set; }
}

/// <summary><c>hooks</c>: lifecycle hooks run by the runtime (config.md#posix-platform-hooks).</summary>
public sealed class Hooks
{
    /// <summary><c>prestart</c> (deprecated): run in the runtime namespace after create, before pivot_root.</summary>
    [JsonPropertyName("prestart")]
    public List<Hook>? Prestart { get; set; }

    /// <summary><c>createRuntime</c>: run in the runtime namespace during create, after the environment is set up, before pivot_root.</summary>
    [JsonPropertyName("createRuntime")]
    public List<Hook>? CreateRuntime { get; set; }

    /// <summary><c>createContainer</c>: run in the container namespace during create, before pivot_root.</summary>
    [JsonPropertyName("createContainer")]
    public List<Hook>? CreateContainer { get; set; }

    /// <summary><c>startContainer</c>: run in the container namespace during start, before the user process is executed.</summary>
    [JsonPropertyName("startContainer")]
    public List<Hook>? StartContainer { get; set; }

    /// <summary><c>poststart</c>: run in the runtime namespace after the user process started.</summary>
    [JsonPropertyName("poststart")]
    public List<Hook>? Poststart { get; set; }

    /// <summary><c>poststop</c>: run in the runtime namespace after the container is deleted.</summary>
    [JsonPropertyName("poststop")]
    public List<Hook>? Poststop { get; set; }
}

/// <summary>One hook command (config.md#posix-platform-hooks). The OCI state JSON is written to its stdin.</summary>
public sealed class Hook
{
    /// <summary><c>path</c> (REQUIRED): absolute path of the executable in the runtime mount namespace.</summary>
    [JsonPropertyName("path")]
    public string Path { get; set; } = "";

    /// <summary><c>args</c>: argv including argv[0], as for execv(3).</summary>
    [JsonPropertyName("args")]
    public List<string>? Args { get; set; }

    /// <summary><c>env</c>: environment as "KEY=value" strings, as for environ(7).</summary>
    [JsonPropertyName("env")]
    public List<string>? Env { get; set; }

    /// <summary><c>timeout</c>: seconds before the hook is aborted; MUST be greater than zero when set.</summary>
    [JsonPropertyName("timeout")]
    public int? Timeout { get; set; }
}
