using System.Runtime.InteropServices;

namespace OciRuntime.Interop;

/// <summary>
/// Message sockets and a spawn that hands fds to fixed numbers: what a client of <c>criu swrk</c> needs (one RPC
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

    [LibraryImport(Name, EntryPoint = "send", SetLastError = true)]
    private static partial nint send(int fd, byte* buf, nuint len, int flags);

    /// <summary>
    /// posix_spawn(3) of <paramref name="path"/> (absolute) with exactly <paramref name="argv"/> and
    /// <paramref name="envp"/>; the child's fd i is <paramref name="fds"/>[i] (0, 1, 2 and any more), every other fd
    /// closed; default signal dispositions and an empty signal mask. The fds go through numbers above all of them
    /// first, so any order of sources works and every target loses close-on-exec.
    /// </summary>
    /// <returns>The child's pid.</returns>
    /// <exception cref="SyscallException">the spawn failed (e.g. ENOENT, EACCES).</exception>
    public static int SpawnWithFds(string path, IReadOnlyList<string> argv, IReadOnlyList<string> envp, ReadOnlySpan<int> fds)
    {
        byte* actions = stackalloc byte[256];
        byte* attr = stackalloc byte[512];
        byte* sigs = stackalloc byte[128];
        SpawnOk(posix_spawn_file_actions_init(actions), "posix_spawn_file_actions_init");
        SpawnOk(posix_spawnattr_init(attr), "posix_spawnattr_init");
        try
        {
            var high = fds.Length;
            foreach (var f in fds) high = Math.Max(high, f + 1);
            for (var i = 0; i < fds.Length; i++) SpawnOk(posix_spawn_file_actions_adddup2(actions, fds[i], high + i), "posix_spawn_file_actions_adddup2");
            for (var i = 0; i < fds.Length; i++) SpawnOk(posix_spawn_file_actions_adddup2(actions, high + i, i), "posix_spawn_file_actions_adddup2");
            SpawnOk(posix_spawn_file_actions_addclosefrom_np(actions, fds.Length), "posix_spawn_file_actions_addclosefrom_np");
            new Span<byte>(sigs, 128).Fill(0xff);
            SpawnOk(posix_spawnattr_setsigdefault(attr, sigs), "posix_spawnattr_setsigdefault");
            new Span<byte>(sigs, 128).Clear();
            SpawnOk(posix_spawnattr_setsigmask(attr, sigs), "posix_spawnattr_setsigmask");
            SpawnOk(posix_spawnattr_setflags(attr, 0x04 /* POSIX_SPAWN_SETSIGDEF */ | 0x08 /* POSIX_SPAWN_SETSIGMASK */), "posix_spawnattr_setflags");
            var a = new string?[argv.Count + 1];
            for (var i = 0; i < argv.Count; i++) a[i] = argv[i];
            var e = new string?[envp.Count + 1];
            for (var i = 0; i < envp.Count; i++) e[i] = envp[i];
            int pid;
            var rc = posix_spawn(&pid, path, actions, attr, a, e);
            if (rc != 0) throw new SyscallException($"spawn {path}", rc);
            return pid;
        }
        finally
        {
            SpawnOk(posix_spawn_file_actions_destroy(actions), "posix_spawn_file_actions_destroy");
            SpawnOk(posix_spawnattr_destroy(attr), "posix_spawnattr_destroy");
        }
    }
}
