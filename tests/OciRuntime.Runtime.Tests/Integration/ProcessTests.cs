using OciRuntime.Runtime.Tests.Harness;
using OciRuntime.Spec;

namespace OciRuntime.Runtime.Tests.Integration;

/// <summary>config.json's process (and hostname) as seen from inside the container, from `ocirun run` output.</summary>
public sealed class ProcessTests : IDisposable
{
    private readonly TestContainer _c = new("proc");

    public void Dispose() => _c.Dispose();

    private string RunOk()
    {
        var r = _c.Run();
        r.ExitCode.Should().Be(0, r.ToString());
        r.Stderr.Should().BeEmpty();
        return r.Stdout;
    }

    private static Dictionary<string, string> StatusFields(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(':', 2))
            .Where(p => p.Length == 2)
            .ToDictionary(p => p[0], p => p[1].Trim());

    [Fact]
    public void The_process_is_pid_1()
    {
        _c.Bundle.Sh("echo $$; cat /proc/1/cmdline | tr '\\0' ' '");

        RunOk().Should().Be("1\nsh -c echo $$; cat /proc/1/cmdline | tr '\\0' ' ' ");
    }

    [Fact]
    public void Hostname_and_domainname_come_from_config()
    {
        _c.Bundle.Spec.Hostname = "box-under-test";
        _c.Bundle.Spec.Domainname = "example.test";
        _c.Bundle.Sh("hostname; cat /proc/sys/kernel/hostname /proc/sys/kernel/domainname");

        RunOk().Should().Be("box-under-test\nbox-under-test\nexample.test\n");
    }

    [Fact]
    public void User_uid_gid_and_additional_gids_are_applied()
    {
        _c.Bundle.Process.User = new User { Uid = 1000, Gid = 1001, AdditionalGids = [5, 7, 65534] };
        _c.Bundle.Sh("id; grep -E '^(Uid|Gid|Groups):' /proc/self/status");

        var output = RunOk().Split('\n');

        output[0].Should().Be("uid=1000 gid=1001 groups=5,7,65534(nobody)");
        var fields = StatusFields(string.Join('\n', output[1..]));
        fields["Uid"].Split('\t').Should().Equal("1000", "1000", "1000", "1000");
        fields["Gid"].Split('\t').Should().Equal("1001", "1001", "1001", "1001");
        fields["Groups"].Split(' ', StringSplitOptions.RemoveEmptyEntries).Should().Equal("5", "7", "65534");
    }

    [Fact]
    public void Root_user_has_no_supplementary_groups_by_default()
    {
        _c.Bundle.Sh("id; grep -E '^Groups:' /proc/self/status");

        RunOk().Should().Be("uid=0(root) gid=0(root)\nGroups:\t \n");
    }

    [Theory]
    [InlineData(null, "0022")]
    [InlineData(0x17u /* 0027 */, "0027")]
    [InlineData(0u, "0000")]
    [InlineData(0x3fu /* 0077 */, "0077")]
    public void Umask_is_applied(uint? umask, string expected)
    {
        _c.Bundle.Process.User.Umask = umask;
        _c.Bundle.Sh("umask");

        RunOk().Should().Be(expected + "\n");
    }

    [Fact]
    public void Environment_is_exactly_process_env()
    {
        // With HOME given (without it the runtime adds runc's HOME from /etc/passwd: ObservedBehaviourTests).
        string[] env = ["PATH=/usr/bin:/bin", "FOO=bar baz", "EMPTY=", "WITH_EQUALS=a=b=c", "TERM=dumb", "HOME=/home/given"];
        _c.Bundle.Process.Env = [.. env];
        _c.Bundle.Args("env");

        RunOk().Split('\n', StringSplitOptions.RemoveEmptyEntries).Should().BeEquivalentTo(env, "no variable of the runtime (e.g. its sync fd) may leak");
    }

    [Theory]
    [InlineData("/", "/")]
    [InlineData("/tmp", "/tmp")]
    [InlineData("/usr/bin", "/usr/bin")]
    public void Cwd_is_applied(string cwd, string expected)
    {
        _c.Bundle.Process.Cwd = cwd;
        _c.Bundle.Args("pwd");

        RunOk().Should().Be(expected + "\n");
    }

    [Fact]
    public void Missing_cwd_is_created_as_runc_does()
    {
        _c.Bundle.Process.Cwd = "/work/dir";
        _c.Bundle.Sh("pwd; stat -c '%a %u' /work/dir");

        RunOk().Should().Be("/work/dir\n755 0\n");
    }

    [Fact]
    public void Rlimits_are_applied()
    {
        _c.Bundle.Process.Rlimits =
        [
            new PosixRlimit { Type = "RLIMIT_NOFILE", Soft = 1234, Hard = 2048 },
            new PosixRlimit { Type = "RLIMIT_NPROC", Soft = 555, Hard = 666 },
        ];
        _c.Bundle.Sh("ulimit -n; ulimit -u; grep -E '^Max (open files|processes)' /proc/self/limits | tr -s ' '");

        RunOk().Should().Be("1234\n555\nMax processes 555 666 processes \nMax open files 1234 2048 files \n");
    }

