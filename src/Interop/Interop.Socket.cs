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
    [LibraryImport(Name, EntryPoint = "socketpair", SetLastError = true)]
    public static unsafe partial int socketpair(int domain, int type, int protocol, int* sv);

    /// <summary>shutdown(2).</summary>
    [LibraryImport(Name, EntryPoint = "shutdown", SetLastError = true)]
    public static partial int shutdown(int fd, int how);

    /// <summary>A connected AF_UNIX stream socketpair; both ends close-on-exec.</summary>
    /// <exception cref="SyscallException">socketpair failed.</exception>
    public static unsafe (SafeFd, SafeFd) SocketPair()
    {
        int* sv = stackalloc int[2];
        Check(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), "socketpair");
        return (new SafeFd(sv[0]), new SafeFd(sv[1]));
    }
}
