using System.Runtime.InteropServices;

namespace OciRuntime.Interop;

public static partial class Libc
{
    /// <summary>AF_UNIX.</summary>
    public const int AF_UNIX = 1;
    /// <summary>SOCK_STREAM.</summary>
    public const int SOCK_STREAM = 1;
    /// <summary>SOCK_SEQPACKET.</summary>
    public const int SOCK_SEQPACKET = 5;
    /// <summary>SOCK_CLOEXEC.</summary>
    public const int SOCK_CLOEXEC = 0x80000;

    /// <summary>socketpair(2).</summary>
    public static unsafe int socketpair(int domain, int type, int protocol, int* sv) => LibC.socketpair(domain, type, protocol, sv);

    /// <summary>shutdown(2).</summary>
    public static int shutdown(int fd, int how) => LibC.shutdown(fd, how);

    /// <summary>A connected AF_UNIX stream socketpair; both ends close-on-exec.</summary>
    /// <exception cref="SyscallException">socketpair failed.</exception>
    public static unsafe (SafeFd, SafeFd) SocketPair()
    {
        int* sv = stackalloc int[2];
        Check(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), "socketpair");
        return (new SafeFd(sv[0]), new SafeFd(sv[1]));
    }
}

public static unsafe partial class Libc
{
    private static int socket(int domain, int type, int protocol) => LibC.socket(domain, type, protocol);

    private static int connect(int fd, byte* addr, int len) => LibC.connect(fd, (Tmds.Linux.sockaddr*)addr, len);

    private static nint sendmsg(int fd, byte* msg, int flags) => (nint)(long)LibC.sendmsg(fd, (Tmds.Linux.msghdr*)msg, flags);

    private static nint recvmsg(int fd, byte* msg, int flags) => (nint)(long)LibC.recvmsg(fd, (Tmds.Linux.msghdr*)msg, flags);

    /// <summary>Connects a new AF_UNIX stream socket (close-on-exec) to <paramref name="path"/>.</summary>
    /// <exception cref="SyscallException">the socket cannot be made or connected (naming the path).</exception>
    public static SafeFd ConnectUnix(string path)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(path);
        if (bytes.Length >= 108) throw new SyscallException($"connect {path}: path longer than 107 bytes", 36 /* ENAMETOOLONG */);
        var fd = SafeFd.Check(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket");
        byte* addr = stackalloc byte[110];
        new Span<byte>(addr, 110).Clear();
        *(ushort*)addr = AF_UNIX;
        bytes.CopyTo(new Span<byte>(addr + 2, 108));
        while (connect(fd.Fd, addr, 2 + bytes.Length + 1) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno == Errno.EINTR) continue;
            fd.Dispose();
            throw new SyscallException($"connect to socket {path}", errno);
        }
        return fd;
    }

    /// <summary>
    /// Sends <paramref name="fdToSend"/> over the connected AF_UNIX socket <paramref name="socketFd"/> with SCM_RIGHTS,
    /// with <paramref name="name"/> as the data (runc's utils.SendFile: what containerd's console socket and recvtty expect).
    /// </summary>
    /// <exception cref="SyscallException">sendmsg failed.</exception>
    public static void SendFd(int socketFd, int fdToSend, string name)
    {
        var data = System.Text.Encoding.UTF8.GetBytes(name.Length == 0 ? "fd" : name);
        fixed (byte* d = data)
        {
            byte* iov = stackalloc byte[16];
            *(byte**)iov = d;
            *(nuint*)(iov + 8) = (nuint)data.Length;
            byte* control = stackalloc byte[24];
            new Span<byte>(control, 24).Clear();
            *(nuint*)control = 20;          // cmsg_len = CMSG_LEN(sizeof(int))
            *(int*)(control + 8) = 1;       // SOL_SOCKET
            *(int*)(control + 12) = 1;      // SCM_RIGHTS
            *(int*)(control + 16) = fdToSend;
            byte* msg = stackalloc byte[56];
            new Span<byte>(msg, 56).Clear();
            *(byte**)(msg + 16) = iov;      // msg_iov
            *(nuint*)(msg + 24) = 1;        // msg_iovlen
            *(byte**)(msg + 32) = control;  // msg_control
            *(nuint*)(msg + 40) = 24;       // msg_controllen = CMSG_SPACE(sizeof(int))
            while (sendmsg(socketFd, msg, 0x4000 /* MSG_NOSIGNAL */) < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno != Errno.EINTR) throw new SyscallException("sendmsg SCM_RIGHTS", errno);
            }
        }
    }

    /// <summary>Receives one fd sent with SCM_RIGHTS on <paramref name="socketFd"/> (blocking); the fd is close-on-exec.</summary>
    /// <exception cref="SyscallException">recvmsg failed, or the message carried no fd (EBADMSG).</exception>
    public static SafeFd ReceiveFd(int socketFd)
    {
        byte* buffer = stackalloc byte[4096];
        byte* iov = stackalloc byte[16];
        *(byte**)iov = buffer;
        *(nuint*)(iov + 8) = 4096;
        byte* control = stackalloc byte[64];
        new Span<byte>(control, 64).Clear();
        byte* msg = stackalloc byte[56];
        new Span<byte>(msg, 56).Clear();
        *(byte**)(msg + 16) = iov;
        *(nuint*)(msg + 24) = 1;
        *(byte**)(msg + 32) = control;
        *(nuint*)(msg + 40) = 64;
        while (recvmsg(socketFd, msg, 0x40000000 /* MSG_CMSG_CLOEXEC */) < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno != Errno.EINTR) throw new SyscallException("recvmsg SCM_RIGHTS", errno);
        }
        if (*(nuint*)(msg + 40) < 20 || *(int*)(control + 8) != 1 || *(int*)(control + 12) != 1)
            throw new SyscallException("recvmsg SCM_RIGHTS: no file descriptor in the message", 74 /* EBADMSG */);
        return new SafeFd(*(int*)(control + 16));
    }
}
