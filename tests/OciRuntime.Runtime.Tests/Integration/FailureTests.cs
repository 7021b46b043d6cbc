using OciRuntime.Runtime.Tests.Harness;
using OciRuntime.Spec;

namespace OciRuntime.Runtime.Tests.Integration;

/// <summary>
/// create and run that fail: non-zero exit, ONE line on stderr naming what failed and where, and nothing left behind
/// (no state directory, no new mount on the host, no surviving process). Serial: the probes look at the whole test process.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class FailureTests : IDisposable
{
    private readonly TestContainer _c = new("fail");
    private readonly int _defaultMountCount;

    public FailureTests()
    {
        _defaultMountCount = _c.Bundle.Spec.Mounts!.Count;
        TestEnv.WaitForNoDescendants().Should().BeEmpty("no earlier test may leave a process");
    }

    public void Dispose() => _c.Dispose();

    private CommandResult Do(string command) => command switch
    {
        "create" => _c.Create(),
        "run" => _c.Run(),
        _ => throw new ArgumentOutOfRangeException(nameof(command)),
    };

    private string FailsCleanly(CommandResult r)
    {
        r.ExitCode.Should().NotBe(0, r.ToString());
        r.StderrLines.Should().ContainSingle($"exactly one line on stderr: {r}");
        r.Stdout.Should().BeEmpty();
        Directory.Exists(_c.StateDir).Should().BeFalse("a failed create leaves no state directory");
        Directory.EnumerateFileSystemEntries(_c.Runtime.StateRoot).Should().BeEmpty();
        TestEnv.MountsUnder(_c.Bundle.Dir).Should().BeEmpty();
        TestEnv.OurMounts().Should().BeEmpty("no mount may leak to the host");
        TestEnv.WaitForNoDescendants().Should().BeEmpty("the init of a failed create is killed and reaped");
        return r.StderrLines[0];
    }

    [Theory]
    [InlineData("create")]
    [InlineData("run")]
    public void Missing_rootfs(string command)
    {
        Directory.Delete(_c.Bundle.Rootfs, recursive: true);

        var line = FailsCleanly(Do(command));

        line.Should().Contain("root.path").And.Contain(_c.Bundle.Rootfs);
    }

    [Theory]
    [InlineData("create")]
    [InlineData("run")]
    public void Missing_binary_in_PATH(string command)
    {
        _c.Bundle.Args("no-such-binary", "arg");

        var line = FailsCleanly(Do(command));

        line.Should().Contain("no-such-binary").And.Contain("executable file not found in $PATH");
    }

    [Fact]
    public void Missing_binary_by_absolute_path()
    {
        _c.Bundle.Args("/bin/no-such-binary");

        var line = FailsCleanly(_c.Run());

        line.Should().Contain("/bin/no-such-binary").And.Contain("no such file or directory");
    }

    [Fact]
    public void Binary_without_execute_permission()
    {
        _c.Bundle.Args("/etc/passwd");

        var line = FailsCleanly(_c.Run());

        line.Should().Contain("/etc/passwd").And.Contain("permission denied");
    }

    [Theory]
    [InlineData("create")]
    [InlineData("run")]
    public void Failing_mount_names_the_mount(string command)
    {
        _c.Bundle.Spec.Mounts!.Add(new Mount { Destination = "/mnt/x", Type = "nosuchfs", Source = "none" });

        var line = FailsCleanly(Do(command));

        line.Should().Contain($"mounts[{_defaultMountCount}]").And.Contain("/mnt/x").And.Contain("no such device");
    }

    [Fact]
    public void Bind_mount_of_a_missing_source_names_the_mount()
    {
        _c.Bundle.Spec.Mounts!.Add(new Mount { Destination = "/data", Type = "bind", Source = "/no/such/source", Options = ["rbind"] });

        var line = FailsCleanly(_c.Run());

        line.Should().Contain($"mounts[{_defaultMountCount}]").And.Contain("/no/such/source");
    }

    [Theory]
    [InlineData("create")]
    [InlineData("run")]
    public void Missing_namespace_path(string command)
    {
        _c.Bundle.WithNamespace("network", "/no/such/ns/net");

        var line = FailsCleanly(Do(command));

        line.Should().Contain("network").And.Contain("/no/such/ns/net").And.Contain("no such file or directory");
    }

    [Theory]
    [InlineData("network")]
    [InlineData("ipc")]
    [InlineData("pid")]
    public void Namespace_path_that_is_not_a_namespace(string type)
    {
        var notNs = Path.Combine(_c.Bundle.Dir, "not-a-namespace");
        File.WriteAllText(notNs, "plain file\n");
        _c.Bundle.WithNamespace(type, notNs);

        var line = FailsCleanly(_c.Run());

        line.Should().Contain(type).And.Contain(notNs).And.Contain("invalid argument");
    }

    [Fact]
    public void Namespace_path_of_the_wrong_type()
    {
        _c.Bundle.WithNamespace("network", $"/proc/{Environment.ProcessId}/ns/ipc");

        var line = FailsCleanly(_c.Run());

        line.Should().Contain("network").And.Contain($"/proc/{Environment.ProcessId}/ns/ipc");
    }

    [Theory]
    [InlineData("create")]
    [InlineData("run")]
    public void Malformed_config_json(string command)
    {
        var r = command == "create" ? CreateWithConfig("{\"ociVersion\": \"1.0.2\", \"process\": {") : RunWithConfig("{\"ociVersion\": \"1.0.2\", \"process\": {");

        var line = FailsCleanly(r);

        line.Should().Contain("config.json");
    }

    [Fact]
    public void Config_json_with_a_wrong_type_names_the_field()
    {
        var json = SpecSerializer.Serialize(_c.Bundle.Spec).Replace("\"args\": [\n\t\t\t\"sh\"\n\t\t]", "\"args\": \"sh\"", StringComparison.Ordinal);
        json.Should().Contain("\"args\": \"sh\"");

        var line = FailsCleanly(RunWithConfig(json));

        line.Should().Contain("config.json").And.Contain("process.args");
    }

    [Fact]
    public void Missing_config_json()
    {
        _c.Bundle.Write();
        File.Delete(Path.Combine(_c.Bundle.Dir, "config.json"));

        var line = FailsCleanly(_c.Runtime.Run("run", "-b", _c.Bundle.Dir, _c.Id));

        line.Should().Contain("config.json");
    }

    [Fact]
    public void Relative_cwd_is_refused()
    {
        _c.Bundle.Process.Cwd = "tmp";

        var line = FailsCleanly(_c.Run());

        line.Should().Contain("process.cwd");
    }

    [Fact]
    public void Cwd_that_is_a_file_is_refused()
    {
        _c.Bundle.Process.Cwd = "/etc/passwd";

        var line = FailsCleanly(_c.Run());

        line.Should().Contain("process.cwd").And.Contain("/etc/passwd").And.Contain("not a directory");
    }

    [Fact]
    public void Mount_destination_below_a_file_is_refused()
    {
        _c.Bundle.Spec.Mounts!.Add(new Mount { Destination = "/etc/passwd/x", Type = "tmpfs", Source = "tmpfs" });

        var line = FailsCleanly(_c.Run());

        line.Should().Contain($"mounts[{_defaultMountCount}]").And.Contain("/etc/passwd").And.Contain("not a directory");
    }

    [Fact]
    public void Unknown_rlimit_is_refused()
    {
        _c.Bundle.Process.Rlimits = [new PosixRlimit { Type = "RLIMIT_BOGUS", Soft = 1, Hard = 1 }];

        var line = FailsCleanly(_c.Run());

        line.Should().Contain("process.rlimits").And.Contain("RLIMIT_BOGUS");
    }

    [Theory]
    [InlineData("unbindable", "unbindable")]
    [InlineData("runbindable", "unbindable")]
    [InlineData("shared", "shared:")]
    [InlineData("rshared", "shared:")]
    public void Shared_and_unbindable_rootfs_propagation_apply_to_the_new_root(string propagation, string expected)
    {
        // pivot_root refuses a shared root and nothing can be bound from an unbindable mount: ocirun applies these to
        // / after pivot_root, masked and read-only paths (runc 1.1.5 fails "unbindable" with EINVAL).
        _c.Bundle.Spec.Linux!.RootfsPropagation = propagation;
        _c.Bundle.Sh("awk '$5 == \"/\" { for (i = 7; $i != \"-\"; i++) printf \"%s \", $i; print \"\" }' /proc/self/mountinfo");

        var r = _c.Run();

        r.ExitCode.Should().Be(0, r.ToString());
        r.Stdout.Should().Contain(expected);
    }

    [Theory]
    [InlineData("../x")]
    [InlineData("a/b")]
    [InlineData("..")]
    [InlineData("")]
    public void Invalid_container_id(string id)
    {
        _c.Bundle.Write();
        var escaped = Path.GetFullPath(Path.Combine(_c.Runtime.StateRoot, "..", "x"));

        var r = _c.Runtime.RunDetached(_c.OutputFile, "create", "-b", _c.Bundle.Dir, id);

        var line = FailsCleanly(r);
        line.Should().Contain("container ID");
        Directory.Exists(escaped).Should().BeFalse("nothing is created outside the state root");
    }

    private CommandResult RunWithConfig(string json)
    {
        File.WriteAllText(Path.Combine(_c.Bundle.Dir, "config.json"), json);
        return _c.Runtime.Run("run", "-b", _c.Bundle.Dir, _c.Id);
    }

    private CommandResult CreateWithConfig(string json)
    {
        File.WriteAllText(Path.Combine(_c.Bundle.Dir, "config.json"), json);
        return _c.Runtime.RunDetached(_c.OutputFile, "create", "-b", _c.Bundle.Dir, _c.Id);
    }
}
