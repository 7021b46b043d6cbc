using System.Text.Json.Serialization;

namespace OciRuntime.Runtime.State;

/// <summary>
/// What ocirun keeps about a container in <c>&lt;root&gt;/&lt;id&gt;/state.json</c>. The status is not stored: it is
/// derived from the init's liveness (pid + start time) and the exec fifo (runtime.md#state).
/// </summary>
public sealed class ContainerRecord
{
    /// <summary>The container id.</summary>
    public string Id { get; set; } = "";

    /// <summary>The init's pid in the runtime's pid namespace.</summary>
    public int InitPid { get; set; }

    /// <summary>The init's start time (/proc/&lt;pid&gt;/stat field 22, clock ticks since boot): tells a reused pid apart.</summary>
    public ulong InitStartTime { get; set; }

    /// <summary>Absolute path of the bundle.</summary>
    public string Bundle { get; set; } = "";

    /// <summary>Absolute path of the rootfs on the host.</summary>
    public string Rootfs { get; set; } = "";

    /// <summary>Creation time, UTC.</summary>
    public DateTimeOffset Created { get; set; }

    /// <summary>Who created the container ("" for root, else the uid); informational: list derives OWNER from the state directory.</summary>
    public string Owner { get; set; } = "";

    /// <summary>config.json's annotations.</summary>
    public Dictionary<string, string>? Annotations { get; set; }

    /// <summary>The config.json ociVersion.</summary>
    public string? ConfigOciVersion { get; set; }

    /// <summary>The container's own namespaces: type → /proc/&lt;initpid&gt;/ns path (for exec and hooks).</summary>
    public Dictionary<string, string>? NamespacePaths { get; set; }

    /// <summary>
    /// Whether config.json has poststart or poststop hooks: only then do <c>start</c> and <c>delete</c> read the saved
    /// config back (a full parse) to run them.
    /// </summary>
    public bool HasRuntimeHooks { get; set; }

    /// <summary>linux.cgroupsPath of config.json (null = derived from the id).</summary>
    public string? CgroupsPath { get; set; }

    /// <summary>The container's cgroups: paths, the directories ocirun created, the resources in force (null: none managed).</summary>
    public OciRuntime.Cgroups.CgroupState? Cgroup { get; set; }

    /// <summary>Whether the container has its own pid namespace (otherwise delete must kill every process of it by cgroup).</summary>
    public bool OwnPidNamespace { get; set; }
}

/// <summary>The runc <c>state</c> output (runc's containerState JSON): the shape containerd's go-runc parses.</summary>
public sealed class ContainerStateOutput
{
    /// <summary>The runtime-spec version ocirun implements.</summary>
    [JsonPropertyName("ociVersion")] public string OciVersion { get; set; } = "";

    /// <summary>Container id.</summary>
    [JsonPropertyName("id")] public string Id { get; set; } = "";

    /// <summary>The init pid; 0 when stopped.</summary>
    [JsonPropertyName("pid")] public int Pid { get; set; }

    /// <summary>created | running | paused | stopped.</summary>
    [JsonPropertyName("status")] public string Status { get; set; } = "";

    /// <summary>Absolute bundle path.</summary>
    [JsonPropertyName("bundle")] public string Bundle { get; set; } = "";

    /// <summary>Absolute rootfs path.</summary>
    [JsonPropertyName("rootfs")] public string Rootfs { get; set; } = "";

    /// <summary>Creation time, RFC 3339 with nanoseconds, UTC (Go's time.RFC3339Nano).</summary>
    [JsonPropertyName("created")] public string Created { get; set; } = "";

    /// <summary>Annotations of config.json; omitted when empty.</summary>
    [JsonPropertyName("annotations")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Dictionary<string, string>? Annotations { get; set; }

    /// <summary>
    /// list: the user name owning the container's state directory (host /etc/passwd; "#UID" without an entry); state: ""
    /// (both as runc).
    /// </summary>
    [JsonPropertyName("owner")] public string Owner { get; set; } = "";
}
