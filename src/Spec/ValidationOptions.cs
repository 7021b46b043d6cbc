namespace OciRuntime.Spec;

/// <summary>Context for <see cref="SpecValidator"/>: where the bundle is and how the container is being started.</summary>
public sealed class ValidationOptions
{
    /// <summary>The file name used in <see cref="SpecException"/> messages; default "config.json".</summary>
    public string FileName { get; set; } = SpecSerializer.ConfigFileName;

    /// <summary>
    /// The bundle directory. When set, <c>root.path</c> (resolved against it when relative) must exist and be a directory.
    /// When <see langword="null"/>, the file system is not consulted.
    /// </summary>
    public string? BundleDir { get; set; }

    /// <summary>The container is started detached (<c>create</c>, or <c>run --detach</c>).</summary>
    public bool Detached { get; set; }

    /// <summary>A console socket was given (<c>--console-socket</c>).</summary>
    public bool HasConsoleSocket { get; set; }

    /// <summary>Whether <c>process</c> must be present; default <see langword="true"/> (required by create/run).</summary>
    public bool RequireProcess { get; set; } = true;

    /// <summary>Kept for callers: capability names that are not in <see cref="CapabilityNames.All"/> are always accepted now (config.md: runtimes SHOULD NOT fail; the runtime warns and skips them).</summary>
    public bool AllowUnknownCapabilities { get; set; }

    /// <summary>Accept <c>ociVersion</c> 1.x with a minor version above <see cref="SpecVersion.MaxSupportedMinor"/>.</summary>
    public bool AllowNewerMinorVersion { get; set; }
}
