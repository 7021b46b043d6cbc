using System.Runtime.InteropServices;
using System.Text;

namespace OciRuntime.Interop;

/// <summary>
/// AF_UNIX stream sockets by path, and messages carrying file descriptors (SCM_RIGHTS, unix(7), cmsg(3)): what the
/// seccomp listener protocol of runtime-spec config-linux.md#seccomp needs (one message = the container process
/// state JSON + the notify fd).
/// </summary>
public static unsafe partial class UnixSocket
{
    private const int AF_UNIX = 1;
    private const int SOCK_STREAM = 1;
    private const int SOCK_CLOEXEC = 0x80000;
    private const int SOL_SOCKET = 1;
    private const int SCM_RIGHTS = 1;
    private const int MSG_NOSIGNAL = 0x4000;
    private const int MSG_CMSG_CLOEXEC = 0x40000000;
    private const int SunPathLength = 108;

    /// <summary>The most fds one message carries here (SCM_MAX_FD is 253; a cgroup v1 host has at most ~16 hierarchies).</summary>
    public const int MaxFds = 32;

    private static int socket(int domain, int type, int protocol) => LibC.socket(domain, type, protocol);

    private static int connect(int fd, byte* addr, uint length) => LibC.connect(fd, (Tmds.Linux.sockaddr*)addr, length);

    private static int bind(int fd, byte* addr, uint length) => LibC.bind(fd, (Tmds.Linux.sockaddr*)addr, length);

    private static int listen(int fd, int backlog) => LibC.listen(fd, backlog);

    private static int accept4(int fd, void* addr, void* length, int flags) => LibC.accept4(fd, (Tmds.Linux.sockaddr*)addr, (Tmds.Linux.socklen_t*)length, flags);

    private static nint sendmsg(int fd, RawSys.MsgHdr* msg, int flags) => (nint)(long)LibC.sendmsg(fd, (Tmds.Linux.msghdr*)msg, flags);

    private static nint recvmsg(int fd, RawSys.MsgHdr* msg, int flags) => (nint)(long)LibC.recvmsg(fd, (Tmds.Linux.msghdr*)msg, flags);

    private static uint FillAddress(byte* addr, string path)
    {
        var bytes = Encoding.UTF8.GetBytes(path);
        if (bytes.Length >= SunPathLength) throw new ArgumentException($"socket path {path} is longer than {SunPathLength - 1} bytes", nameof(path));
        new Span<byte>(addr, 2 + SunPathLength).Clear();
        *(ushort*)addr = AF_UNIX;
        bytes.CopyTo(new Span<byte>(addr + 2, SunPathLength));
        return (uint)(2 + bytes.Length + 1);
    }

