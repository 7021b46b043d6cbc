using System.Text;

namespace OciRuntime.Spec.Tests;

/// <summary>The standalone process.json of <c>exec --process</c> (as written by containerd's runc shim).</summary>
public class ProcessDocumentTests
{
    private const string ContainerdProcess = """
        {"user":{"uid":0,"gid":0},"args":["sh","-c","echo hi"],"env":["PATH=/usr/bin:/bin"],"cwd":"/","capabilities":{"bounding":["CAP_KILL"],"effective":["CAP_KILL"],"permitted":["CAP_KILL"]},"noNewPrivileges":true,"apparmorProfile":"cri-containerd.apparmor.d","oomScoreAdj":-998}
        """;

    [Fact]
    public void Parses_validates_and_round_trips()
    {
        Process process = SpecSerializer.ParseProcess(Encoding.UTF8.GetBytes(ContainerdProcess));

        SpecValidator.CheckProcess(process).Should().BeEmpty();
        process.Args.Should().Equal("sh", "-c", "echo hi");
        process.OomScoreAdj.Should().Be(-998);
        SpecSerializer.SerializeProcess(process, indented: false).Should().Be(ContainerdProcess.Trim());
        TestSupport.JsonEquals(SpecSerializer.SerializeProcess(process), ContainerdProcess).Should().BeTrue();
    }

    [Fact]
    public void Parse_errors_name_paths_relative_to_the_process_document()
    {
        SpecException ex = Assert.Throws<SpecException>(() => SpecSerializer.ParseProcess("""{"user":{"uid":"root"},"cwd":"/"}"""u8));
        ex.Message.Should().Be("process.json: user.uid: expected an integer, got \"root\"");

        ex = Assert.Throws<SpecException>(() => SpecSerializer.ParseProcess("""{"args":["a",null],"cwd":"/"}"""u8));
        ex.Message.Should().Be("process.json: args[1]: expected a string, got null");
    }

    [Fact]
    public void Validation_errors_name_paths_relative_to_the_process_document()
    {
        Process process = SpecSerializer.ParseProcess("""{"args":[],"cwd":"x","capabilities":{"bounding":["CAP_KILL","CAP_X"]},"rlimits":[{"type":"RLIMIT_NOFILE","hard":1,"soft":1},{"type":"RLIMIT_NOFILE","hard":1,"soft":1}]}"""u8);

        SpecValidator.CheckProcess(process).Select(e => e.ToString()).Should().Equal(
            "args: must contain at least one entry",
            "cwd: must be an absolute path, got \"x\"",
            "rlimits[1].type: duplicate rlimit \"RLIMIT_NOFILE\" (also at rlimits[0])");

        SpecException ex = Assert.Throws<SpecException>(() => SpecValidator.ValidateProcess(process, new ValidationOptions { FileName = "process.json" }));
        ex.Message.Should().Be("process.json: args: must contain at least one entry");
    }

    [Fact]
    public void Unknown_capabilities_are_not_a_validation_error_the_runtime_warns_and_skips_them()
    {
        // config.md#linux-process: runtimes SHOULD NOT fail on an unknown or unavailable capability (runc 1.1 warns).
        Process process = SpecSerializer.ParseProcess("""{"args":["sh"],"cwd":"/","capabilities":{"bounding":["CAP_KILL","CAP_X","cap_kill","NET_RAW"]}}"""u8);
        SpecValidator.CheckProcess(process).Should().BeEmpty();
        process = SpecSerializer.ParseProcess("""{"args":["sh"],"cwd":"/","capabilities":{"bounding":[""]}}"""u8);
        SpecValidator.CheckProcess(process).Select(e => e.ToString()).Should().Equal("capabilities.bounding[0]: must not be empty");
    }

    [Fact]
    public void Terminal_rules_apply_to_exec_too()
    {
        Process process = SpecSerializer.ParseProcess("""{"terminal":true,"args":["sh"],"cwd":"/"}"""u8);
        SpecValidator.CheckProcess(process, new ValidationOptions { Detached = true }).Should().ContainSingle()
            .Which.JsonPath.Should().Be("terminal");
    }

    [Fact]
    public void Missing_file()
    {
        SpecException ex = Assert.Throws<SpecException>(() => SpecSerializer.LoadProcess("/nonexistent/process.json", "process.json"));
        ex.Message.Should().Be("process.json: no such file");
    }
}
