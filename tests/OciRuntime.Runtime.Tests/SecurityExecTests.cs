using OciRuntime.Interop;
using OciRuntime.Runtime.Tests.Harness;
using OciRuntime.Spec;

namespace OciRuntime.Runtime.Tests;

/// <summary>Processes started with <c>ocirun exec</c> get the container's seccomp filter and their own capability and CPU settings.</summary>
public sealed class SecurityExecTests
{
    private static (SecurityTestBundle Bundle, string Id) RunningContainer(Action<Spec.Spec>? configure = null)
    {
        var bundle = SecurityTestBundle.Create("sleep 60");
        configure?.Invoke(bundle.Spec);
        var id = SecurityTestBundle.NewId();
        var (r, _) = bundle.CreateDetached(id, detachedRun: true);
        r.ExitCode.Should().Be(0, r.ToString());
        return (bundle, id);
    }

    [Fact]
    public void Exec_gets_the_container_seccomp_filter()
    {
        var (bundle, id) = RunningContainer(s => s.Linux!.Seccomp = new LinuxSeccomp
        {
            DefaultAction = SeccompActions.Allow,
            Syscalls = [new LinuxSyscall { Names = ["mkdir"], Action = SeccompActions.Errno, ErrnoRet = 13 }],
        });
        using (bundle)
        {
            var r = bundle.Command("exec", id, "sh", "-c", "grep Seccomp /proc/self/status; mkdir /tmp/e; echo status=$?");
            r.ExitCode.Should().Be(0, r.ToString());
            r.Stdout.Should().Contain("Seccomp:\t2").And.Contain("status=1");
            r.Stderr.Should().Contain("Permission denied");
        }
    }

    [Fact]
    public void CVE_2022_29162_exec_cap_does_not_fill_the_inheritable_set()
    {
        var (bundle, id) = RunningContainer();
        using (bundle)
        {
            var r = bundle.Command("exec", "--cap", "CAP_NET_ADMIN", id, "grep", "^Cap", "/proc/self/status");
            r.ExitCode.Should().Be(0, r.ToString());
            SecurityTestBundle.CapField(r.Stdout, "CapInh").Should().Be(0);
            (SecurityTestBundle.CapField(r.Stdout, "CapEff") & (1UL << 12)).Should().NotBe(0);
        }
    }

    [Fact]
    public void Exec_cpu_affinity_final_applies_to_the_exec_process()
    {
        var (bundle, id) = RunningContainer();
        using (bundle)
        {
            var process = SpecSerializer.Clone(bundle.Spec).Process!;
            process.Args = ["grep", "Cpus_allowed_list", "/proc/self/status"];
            process.ExecCpuAffinity = new ExecCpuAffinity { Initial = "0", Final = "0" };
            var file = Path.Combine(bundle.Dir, "process.json");
            File.WriteAllText(file, System.Text.Json.JsonSerializer.Serialize(process, SpecJsonContext.Default.Process));
            var r = bundle.Command("exec", "--process", file, id);
            r.ExitCode.Should().Be(0, r.ToString());
            r.Stdout.Trim().Should().Be("Cpus_allowed_list:\t0");
        }
    }

    [Fact]
    public async Task Exec_sends_its_notify_fd_to_the_agent_with_status_running()
    {
        var socket = Path.Combine(Path.GetTempPath(), $"agent-{Guid.NewGuid():N}"[..26] + ".sock");
        using var listener = UnixSocket.Listen(socket);
        try
        {
            var (bundle, id) = RunningContainer(s => s.Linux!.Seccomp = new LinuxSeccomp
            {
                DefaultAction = SeccompActions.Allow,
                ListenerPath = socket,
                Syscalls = [new LinuxSyscall { Names = ["mkdir"], Action = SeccompActions.Notify }],
            });
            using (bundle)
            {
                // The init's own hand-off first (status "creating").
                var states = new List<ContainerProcessState>();
                var buffer = new byte[65536];
                Span<int> fds = stackalloc int[UnixSocket.MaxFds];
                using (var c = UnixSocket.Accept(listener.Fd))
                {
                    var (n, count) = UnixSocket.ReceiveWithRights(c.Fd, buffer, fds);
                    count.Should().Be(1);
                    Libc.close(fds[0]);
                    states.Add(SpecSerializer.ParseContainerProcessState(buffer.AsSpan(0, n)));
                }
                // Then the exec'd process: it has no mkdir to do, so nobody needs to answer.
                var exec = Task.Run(() => bundle.Command("exec", id, "true"));
                using (var c = UnixSocket.Accept(listener.Fd))
                {
                    var (n, count) = UnixSocket.ReceiveWithRights(c.Fd, buffer, fds);
                    count.Should().Be(1);
                    Libc.close(fds[0]);
                    states.Add(SpecSerializer.ParseContainerProcessState(buffer.AsSpan(0, n)));
                }
                var result = await exec.WaitAsync(TimeSpan.FromSeconds(30));
                result.ExitCode.Should().Be(0, result.ToString());
                states.Select(s => s.State.Status).Should().Equal(ContainerStatus.Creating, ContainerStatus.Running);
                states[1].Pid.Should().NotBe(states[0].Pid);
            }
        }
        finally
        {
            File.Delete(socket);
        }
    }
}
