using System.Runtime.InteropServices;
using OciRuntime.Runtime.Tests.Harness;

namespace OciRuntime.Runtime.Tests.Integration;

/// <summary>
/// A caller that ignores signals (execve keeps ignored signals ignored) must not pass that on to the container's
/// processes: the init and exec's direct path reset every ignored signal, glibc's own 32 and 33 included, which glibc's
/// sigaction refuses to touch (runc passes 32 on, crun 32 and 33; CI's environment ignores 32). Serial: the test process
/// itself ignores 32 and 33 while it runs ocirun.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class SignalInheritanceTests : IDisposable
{
    private readonly TestContainer _c = new("sigign");

    public SignalInheritanceTests()
    {
        _c.Bundle.Args("sleep", "1000");
        var r = _c.RunDetached();
        r.ExitCode.Should().Be(0, r.ToString());
    }

    public void Dispose() => _c.Dispose();

    [DllImport("libc", EntryPoint = "syscall")]
    private static extern unsafe long RtSigaction(long number, long signal, void* action, void* old, long sigsetSize);

    private static readonly long RtSigactionNumber = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 134 : 13;

    [Fact]
    public unsafe void Signals_the_caller_ignores_are_not_ignored_in_run_exec_and_exec_through_the_init()
    {
        // Kernel struct sigaction: handler, flags, restorer, mask (32 bytes); handler 1 = SIG_IGN.
        var saved = new byte[2 * 32];
        var ignore = new byte[32];
        ignore[0] = 1;
        fixed (byte* s = saved)
        fixed (byte* ign = ignore)
        {
            RtSigaction(RtSigactionNumber, 32, null, s, 8).Should().Be(0);
            RtSigaction(RtSigactionNumber, 33, null, s + 32, 8).Should().Be(0);
            try
            {
                RtSigaction(RtSigactionNumber, 32, ign, null, 8).Should().Be(0);
                RtSigaction(RtSigactionNumber, 33, ign, null, 8).Should().Be(0);

                var direct = _c.Runtime.Run("exec", _c.Id, "grep", "SigIgn", "/proc/self/status");
                direct.Stdout.Should().Be("SigIgn:\t0000000000000000\n", "exec (direct path): " + direct);

                var file = Path.Combine(_c.Bundle.Dir, "process.json");
                var cpus = $"0-{Environment.ProcessorCount - 1}";
                var process = "{\"args\":[\"grep\",\"SigIgn\",\"/proc/self/status\"],\"cwd\":\"/\",\"user\":{\"uid\":0,\"gid\":0},"
                    + "\"execCPUAffinity\":{\"initial\":\"" + cpus + "\"}}";
                File.WriteAllText(file, process);
                var throughInit = _c.Runtime.Run("exec", "--process", file, _c.Id);
                throughInit.Stdout.Should().Be("SigIgn:\t0000000000000000\n", "exec through ocirun init: " + throughInit);

                using var run = new TestContainer("sigign-run");
                run.Bundle.Args("grep", "SigIgn", "/proc/self/status");
                var r = run.Run();
                r.ExitCode.Should().Be(0, r.ToString());
                r.Stdout.Should().Be("SigIgn:\t0000000000000000\n", "run: " + r);
            }
            finally
            {
                RtSigaction(RtSigactionNumber, 32, s, null, 8);
                RtSigaction(RtSigactionNumber, 33, s + 32, null, 8);
            }
        }
    }
}
