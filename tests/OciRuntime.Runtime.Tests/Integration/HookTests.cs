using System.Text.Json;
using OciRuntime.Runtime.Tests.Harness;
using OciRuntime.Spec;

namespace OciRuntime.Runtime.Tests.Integration;

/// <summary>config.json hooks: order, the state on stdin, namespaces, and what a failure does (config.md#posix-platform-hooks).</summary>
public sealed class HookTests : IDisposable
{
    private readonly TestContainer _c = new("hook");
    private readonly string _log;
    private readonly string _hook;

    public HookTests()
    {
        _log = Path.Combine(_c.Bundle.Dir, "hooks.log");
        _hook = Path.Combine(_c.Bundle.Dir, "hook.sh");
        // Host side: append "<kind> <mount ns> <state json>" to the log.
        File.WriteAllText(_hook, $"#!/bin/sh\nprintf '%s %s %s\\n' \"$1\" \"$(readlink /proc/self/ns/mnt)\" \"$(cat)\" >> {_log}\n");
        File.SetUnixFileMode(_hook, (UnixFileMode)0x1ed);
        _c.Bundle.Spec.Root!.Readonly = false;
        // startContainer runs inside the container: its path resolves there, and it logs into the rootfs.
        File.WriteAllText(Path.Combine(_c.Bundle.Rootfs, "hook.sh"), "#!/bin/sh\nprintf '%s %s %s\\n' \"$1\" \"$(readlink /proc/self/ns/mnt)\" \"$(cat)\" >> /hooks.log\n");
        File.SetUnixFileMode(Path.Combine(_c.Bundle.Rootfs, "hook.sh"), (UnixFileMode)0x1ed);
    }

    public void Dispose() => _c.Dispose();

    private Hook H(string kind, string? path = null, int? timeout = null) => new() { Path = path ?? _hook, Args = ["hook.sh", kind], Timeout = timeout };

    private static (string Kind, string Ns, JsonElement State) Parse(string line)
    {
        var parts = line.Split(' ', 3);
        using var doc = JsonDocument.Parse(parts[2]);
        return (parts[0], parts[1], doc.RootElement.Clone());
    }

    [Fact]
    public void All_six_hooks_run_in_order_with_the_state_on_stdin_in_the_right_namespaces()
    {
        _c.Bundle.Args("true");
        _c.Bundle.Spec.Hooks = new Hooks
        {
            Prestart = [H("prestart")],
            CreateRuntime = [H("createRuntime")],
            CreateContainer = [H("createContainer")],
            StartContainer = [H("startContainer", "/hook.sh")],
            Poststart = [H("poststart")],
            Poststop = [H("poststop")],
        };
        var r = _c.Run();
        r.ExitCode.Should().Be(0, r.ToString());

        var host = File.ReadAllLines(_log).Select(Parse).ToList();
        var inside = File.ReadAllLines(Path.Combine(_c.Bundle.Rootfs, "hooks.log")).Select(Parse).ToList();
        host.Select(h => h.Kind).Should().Equal("prestart", "createRuntime", "createContainer", "poststart", "poststop");
        inside.Select(h => h.Kind).Should().Equal("startContainer");

        var hostNs = new FileInfo("/proc/self/ns/mnt").LinkTarget;
        host.Where(h => h.Kind is "prestart" or "createRuntime" or "poststart" or "poststop").Should().OnlyContain(h => h.Ns == hostNs, "these run in the runtime namespace");
        host.Single(h => h.Kind == "createContainer").Ns.Should().NotBe(hostNs, "createContainer runs in the container namespace");
        inside.Single().Ns.Should().NotBe(hostNs, "startContainer runs in the container namespace");

        var statuses = host.Concat(inside).ToDictionary(h => h.Kind, h => h.State.GetProperty("status").GetString());
        statuses.Should().BeEquivalentTo(new Dictionary<string, string?>
        {
            ["prestart"] = "creating", ["createRuntime"] = "creating", ["createContainer"] = "creating",
            ["startContainer"] = "created", ["poststart"] = "running", ["poststop"] = "stopped",
        });
        host.Concat(inside).Should().OnlyContain(h => h.State.GetProperty("id").GetString() == _c.Id && h.State.GetProperty("bundle").GetString() == _c.Bundle.Dir);
        var pid = host.Single(h => h.Kind == "prestart").State.GetProperty("pid").GetInt32();
        pid.Should().BePositive();
        host.Single(h => h.Kind == "poststart").State.GetProperty("pid").GetInt32().Should().Be(pid);
    }

    [Fact]
    public void A_failing_prestart_hook_fails_create_naming_the_hook_and_leaves_nothing()
    {
        _c.Bundle.Args("true");
        _c.Bundle.Spec.Hooks = new Hooks { Prestart = [new Hook { Path = "/bin/sh", Args = ["sh", "-c", "echo broken >&2; exit 3"] }] };
        var r = _c.Create();
        r.ExitCode.Should().Be(1);
        r.StderrLines.Should().ContainSingle().Which.Should().Contain("hooks.prestart[0]").And.Contain("exit status 3").And.Contain("broken");
        Directory.Exists(_c.StateDir).Should().BeFalse("a failed create leaves no state");
    }

    [Fact]
    public void A_hook_that_outlives_its_timeout_is_killed_and_fails_create()
    {
        _c.Bundle.Args("true");
        _c.Bundle.Spec.Hooks = new Hooks { CreateRuntime = [new Hook { Path = "/bin/sh", Args = ["sh", "-c", "sleep 30"], Timeout = 1 }] };
        var r = _c.Create();
        r.ExitCode.Should().Be(1);
        r.Stderr.Should().Contain("hooks.createRuntime[0]").And.Contain("timed out");
        Directory.Exists(_c.StateDir).Should().BeFalse();
    }

    [Fact]
    public void A_failing_poststop_hook_only_warns()
    {
        _c.Bundle.Args("true");
        _c.Bundle.Spec.Hooks = new Hooks { Poststop = [new Hook { Path = "/bin/false" }, H("poststop")] };
        var r = _c.Run();
        r.ExitCode.Should().Be(0, r.ToString());
        File.ReadAllLines(_log).Should().ContainSingle(l => l.StartsWith("poststop "), "the remaining poststop hooks still run");
        Directory.Exists(_c.StateDir).Should().BeFalse();
    }
}
