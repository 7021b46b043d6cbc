using System.Text.Json;

namespace OciRuntime.Runtime.Tests.Harness;

/// <summary>
/// One container under test: a unique id, its own <see cref="BundleBuilder"/> and its own state root, driven through the
/// real binary. Dispose runs `delete -f` and removes the state root and the bundle.
/// </summary>
public sealed class TestContainer : IDisposable
{
    /// <summary>A container for ocirun (or for <paramref name="binary"/>, e.g. "runc").</summary>
    public TestContainer(string prefix = "t", string? binary = null, BundleBuilder? bundle = null)
    {
        Id = TestEnv.NewId(prefix);
        Bundle = bundle ?? new BundleBuilder();
        Runtime = new Ocirun(binary ?? Ocirun.DefaultBinary, TestEnv.NewDir("root"));
    }

    /// <summary>The container id.</summary>
    public string Id { get; }

    /// <summary>The bundle.</summary>
    public BundleBuilder Bundle { get; }

    /// <summary>The runtime, with this container's --root.</summary>
    public Ocirun Runtime { get; }

    /// <summary>The state directory the runtime keeps for this container.</summary>
    public string StateDir => Path.Combine(Runtime.StateRoot, Id);

    /// <summary>Where the stdout of `create` / `run -d` (and so of the container's process) goes.</summary>
    public string OutputFile => Path.Combine(Bundle.Dir, "container.out");

    /// <summary>The container's output so far (detached modes).</summary>
    public string Output => File.Exists(OutputFile) ? File.ReadAllText(OutputFile) : "";

    /// <summary>`run -b BUNDLE [options] ID` in the foreground, output on pipes.</summary>
    public CommandResult Run(params string[] options)
    {
        Bundle.Write();
        return Runtime.Run(["run", "-b", Bundle.Dir, .. options, Id]);
    }

    /// <summary>`run -b BUNDLE [options] ID` in the background (for signal tests).</summary>
    public BackgroundCommand LaunchRun(params string[] options)
    {
        Bundle.Write();
        return Runtime.Launch(["run", "-b", Bundle.Dir, .. options, Id]);
    }

    /// <summary>`create -b BUNDLE [options] ID` with stdio on <see cref="OutputFile"/>.</summary>
    public CommandResult Create(params string[] options)
    {
        Bundle.Write();
        return Runtime.RunDetached(OutputFile, ["create", "-b", Bundle.Dir, .. options, Id]);
    }

    /// <summary>`create`, asserting success.</summary>
    public void CreateOk(params string[] options)
    {
        var r = Create(options);
        r.ExitCode.Should().Be(0, $"create must succeed: {r}");
    }

    /// <summary>`run -d -b BUNDLE [options] ID` with stdio on <see cref="OutputFile"/>.</summary>
    public CommandResult RunDetached(params string[] options)
    {
        Bundle.Write();
        return Runtime.RunDetached(OutputFile, ["run", "-d", "-b", Bundle.Dir, .. options, Id]);
    }

    /// <summary>`start ID`.</summary>
    public CommandResult Start() => Runtime.Run("start", Id);

    /// <summary>`kill ID [signal]`.</summary>
    public CommandResult Kill(string? signal = null) => signal is null ? Runtime.Run("kill", Id) : Runtime.Run("kill", Id, signal);

    /// <summary>`delete [-f] ID`.</summary>
    public CommandResult Delete(bool force = false) => force ? Runtime.Run("delete", "-f", Id) : Runtime.Run("delete", Id);

    /// <summary>`state ID` parsed; fails the test when the command fails.</summary>
    public JsonElement State()
    {
        var r = Runtime.Run("state", Id);
        r.ExitCode.Should().Be(0, $"state must succeed: {r}");
        using var doc = JsonDocument.Parse(r.Stdout);
        return doc.RootElement.Clone();
    }

    /// <summary>The "status" of `state`.</summary>
    public string Status() => State().GetProperty("status").GetString()!;

    /// <summary>The "pid" of `state`.</summary>
    public int Pid() => State().GetProperty("pid").GetInt32();

    /// <summary>Waits (hang guard only) until the status is <paramref name="status"/>.</summary>
    public void WaitForStatus(string status)
    {
        string last = "";
        TestEnv.Eventually(() => (last = Status()) == status).Should().BeTrue($"container {Id} should reach \"{status}\" (last \"{last}\")");
    }

    /// <inheritdoc />
    public void Dispose()
    {
        try
        {
            Runtime.Run("delete", "-f", Id);
        }
        finally
        {
            TestEnv.RemoveTree(Runtime.StateRoot);
            Bundle.Dispose();
        }
    }
}
