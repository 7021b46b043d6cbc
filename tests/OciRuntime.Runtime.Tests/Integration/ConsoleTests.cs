using System.Net.Sockets;
using System.Text;
using OciRuntime.Interop;
using OciRuntime.Runtime.Tests.Harness;

namespace OciRuntime.Runtime.Tests.Integration;

/// <summary>process.terminal with --console-socket: the pty master arrives with SCM_RIGHTS, as containerd and recvtty expect.</summary>
public sealed class ConsoleTests : IDisposable
{
    private readonly TestContainer _c = new("tty");

    public void Dispose() => _c.Dispose();

    [Fact]
    public async Task The_pty_master_is_sent_over_the_console_socket_and_the_process_runs_on_the_slave()
    {
        var socketPath = Path.Combine(_c.Bundle.Dir, "console.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(socketPath));
        listener.Listen(1);
        _c.Bundle.Spec.Process!.Terminal = true;
        _c.Bundle.Spec.Process.ConsoleSize = new Spec.Box { Height = 33, Width = 111 };
        _c.Bundle.Sh("tty; stty size; ls -l /dev/console | cut -c1");

        var accept = listener.AcceptAsync();
        var create = _c.Create("--console-socket", socketPath);
        create.ExitCode.Should().Be(0, create.ToString());
        using var connection = await accept;
        using var master = Libc.ReceiveFd((int)connection.Handle);
        _c.Start().ExitCode.Should().Be(0);

        var output = new StringBuilder();
        var buffer = new byte[4096];
        while (true)
        {
            int n;
            try { n = Libc.ReadSome(master.Fd, buffer, "pty"); } catch (SyscallException) { break; } // EIO: the slave side closed
            if (n == 0) break;
            output.Append(Encoding.UTF8.GetString(buffer, 0, n));
        }
        var lines = output.ToString().Replace("\r", "").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines[0].Should().MatchRegex(@"^/dev/pts/\d+$", "the process's stdio is the pty slave");
        lines[1].Should().Be("33 111", "consoleSize is honoured");
        lines[2].Should().Be("c", "/dev/console is the pty (a character device)");
    }
}
