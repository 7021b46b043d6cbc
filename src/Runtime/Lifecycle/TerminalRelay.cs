using System.Runtime.InteropServices;
using OciRuntime.Interop;

namespace OciRuntime.Runtime.Lifecycle;

/// <summary>
/// The foreground side of process.terminal without --console-socket (`run`, `exec -t`): relays the caller's stdin
/// to the pty master and the master to the caller's stdout, with the caller's terminal in raw mode and its size
/// (and every SIGWINCH) copied to the pty. Started only after the clone: it uses threads.
/// </summary>
internal sealed class TerminalRelay : IDisposable
{
    private readonly SafeFd _master;
    private readonly byte[]? _savedTerminal;
    private readonly Thread _output;
    private readonly PosixSignalRegistration? _winch;

    private TerminalRelay(SafeFd master)
    {
        _master = master;
        CopySize();
        _savedTerminal = Libc.MakeRaw(0);
        if (Libc.IsTty(0)) _winch = PosixSignalRegistration.Create(PosixSignal.SIGWINCH, _ => CopySize());
        var input = new Thread(() => Pump(0, _master.Fd)) { IsBackground = true, Name = "tty stdin" };
        _output = new Thread(() => Pump(_master.Fd, 1)) { IsBackground = true, Name = "tty stdout" };
        input.Start();
        _output.Start();
    }

    /// <summary>Starts relaying for <paramref name="master"/> (owned).</summary>
    public static TerminalRelay Start(SafeFd master) => new(master);

    private void CopySize()
    {
        if ((Libc.GetWinSize(0) ?? Libc.GetWinSize(1)) is { } size) _ = Libc.SetWinSize(_master.Fd, size);
    }

    private static void Pump(int from, int to)
    {
        var buffer = new byte[8192];
        try
        {
            while (true)
            {
                var n = Libc.ReadSome(from, buffer, "terminal");
                if (n <= 0) return;
                Libc.WriteAll(to, buffer.AsSpan(0, n), "terminal");
            }
        }
        catch (SyscallException)
        {
            // EIO on the master once the last slave fd is closed: the process is gone.
        }
    }

    /// <summary>Waits briefly for the output to drain, then restores the caller's terminal.</summary>
    public void Dispose()
    {
        _output.Join(TimeSpan.FromSeconds(2));
        _winch?.Dispose();
        if (_savedTerminal is not null) Libc.RestoreTerminal(0, _savedTerminal);
        _master.Dispose();
    }
}
