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

    /// <summary>
    /// CVE-2025-52565: a rootfs whose /dev/console is a symlink (here to a procfs file) must not get the pty bind-mounted
    /// through it; create fails closed, naming the reason, and leaves no container.
    /// </summary>
    [Fact]
    public void A_dev_console_symlink_in_the_rootfs_is_refused_not_followed()
    {
        var socketPath = Path.Combine(_c.Bundle.Dir, "console.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(socketPath));
        listener.Listen(1);
        _c.Bundle.Spec.Process!.Terminal = true;
        // No tmpfs on /dev: the rootfs's own /dev is used, with the attacker's console symlink in it.
        _c.Bundle.Spec.Mounts!.RemoveAll(m => m.Destination == "/dev");
        Directory.CreateDirectory(Path.Combine(_c.Bundle.Rootfs, "dev"));
        File.CreateSymbolicLink(Path.Combine(_c.Bundle.Rootfs, "dev/console"), "/proc/sys/kernel/core_pattern");
        _c.Bundle.Sh("echo started");

        var create = _c.Create("--console-socket", socketPath);

        create.ExitCode.Should().NotBe(0, create.ToString());
        create.Stderr.Should().Contain("/dev/console in the container is a symlink").And.Contain("CVE-2025-52565");
        Directory.Exists(_c.StateDir).Should().BeFalse("a failed create leaves no state");
        new FileInfo(Path.Combine(_c.Bundle.Rootfs, "dev/console")).LinkTarget.Should().Be("/proc/sys/kernel/core_pattern");
    }
}
