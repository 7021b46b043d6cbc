using System.Globalization;
using OciRuntime.Runtime.Tests.Harness;

namespace OciRuntime.Runtime.Tests.Integration;

/// <summary>`ocirun run`: exit status propagation, signals, detach, and the automatic delete.</summary>
public sealed class RunTests : IDisposable
{
    private readonly TestContainer _c = new("run");

    public void Dispose() => _c.Dispose();

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(42)]
    [InlineData(255)]
    public void Foreground_run_returns_the_exit_code_of_the_process(int code)
    {
        _c.Bundle.Sh($"exit {code}");

        var r = _c.Run();

        r.ExitCode.Should().Be(code, r.ToString());
        r.Stderr.Should().BeEmpty();
    }

    [Fact]
    public void Foreground_run_passes_stdout_and_stderr_through()
    {
        _c.Bundle.Sh("echo to-out; echo to-err >&2");

        var r = _c.Run();

        r.ExitCode.Should().Be(0, r.ToString());
        r.Stdout.Should().Be("to-out\n");
        r.Stderr.Should().Be("to-err\n");
    }

    [Fact]
    public void Foreground_run_deletes_the_container_afterwards()
    {
        _c.Bundle.Args("true");

        _c.Run().ExitCode.Should().Be(0);

        Directory.Exists(_c.StateDir).Should().BeFalse();
        _c.Runtime.Run("state", _c.Id).ExitCode.Should().NotBe(0);
    }

    [Fact]
    public void Run_keep_leaves_a_stopped_container()
    {
        _c.Bundle.Sh("exit 5");

        _c.Run("--keep").ExitCode.Should().Be(5);

        _c.Status().Should().Be("stopped");
        _c.Delete().ExitCode.Should().Be(0);
        Directory.Exists(_c.StateDir).Should().BeFalse();
    }

    [Fact]
    public void Init_killed_by_SIGKILL_gives_128_plus_9()
    {
        var pidFile = Path.Combine(_c.Bundle.Dir, "init.pid");
        _c.Bundle.Args("sleep", "1000");
        using var run = _c.LaunchRun("--pid-file", pidFile);
        var pid = WaitForPidFile(pidFile, run);
        // The pid file is written at create: wait for start to have exec'd the process.
        TestEnv.Eventually(() => TestEnv.CommandLine(pid) == "sleep 1000").Should().BeTrue("the container process runs");

        TestEnv.Kill(pid, TestEnv.SIGKILL).Should().Be(0);

        run.Wait().ExitCode.Should().Be(128 + 9);
    }

    [Fact]
    public void Init_killed_by_SIGTERM_gives_128_plus_15()
    {
        // PID 1 of a pid namespace ignores signals it has no handler for (even from the host): without a pid
        // namespace the default action applies.
        var pidFile = Path.Combine(_c.Bundle.Dir, "init.pid");
        _c.Bundle.Args("sleep", "1000").WithoutNamespace("pid");
        using var run = _c.LaunchRun("--pid-file", pidFile);
        var pid = WaitForPidFile(pidFile, run);
        TestEnv.Eventually(() => TestEnv.CommandLine(pid) == "sleep 1000").Should().BeTrue("the container process runs");

        TestEnv.Kill(pid, TestEnv.SIGTERM).Should().Be(0);

        run.Wait().ExitCode.Should().Be(128 + 15);
    }

    [Theory]
    [InlineData(TestEnv.SIGUSR1, "USR1", 7)]
    [InlineData(TestEnv.SIGTERM, "TERM", 9)]
    public void Foreground_run_forwards_signals_to_the_container(int signal, string name, int exit)
    {
        _c.Bundle.Sh($"trap 'echo got-{name}; exit {exit}' {name}; echo ready; sleep 1000 & wait $!");
        using var run = _c.LaunchRun();
        run.WaitForLine("ready");

        run.Signal(signal);

        var r = run.Wait();
        r.ExitCode.Should().Be(exit, r.ToString());
        r.Stdout.Should().Be($"ready\ngot-{name}\n");
    }

    [Fact]
    public void Run_detach_returns_with_the_container_running()
    {
        _c.Bundle.Sh("echo hello-detached; exec sleep 1000");

        var r = _c.RunDetached();

        r.ExitCode.Should().Be(0, r.ToString());
        _c.Status().Should().Be("running");
        var pid = _c.Pid();
        TestEnv.Eventually(() => TestEnv.CommandLine(pid) == "sleep 1000").Should().BeTrue();
        TestEnv.Eventually(() => _c.Output == "hello-detached\n").Should().BeTrue(_c.Output);
        _c.Delete(force: true).ExitCode.Should().Be(0);
        Directory.Exists(_c.StateDir).Should().BeFalse();
    }

    [Fact]
    public void Run_with_the_id_of_an_existing_container_fails()
    {
        _c.Bundle.Args("sleep", "1000");
        _c.CreateOk();

        _c.Bundle.Args("true");
        var r = _c.Run();

        r.ExitCode.Should().NotBe(0);
        r.StderrLines.Should().ContainSingle().Which.Should().Contain("exists");
        _c.Status().Should().Be("created", "the first container is untouched");
    }

    [Fact]
    public void Without_a_pid_namespace_the_process_has_a_host_pid()
    {
        _c.Bundle.WithoutNamespace("pid").Sh("echo $$ > /tmp/init.pid; exit 4");
        _c.Bundle.Spec.Root!.Readonly = false;

        var r = _c.Run();

        r.ExitCode.Should().Be(4, r.ToString());
        var inner = File.ReadAllText(Path.Combine(_c.Bundle.Rootfs, "tmp", "init.pid")).Trim();
        int.Parse(inner, CultureInfo.InvariantCulture).Should().BeGreaterThan(1, "without a pid namespace the process has a host pid");
    }

    private static int WaitForPidFile(string pidFile, BackgroundCommand run)
    {
        var pid = 0;
        TestEnv.Eventually(() => File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile).Trim(), out pid)).Should().BeTrue($"run writes {pidFile}; {run.Stdout}");
        return pid;
    }

    [Fact]
    public void Bundle_path_with_a_space_works()
    {
        using var c = new TestContainer("space", bundle: new BundleBuilder("with space"));
        c.Bundle.Dir.Should().Contain(" ");
        c.Bundle.Spec.Linux!.RootfsPropagation = "rshared"; // reads the rootfs's parent in mountinfo, where a space is \\040
        c.Bundle.Sh("echo spaced; ls /");

        var r = c.Run();

        r.ExitCode.Should().Be(0, r.ToString());
        r.Stdout.Should().StartWith("spaced\nbin\n");
    }

    [Fact]
    public void Bundle_defaults_to_the_working_directory()
    {
        _c.Bundle.Args("echo", "from-cwd");
        _c.Bundle.Write();

        var r = Ocirun.Exec(_c.Runtime.Binary, ["--root", _c.Runtime.StateRoot, "run", _c.Id], workingDirectory: _c.Bundle.Dir);

        r.ExitCode.Should().Be(0, r.ToString());
        r.Stdout.Should().Be("from-cwd\n");
    }

    [Fact]
    public void Relative_bundle_path_is_relative_to_the_working_directory()
    {
        _c.Bundle.Args("echo", "relative");
        _c.Bundle.Write();

        var r = Ocirun.Exec(_c.Runtime.Binary, ["--root", _c.Runtime.StateRoot, "run", "-b", Path.GetFileName(_c.Bundle.Dir), _c.Id],
            workingDirectory: Path.GetDirectoryName(_c.Bundle.Dir));

        r.ExitCode.Should().Be(0, r.ToString());
        r.Stdout.Should().Be("relative\n");
    }

    [Fact]
    public void Run_detach_writes_the_pid_file()
    {
        var pidFile = Path.Combine(_c.Bundle.Dir, "detached.pid");
        _c.Bundle.Args("sleep", "1000");

        _c.RunDetached("--pid-file", pidFile).ExitCode.Should().Be(0);

        int.Parse(File.ReadAllText(pidFile).Trim(), CultureInfo.InvariantCulture).Should().Be(_c.Pid());
        _c.Status().Should().Be("running");
    }
}
