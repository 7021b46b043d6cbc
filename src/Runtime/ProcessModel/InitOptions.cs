using System.Text.Json.Serialization;

namespace OciRuntime.Runtime.ProcessModel;

/// <summary>What the runtime tells the container init besides config.json (the <see cref="SyncMessage.Bootstrap"/> frame).</summary>
public sealed class InitOptions
{
    /// <summary>The container id.</summary>
    public string Id { get; set; } = "";

    /// <summary>Absolute path of the bundle directory (relative bind sources resolve against it).</summary>
    public string Bundle { get; set; } = "";

    /// <summary>Absolute, symlink-free path of the rootfs on the host.</summary>
    public string Rootfs { get; set; } = "";

    /// <summary>runc's --no-pivot: move the rootfs onto / and chroot instead of pivot_root.</summary>
    public bool NoPivot { get; set; }

    /// <summary>The init's fd number of the exec fifo (opened O_PATH by the parent), or -1 for none (exec).</summary>
    public int FifoFd { get; set; } = -1;

    /// <summary>Mount namespace is new (not joined): the init prepares the rootfs.</summary>
    public bool NewMountNamespace { get; set; } = true;

    /// <summary>Debug tracing (phase timings) requested.</summary>
    public bool Debug { get; set; }

    /// <summary>
    /// The init's fd number of a socket the runtime connected to <c>linux.seccomp.listenerPath</c> (the profile has
    /// SCMP_ACT_NOTIFY rules), or -1. The init sends the notify fd through it right after loading the filter.
    /// </summary>
    public int SeccompListenerFd { get; set; } = -1;

    /// <summary>The container process state JSON (config-linux.md#the-container-process-state) sent with the notify fd.</summary>
    public string? SeccompListenerState { get; set; }
}

/// <summary>The init's report on success: how long each phase took, in microseconds, in order.</summary>
public sealed class InitReport
{
    /// <summary>Phase name and duration in µs, e.g. ("mounts", 412).</summary>
    public List<PhaseTiming> Phases { get; set; } = [];
}

/// <summary>One timed phase of container setup.</summary>
/// <param name="Name">Phase name (parse, mounts, devices, pivot_root, ...).</param>
/// <param name="Micros">Duration in microseconds.</param>
public sealed record PhaseTiming(string Name, long Micros);

/// <summary>Source-generated JSON for the runtime's own messages and files (AOT-clean).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(InitOptions))]
[JsonSerializable(typeof(InitReport))]
internal sealed partial class ProcessJsonContext : JsonSerializerContext
{
}
