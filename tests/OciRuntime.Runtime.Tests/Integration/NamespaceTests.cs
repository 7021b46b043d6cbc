using OciRuntime.Runtime.Tests.Harness;

namespace OciRuntime.Runtime.Tests.Integration;

/// <summary>linux.namespaces: new ones, absent ones (shared with the host), and ones joined by path.</summary>
public sealed class NamespaceTests : IDisposable
{
    private readonly TestContainer _c = new("ns");
    private readonly List<TestContainer> _others = [];

    public void Dispose()
    {
        try
        {
            _c.Dispose();
        }
        finally
        {
            foreach (var o in _others) o.Dispose();
        }
    }

    private string RunOk()
    {
        var r = _c.Run();
        r.ExitCode.Should().Be(0, r.ToString());
        r.Stderr.Should().BeEmpty();
        return r.Stdout;
    }

    private static string HostNs(string file) => new FileInfo($"/proc/self/ns/{file}").LinkTarget!;

    private static string NsOf(int pid, string file) => new FileInfo($"/proc/{pid}/ns/{file}").LinkTarget!;

    /// <summary>A second container, created and started, running `sleep 1000` in runc's default namespaces (+ cgroup).</summary>
    private TestContainer StartSleeper()
    {
        var other = new TestContainer("ns-peer");
        _others.Add(other);
        other.Bundle.Args("sleep", "1000").WithNamespace("cgroup");
        other.CreateOk();
        other.Start().ExitCode.Should().Be(0);
        other.Status().Should().Be("running");
        return other;
    }

    [Theory]
    [InlineData("network", "net")]
    [InlineData("ipc", "ipc")]
    [InlineData("uts", "uts")]
    [InlineData("mount", "mnt")]
    [InlineData("pid", "pid")]
    [InlineData("cgroup", "cgroup")]
    public void New_namespace_differs_from_the_host(string type, string file)
    {
        _c.Bundle.WithNamespace(type).Args("readlink", $"/proc/self/ns/{file}");

        var ns = RunOk().Trim();

        ns.Should().StartWith(file + ":[").And.NotBe(HostNs(file));
    }

    [Theory]
    [InlineData("network", "net")]
    [InlineData("ipc", "ipc")]
    [InlineData("uts", "uts")]
    [InlineData("pid", "pid")]
    [InlineData("cgroup", "cgroup")]
    public void Absent_namespace_is_the_hosts(string type, string file)
    {
        _c.Bundle.WithoutNamespace(type).Args("readlink", $"/proc/self/ns/{file}");
        if (type == "uts") _c.Bundle.Spec.Hostname = null;

        RunOk().Trim().Should().Be(HostNs(file));
    }

    [Fact]
    public void Network_namespace_has_only_lo()
    {
        _c.Bundle.Sh("ls /sys/class/net; sed -n '3,$p' /proc/net/dev | cut -d: -f1 | tr -d ' '");

        RunOk().Should().Be("lo\nlo\n");
    }

    [Fact]
    public void Without_a_uts_namespace_the_hostname_is_the_hosts()
    {
        _c.Bundle.Spec.Hostname = null;
        _c.Bundle.WithoutNamespace("uts").Args("hostname");

        RunOk().Trim().Should().Be(File.ReadAllText("/proc/sys/kernel/hostname").Trim());
    }

    [Fact]
    public void Joining_the_hosts_network_namespace_by_path_sees_host_interfaces()
    {
        _c.Bundle.WithNamespace("network", $"/proc/{Environment.ProcessId}/ns/net").Sh("readlink /proc/self/ns/net; sed -n '3,$p' /proc/net/dev | cut -d: -f1 | tr -d ' ' | sort");
        var hostInterfaces = File.ReadAllLines("/proc/net/dev").Skip(2).Select(l => l.Split(':')[0].Trim()).Order(StringComparer.Ordinal);

        var output = RunOk().Split('\n', StringSplitOptions.RemoveEmptyEntries);

        output[0].Should().Be(HostNs("net"));
        output[1..].Should().Equal(hostInterfaces);
    }

    [Theory]
    [InlineData("network", "net")]
    [InlineData("ipc", "ipc")]
    [InlineData("uts", "uts")]
    [InlineData("pid", "pid")]
    [InlineData("cgroup", "cgroup")]
    public void Joining_another_containers_namespace_by_path(string type, string file)
    {
        var other = StartSleeper();
        var pid = other.Pid();
        var expected = NsOf(pid, file);
        expected.Should().NotBe(HostNs(file));
        _c.Bundle.WithNamespace(type, $"/proc/{pid}/ns/{file}").Args("readlink", $"/proc/self/ns/{file}");
        if (type == "uts") _c.Bundle.Spec.Hostname = null;

        RunOk().Trim().Should().Be(expected);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Joining_a_mount_namespace_by_path_runs_process_args_in_it_inside_the_rootfs(bool init)
    {
        // A mount namespace that is no container's (runc joins it and runs process.args there, in the bundle's rootfs).
        using var holder = BackgroundCommand.Start("/usr/bin/unshare", ["-m", "--propagation", "private", "sleep", "1000"]);
        TestEnv.Eventually(() => NsOf(holder.Pid, "mnt") != HostNs("mnt")).Should().BeTrue("unshare must have made its mount namespace");
        var expected = NsOf(holder.Pid, "mnt");
        var marker = Guid.NewGuid().ToString("N");
        File.WriteAllText(Path.Combine(_c.Bundle.Rootfs, "marker"), marker);
        _c.Bundle.Spec.Linux!.Namespaces!.RemoveAll(n => n.Type == "mount");
        _c.Bundle.WithNamespace("mount", $"/proc/{holder.Pid}/ns/mnt").Sh("readlink /proc/self/ns/mnt; cat /marker");
        _c.Bundle.Write();

        var r = Harness.Ocirun.Exec("/usr/bin/env", ["-u", "OCIRUN_INIT", "-u", "OCIRUN_DIRECT", .. (init ? (string[])["OCIRUN_INIT=1"] : []),
            _c.Runtime.Binary, "--root", _c.Runtime.StateRoot, "run", "-b", _c.Bundle.Dir, _c.Id]);

        r.ExitCode.Should().Be(0, r.ToString());
        r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Should().Equal(expected, marker);
        TestEnv.Kill(holder.Pid, TestEnv.SIGKILL);
    }

    [Fact]
    public void Joining_a_network_namespace_sees_the_same_interfaces()
    {
        var other = StartSleeper();
        _c.Bundle.WithNamespace("network", $"/proc/{other.Pid()}/ns/net").Sh("ls /sys/class/net");

        RunOk().Should().Be("lo\n");
    }

    [Fact]
    public void Joining_a_pid_namespace_sees_the_other_containers_processes()
    {
        var other = StartSleeper();
        _c.Bundle.WithNamespace("pid", $"/proc/{other.Pid()}/ns/pid").Sh("tr '\\0' ' ' < /proc/1/cmdline; echo; test $$ -ne 1 && echo not-pid-1");

        RunOk().Should().Be("sleep 1000 \nnot-pid-1\n");
        other.Status().Should().Be("running", "the joined container is untouched");
    }
}
