using System.Text.Json;
using OciRuntime.Runtime.Tests.Harness;

namespace OciRuntime.Runtime.Tests.Integration;

/// <summary>
/// What containerd's CRI plugin and containerd-shim-runc-v2 ask of the runtime to tear a container down, with runc 1.1
/// as the oracle (each case runs against both binaries): the CRI plugin deletes every exited task with
/// <c>kill --all ID 9</c> (containerd.WithProcessKill), the shim uses <c>kill --all</c> for containers sharing a pid
/// namespace, and go-runc puts the runtime's stderr into its error text, where the shim looks for "container not
/// running" / "does not exist" to tell a finished container from a failure.
/// </summary>
public sealed class CriPathTests
{
    public static TheoryData<string> Runtimes => ["ocirun", "runc"];

    private static TestContainer NewContainer(string runtime) =>
        new("cri", runtime == "runc" ? "runc" : null);

    private static bool Alive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..][0] is not ('Z' or 'X');
        }
        catch (IOException)
        {
            return false;
        }
    }

    [Theory]
    [MemberData(nameof(Runtimes))]
    public void Kill_all_of_a_stopped_container_exits_0_while_kill_of_its_init_says_container_not_running(string runtime)
    {
        using var c = NewContainer(runtime);
        c.Bundle.Args("true");
        c.CreateOk();
        c.Start().ExitCode.Should().Be(0);
        c.WaitForStatus("stopped");

        var all = c.Runtime.Run("kill", "--all", c.Id, "9");
        all.ExitCode.Should().Be(0, "the CRI plugin sends kill --all ID 9 for every exited task: " + all);
        all.Stderr.Should().BeEmpty();
        c.Runtime.Run("kill", "--all", c.Id, "0").ExitCode.Should().Be(0);

        var log = Path.Combine(c.Bundle.Dir, "log.json");
        var init = c.Runtime.Run("--log", log, "--log-format", "json", "kill", c.Id, "9");
        init.ExitCode.Should().Be(1);
        init.Stderr.Should().Be("container not running\n", "runc prints the error on stderr as well as in --log");
        LogMessages(log).Should().Equal("container not running");

        c.Delete().ExitCode.Should().Be(0);
    }

    [Theory]
    [MemberData(nameof(Runtimes))]
    public void Errors_of_a_missing_container_reach_stderr_and_the_log_with_runcs_text(string runtime)
    {
        using var c = NewContainer(runtime);
        var log = Path.Combine(c.Bundle.Dir, "log.json");
        foreach (var args in new[] { new[] { "kill", "no-such-ctr", "9" }, ["kill", "--all", "no-such-ctr", "9"], ["state", "no-such-ctr"], ["delete", "no-such-ctr"] })
        {
            File.Delete(log);
            var r = c.Runtime.Run(["--log", log, "--log-format", "json", .. args]);
            r.ExitCode.Should().Be(1, string.Join(' ', args));
            r.Stdout.Should().BeEmpty();
            r.Stderr.Should().Be("container does not exist\n", string.Join(' ', args));
            LogMessages(log).Should().Equal("container does not exist");
        }
    }

    [Theory]
    [MemberData(nameof(Runtimes))]
    public void Kill_all_reaches_the_processes_left_in_the_cgroup_after_the_init_exited(string runtime)
    {
        using var c = NewContainer(runtime);
        // The host's pid namespace (as with --pid host): the init's child outlives it, still in the container's cgroup.
        c.Bundle.WithoutNamespace("pid");
        c.Bundle.Sh("sleep 1000 & echo $!");
        c.CreateOk();
        c.Start().ExitCode.Should().Be(0);
        c.WaitForStatus("stopped");
        TestEnv.Eventually(() => c.Output.EndsWith('\n')).Should().BeTrue();
        var sleep = int.Parse(c.Output.Trim(), System.Globalization.CultureInfo.InvariantCulture);
        try
        {
            Alive(sleep).Should().BeTrue("the init's child outlives it");

            var r = c.Runtime.Run("kill", "--all", c.Id, "KILL");

            r.ExitCode.Should().Be(0, r.ToString());
            TestEnv.Eventually(() => !Alive(sleep)).Should().BeTrue("kill --all signals every process of the container's cgroup");
        }
        finally
        {
            TestEnv.Kill(sleep, TestEnv.SIGKILL);
        }
    }

    [Theory]
    [MemberData(nameof(Runtimes))]
    public void Signal_0_is_accepted(string runtime)
    {
        using var c = NewContainer(runtime);
        c.Bundle.Args("sleep", "1000");
        c.CreateOk();
        c.Start().ExitCode.Should().Be(0);

        c.Runtime.Run("kill", c.Id, "0").ExitCode.Should().Be(0);
        c.Runtime.Run("kill", "--all", c.Id, "0").ExitCode.Should().Be(0);
        c.Status().Should().Be("running", "signal 0 delivers nothing");
    }

    [Theory]
    [MemberData(nameof(Runtimes))]
    public void List_format_json_is_one_compact_line_and_null_without_containers(string runtime)
    {
        using var c = NewContainer(runtime);
        c.Runtime.Run("list", "--format", "json").Stdout.Should().Be("null\n", "Go's json.Encoder of a nil slice");
        c.Bundle.Args("sleep", "1000");
        c.CreateOk();

        var r = c.Runtime.Run("list", "--format", "json");

        r.ExitCode.Should().Be(0, r.ToString());
        r.Stdout.Should().EndWith("\n");
        r.Stdout.TrimEnd('\n').Should().NotContain("\n").And.NotContain(": ").And.StartWith("[{\"ociVersion\":");
        using var doc = JsonDocument.Parse(r.Stdout);
        doc.RootElement.EnumerateArray().Single().GetProperty("id").GetString().Should().Be(c.Id);
    }

    [Theory]
    [InlineData("direct")]
    [InlineData("init")]
    public void A_create_whose_init_dies_reports_how_it_ended_not_a_broken_sync_socket(string path)
    {
        using var c = NewContainer("ocirun");
        c.Bundle.Args("true");
        // The init dies while the runtime runs its hooks (an OOM kill, a stray SIGKILL): the runtime's next send or
        // receive on the sync socket fails, and that failure ("sendmsg: broken pipe") is not the error.
        c.Bundle.Spec.Hooks = new Spec.Hooks
        {
            CreateRuntime = [new Spec.Hook { Path = "/bin/sh", Args = ["sh", "-c", "kill -9 $(sed 's/.*\"pid\": *\\([0-9]*\\).*/\\1/')"] }],
        };
        c.Bundle.Write();

        var r = Ocirun.Exec("/usr/bin/env", [$"OCIRUN_INIT={(path == "init" ? 1 : 0)}", c.Runtime.Binary, "--root", c.Runtime.StateRoot, "run", "-b", c.Bundle.Dir, c.Id]);

        r.ExitCode.Should().Be(1, r.ToString());
        r.Stderr.Should().Be("container init was killed by SIGKILL before the container was ready\n");
        Directory.Exists(c.StateDir).Should().BeFalse("nothing is left");
    }

    private static List<string> LogMessages(string log) =>
        [.. File.ReadAllLines(log).Where(l => l.Length > 0).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("msg").GetString()!)];
}
