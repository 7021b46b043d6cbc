using OciRuntime.Runtime.Tests.Harness;

namespace OciRuntime.Runtime.Tests.Integration;

/// <summary>
/// exec's direct path (DirectExec: the cloned child applies the process attributes with raw syscalls and execs the
/// process itself) against the path through <c>ocirun init</c>: the same process.json, once as is and once with
/// process.execCPUAffinity (which only the init applies, so it forces the init path; on this machine "0-N" is every CPU,
/// so it changes nothing else), must give the same process and the same errors.
/// </summary>
public sealed class ExecDirectPathTests : IDisposable
{
    private readonly TestContainer _c = new("xdirect");

    public ExecDirectPathTests()
    {
        _c.Bundle.Args("sleep", "1000");
        var r = _c.RunDetached();
        r.ExitCode.Should().Be(0, r.ToString());
    }

    public void Dispose() => _c.Dispose();

    private static readonly string AllCpus = $"0-{Environment.ProcessorCount - 1}";

    /// <summary>Runs process.json <paramref name="process"/> (a JSON object without braces) by both paths; returns (direct, init).</summary>
    private (Run Direct, Run Init) Both(string process)
    {
        var direct = ExecProcessFile("{" + process + "}", "direct");
        var affinity = $"\"execCPUAffinity\":{{\"initial\":\"{AllCpus}\",\"final\":\"{AllCpus}\"}}";
        var init = ExecProcessFile("{" + process + "," + affinity + "}", "through ocirun init");
        return (direct, init);
    }

    /// <summary>An exec's result and its --log (where runc, and ocirun, put the error when --log is given).</summary>
    private sealed record Run(CommandResult Result, string Log)
    {
        public int ExitCode => Result.ExitCode;
        public string Stdout => Result.Stdout;
        public override string ToString() => Result + "\nlog: " + Log;
    }

    private Run ExecProcessFile(string json, string expectedPath)
    {
        var file = Path.Combine(_c.Bundle.Dir, $"process-{Guid.NewGuid():N}.json");
        var log = file + ".log";
        File.WriteAllText(file, json);
        // The path is this test's choice, not the suite's (OCIRUN_INIT / OCIRUN_DIRECT in the environment).
        var r = Harness.Ocirun.Exec("/usr/bin/env", ["-u", "OCIRUN_INIT", "-u", "OCIRUN_DIRECT", _c.Runtime.Binary, "--root", _c.Runtime.StateRoot, "--debug", "--log", log, "exec", "--process", file, _c.Id]);
        var text = File.ReadAllText(log);
        text.Should().Contain($"exec {_c.Id}: {expectedPath}", "the test must exercise the path it names");
        return new Run(r, text);
    }

    private const string Probe = "id; ulimit -n; ulimit -Hn; umask; pwd; grep -E '^(Cap|NoNewPrivs|Seccomp|SigIgn|SigBlk)' /proc/self/status; ls /proc/self/fd; env | sort";

