using System.Runtime.InteropServices;
using OciRuntime.Interop;

namespace OciRuntime.Runtime.Lifecycle;

/// <summary>
/// Forwards the signals a foreground <c>run</c> receives to the container's init through its pidfd, as runc does.
/// Not forwarded: SIGCHLD (ours), SIGKILL/SIGSTOP (cannot be caught), the synchronous fault signals and SIGPIPE
/// (the .NET runtime's), and SIGURG/SIGWINCH (no terminal yet).
/// Registered only after the clone: the handlers run on a runtime thread, and none may exist while cloning.
/// </summary>
internal sealed class SignalForwarder : IDisposable
{
    private static readonly int[] Forwarded = [1, 2, 3, 6, 10, 12, 14, 15, 18, 20, 21, 22, 24, 25, 26, 27, 29, 30, 31];

    private readonly List<PosixSignalRegistration> _registrations = [];

    private SignalForwarder(SafeFd pidFd)
    {
        foreach (var sig in Forwarded)
        {
            _registrations.Add(PosixSignalRegistration.Create((PosixSignal)sig, context =>
            {
                context.Cancel = true;
                _ = Libc.pidfd_send_signal(pidFd.Fd, sig);
            }));
        }
    }

    /// <summary>Starts forwarding to the process of <paramref name="pidFd"/> until disposed.</summary>
    public static SignalForwarder Start(SafeFd pidFd) => new(pidFd);

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var r in _registrations) r.Dispose();
    }
}
