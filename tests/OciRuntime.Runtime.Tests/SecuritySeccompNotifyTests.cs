using OciRuntime.Interop;
using OciRuntime.Runtime.Tests.Harness;
using OciRuntime.Spec;

namespace OciRuntime.Runtime.Tests;

/// <summary>
/// SCMP_ACT_NOTIFY with a real seccomp agent: a unix socket server in the test that receives runc's container process
/// state and the notify fd (SCM_RIGHTS), then answers notifications with libseccomp's seccomp_notify_receive/respond.
/// </summary>
public sealed class SecuritySeccompNotifyTests
{
    private const int MkdirNr = 83; // x86-64

    /// <summary>A minimal seccomp agent: accepts one connection, then answers every notification with <c>answer</c>.</summary>
    private sealed unsafe class SeccompAgent : IDisposable
    {
        private readonly SafeFd _listener;
        private readonly Thread _thread;
        private readonly Func<int, SeccompNotif, SeccompNotifResp> _answer;
        private volatile bool _stop;

        public SeccompAgent(Func<int, SeccompNotif, SeccompNotifResp> answer)
        {
            _answer = answer;
            SocketPath = Path.Combine(Path.GetTempPath(), $"agent-{Guid.NewGuid():N}.sock"[..30]);
            _listener = UnixSocket.Listen(SocketPath);
            _thread = new Thread(Serve) { IsBackground = true, Name = "seccomp agent" };
            _thread.Start();
        }

        public string SocketPath { get; }
        public ContainerProcessState? State { get; private set; }
        public int ReceivedFds { get; private set; }
        public List<(int Nr, uint Pid)> Notifications { get; } = [];
        public Exception? Failure { get; private set; }

        private void Serve()
        {
            try
            {
                if (!WaitReadable(_listener.Fd)) return;
                using var conn = UnixSocket.Accept(_listener.Fd);
                var buffer = new byte[64 * 1024];
                Span<int> fds = stackalloc int[UnixSocket.MaxFds];
                var (n, count) = UnixSocket.ReceiveWithRights(conn.Fd, buffer, fds);
                ReceivedFds = count;
                if (n == 0 || count == 0) return;
                State = SpecSerializer.ParseContainerProcessState(buffer.AsSpan(0, n));
                using var notifyFd = new SafeFd(fds[0]);
                for (var i = 1; i < count; i++) Libc.close(fds[i]);
                _ = Libseccomp.seccomp_api_get(); // initialises libseccomp's notify support in this process
                var sequence = 0;
                while (!_stop)
                {
                    if (!WaitReadable(notifyFd.Fd)) continue;
                    var req = default(SeccompNotif);
                    var r = Libseccomp.seccomp_notify_receive(notifyFd.Fd, &req);
                    if (r == -Errno.ENOENT) return; // every task of the filter is gone
                    if (r < 0) continue;
                    lock (Notifications) Notifications.Add((req.Data.Nr, req.Pid));
                    var resp = _answer(sequence++, req);
                    resp.Id = req.Id;
                    _ = Libseccomp.seccomp_notify_respond(notifyFd.Fd, &resp);
                }
            }
            catch (Exception e)
            {
                Failure = e;
            }
        }

        private bool WaitReadable(int fd)
        {
            Span<PollFd> p = stackalloc PollFd[1];
            while (!_stop)
            {
                p[0] = new PollFd { Fd = fd, Events = PollFd.POLLIN };
                if (Libc.Poll(p, 100) > 0) return (p[0].REvents & (PollFd.POLLIN | PollFd.POLLHUP)) != 0;
            }
            return false;
        }

        public void Dispose()
        {
            _stop = true;
            _thread.Join(5000);
            _listener.Dispose();
            File.Delete(SocketPath);
        }
    }

    private static LinuxSeccomp NotifyMkdir(string listenerPath) => new()
    {
        DefaultAction = SeccompActions.Allow,
        ListenerPath = listenerPath,
        ListenerMetadata = "agent-metadata",
        Syscalls = [new LinuxSyscall { Names = ["mkdir", "mkdirat"], Action = SeccompActions.Notify }],
    };

