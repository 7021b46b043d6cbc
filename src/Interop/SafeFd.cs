using System.Runtime.InteropServices;

namespace OciRuntime.Interop;

/// <summary>An owned file descriptor; closed when disposed. -1 is the invalid value (0 is a valid fd).</summary>
public sealed class SafeFd : SafeHandle
{
    /// <summary>An invalid (unowned) handle.</summary>
    public SafeFd() : base(-1, ownsHandle: true) { }

    /// <summary>Wraps <paramref name="fd"/>; owned handles are closed on dispose.</summary>
    public SafeFd(int fd, bool ownsHandle = true) : base(-1, ownsHandle) => SetHandle(fd);

    /// <inheritdoc />
    public override bool IsInvalid => handle == -1;

    /// <summary>The fd number (valid while the handle is not disposed).</summary>
    public int Fd => (int)handle;

    /// <summary>Gives up ownership and returns the raw fd; the caller closes it.</summary>
    public int Release()
    {
        var fd = (int)handle;
        SetHandleAsInvalid();
        return fd;
    }

    /// <summary>Wraps a syscall result that is an fd, throwing <see cref="SyscallException"/> naming <paramref name="call"/> on -1.</summary>
    public static SafeFd Check(int fd, string call) => fd < 0 ? throw SyscallException.FromLastError(call) : new SafeFd(fd);

    /// <inheritdoc />
    protected override bool ReleaseHandle() => Libc.close((int)handle) == 0;
}