    [Fact]
    public void Duplicate_additional_gids_are_set_once_by_both_paths()
    {
        var (direct, init) = Both("""
            "args":["grep","^Groups:","/proc/self/status"],"cwd":"/","user":{"uid":1000,"gid":1000,"additionalGids":[1000,50,4242,50]}
            """);
        direct.ExitCode.Should().Be(0, direct.ToString());
        init.ExitCode.Should().Be(0, init.ToString());
        direct.Stdout.Should().Be(init.Stdout);
        direct.Stdout.Split((char[])[' ', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries).Should().Equal("Groups:", "50", "1000", "4242");
    }

    [Fact]
    public void A_non_root_process_with_groups_rlimits_capabilities_umask_and_no_new_privs_is_the_same_by_both_paths()
    {
        var (direct, init) = Both($$"""
            "args":["sh","-c","{{Probe}}"],"env":["PATH=/bin:/usr/bin","A=1"],"cwd":"/tmp",
            "user":{"uid":1000,"gid":1000,"additionalGids":[10,20],"umask":63},
            "rlimits":[{"type":"RLIMIT_NOFILE","soft":123,"hard":456}],
            "capabilities":{"bounding":["CAP_NET_RAW","CAP_CHOWN","CAP_KILL"],"effective":["CAP_NET_RAW","CAP_CHOWN"],"permitted":["CAP_NET_RAW","CAP_CHOWN","CAP_KILL"],"inheritable":["CAP_NET_RAW"],"ambient":["CAP_NET_RAW"]},
            "noNewPrivileges":true
            """);
        direct.ExitCode.Should().Be(0, direct.ToString());
        direct.Stdout.Should().Be(init.Stdout, "the direct path must build the same process as ocirun init");
        var lines = direct.Stdout.Split('\n');
        lines[0].Should().StartWith("uid=1000 gid=1000 groups=10");
        lines.Should().Contain("123").And.Contain("456").And.Contain("0077").And.Contain("/tmp").And.Contain("A=1");
        lines.Should().Contain("NoNewPrivs:\t1");
        lines.Should().Contain("CapAmb:\t0000000000002000", "CAP_NET_RAW (13) is ambient");
        lines.Should().Contain("CapBnd:\t0000000000002021");
        lines.Should().Contain("SigIgn:\t0000000000000000", "the runtime ignores SIGPIPE; the process must not inherit that");
        lines.Should().Contain("SigBlk:\t0000000000000000");
    }

    [Fact]
    public void Seccomp_without_no_new_privs_is_loaded_and_capabilities_dropped_after_it_by_both_paths()
    {
        // The container's config has no seccomp; exec takes the container's linux.seccomp, so this only checks the
        // capability sets without CAP_SYS_ADMIN and without no_new_privs (the deferred case needs a filter: SecurityExecTests).
        var (direct, init) = Both("""
            "args":["sh","-c","grep -E '^(Cap|NoNewPrivs)' /proc/self/status"],"cwd":"/","user":{"uid":0,"gid":0},
            "capabilities":{"bounding":["CAP_CHOWN"],"effective":["CAP_CHOWN"],"permitted":["CAP_CHOWN"]}
            """);
        direct.ExitCode.Should().Be(0, direct.ToString());
        direct.Stdout.Should().Be(init.Stdout);
        direct.Stdout.Should().Contain("CapEff:\t0000000000000001").And.Contain("NoNewPrivs:\t0");
    }

    [Fact]
    public void Stdio_is_given_to_the_process_user_by_both_paths()
    {
        var (direct, init) = Both("""
            "args":["sh","-c","stat -L -c %u /proc/self/fd/1 /proc/self/fd/2"],"cwd":"/","user":{"uid":1234,"gid":1234}
            """);
        direct.ExitCode.Should().Be(0, direct.ToString());
        direct.Stdout.Should().Be(init.Stdout);
        direct.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Should().Equal("1234", "1234");
    }

    [Fact]
    public void The_PATH_search_skips_directories_and_files_that_are_not_executable_by_both_paths()
    {
        var setup = _c.Runtime.Run("exec", _c.Id, "sh", "-c", "mkdir -p /dev/shm/p1/ls /dev/shm/p2 && echo echo no > /dev/shm/p2/ls && chmod 644 /dev/shm/p2/ls");
        setup.ExitCode.Should().Be(0, setup.ToString());
        var (direct, init) = Both("""
            "args":["ls","-d","/tmp"],"env":["PATH=/dev/shm/p1:/dev/shm/p2:/bin"],"cwd":"/","user":{"uid":0,"gid":0}
            """);
        direct.ExitCode.Should().Be(0, direct.ToString());
        direct.Stdout.Should().Be(init.Stdout).And.Be("/tmp\n");
    }

    [Theory]
    [InlineData("\"args\":[\"no-such-binary\"],\"cwd\":\"/\"", "exec: \"no-such-binary\": executable file not found in $PATH")]
    [InlineData("\"args\":[\"/etc\"],\"cwd\":\"/\"", "exec: \"/etc\": is a directory")]
    [InlineData("\"args\":[\"/no/such/file\"],\"cwd\":\"/\"", "exec: \"/no/such/file\": no such file or directory")]
    [InlineData("\"args\":[\"/etc/passwd\"],\"cwd\":\"/\"", "exec: \"/etc/passwd\": permission denied")]
    [InlineData("\"args\":[\"true\"],\"cwd\":\"/no/such/dir\"", "config.json: process.cwd: chdir /no/such/dir: no such file or directory")]
    [InlineData("\"args\":[\"true\"],\"cwd\":\"/\",\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":10,\"hard\":1}]", "config.json: process.rlimits[0] (RLIMIT_NOFILE): setrlimit: invalid argument")]
    public void A_failing_exec_fails_the_same_way_by_both_paths_and_leaves_no_process(string process, string message)
    {
        var before = ProcessesInContainer();
        var (direct, init) = Both(process + ",\"user\":{\"uid\":0,\"gid\":0}");
        direct.ExitCode.Should().Be(255, direct.ToString());
        init.ExitCode.Should().Be(255, init.ToString());
        var logged = "level=error msg=\"" + message.Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
        direct.Log.Should().Contain(logged);
        init.Log.Should().Contain(logged);
        ProcessesInContainer().Should().Equal(before, "a failed exec leaves no process in the container");
    }

    private string[] ProcessesInContainer()
    {
        var cgroup = File.ReadAllLines($"/proc/{_c.Pid()}/cgroup").First(l => l.Split(':')[1] == "pids").Split(':', 3)[2];
        return File.ReadAllLines($"/sys/fs/cgroup/pids{cgroup}/cgroup.procs").Order().ToArray();
    }
}