    [Fact]
    public void Agent_receives_the_state_and_the_fd_and_decides_each_mkdir()
    {
        // 1st mkdir: EACCES; 2nd: a fake success (nothing is created); 3rd: let the kernel run it.
        using var agent = new SeccompAgent((seq, req) => seq switch
        {
            0 => new SeccompNotifResp { Error = -Errno.EACCES },
            1 => new SeccompNotifResp { Val = 0 },
            _ => new SeccompNotifResp { Flags = SeccompKernel.SECCOMP_USER_NOTIF_FLAG_CONTINUE },
        });
        using var bundle = SecurityTestBundle.Create(
            "mkdir /tmp/a; echo a=$?; mkdir /tmp/b; echo b=$?; mkdir /tmp/c; echo c=$?; for d in a b c; do test -d /tmp/$d && echo $d-exists || echo $d-absent; done");
        bundle.Spec.Linux!.Seccomp = NotifyMkdir(agent.SocketPath);
        bundle.Spec.Annotations = new Dictionary<string, string> { ["org.test"] = "notify" };
        var r = bundle.Run();
        agent.Failure.Should().BeNull();
        r.ExitCode.Should().Be(0, r.ToString());
        r.Stderr.Should().Contain("can't create directory '/tmp/a': Permission denied");
        r.Stdout.Should().Contain("a=1").And.Contain("b=0").And.Contain("c=0");
        r.Stdout.Should().Contain("a-absent").And.Contain("b-absent").And.Contain("c-exists");

        agent.ReceivedFds.Should().Be(1);
        agent.Notifications.Should().HaveCount(3).And.OnlyContain(n => n.Nr == MkdirNr);
        var state = agent.State!;
        state.OciVersion.Should().Be("1.2.0");
        state.Fds.Should().Equal("seccompFd");
        state.Metadata.Should().Be("agent-metadata");
        state.Pid.Should().BeGreaterThan(1);
        state.State.Pid.Should().Be(state.Pid);
        state.State.Status.Should().Be(ContainerStatus.Creating);
        state.State.Id.Should().StartWith("sec-");
        state.State.Bundle.Should().Be(bundle.Dir);
        state.State.Annotations.Should().ContainKey("org.test");
        // The pid the kernel reports for the callers is in the agent's (host) pid namespace.
        agent.Notifications.Should().OnlyContain(n => n.Pid > 1);
    }

    [Fact]
    public void Unreachable_listener_fails_create_naming_the_field()
    {
        using var bundle = SecurityTestBundle.Create("mkdir /tmp/x");
        bundle.Spec.Linux!.Seccomp = NotifyMkdir(Path.Combine(bundle.Dir, "nobody-listens.sock"));
        var r = bundle.Run();
        r.ExitCode.Should().NotBe(0);
        r.Stderr.Should().Contain("linux.seccomp.listenerPath").And.Contain("cannot reach the seccomp agent");
    }

    [Fact]
    public void Notify_on_sendmsg_is_refused_because_the_runtime_needs_it()
    {
        using var agent = new SeccompAgent((_, _) => new SeccompNotifResp { Flags = SeccompKernel.SECCOMP_USER_NOTIF_FLAG_CONTINUE });
        using var bundle = SecurityTestBundle.Create("true");
        bundle.Spec.Linux!.Seccomp = NotifyMkdir(agent.SocketPath);
        bundle.Spec.Linux.Seccomp.Syscalls![0].Names.Add("sendmsg");
        var r = bundle.Run();
        r.ExitCode.Should().NotBe(0);
        r.Stderr.Should().Contain("linux.seccomp.syscalls[0].action: SCMP_ACT_NOTIFY cannot be used for the sendmsg syscall");
    }

    [Fact]
    public void Notify_with_wait_killable_recv_works()
    {
        using var agent = new SeccompAgent((_, _) => new SeccompNotifResp { Error = -Errno.EEXIST });
        using var bundle = SecurityTestBundle.Create("mkdir /tmp/x; echo x=$?");
        bundle.Spec.Linux!.Seccomp = NotifyMkdir(agent.SocketPath);
        bundle.Spec.Linux.Seccomp.Flags = [SeccompFlags.WaitKillableRecv, SeccompFlags.Tsync];
        var r = bundle.Run();
        r.ExitCode.Should().Be(0, r.ToString());
        r.Stderr.Should().Contain("File exists");
    }
}
