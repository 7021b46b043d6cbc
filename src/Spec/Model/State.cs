using System.Text.Json.Serialization;

namespace OciRuntime.Spec;

/// <summary>
/// The OCI state of a container (runtime.md#state): the output of the <c>state</c> operation and the JSON written to hooks' stdin.
/// Mirrors <c>specs.State</c> of runtime-spec specs-go/state.go.
/// </summary>
public sealed class State
{
    /// <summary><c>ociVersion</c> (REQUIRED): runtime-spec version the state complies with.</summary>
    [JsonPropertyName("ociVersion")]
    public string OciVersion { get; set; } = "";

    /// <summary><c>id</c> (REQUIRED): the container ID (see <see cref="ContainerId"/>).</summary>
    [JsonPropertyName("id")]
    public string Id { get; set; } = "";

    /// <summary><c>status</c> (REQUIRED): one of the <see cref="ContainerStatus"/> constants.</summary>
    [JsonPropertyName("status")]
    public string Status { get; set; } = "";

    /// <summary>
    /// <c>pid</c>: the container process ID as seen by the host; REQUIRED when status is "created" or "running".
    /// 0 is written as an absent key.
    /// </summary>
    [JsonPropertyName("pid")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public int Pid { get; set; }

    /// <summary><c>bundle</c> (REQUIRED): absolute path of the container's bundle directory.</summary>
    [JsonPropertyName("bundle")]
    public string Bundle { get; set; } = "";

    /// <summary><c>annotations</c>: the annotations of the container's config.json.</summary>
    [JsonPropertyName("annotations")]
    public Dictionary<string, string>? Annotations { get; set; }
}

/// <summary>The values of <see cref="State.Status"/> (runtime.md#state; "paused" is a runc extension).</summary>
public static class ContainerStatus
{
    /// <summary>"creating": the create operation is in progress.</summary>
    public const string Creating = "creating";

    /// <summary>"created": create finished, the user program has not been executed yet.</summary>
    public const string Created = "created";

    /// <summary>"running": the user program is executing.</summary>
    public const string Running = "running";

    /// <summary>"stopped": the container process has exited.</summary>
    public const string Stopped = "stopped";

    /// <summary>"paused": the container's cgroup is frozen (runc extension, not in the OCI spec).</summary>
    public const string Paused = "paused";
}

/// <summary>
/// The container process state sent to a seccomp listener over <c>linux.seccomp.listenerPath</c>
/// (config-linux.md#the-container-process-state). The file descriptors named in <see cref="Fds"/> travel as SCM_RIGHTS.
/// </summary>
public sealed class ContainerProcessState
{
    /// <summary><c>ociVersion</c> (REQUIRED): runtime-spec version.</summary>
    [JsonPropertyName("ociVersion")]
    public string OciVersion { get; set; } = "";

    /// <summary><c>fds</c>: names of the passed file descriptors, in SCM_RIGHTS order, e.g. ["seccompFd"].</summary>
    [JsonPropertyName("fds")]
    public List<string>? Fds { get; set; }

    /// <summary><c>pid</c> (REQUIRED): the container process ID as seen by the runtime.</summary>
    [JsonPropertyName("pid")]
    public int Pid { get; set; }

    /// <summary><c>metadata</c>: the value of <c>linux.seccomp.listenerMetadata</c>.</summary>
    [JsonPropertyName("metadata")]
    public string? Metadata { get; set; }

    /// <summary><c>state</c> (REQUIRED): the container's OCI state.</summary>
    [JsonPropertyName("state")]
    public State State { get; set; } = new();
}
