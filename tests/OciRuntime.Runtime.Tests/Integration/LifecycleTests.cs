using System.Globalization;
using OciRuntime.Runtime.Tests.Harness;

namespace OciRuntime.Runtime.Tests.Integration;

/// <summary>create / start / state / kill / delete through the real binary, with runc's semantics and messages.</summary>
public sealed class LifecycleTests : IDisposable
{
    private readonly TestContainer _c = new("life");

    public LifecycleTests() => _c.Bundle.Args("sleep", "1000");

    public void Dispose() => _c.Dispose();

    private static bool Alive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var state = stat[(stat.LastIndexOf(')') + 2)..][0];
            return state is not ('Z' or 'X');
        }
        catch (IOException)
        {
            return false;
        }
    }

    [Fact]
    public void Create_reports_created_with_the_runc_state_shape()
    {
        _c.CreateOk();

        var state = _c.State();
        state.EnumerateObject().Select(p => p.Name).Should().Equal("ociVersion", "id", "pid", "status", "bundle", "rootfs", "created", "owner");
        state.GetProperty("ociVersion").GetString().Should().NotBeNullOrEmpty();
        state.GetProperty("id").GetString().Should().Be(_c.Id);
        state.GetProperty("status").GetString().Should().Be("created");
        var pid = state.GetProperty("pid").GetInt32();
        pid.Should().BePositive();
        Alive(pid).Should().BeTrue("the init waits on the exec fifo");
        state.GetProperty("bundle").GetString().Should().Be(_c.Bundle.Dir);
        state.GetProperty("rootfs").GetString().Should().Be(_c.Bundle.Rootfs);
        state.GetProperty("owner").GetString().Should().Be("", "runc writes an empty owner for root");
        var created = state.GetProperty("created").GetString()!;
        created.Should().MatchRegex(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$", "RFC 3339");
        DateTimeOffset.Parse(created, CultureInfo.InvariantCulture).Should().BeBefore(DateTimeOffset.UtcNow.AddMinutes(1));
    }

    [Fact]
    public void List_reads_without_waiting_for_a_container_another_command_holds()
    {
        _c.CreateOk();
        var pid = _c.Pid();
        // What a create, start or delete in progress holds: the flock of the container's state directory.
        var fd = OciRuntime.Interop.Libc.open(_c.StateDir, OciRuntime.Interop.OpenFlags.O_RDONLY | OciRuntime.Interop.OpenFlags.O_DIRECTORY | OciRuntime.Interop.OpenFlags.O_CLOEXEC);
        fd.Should().BeGreaterThanOrEqualTo(0);
        try
        {
            OciRuntime.Interop.Libc.flock(fd, OciRuntime.Interop.OpenFlags.LOCK_EX).Should().Be(0);
            // runc's list takes no lock either; a list that waited would hit this time limit.
            var r = Ocirun.Exec(_c.Runtime.Binary, ["--root", _c.Runtime.StateRoot, "list", "--format", "json"], timeoutMs: 10_000);
            r.ExitCode.Should().Be(0, r.ToString());
            using var doc = System.Text.Json.JsonDocument.Parse(r.Stdout);
            var entry = doc.RootElement.EnumerateArray().Single(e => e.GetProperty("id").GetString() == _c.Id);
            entry.GetProperty("status").GetString().Should().Be("created");
            entry.GetProperty("pid").GetInt32().Should().Be(pid);
            entry.GetProperty("owner").GetString().Should().Be("root", "runc's list names the owner of the state directory (state leaves it empty)");
        }
        finally
        {
            OciRuntime.Interop.Libc.close(fd);
        }
    }

    [Fact]
    public void State_carries_annotations_when_config_has_them()
    {
        _c.Bundle.Spec.Annotations = new Dictionary<string, string> { ["org.example.key"] = "value", ["b"] = "2" };
        _c.CreateOk();

        var state = _c.State();
        state.EnumerateObject().Select(p => p.Name).Should().Equal("ociVersion", "id", "pid", "status", "bundle", "rootfs", "created", "annotations", "owner");
        var annotations = state.GetProperty("annotations").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString());
        annotations.Should().BeEquivalentTo(new Dictionary<string, string?> { ["org.example.key"] = "value", ["b"] = "2" });
    }

    [Fact]
    public void Full_lifecycle_create_start_kill_delete()
    {
        _c.CreateOk();
        var pid = _c.Pid();
        _c.Status().Should().Be("created");

        var start = _c.Start();
        start.ExitCode.Should().Be(0, start.ToString());
        _c.Status().Should().Be("running");
        _c.Pid().Should().Be(pid, "start execs process.args in the init itself");
        TestEnv.CommandLine(pid).Should().Be("sleep 1000");

        var kill = _c.Kill("KILL");
        kill.ExitCode.Should().Be(0, kill.ToString());
        _c.WaitForStatus("stopped");
        _c.Pid().Should().Be(0, "a stopped container reports pid 0");

        var delete = _c.Delete();
        delete.ExitCode.Should().Be(0, delete.ToString());
        Directory.Exists(_c.StateDir).Should().BeFalse("delete removes the state directory");
        _c.Runtime.Run("state", _c.Id).ExitCode.Should().NotBe(0);
    }

    [Theory]
    [InlineData("SIGKILL")]
    [InlineData("KILL")]
    [InlineData("9")]
    public void Kill_accepts_signal_names_and_numbers(string signal)
    {
        _c.CreateOk();
        _c.Start().ExitCode.Should().Be(0);
        var pid = _c.Pid();

        var kill = _c.Kill(signal);

        kill.ExitCode.Should().Be(0, kill.ToString());
        _c.WaitForStatus("stopped");
        TestEnv.Eventually(() => !Alive(pid)).Should().BeTrue();
    }

    [Fact]
    public void Kill_sends_SIGTERM_by_default()
    {
        _c.Bundle.Sh("trap 'echo got-TERM; exit 0' TERM; trap 'echo got-INT; exit 0' INT; trap 'echo got-HUP; exit 0' HUP; echo ready; while :; do sleep 0.05; done");
        _c.CreateOk();
        _c.Start().ExitCode.Should().Be(0);
        TestEnv.Eventually(() => _c.Output.Contains("ready\n", StringComparison.Ordinal)).Should().BeTrue(_c.Output);

        var kill = _c.Kill();

        kill.ExitCode.Should().Be(0, kill.ToString());
        _c.WaitForStatus("stopped");
        _c.Output.Should().Be("ready\ngot-TERM\n");
    }

    [Fact]
    public void Kill_of_a_stopped_container_fails()
    {
        _c.Bundle.Args("true");
        _c.CreateOk();
        _c.Start().ExitCode.Should().Be(0);
        _c.WaitForStatus("stopped");

        var kill = _c.Kill("KILL");

        kill.ExitCode.Should().NotBe(0);
        kill.Stderr.Should().Contain("not running");
    }

    [Fact]
    public void Start_twice_fails_and_leaves_the_container_running()
    {
        _c.CreateOk();
        _c.Start().ExitCode.Should().Be(0);

        var again = _c.Start();

        again.ExitCode.Should().NotBe(0);
        again.StderrLines.Should().ContainSingle().Which.Should().Contain("cannot start an already running container");
        _c.Status().Should().Be("running");
    }

    [Fact]
    public void Start_of_a_stopped_container_fails()
    {
        _c.Bundle.Args("true");
        _c.CreateOk();
        _c.Start().ExitCode.Should().Be(0);
        _c.WaitForStatus("stopped");

        var again = _c.Start();

        again.ExitCode.Should().NotBe(0);
        again.StderrLines.Should().ContainSingle().Which.Should().Contain("cannot start a container that has stopped");
    }

    [Fact]
    public void Start_of_a_created_container_whose_init_died_fails_without_hanging()
    {
        _c.CreateOk();
        var pid = _c.Pid();
        TestEnv.Kill(pid, TestEnv.SIGKILL).Should().Be(0);
        TestEnv.Eventually(() => !Alive(pid)).Should().BeTrue();

        var start = _c.Start();

        start.ExitCode.Should().NotBe(0);
        start.StderrLines.Should().ContainSingle().Which.Should().Contain("stopped");
    }

    [Fact]
    public void Delete_of_a_running_container_needs_force()
    {
        _c.CreateOk();
        _c.Start().ExitCode.Should().Be(0);
        var pid = _c.Pid();

        var delete = _c.Delete();

        delete.ExitCode.Should().NotBe(0);
        delete.StderrLines.Should().ContainSingle().Which.Should().Contain("not stopped");
        Directory.Exists(_c.StateDir).Should().BeTrue();
        _c.Status().Should().Be("running");

        var forced = _c.Delete(force: true);

        forced.ExitCode.Should().Be(0, forced.ToString());
        Directory.Exists(_c.StateDir).Should().BeFalse();
        TestEnv.Eventually(() => !Alive(pid)).Should().BeTrue("delete -f kills the init");
    }

    [Fact]
    public void Delete_of_a_created_container_kills_its_init()
    {
        _c.CreateOk();
        var pid = _c.Pid();

        var delete = _c.Delete();

        delete.ExitCode.Should().Be(0, delete.ToString());
        Directory.Exists(_c.StateDir).Should().BeFalse();
        TestEnv.Eventually(() => !Alive(pid)).Should().BeTrue();
    }

    [Fact]
    public void Delete_force_of_an_unknown_id_succeeds()
    {
        var r = _c.Runtime.Run("delete", "-f", "no-such-container");

        r.ExitCode.Should().Be(0, r.ToString());
        r.Stderr.Should().BeEmpty();
    }

    [Fact]
    public void Delete_of_an_unknown_id_fails_with_does_not_exist()
    {
        var r = _c.Runtime.Run("delete", "no-such-container");

        r.ExitCode.Should().NotBe(0);
        r.StderrLines.Should().ContainSingle().Which.Should().Contain("does not exist");
    }

    [Fact]
    public void State_of_an_unknown_id_fails_with_does_not_exist()
    {
        var r = _c.Runtime.Run("state", "no-such-container");

        r.ExitCode.Should().NotBe(0);
        r.StderrLines.Should().ContainSingle().Which.Should().Contain("does not exist");
    }

    [Fact]
    public void Create_with_an_existing_id_fails_and_keeps_the_first()
    {
        _c.CreateOk();
        var pid = _c.Pid();

        var again = _c.Create();

        again.ExitCode.Should().NotBe(0);
        again.StderrLines.Should().ContainSingle().Which.Should().Contain("exists");
        _c.Status().Should().Be("created");
        _c.Pid().Should().Be(pid);
        File.Exists(Path.Combine(_c.StateDir, "exec.fifo")).Should().BeTrue();
    }

    [Fact]
    public void Pid_file_holds_the_init_pid()
    {
        var pidFile = Path.Combine(_c.Bundle.Dir, "init.pid");

        _c.CreateOk("--pid-file", pidFile);

        var text = File.ReadAllText(pidFile);
        int.Parse(text.Trim(), CultureInfo.InvariantCulture).Should().Be(_c.Pid());
        Alive(_c.Pid()).Should().BeTrue();
    }

    [Fact]
    public void Exec_fifo_exists_between_create_and_start_only()
    {
        var fifo = Path.Combine(_c.StateDir, "exec.fifo");
        _c.CreateOk();

        File.Exists(fifo).Should().BeTrue();
        ((int)File.GetUnixFileMode(fifo) & 0x1ff).Should().Be(0x192, "mode 0622 as runc");
        new FileInfo(fifo).Attributes.Should().NotHaveFlag(FileAttributes.Directory);

        _c.Start().ExitCode.Should().Be(0);

        File.Exists(fifo).Should().BeFalse();
        File.Exists(Path.Combine(_c.StateDir, "state.json")).Should().BeTrue();
    }

    [Fact]
    public void Create_does_not_run_the_process_before_start()
    {
        _c.Bundle.Sh("echo started");
        _c.CreateOk();

        _c.Output.Should().BeEmpty("process.args runs only at start");
        _c.Start().ExitCode.Should().Be(0);
        _c.WaitForStatus("stopped");
        _c.Output.Should().Be("started\n");
    }

    [Theory]
    [InlineData("TERM")]
    [InlineData("INT")]
    [InlineData("HUP")]
    [InlineData("KILL")]
    public void Kill_of_a_created_container_stops_it(string signal)
    {
        _c.CreateOk();
        var pid = _c.Pid();

        var kill = _c.Kill(signal);

        kill.ExitCode.Should().Be(0, kill.ToString());
        _c.WaitForStatus("stopped");
        TestEnv.Eventually(() => !Alive(pid)).Should().BeTrue();
        _c.Output.Should().BeEmpty("process.args never ran");
    }

    [Fact]
    public void Kill_with_an_unknown_signal_fails_and_leaves_the_container()
    {
        _c.CreateOk();
        _c.Start().ExitCode.Should().Be(0);

        var kill = _c.Kill("SIGNOPE");

        kill.ExitCode.Should().NotBe(0);
        kill.StderrLines.Should().ContainSingle().Which.Should().Contain("SIGNOPE");
        _c.Status().Should().Be("running");
    }

    [Fact]
    public void State_is_printed_as_runc_prints_it_two_space_indented()
    {
        _c.CreateOk();

        var r = _c.Runtime.Run("state", _c.Id);

        r.ExitCode.Should().Be(0);
        r.Stdout.Should().StartWith("{\n  \"ociVersion\": \"").And.Contain($"\n  \"id\": \"{_c.Id}\",\n  \"pid\": ");
        r.Stdout.TrimEnd('\n').Should().EndWith("\n}");
    }

    [Fact]
    public void Delete_force_without_a_pid_namespace_kills_every_process_of_the_container()
    {
        // Without a pid namespace the kernel does not end the other processes with the init: the runtime must (runc
        // kills everything in the container's cgroup).
        _c.Bundle.WithoutNamespace("pid");
        _c.Bundle.Spec.Root!.Readonly = false;
        _c.Bundle.Sh("sleep 1001 & echo $! > /tmp/child.pid; exec sleep 1002");
        _c.CreateOk();
        _c.Start().ExitCode.Should().Be(0);
        var childPidFile = Path.Combine(_c.Bundle.Rootfs, "tmp", "child.pid");
        var child = 0;
        TestEnv.Eventually(() => File.Exists(childPidFile) && int.TryParse(File.ReadAllText(childPidFile).Trim(), out child)).Should().BeTrue();
        Alive(child).Should().BeTrue();

        var delete = _c.Delete(force: true);

        delete.ExitCode.Should().Be(0, delete.ToString());
        TestEnv.Eventually(() => !Alive(child)).Should().BeTrue("the background child of the container is killed too");
    }
}