    /// <summary>A close-on-exec AF_UNIX stream socket connected to <paramref name="path"/>.</summary>
    /// <exception cref="SyscallException">socket or connect failed (e.g. ECONNREFUSED: nobody listens).</exception>
    /// <exception cref="ArgumentException">the path does not fit in sockaddr_un (107 bytes).</exception>
    public static SafeFd Connect(string path)
    {
        byte* addr = stackalloc byte[2 + SunPathLength];
        var length = FillAddress(addr, path);
        var fd = SafeFd.Check(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket AF_UNIX");
        if (connect(fd.Fd, addr, length) != 0)
        {
            var error = SyscallException.FromLastError($"connect {path}");
            fd.Dispose();
            throw error;
        }
        return fd;
    }

    /// <summary>A close-on-exec AF_UNIX stream socket bound to <paramref name="path"/> and listening.</summary>
    /// <exception cref="SyscallException">socket, bind or listen failed.</exception>
    public static SafeFd Listen(string path, int backlog = 16)
    {
        byte* addr = stackalloc byte[2 + SunPathLength];
        var length = FillAddress(addr, path);
        var fd = SafeFd.Check(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket AF_UNIX");
        if (bind(fd.Fd, addr, length) != 0 || listen(fd.Fd, backlog) != 0)
        {
            var error = SyscallException.FromLastError($"listen on {path}");
            fd.Dispose();
            throw error;
        }
        return fd;
    }

    /// <summary>accept4(2) with SOCK_CLOEXEC, retrying on EINTR.</summary>
    /// <exception cref="SyscallException">accept failed.</exception>
    public static SafeFd Accept(int listenerFd)
    {
        while (true)
        {
            var fd = accept4(listenerFd, null, null, SOCK_CLOEXEC);
            if (fd >= 0) return new SafeFd(fd);
            if (Marshal.GetLastPInvokeError() != Errno.EINTR) throw SyscallException.FromLastError("accept");
        }
    }

    /// <summary>Sends <paramref name="data"/> as one message with <paramref name="fds"/> attached (SCM_RIGHTS), retrying on EINTR.</summary>
    /// <exception cref="SyscallException">sendmsg failed or sent only part of the data.</exception>
    public static void SendWithRights(int socketFd, ReadOnlySpan<byte> data, ReadOnlySpan<int> fds)
    {
        if (fds.Length > MaxFds) throw new ArgumentOutOfRangeException(nameof(fds), $"at most {MaxFds} fds per message");
        var controlLength = fds.IsEmpty ? 0 : ControlSpace(fds.Length);
        byte* control = stackalloc byte[ControlSpace(MaxFds)];
        if (!fds.IsEmpty)
        {
            new Span<byte>(control, controlLength).Clear();
            *(nuint*)control = (nuint)(16 + fds.Length * sizeof(int)); // cmsg_len = CMSG_LEN(n * sizeof(int))
            *(int*)(control + 8) = SOL_SOCKET;
            *(int*)(control + 12) = SCM_RIGHTS;
            fds.CopyTo(new Span<int>(control + 16, fds.Length));
        }
        fixed (byte* p = data)
        {
            var iov = new RawSys.IoVec { Base = p, Length = (nuint)data.Length };
            var msg = new RawSys.MsgHdr { Iov = &iov, IovLength = 1, Control = fds.IsEmpty ? null : control, ControlLength = (nuint)controlLength };
            while (true)
            {
                var n = sendmsg(socketFd, &msg, MSG_NOSIGNAL);
                if (n == data.Length) return;
                if (n >= 0) throw new SyscallException($"sendmsg: sent {n} of {data.Length} bytes", Errno.EAGAIN);
                if (Marshal.GetLastPInvokeError() != Errno.EINTR) throw SyscallException.FromLastError("sendmsg");
            }
        }
    }

    /// <summary>
    /// Receives one message into <paramref name="buffer"/>; the fds attached to it (received close-on-exec) are stored in
    /// <paramref name="fds"/>. Returns the number of bytes (0 at end of stream) and the number of fds.
    /// </summary>
    /// <exception cref="SyscallException">recvmsg failed.</exception>
    public static (int Bytes, int FdCount) ReceiveWithRights(int socketFd, Span<byte> buffer, Span<int> fds)
    {
        var space = ControlSpace(MaxFds);
        byte* control = stackalloc byte[space];
        new Span<byte>(control, space).Clear();
        fixed (byte* p = buffer)
        {
            var iov = new RawSys.IoVec { Base = p, Length = (nuint)buffer.Length };
            var msg = new RawSys.MsgHdr { Iov = &iov, IovLength = 1, Control = control, ControlLength = (nuint)space };
            nint n;
            while ((n = recvmsg(socketFd, &msg, MSG_CMSG_CLOEXEC)) < 0)
            {
                if (Marshal.GetLastPInvokeError() != Errno.EINTR) throw SyscallException.FromLastError("recvmsg");
            }
            var count = 0;
            // Walk the control messages (CMSG_FIRSTHDR / CMSG_NXTHDR).
            var offset = 0;
            while (offset + 16 <= (int)msg.ControlLength)
            {
                var length = (int)*(nuint*)(control + offset);
                if (length < 16) break;
                if (*(int*)(control + offset + 8) == SOL_SOCKET && *(int*)(control + offset + 12) == SCM_RIGHTS)
                {
                    var n2 = (length - 16) / sizeof(int);
                    for (var i = 0; i < n2; i++)
                    {
                        var fd = *(int*)(control + offset + 16 + i * sizeof(int));
                        if (count < fds.Length) fds[count++] = fd;
                        else Libc.close(fd);
                    }
                }
                offset += (length + 7) & ~7;
            }
            return ((int)n, count);
        }
    }

    /// <summary>CMSG_SPACE(<paramref name="fdCount"/> * sizeof(int)) on a 64-bit system.</summary>
    private static int ControlSpace(int fdCount) => 16 + ((fdCount * sizeof(int) + 7) & ~7);
}
