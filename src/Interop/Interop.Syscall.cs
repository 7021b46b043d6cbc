using System.Runtime.InteropServices;

namespace OciRuntime.Interop;

/// <summary>Numbers of the system calls glibc 2.36 has no wrapper for, per architecture.</summary>
public static class SyscallNumbers
{
    private static readonly bool Arm64 = RuntimeInformation.ProcessArchitecture == Architecture.Arm64;

    /// <summary>pivot_root.</summary>
    public static long PivotRoot => Arm64 ? 41 : 155;
    /// <summary>clone3 (same on every architecture).</summary>
    public const long Clone3 = 435;
    /// <summary>pidfd_open.</summary>
    public const long PidfdOpen = 434;
    /// <summary>pidfd_send_signal.</summary>
    public const long PidfdSendSignal = 424;
    /// <summary>setresuid (raw: glibc's wrapper signals every thread it knows of, which a forked copy no longer has).</summary>
    public static long Setresuid => Arm64 ? 147 : 117;
    /// <summary>setresgid (raw, see <see cref="Setresuid"/>).</summary>
    public static long Setresgid => Arm64 ? 149 : 119;
    /// <summary>setgroups (raw, see <see cref="Setresuid"/>).</summary>
    public static long Setgroups => Arm64 ? 159 : 116;
    /// <summary>setsid (raw, in the cloned child: read before the clone).</summary>
    public static long Setsid => Arm64 ? 157 : 112;
    /// <summary>keyctl.</summary>
    public static long Keyctl => Arm64 ? 219 : 250;
    /// <summary>capget.</summary>
    public static long Capget => Arm64 ? 90 : 125;
    /// <summary>capset.</summary>
    public static long Capset => Arm64 ? 91 : 126;
    /// <summary>rt_sigaction (raw: glibc's sigaction refuses its own signals 32 and 33).</summary>
    public static long RtSigaction => Arm64 ? 134 : 13;
    /// <summary>fcntl.</summary>
    public static long Fcntl => Arm64 ? 25 : 72;
    /// <summary>ppoll (<see cref="Libc.poll"/>: Tmds.LibC's poll loses errno).</summary>
    public static long Ppoll => Arm64 ? 73 : 271;
    /// <summary>rt_sigprocmask.</summary>
    public static long RtSigprocmask => Arm64 ? 135 : 14;
}