    [Fact]
    public void Default_rlimit_nofile_is_1024()
    {
        _c.Bundle.Sh("ulimit -n");

        RunOk().Should().Be("1024\n");
    }

    [Fact]
    public void Args0_is_looked_up_in_PATH()
    {
        _c.Bundle.Args("echo", "hi", "there");

        RunOk().Should().Be("hi there\n");
    }

    [Fact]
    public void Args0_is_looked_up_in_the_PATH_of_process_env()
    {
        Directory.CreateDirectory(Path.Combine(_c.Bundle.Rootfs, "opt", "tools"));
        var script = Path.Combine(_c.Bundle.Rootfs, "opt", "tools", "greet");
        File.WriteAllText(script, "#!/bin/sh\necho greet from $0\n");
        File.SetUnixFileMode(script, (UnixFileMode)0x1ed);
        _c.Bundle.Process.Env = ["PATH=/opt/tools:/bin"];
        _c.Bundle.Args("greet");

        RunOk().Should().Be("greet from /opt/tools/greet\n");
    }

    [Fact]
    public void Args0_with_a_slash_is_used_as_is()
    {
        _c.Bundle.Args("/bin/echo", "direct");

        RunOk().Should().Be("direct\n");
    }

    [Theory]
    [InlineData(true, "1")]
    [InlineData(false, "0")]
    public void NoNewPrivileges_is_applied(bool noNewPrivileges, string expected)
    {
        _c.Bundle.Process.NoNewPrivileges = noNewPrivileges;
        _c.Bundle.Sh("grep NoNewPrivs /proc/self/status");

        RunOk().Should().Be($"NoNewPrivs:\t{expected}\n");
    }

    [Fact]
    public void Capabilities_are_the_configured_sets()
    {
        // CAP_AUDIT_WRITE (29), CAP_KILL (5), CAP_NET_BIND_SERVICE (10) = 0x20000420; default spec has no inheritable.
        _c.Bundle.Sh("grep -E '^Cap(Inh|Prm|Eff|Bnd)' /proc/self/status");

        RunOk().Should().Be("CapInh:\t0000000000000000\nCapPrm:\t0000000020000420\nCapEff:\t0000000020000420\nCapBnd:\t0000000020000420\n");
    }

    [Fact]
    public void Capabilities_are_kept_for_a_non_root_user_through_ambient()
    {
        // Ambient capabilities need the inheritable set too (the default spec has none: then a non-root user has no caps).
        _c.Bundle.Process.User = new User { Uid = 1000, Gid = 1000 };
        _c.Bundle.Process.Capabilities!.Inheritable = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"];
        _c.Bundle.Sh("grep -E '^Cap' /proc/self/status");

        RunOk().Should().Be("CapInh:\t0000000020000420\nCapPrm:\t0000000020000420\nCapEff:\t0000000020000420\nCapBnd:\t0000000020000420\nCapAmb:\t0000000020000420\n");
    }

    [Fact]
    public void A_non_root_user_without_ambient_capabilities_has_none()
    {
        _c.Bundle.Process.User = new User { Uid = 1000, Gid = 1000 };
        _c.Bundle.Sh("grep -E '^Cap' /proc/self/status");

        RunOk().Should().Be("CapInh:\t0000000000000000\nCapPrm:\t0000000000000000\nCapEff:\t0000000000000000\nCapBnd:\t0000000020000420\nCapAmb:\t0000000000000000\n");
    }

    [Fact]
    public void The_runtime_leaves_no_fd_open_in_the_container()
    {
        _c.Bundle.Sh("ls /proc/self/fd | sort -n | tr '\\n' ' '");

        RunOk().Should().Be("0 1 2 3 ", "only stdio (and ls's own directory fd) may be open");
    }

    [Fact]
    public void Sysctls_are_written_in_the_containers_namespaces()
    {
        _c.Bundle.Spec.Linux!.Sysctl = new Dictionary<string, string> { ["net.ipv4.ip_forward"] = "1", ["kernel.msgmax"] = "4242" };
        _c.Bundle.Sh("cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/msgmax");
        var hostForward = File.ReadAllText("/proc/sys/net/ipv4/ip_forward");
        var hostMsgmax = File.ReadAllText("/proc/sys/kernel/msgmax");

        RunOk().Should().Be("1\n4242\n");
        File.ReadAllText("/proc/sys/net/ipv4/ip_forward").Should().Be(hostForward, "the host's value is untouched");
        File.ReadAllText("/proc/sys/kernel/msgmax").Should().Be(hostMsgmax);
    }

    [Fact]
    public void Oom_score_adj_is_applied()
    {
        _c.Bundle.Process.OomScoreAdj = 321;
        _c.Bundle.Args("cat", "/proc/self/oom_score_adj");

        RunOk().Should().Be("321\n");
    }
}
