using System.Runtime.InteropServices;

namespace OciRuntime.Interop;

/// <summary>errno values used by the runtime (Linux x86-64/arm64 generic numbers).</summary>
public static class Errno
{
    /// <summary>Operation not permitted.</summary>
    public const int EPERM = 1;
    /// <summary>No such file or directory.</summary>
    public const int ENOENT = 2;
    /// <summary>No such process.</summary>
    public const int ESRCH = 3;
    /// <summary>Interrupted system call.</summary>
    public const int EINTR = 4;
    /// <summary>Bad file descriptor.</summary>
    public const int EBADF = 9;
    /// <summary>Broken pipe.</summary>
    public const int EPIPE = 32;
    /// <summary>No child processes.</summary>
    public const int ECHILD = 10;
    /// <summary>Try again.</summary>
    public const int EAGAIN = 11;
    /// <summary>Permission denied.</summary>
    public const int EACCES = 13;
    /// <summary>Device or resource busy.</summary>
    public const int EBUSY = 16;
    /// <summary>File exists.</summary>
    public const int EEXIST = 17;
    /// <summary>Not a directory.</summary>
    public const int ENOTDIR = 20;
    /// <summary>Is a directory.</summary>
    public const int EISDIR = 21;
    /// <summary>Invalid argument.</summary>
    public const int EINVAL = 22;
    /// <summary>Argument list too long (openat2: a struct size the kernel does not know).</summary>
    public const int E2BIG = 7;
    /// <summary>EPROTO: protocol error (a malformed frame on the sync socket).</summary>
    public const int EPROTO = 71;
    /// <summary>EOPNOTSUPP: operation not supported.</summary>
    public const int EOPNOTSUPP = 95;
    /// <summary>Not a typewriter (not a terminal).</summary>
    public const int ENOTTY = 25;
    /// <summary>Function not implemented.</summary>
    public const int ENOSYS = 38;
    /// <summary>Directory not empty.</summary>
    public const int ENOTEMPTY = 39;
    /// <summary>Too many levels of symbolic links.</summary>
    public const int ELOOP = 40;
    /// <summary>Connection reset by peer (a stream socket whose peer closed with data of ours unread).</summary>
    public const int ECONNRESET = 104;
}

/// <summary>An errno from a failed system call, with the call and its object named in the message.</summary>
public sealed class SyscallException : IOException
{
    /// <summary>Creates the exception for <paramref name="call"/> failing with <paramref name="errno"/>.</summary>
    /// <param name="call">What was attempted, e.g. <c>mount proc on /proc</c>.</param>
    /// <param name="errno">The errno value.</param>
    public SyscallException(string call, int errno)
        : base($"{call}: {Libc.StrError(errno)}", errno)
    {
        Call = call;
        Errno = errno;
    }

    /// <summary>What was attempted.</summary>
    public string Call { get; }

    /// <summary>The errno value the kernel returned.</summary>
    public int Errno { get; }

    /// <summary>Throws for the current errno (<see cref="Marshal.GetLastPInvokeError"/>).</summary>
    public static SyscallException FromLastError(string call) => new(call, Marshal.GetLastPInvokeError());
}

public static partial class Libc
{
    // strerror(3): own declaration (Tmds.LibC 0.5.0 has only strerror_r).
    [LibraryImport(Name, EntryPoint = "strerror")]
    private static partial nint StrErrorNative(int errnum);

    /// <summary>The C library's text for <paramref name="errno"/>, lower-cased like Go's syscall.Errno strings (e.g. "no such file or directory").</summary>
    public static string StrError(int errno)
    {
        var text = Marshal.PtrToStringUTF8(StrErrorNative(errno)) ?? $"errno {errno}";
        return text.Length > 1 && char.IsUpper(text[0]) && char.IsLower(text[1])
            ? char.ToLowerInvariant(text[0]) + text[1..]
            : text;
    }

    /// <summary>Throws <see cref="SyscallException"/> naming <paramref name="call"/> when <paramref name="result"/> is -1.</summary>
    public static int Check(int result, string call) => result == -1 ? throw SyscallException.FromLastError(call) : result;

    /// <summary>Throws <see cref="SyscallException"/> naming <paramref name="call"/> when <paramref name="result"/> is -1.</summary>
    public static long Check(long result, string call) => result == -1 ? throw SyscallException.FromLastError(call) : result;
}
