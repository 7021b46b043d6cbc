using OciRuntime.Interop;

namespace OciRuntime.Runtime.Lifecycle;

/// <summary>
/// Forwards the signals a foreground <c>run</c> or <c>exec</c> receives to the container's process through its pidfd,
/// as runc does. Not forwarded: SIGCHLD (ours), SIGKILL/SIGSTOP (cannot be caught), the synchronous fault signals and
/// SIGPIPE (the .NET runtime's), and SIGURG/SIGWINCH (no terminal yet).
/// The handler is C (src/Cli/native/signal-forward.c): async-signal-safe, one pidfd_send_signal per signal, no thread
/// and no managed code involved, so it may be in place at any moment (registered right after the clone). One forwarder
/// per process at a time; disposing restores the previous dispositions.
/// </summary>
internal sealed unsafe class SignalForwarder : IDisposable
{
    private static readonly int[] Forwarded = [1, 2, 3, 6, 10, 12, 14, 15, 18, 20, 21, 22, 24, 25, 26, 27, 29, 30, 31];
    private static int s_active;

    private readonly SafeFd _pidFd;
    private bool _disposed;

    private SignalForwarder(SafeFd pidFd)
    {
        if (Interlocked.Exchange(ref s_active, 1) != 0) throw new InvalidOperationException("signals are already being forwarded");
        _pidFd = pidFd;
        bool added = false;
        _pidFd.DangerousAddRef(ref added); // the fd number must stay this process's until Dispose
        int rc;
        fixed (int* signals = Forwarded) rc = OcirunNative.SignalForwardStart(pidFd.Fd, signals, Forwarded.Length);
        if (rc != 0)
        {
            _pidFd.DangerousRelease();
            Volatile.Write(ref s_active, 0);
            throw new SyscallException("sigaction (forward signals to the container)", -rc);
        }
    }

    /// <summary>Starts forwarding to the process of <paramref name="pidFd"/> until disposed.</summary>
    /// <exception cref="SyscallException">a handler could not be installed.</exception>
    public static SignalForwarder Start(SafeFd pidFd) => new(pidFd);

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        OcirunNative.SignalForwardStop();
        _pidFd.DangerousRelease();
        Volatile.Write(ref s_active, 0);
    }
}
