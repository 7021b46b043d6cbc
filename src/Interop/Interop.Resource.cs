using System.Runtime.InteropServices;

namespace OciRuntime.Interop;

/// <summary>struct rlimit (values in the resource's unit; <see cref="Infinity"/> = unlimited).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct RLimit
{
    /// <summary>Soft limit.</summary>
    public ulong Cur;
    /// <summary>Hard limit.</summary>
    public ulong Max;
    /// <summary>RLIM_INFINITY.</summary>
    public const ulong Infinity = ulong.MaxValue;
}

// Own declaration (Tmds.LibC 0.5.0 lacks it): prlimit.
public static partial class Libc
{
    /// <summary>prlimit(2) (own declaration: not in Tmds.LibC 0.5.0).</summary>
    [LibraryImport(Name, EntryPoint = "prlimit", SetLastError = true)]
    public static unsafe partial int prlimit(int pid, int resource, RLimit* newLimit, RLimit* oldLimit);

    /// <summary>The RLIMIT_* number of a runtime-spec rlimit type name (e.g. "RLIMIT_NOFILE" = 7), or -1 if unknown.</summary>
    public static int RlimitNumber(string type) => type switch
    {
        "RLIMIT_CPU" => 0,
        "RLIMIT_FSIZE" => 1,
        "RLIMIT_DATA" => 2,
        "RLIMIT_STACK" => 3,
        "RLIMIT_CORE" => 4,
        "RLIMIT_RSS" => 5,
        "RLIMIT_NPROC" => 6,
        "RLIMIT_NOFILE" => 7,
        "RLIMIT_MEMLOCK" => 8,
        "RLIMIT_AS" => 9,
        "RLIMIT_LOCKS" => 10,
        "RLIMIT_SIGPENDING" => 11,
        "RLIMIT_MSGQUEUE" => 12,
        "RLIMIT_NICE" => 13,
        "RLIMIT_RTPRIO" => 14,
        "RLIMIT_RTTIME" => 15,
        _ => -1,
    };
}
