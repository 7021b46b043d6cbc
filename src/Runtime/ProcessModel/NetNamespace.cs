using OciRuntime.Interop;

namespace OciRuntime.Runtime.ProcessModel;

/// <summary>
/// A new network namespace made by the runtime itself, for the init to join (docs/process-model.md, "The network
/// namespace"). Creating one costs ≈0.8 ms in the kernel; made by clone3 it delays the init's start by as much, made
/// here right after the clone it overlaps the init's own start-up.
/// </summary>
public static class NetNamespace
{
    /// <summary>
    /// Creates a network namespace on the calling thread (unshare(CLONE_NEWNET) is allowed in a multithreaded process:
    /// the namespace proxy is per thread), keeps an fd of it, and returns the thread to its own network namespace.
    /// </summary>
    /// <returns>An fd of the new network namespace (close-on-exec).</returns>
    /// <exception cref="SyscallException">unshare or setns failed (e.g. EPERM without CAP_SYS_ADMIN).</exception>
    public static SafeFd Create()
    {
        using var own = SafeFd.Check(Libc.open("/proc/thread-self/ns/net", OpenFlags.O_RDONLY | OpenFlags.O_CLOEXEC), "open /proc/thread-self/ns/net");
        Libc.Check(Libc.unshare((int)CloneFlags.NewNet), "create the network namespace (unshare CLONE_NEWNET)");
        var created = Libc.open("/proc/thread-self/ns/net", OpenFlags.O_RDONLY | OpenFlags.O_CLOEXEC);
        var openErrno = created < 0 ? System.Runtime.InteropServices.Marshal.GetLastPInvokeError() : 0;
        // Back to the runtime's own namespace whatever happened: an abstract unix socket or a hook must not see the container's.
        if (Libc.setns(own.Fd, (int)CloneFlags.NewNet) != 0)
        {
            var e = SyscallException.FromLastError("return to the runtime's network namespace");
            if (created >= 0) Libc.close(created);
            throw e;
        }
        if (created < 0) throw new SyscallException("open the new network namespace", openErrno);
        return new SafeFd(created);
    }

    /// <summary>
    /// Starts <see cref="Create"/> on a thread of its own, so that the ≈0.6 ms the kernel needs overlaps the runtime's
    /// other work before the clone. The caller must <see cref="PendingNetNamespace.Take"/> it (which waits for the thread
    /// to end) before it clones anything: no other managed thread may run at clone time (docs/process-model.md).
    /// </summary>
    public static PendingNetNamespace Start() => new();
}

/// <summary>A network namespace being made on a thread of its own (<see cref="NetNamespace.Start"/>).</summary>
public sealed class PendingNetNamespace : IDisposable
{
    private readonly NativeThread _thread;
    private SafeFd? _fd;
    private bool _taken;

    internal PendingNetNamespace() => _thread = NativeThread.Start(() => _fd = NetNamespace.Create());

    /// <summary>Waits for the thread to end and returns the namespace's fd (the caller owns it).</summary>
    /// <exception cref="SyscallException">the namespace could not be made.</exception>
    public SafeFd Take()
    {
        _thread.Join();
        _taken = true;
        return _fd!;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _thread.Dispose();
        if (!_taken) _fd?.Dispose();
    }
}
