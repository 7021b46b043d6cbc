using System.Buffers.Binary;
using OciRuntime.Interop;

namespace OciRuntime.Runtime.ProcessModel;

/// <summary>Types of the frames exchanged between the runtime (parent) and the container init over the sync socket.</summary>
public enum SyncMessage : uint
{
    /// <summary>Child → parent, written by the raw pre-exec child: setns or execve failed. Payload: step (int32), errno (int32).</summary>
    ChildFailed = 1,
    /// <summary>Parent → init: the <see cref="InitOptions"/> JSON.</summary>
    Bootstrap = 2,
    /// <summary>Parent → init: the validated config.json (runtime-spec JSON).</summary>
    Config = 3,
    /// <summary>Init → parent: the container is set up and the init now waits on the exec fifo. Payload: phase timings JSON.</summary>
    Ready = 4,
    /// <summary>Init → parent: setup failed. Payload: a one-line UTF-8 message.</summary>
    Error = 5,
    /// <summary>Init → parent: the mounts are done, pivot_root not yet: run the prestart and createRuntime hooks now.</summary>
    RunHooks = 6,
    /// <summary>Parent → init: the hooks of <see cref="RunHooks"/> succeeded; go on.</summary>
    HooksDone = 7,
    /// <summary>
    /// Parent → the raw child of a new user namespace: uid_map and gid_map are written (an empty frame, read by
    /// raw syscalls before execve: until then the child's ids have no mapping and an execve would drop its capabilities).
    /// </summary>
    MappingsDone = 8,
    /// <summary>Raw child → parent: the child has unshared its time namespace; its offsets may be written now (empty frame).</summary>
    ChildReady = 9,
    /// <summary>
    /// Raw child → parent: the pid (int32) of the process it forked into a joined pid namespace (it exits next; the
    /// forked one is the runtime's child through CLONE_PARENT). See InitLauncher.
    /// </summary>
    ChildPid = 10,
    /// <summary>
    /// Direct-create child → runtime: one procfs fs context (fsopen "proc", made in the container's pid namespace) per
    /// proc mount of config.json, as SCM_RIGHTS with an empty frame (DirectCreate).
    /// </summary>
    ProcContexts = 11,
    /// <summary>
    /// Runtime → direct-create child: the mounts are built; the network namespace fd (SCM_RIGHTS) and the seccomp program
    /// (payload) for the rest (DirectCreate.SendGo).
    /// </summary>
    Go = 12,
    /// <summary>
    /// Runtime → direct-create child, as soon as the cgroups exist: their join files as SCM_RIGHTS (an empty frame). The
    /// child joins them while the runtime still builds the rootfs (DirectCreate).
    /// </summary>
    Cgroups = 13,
    /// <summary>
    /// Direct-create child → runtime: the child has joined its cgroups (and its cgroup namespace); it is in every namespace
    /// and cgroup of the container from now on, so the prestart and createRuntime hooks may run (an empty frame).
    /// </summary>
    CgroupsJoined = 14,
}

/// <summary>
/// Length-prefixed frames over an AF_UNIX stream socket: <c>[u32 type][u32 length][payload]</c>, little-endian.
/// Blocking I/O on the calling thread; no other thread is involved (docs/process-model.md).
/// </summary>
public sealed class SyncChannel : IDisposable
{
    /// <summary>Largest payload accepted (a config.json with a large seccomp profile fits many times over).</summary>
    public const int MaxPayload = 64 << 20;

    private readonly SafeFd _fd;

    /// <summary>Wraps the socket end <paramref name="fd"/> (owned).</summary>
    public SyncChannel(SafeFd fd) => _fd = fd;

    /// <summary>The socket fd.</summary>
    public int Fd => _fd.Fd;

    /// <summary>Sends one frame.</summary>
    /// <exception cref="SyscallException">the peer is gone or the write failed.</exception>
    public void Send(SyncMessage type, ReadOnlySpan<byte> payload) => Send(type, payload, []);

    /// <summary>
    /// Sends one frame with <paramref name="fds"/> attached to its header (SCM_RIGHTS; at most <see cref="UnixSocket.MaxFds"/>):
    /// the receiver gets them from <see cref="TryReceive(out SyncMessage, out byte[], List{SafeFd})"/>.
    /// </summary>
    /// <exception cref="SyscallException">the peer is gone.</exception>
    public void Send(SyncMessage type, ReadOnlySpan<byte> payload, ReadOnlySpan<int> fds)
    {
        Span<byte> header = stackalloc byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(header, (uint)type);
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], (uint)payload.Length);
        if (fds.IsEmpty) Libc.WriteAll(_fd.Fd, header, "sync socket");
        else UnixSocket.SendWithRights(_fd.Fd, header, fds);
        if (!payload.IsEmpty) Libc.WriteAll(_fd.Fd, payload, "sync socket");
    }

    /// <summary>Receives one frame; returns false at end of stream (the peer closed or exited).</summary>
    /// <exception cref="SyscallException">read failed.</exception>
    /// <exception cref="InvalidDataException">a truncated or oversized frame.</exception>
    public bool TryReceive(out SyncMessage type, out byte[] payload)
    {
        var fds = new List<SafeFd>();
        var got = TryReceive(out type, out payload, fds);
        foreach (var fd in fds) fd.Dispose(); // none expected
        return got;
    }

    /// <summary>
    /// Receives one frame like <see cref="TryReceive(out SyncMessage, out byte[])"/>; the fds sent with it (close-on-exec)
    /// are appended to <paramref name="fds"/>, in the sender's order.
    /// </summary>
    /// <exception cref="InvalidDataException">a truncated or oversized frame.</exception>
    public bool TryReceive(out SyncMessage type, out byte[] payload, List<SafeFd> fds)
    {
        ArgumentNullException.ThrowIfNull(fds);
        Span<byte> header = stackalloc byte[8];
        Span<int> received = stackalloc int[UnixSocket.MaxFds];
        type = 0;
        payload = [];
        // The fds travel with the header's first byte (a stream socket): the first read is a recvmsg. ECONNRESET (the
        // peer died with frames of ours unread) is its end, as EOF: the caller then reports how the peer ended.
        int got, count;
        try
        {
            (got, count) = UnixSocket.ReceiveWithRights(_fd.Fd, header, received);
        }
        catch (SyscallException e) when (e.Errno == Errno.ECONNRESET)
        {
            return false;
        }
        foreach (var fd in received[..count]) fds.Add(new SafeFd(fd));
        if (got > 0) got += ReadFull(header[got..]);
        if (got == 0) return false;
        if (got < header.Length) throw new InvalidDataException("sync socket: truncated frame header");
        type = (SyncMessage)BinaryPrimitives.ReadUInt32LittleEndian(header);
        var length = BinaryPrimitives.ReadUInt32LittleEndian(header[4..]);
        if (length > MaxPayload) throw new InvalidDataException($"sync socket: frame of {length} bytes is too large");
        payload = new byte[length];
        if (ReadFull(payload) != length) throw new InvalidDataException("sync socket: truncated frame");
        return true;
    }

    private int ReadFull(Span<byte> buffer)
    {
        var done = 0;
        while (done < buffer.Length)
        {
            var n = Libc.ReadSome(_fd.Fd, buffer[done..], "sync socket");
            if (n == 0) break;
            done += n;
        }
        return done;
    }

    /// <inheritdoc />
    public void Dispose() => _fd.Dispose();
}
