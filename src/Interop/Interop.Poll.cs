using System.Runtime.InteropServices;

namespace OciRuntime.Interop;

/// <summary>struct pollfd of poll(2).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct PollFd
{
    /// <summary>The fd.</summary>
    public int Fd;
    /// <summary>Requested events (POLL*).</summary>
    public short Events;
    /// <summary>Returned events.</summary>
    public short REvents;

    /// <summary>POLLIN.</summary>
    public const short POLLIN = 1;
    /// <summary>POLLERR.</summary>
    public const short POLLERR = 8;
    /// <summary>POLLHUP.</summary>
    public const short POLLHUP = 16;
}

public static partial class Libc
{
    /// <summary>
    /// poll(2), as the ppoll syscall through <c>LibC.syscall</c>: Tmds.LibC 0.5.0 declares poll and ppoll without
    /// SetLastError, so their errno (EINTR) would be lost; its syscall keeps it. A negative timeout waits forever.
    /// </summary>
    public static unsafe int poll(PollFd* fds, nuint nfds, int timeoutMs)
    {
        Tmds.Linux.timespec timeout = default;
        if (timeoutMs >= 0)
        {
            timeout.tv_sec = timeoutMs / 1000;
            timeout.tv_nsec = timeoutMs % 1000 * 1_000_000;
        }
        return (int)Result(LibC.syscall(Arg(SyscallNumbers.Ppoll), fds, (Tmds.Linux.size_t)(ulong)nfds, timeoutMs >= 0 ? &timeout : null, (void*)null, 8));
    }

    /// <summary>poll(2) over <paramref name="fds"/>, retrying on EINTR; returns the number of ready fds (0 on timeout).</summary>
    /// <exception cref="SyscallException">poll failed.</exception>
    public static unsafe int Poll(Span<PollFd> fds, int timeoutMs)
    {
        fixed (PollFd* p = fds)
        {
            while (true)
            {
                var r = poll(p, (nuint)fds.Length, timeoutMs);
                if (r >= 0) return r;
                var errno = Marshal.GetLastPInvokeError();
                if (errno != Errno.EINTR) throw new SyscallException("poll", errno);
            }
        }
    }
}
