using OciRuntime.Interop;

namespace OciRuntime.Runtime.Lifecycle;

/// <summary>
/// The runtime's side of process.terminal: with --console-socket, a connection to it that the init sends the pty
/// master on; without (a foreground run/exec), a socketpair whose other end this process reads the master from.
/// Without a terminal, nothing.
/// </summary>
internal sealed class TerminalEnds : IDisposable
{
    private SafeFd? _receiver;

    /// <summary>The fd the init inherits and sends the master on, or null without a terminal.</summary>
    public SafeFd? InitEnd { get; private set; }

    /// <summary>Prepares the ends for <paramref name="process"/>.</summary>
    /// <exception cref="Lifecycle.RuntimeException">the console socket cannot be reached.</exception>
    public static TerminalEnds Open(Spec.Process? process, string? consoleSocket)
    {
        var ends = new TerminalEnds();
        if (process is not { Terminal: true }) return ends;
        if (consoleSocket is { Length: > 0 } path)
        {
            try
            {
                ends.InitEnd = Libc.ConnectUnix(path);
            }
            catch (SyscallException e)
            {
                throw new RuntimeException($"--console-socket: {e.Message}", e);
            }
            return ends;
        }
        (ends._receiver, ends.InitEnd) = Libc.SocketPair();
        return ends;
    }

    /// <summary>The pty master sent by the init (foreground case), or null when it went to a console socket.</summary>
    public SafeFd? ReceiveMaster()
    {
        InitEnd?.Dispose();
        return _receiver is null ? null : Libc.ReceiveFd(_receiver.Fd);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        InitEnd?.Dispose();
        _receiver?.Dispose();
    }
}
