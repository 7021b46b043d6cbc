using System.Runtime.InteropServices;

namespace OciRuntime.Interop;

/// <summary>Linux signal numbers and names (x86-64/arm64 generic).</summary>
public static class Signals
{
    /// <summary>SIGKILL.</summary>
    public const int SIGKILL = 9;
    /// <summary>SIGTERM.</summary>
    public const int SIGTERM = 15;
    /// <summary>SIGCHLD.</summary>
    public const int SIGCHLD = 17;
    /// <summary>SIGSTOP.</summary>
    public const int SIGSTOP = 19;
    /// <summary>SIGPIPE.</summary>
    public const int SIGPIPE = 13;
    /// <summary>SIGWINCH.</summary>
    public const int SIGWINCH = 28;

    private static readonly string[] Names =
    [
        "", "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2", "PIPE", "ALRM", "TERM",
        "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG", "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS",
    ];

    /// <summary>
    /// Parses a signal as runc's kill does: a number ("9"), a name with or without the SIG prefix, any case
    /// ("SIGKILL", "KILL", "kill"), or a real-time signal ("RTMIN+3"). Returns false for anything else.
    /// </summary>
    public static bool TryParse(string text, out int signal)
    {
        signal = 0;
        if (int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n))
        {
            signal = n;
            return n is > 0 and <= 64;
        }
        var name = text.ToUpperInvariant();
        if (name.StartsWith("SIG", StringComparison.Ordinal)) name = name[3..];
        if (name == "IOT") name = "ABRT";
        if (name == "POLL") name = "IO";
        for (var i = 1; i < Names.Length; i++)
        {
            if (Names[i] == name) { signal = i; return true; }
        }
        if (name.StartsWith("RTMIN", StringComparison.Ordinal) || name.StartsWith("RTMAX", StringComparison.Ordinal))
        {
            var baseSig = name.StartsWith("RTMIN", StringComparison.Ordinal) ? 34 : 64;
            var rest = name[5..];
            if (rest.Length == 0) { signal = baseSig; return true; }
            if (int.TryParse(rest, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var off))
            {
                signal = baseSig + off;
                return signal is >= 34 and <= 64;
            }
        }
        return false;
    }

    /// <summary>The SIG-prefixed name of <paramref name="signal"/>, e.g. "SIGKILL", or the number as text.</summary>
    public static string Name(int signal) => signal > 0 && signal < Names.Length ? "SIG" + Names[signal] : signal.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

public static partial class Libc
{
    /// <summary>
    /// Prepares the signal state a new program should start with: every signal that is ignored (the .NET runtime
    /// ignores SIGPIPE, and execve keeps ignored signals ignored) goes back to SIG_DFL, and the mask is emptied.
    /// Call right before execve. Raw calls only (<see cref="RawSys.ResetSignalsForExec"/>), which the direct-exec child uses too.
    /// </summary>
    public static void ResetSignalsForExec() => RawSys.ResetSignalsForExec(SyscallNumbers.RtSigaction, SyscallNumbers.RtSigprocmask);
}

public static unsafe partial class RawSys
{
    [LibraryImport(Libc.Name, EntryPoint = "syscall")]
    [SuppressGCTransition]
    private static partial long syscall5(long number, nint a, nint b, nint c, nint d);

    /// <summary>
    /// <see cref="Libc.ResetSignalsForExec"/> without allocation or GC transition, through rt_sigaction(2) itself: glibc's
    /// sigaction refuses signals 32 and 33 (its own), which a caller may still have left ignored. The kernel's struct
    /// sigaction (handler, flags, restorer, mask: 32 bytes on x86-64 and arm64) all zero is SIG_DFL with an empty mask;
    /// handled signals reset at execve anyway.
    /// </summary>
    /// <param name="rtSigaction">The rt_sigaction syscall number (<see cref="SyscallNumbers.RtSigaction"/>, read before a clone).</param>
    /// <param name="rtSigprocmask">The rt_sigprocmask syscall number (<see cref="SyscallNumbers.RtSigprocmask"/>).</param>
    public static void ResetSignalsForExec(long rtSigaction, long rtSigprocmask) => ResetSignals(rtSigaction, rtSigprocmask, handled: false);

    // SIG_DFL for every signal that is ignored (handled: false) or that has a handler (handled: true); then an empty mask.
    private static void ResetSignals(long rtSigaction, long rtSigprocmask, bool handled)
    {
        byte* action = stackalloc byte[64];
        byte* old = stackalloc byte[64];
        for (var i = 0; i < 64; i++) action[i] = 0;
        for (var sig = 1; sig < 65; sig++)
        {
            if (sig is Signals.SIGKILL or Signals.SIGSTOP) continue;
            if (syscall5(rtSigaction, sig, 0, (nint)old, 8) != 0) continue;
            var current = *(nint*)old; // 0 = SIG_DFL, 1 = SIG_IGN, else a handler
            if (handled ? current is not (0 or 1) : current == 1) _ = syscall5(rtSigaction, sig, (nint)action, 0, 8);
        }
        _ = syscall5(rtSigprocmask, 2 /* SIG_SETMASK */, (nint)action, 0, 8);
    }
}
