using System.Runtime.InteropServices;

namespace OciRuntime.Interop;

/// <summary>
/// Message sockets: what a client of <c>criu swrk</c> needs (one RPC
/// message per SOCK_SEQPACKET record; the service's socket as the child's fd 3; fds CRIU sends with SCM_RIGHTS).
/// </summary>
public static unsafe partial class Libc
{
    /// <summary>A connected AF_UNIX SOCK_SEQPACKET socketpair; both ends close-on-exec.</summary>
    /// <exception cref="SyscallException">socketpair failed.</exception>
    public static (SafeFd, SafeFd) SeqPacketPair()
    {
        int* sv = stackalloc int[2];
        Check(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), "socketpair SOCK_SEQPACKET");
        return (new SafeFd(sv[0]), new SafeFd(sv[1]));
    }

    /// <summary>Sends <paramref name="data"/> as one record on <paramref name="socketFd"/> (MSG_NOSIGNAL: EPIPE, not SIGPIPE).</summary>
    /// <exception cref="SyscallException">send failed (EPIPE when the peer is gone).</exception>
    public static void SendRecord(int socketFd, ReadOnlySpan<byte> data)
    {
        fixed (byte* p = data)
        {
            while (send(socketFd, p, (nuint)data.Length, 0x4000 /* MSG_NOSIGNAL */) < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno != Errno.EINTR) throw new SyscallException("send", errno);
            }
        }
    }

    /// <summary>
    /// Receives one record into <paramref name="buffer"/>, and the first fd it carries with SCM_RIGHTS (close-on-exec;
    /// null when none). Returns the record's length: 0 at end of file; MSG_TRUNC set means the buffer was too small.
    /// </summary>
    /// <exception cref="SyscallException">recvmsg failed, or the record did not fit (EMSGSIZE).</exception>
    public static int ReceiveRecord(int socketFd, Span<byte> buffer, out SafeFd? fd)
    {
        fd = null;
        byte* control = stackalloc byte[64];
        new Span<byte>(control, 64).Clear();
        byte* iov = stackalloc byte[16];
        byte* msg = stackalloc byte[56];
        new Span<byte>(msg, 56).Clear();
        nint n;
        fixed (byte* b = buffer)
        {
            *(byte**)iov = b;
            *(nuint*)(iov + 8) = (nuint)buffer.Length;
            *(byte**)(msg + 16) = iov;
            *(nuint*)(msg + 24) = 1;
            *(byte**)(msg + 32) = control;
            *(nuint*)(msg + 40) = 64;
            while ((n = recvmsg(socketFd, msg, 0x40000000 /* MSG_CMSG_CLOEXEC */)) < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno != Errno.EINTR) throw new SyscallException("recvmsg", errno);
            }
        }
        // struct cmsghdr { size_t len; int level; int type; int fds[]; }: SOL_SOCKET (1), SCM_RIGHTS (1).
        if (*(nuint*)(msg + 40) >= 20 && *(int*)(control + 8) == 1 && *(int*)(control + 12) == 1)
        {
            var count = (int)((*(nuint*)control - 16) / 4);
            fd = new SafeFd(*(int*)(control + 16));
            for (var i = 1; i < count; i++) _ = close(*(int*)(control + 16 + 4 * i));
        }
        if ((*(int*)(msg + 48) & 0x20 /* MSG_TRUNC */) != 0) throw new SyscallException("recvmsg: record larger than the buffer", 90 /* EMSGSIZE */);
        return (int)n;
    }

    private static nint send(int fd, byte* buf, nuint len, int flags) => (nint)(long)Tmds.Linux.LibC.send(fd, buf, (Tmds.Linux.size_t)(ulong)len, flags);
}
