using System.Globalization;
using OciRuntime.Runtime.Tests.Harness;

namespace OciRuntime.Runtime.Tests.Integration;

/// <summary>exec into a running container: namespaces, cgroups, runc's flags, exit codes (issue "Lifecycle and runc CLI parity").</summary>
public sealed class ExecTests : IDisposable
{
    private readonly TestContainer _c = new("exec");

    public ExecTests()
    {
        _c.Bundle.Args("sleep", "1000");
        var r = _c.RunDetached();
        r.ExitCode.Should().Be(0, r.ToString());
    }

    public void Dispose() => _c.Dispose();

    private CommandResult Exec(params string[] args) => _c.Runtime.Run(["exec", .. args]);

    [Fact]
    public void Exec_joins_every_namespace_of_the_container()
    {
        var pid = _c.Pid();
        foreach (var ns in new[] { "pid", "mnt", "net", "ipc", "uts" })
        {
            var inside = Exec(_c.Id, "readlink", $"/proc/self/ns/{ns}");
            inside.ExitCode.Should().Be(0, inside.ToString());
            inside.Stdout.Trim().Should().Be(new FileInfo($"/proc/{pid}/ns/{ns}").LinkTarget, $"exec must be in the container's {ns} namespace");
        }
    }

    [Fact]
    public void Exec_joins_the_container_cgroups()
    {
        var init = File.ReadAllLines($"/proc/{_c.Pid()}/cgroup").Where(l => !l.Contains("name=systemd")).Order().ToArray();
        var r = Exec(_c.Id, "cat", "/proc/self/cgroup");
        r.ExitCode.Should().Be(0, r.ToString());
        // Without a cgroup namespace the paths read the same from inside and outside.
        r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.Contains("name=systemd")).Order().Should().Equal(init);
    }

    [Fact]
    public void Exec_cgroup_runs_the_process_in_an_existing_sub_cgroup()
    {
        var line = File.ReadAllLines($"/proc/{_c.Pid()}/cgroup").First(l => l.Split(':')[1] == "memory");
        var dir = "/sys/fs/cgroup/memory" + line.Split(':', 3)[2] + "/sub";
        Directory.CreateDirectory(dir);
        try
        {
            var r = Exec("--cgroup", "memory:sub", _c.Id, "cat", "/proc/self/cgroup");
            r.ExitCode.Should().Be(0, r.ToString());
            r.Stdout.Split('\n').Single(l => l.Contains(":memory:")).Should().EndWith("/sub");
            var missing = Exec("--cgroup", "nosuch", _c.Id, "true");
            missing.ExitCode.Should().Be(255);
            missing.Stderr.Should().Contain("--cgroup").And.Contain("does not exist");
        }
        finally
        {
            TestEnv.Eventually(() => { try { Directory.Delete(dir); return true; } catch (IOException) { return false; } });
        }
    }

    [Fact]
    public void Exec_returns_the_process_exit_status()
    {
        Exec(_c.Id, "sh", "-c", "exit 7").ExitCode.Should().Be(7);
        Exec(_c.Id, "true").ExitCode.Should().Be(0);
    }

    [Fact]
    public void Exec_applies_user_additional_gids_env_and_cwd()
    {
        var r = Exec("-u", "65534:65534", "-g", "10", "-g", "20", "-e", "FOO=bar", "--cwd", "/tmp", _c.Id, "sh", "-c", "id -u; id -g; id -G; echo $FOO; pwd");
        r.ExitCode.Should().Be(0, r.ToString());
        r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Should().Equal("65534", "65534", "65534 10 20", "bar", "/tmp");
    }

    [Fact]
    public void Exec_cap_adds_a_capability_to_the_process()
    {
        static ulong CapEff(string status) => ulong.Parse(status.Split('\n').First(l => l.StartsWith("CapEff:")).Split('\t')[1], NumberStyles.HexNumber);
        var plain = Exec(_c.Id, "cat", "/proc/self/status");
        var added = Exec("--cap", "CAP_SYS_ADMIN", _c.Id, "cat", "/proc/self/status");
        (CapEff(plain.Stdout) & (1UL << 21)).Should().Be(0, "the default config has no CAP_SYS_ADMIN");
        (CapEff(added.Stdout) & (1UL << 21)).Should().NotBe(0, "--cap CAP_SYS_ADMIN adds it");
    }

    [Fact]
    public void Exec_with_a_process_file_uses_its_args_env_and_cwd()
    {
        var file = Path.Combine(_c.Bundle.Dir, "process.json");
        File.WriteAllText(file, """{"args":["sh","-c","echo $A-$(pwd)"],"env":["A=from-file","PATH=/bin"],"cwd":"/etc","user":{"uid":0,"gid":0}}""");
        var r = Exec("--process", file, _c.Id);
        r.ExitCode.Should().Be(0, r.ToString());
        r.Stdout.Trim().Should().Be("from-file-/etc");
    }

    [Fact]
    public void Exec_detached_writes_the_pid_file_without_a_newline()
    {
        var pidFile = Path.Combine(_c.Bundle.Dir, "exec.pid");
        var r = _c.Runtime.RunDetached(Path.Combine(_c.Bundle.Dir, "exec.out"), "exec", "-d", "--pid-file", pidFile, _c.Id, "sleep", "1000");
        r.ExitCode.Should().Be(0, r.ToString());
        var text = File.ReadAllText(pidFile);
        text.Should().NotEndWith("\n");
        var pid = int.Parse(text, CultureInfo.InvariantCulture);
        File.ReadAllText($"/proc/{pid}/cmdline").Should().StartWith("sleep");
        _c.Runtime.Run("ps", "--format", "json", _c.Id).Stdout.Should().Contain(pid.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// exec returns once the container's program runs, as runc's (its sync pipe closes at that execve), not while the
    /// exec trampoline is still to exec it: the trampoline's execve is delayed 300 ms (strace inject=execve:delay_enter;
    /// the runtime's child reaches the trampoline by execveat, not delayed). When the runtime is gone, the pid file's
    /// process is already `sleep`. Before: it was `ocirun-exec /bin/sleep - - - sleep 1000` (seen once in CI unforced).
    /// </summary>
    [Fact]
    public void Exec_detached_returns_once_the_program_runs_not_while_the_trampoline_execs_it()
    {
        var pidFile = Path.Combine(_c.Bundle.Dir, "exec-late.pid");
        string? seen = null;
        StateRootTests.StraceRun(["-e", "trace=execve", "-e", "inject=execve:delay_enter=300000"],
            ["--root", _c.Runtime.StateRoot, "exec", "-d", "--pid-file", pidFile, _c.Id, "sleep", "1000"],
            () => seen = File.Exists(pidFile) ? File.ReadAllText($"/proc/{File.ReadAllText(pidFile)}/cmdline").Replace('\0', ' ') : "no pid file");
        seen.Should().StartWith("sleep 1000", "exec -d returns after the container's program is exec'd");
    }

    [Fact]
    public void Exec_of_a_missing_binary_fails_with_255_before_anything_runs()
    {
        var r = Exec(_c.Id, "no-such-binary");
        r.ExitCode.Should().Be(255);
        r.StderrLines.Should().ContainSingle().Which.Should().Contain("executable file not found in $PATH");
    }

    [Fact]
    public void Exec_into_a_stopped_container_is_refused()
    {
        _c.Kill("KILL").ExitCode.Should().Be(0);
        _c.WaitForStatus("stopped");
        var r = Exec(_c.Id, "true");
        r.ExitCode.Should().Be(255);
        r.Stderr.Should().Contain("cannot exec in a stopped container");
    }

    [Fact]
    public void Exec_into_an_unknown_container_says_it_does_not_exist()
    {
        var r = Exec("no-such-container-" + Guid.NewGuid().ToString("N")[..8], "true");
        r.ExitCode.Should().NotBe(0);
        r.Stderr.Should().Contain("does not exist");
    }
}
