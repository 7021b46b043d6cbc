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
    /// <summary>poll(2).</summary>
    [LibraryImport(Name, EntryPoint = "poll", SetLastError = true)]
    public static unsafe partial int poll(PollFd* fds, nuint nfds, int timeoutMs);

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
