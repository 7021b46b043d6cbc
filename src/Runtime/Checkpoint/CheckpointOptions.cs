using OciRuntime.Runtime.Lifecycle;

namespace OciRuntime.Runtime.Checkpoint;

/// <summary>The CRIU flags <c>checkpoint</c> and <c>restore</c> share (runc's names).</summary>
public class CriuFlags
{
    /// <summary>The container id.</summary>
    public required string Id { get; init; }

    /// <summary>--image-path: the image directory; null = ./checkpoint (runc's default).</summary>
    public string? ImagePath { get; set; }

    /// <summary>--work-path: where CRIU writes its log and work files; null = the image directory.</summary>
    public string? WorkPath { get; set; }

    /// <summary>--tcp-established.</summary>
    public bool TcpEstablished { get; set; }

    /// <summary>--ext-unix-sk.</summary>
    public bool ExtUnixSk { get; set; }

    /// <summary>--shell-job.</summary>
    public bool ShellJob { get; set; }

    /// <summary>--file-locks.</summary>
    public bool FileLocks { get; set; }

    /// <summary>--manage-cgroups-mode: soft | full | strict | ignore; null = CRIU's default (soft).</summary>
    public string? ManageCgroupsMode { get; set; }

    /// <summary>--empty-ns: "network" (the only namespace runc accepts) or null.</summary>
    public string? EmptyNs { get; set; }

    /// <summary>--auto-dedup.</summary>
    public bool AutoDedup { get; set; }

    /// <summary>--lazy-pages.</summary>
    public bool LazyPages { get; set; }

    /// <summary>The image directory as an absolute path (runc's default: ./checkpoint).</summary>
    public string ImageDirectory => Path.GetFullPath(ImagePath is { Length: > 0 } p ? p : Path.Combine(Directory.GetCurrentDirectory(), "checkpoint"));

    /// <summary>--manage-cgroups-mode as CRIU's enum (null when not given).</summary>
    /// <exception cref="RuntimeException">an unknown mode (the message names the flag).</exception>
    public CriuCgroupMode? CgroupMode() => ManageCgroupsMode switch
    {
        null or "" => null,
        "soft" => CriuCgroupMode.Soft,
        "full" => CriuCgroupMode.Full,
        "strict" => CriuCgroupMode.Strict,
        "ignore" => CriuCgroupMode.Ignore,
        _ => throw new RuntimeException($"--manage-cgroups-mode: invalid value \"{ManageCgroupsMode}\" (soft, full, strict or ignore)"),
    };

    /// <summary>--empty-ns as a CLONE_NEW* mask (0 when not given).</summary>
    /// <exception cref="RuntimeException">a namespace other than "network".</exception>
    public uint EmptyNsMask() => EmptyNs switch
    {
        null or "" => 0,
        "network" => 0x40000000, // CLONE_NEWNET
        _ => throw new RuntimeException($"--empty-ns: namespace \"{EmptyNs}\" is not supported (only \"network\")"),
    };
}

/// <summary>Options of <c>checkpoint</c> (runc's flags).</summary>
public sealed class CheckpointOptions : CriuFlags
{
    /// <summary>--parent-path: the previous (pre-)dump's images, relative to the image directory.</summary>
    public string? ParentPath { get; init; }

    /// <summary>--leave-running.</summary>
    public bool LeaveRunning { get; init; }

    /// <summary>--pre-dump: dump memory only; the container keeps running.</summary>
    public bool PreDump { get; init; }

    /// <summary>--status-fd: an fd of the caller CRIU's lazy-pages readiness is written to (\0); -1 = none.</summary>
    public int StatusFd { get; init; } = -1;

    /// <summary>--page-server: ADDRESS:PORT of a CRIU page server.</summary>
    public string? PageServer { get; init; }
}

/// <summary>Options of <c>restore</c> (runc's flags).</summary>
public sealed class RestoreOptions : CriuFlags
{
    /// <summary>--bundle: the bundle directory; null = the working directory.</summary>
    public string? Bundle { get; init; }

    /// <summary>-d/--detach: return once the container runs.</summary>
    public bool Detach { get; init; }

    /// <summary>--pid-file.</summary>
    public string? PidFile { get; init; }

    /// <summary>--console-socket: receives the restored terminal's master.</summary>
    public string? ConsoleSocket { get; init; }

    /// <summary>--no-pivot: accepted as runc does (CRIU restores the mount namespace itself; nothing pivots).</summary>
    public bool NoPivot { get; init; }

    /// <summary>--no-subreaper.</summary>
    public bool NoSubreaper { get; init; }

    /// <summary>--lsm-profile TYPE:NAME.</summary>
    public string? LsmProfile { get; init; }

    /// <summary>--lsm-mount-context.</summary>
    public string? LsmMountContext { get; init; }
}
