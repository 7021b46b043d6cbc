using OciRuntime.Runtime.Init;
using OciRuntime.Runtime.Tests.Harness;
using OciRuntime.Spec;

namespace OciRuntime.Runtime.Tests;

/// <summary>personality, scheduler, I/O priority, CPU affinity lists, oom_score_adj and sysctl as the container sees them.</summary>
public sealed class SecurityProcessAttributeTests
{
    [Theory]
    [InlineData(PersonalityDomains.Linux32, "i686")]
    [InlineData(PersonalityDomains.Linux, "x86_64")]
    public void Personality_sets_the_execution_domain(string domain, string machine)
    {
        using var bundle = SecurityTestBundle.Create("uname -m");
        bundle.Spec.Linux!.Personality = new LinuxPersonality { Domain = domain };
        var r = bundle.Run();
        r.ExitCode.Should().Be(0, r.ToString());
        r.Stdout.Trim().Should().Be(machine);
    }

    private static string[] Stat(string output) => output[(output.LastIndexOf(')') + 2)..].Split(' ');

    [Fact]
    public void Scheduler_batch_with_nice()
    {
        using var bundle = SecurityTestBundle.Create("cat /proc/self/stat");
        bundle.Spec.Process!.Scheduler = new Scheduler { Policy = "SCHED_BATCH", Nice = 7 };
        var r = bundle.Run();
        r.ExitCode.Should().Be(0, r.ToString());
        var f = Stat(r.Stdout.Trim());
        f[19 - 3].Should().Be("7");  // field 19: nice
        f[41 - 3].Should().Be("3");  // field 41: policy (SCHED_BATCH)
    }

    [Fact]
    public void Scheduler_idle_and_a_refused_policy_names_the_field()
    {
        using var bundle = SecurityTestBundle.Create("cat /proc/self/stat");
        bundle.Spec.Process!.Scheduler = new Scheduler { Policy = "SCHED_IDLE" };
        var r = bundle.Run();
        r.ExitCode.Should().Be(0, r.ToString());
        Stat(r.Stdout.Trim())[41 - 3].Should().Be("5");

        bundle.Spec.Process.Scheduler = new Scheduler { Policy = "SCHED_ISO" }; // not in mainline Linux
        var refused = bundle.Run();
        refused.ExitCode.Should().NotBe(0);
        refused.Stderr.Should().Contain("process.scheduler");
    }

    [Theory]
    [InlineData("IOPRIO_CLASS_BE", 6, "best-effort: prio 6")]
    [InlineData("IOPRIO_CLASS_IDLE", 0, "idle")]
    [InlineData("IOPRIO_CLASS_RT", 2, "realtime: prio 2")]
    public void Io_priority_is_set(string ioClass, int priority, string expected)
    {
        using var bundle = SecurityTestBundle.Create("ionice");
        bundle.Spec.Process!.IoPriority = new LinuxIoPriority { Class = ioClass, Priority = priority };
        var r = bundle.Run();
        r.ExitCode.Should().Be(0, r.ToString());
        r.Stdout.Trim().Should().StartWith(expected);
    }

    [Fact]
    public void Oom_score_adj_and_sysctls_are_applied()
    {
        using var bundle = SecurityTestBundle.Create("cat /proc/self/oom_score_adj /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmni");
        bundle.Spec.Process!.OomScoreAdj = 321;
        bundle.Spec.Linux!.Sysctl = new Dictionary<string, string> { ["net.ipv4.ip_forward"] = "1", ["kernel.shmmni"] = "1234" };
        var r = bundle.Run();
        r.ExitCode.Should().Be(0, r.ToString());
        r.Stdout.Should().Be("321\n1\n1234\n");
    }

    [Fact]
    public void Exec_cpu_affinity_does_not_apply_to_the_init()
    {
        // config.md#linux-process: execCPUAffinity is for processes started by exec, not for the container's init.
        using var bundle = SecurityTestBundle.Create("grep Cpus_allowed_list /proc/self/status");
        bundle.Spec.Process!.ExecCpuAffinity = new ExecCpuAffinity { Initial = "0", Final = "0" };
        var r = bundle.Run();
        r.ExitCode.Should().Be(0, r.ToString());
        r.Stdout.Should().Contain(File.ReadAllLines("/proc/self/status").First(l => l.StartsWith("Cpus_allowed_list", StringComparison.Ordinal)).Split('\t')[^1]);
    }

    [Theory]
    [InlineData("0", new[] { 0 })]
    [InlineData("0-3,7", new[] { 0, 1, 2, 3, 7 })]
    [InlineData("1,3-4", new[] { 1, 3, 4 })]
    [InlineData("130", new[] { 130 })]
    public void Cpu_lists_parse_into_masks(string list, int[] cpus)
    {
        var mask = ProcessAttributes.ParseCpuList(list);
        mask.Length.Should().BeGreaterThanOrEqualTo(128);
        var set = Enumerable.Range(0, mask.Length * 8).Where(c => (mask[c / 8] & (1 << (c % 8))) != 0);
        set.Should().Equal(cpus);
    }

    [Theory]
    [InlineData("")]
    [InlineData("3-1")]
    [InlineData("a")]
    [InlineData("1,,2")]
    [InlineData("-1")]
    public void Bad_cpu_lists_are_refused(string list)
    {
        var act = () => ProcessAttributes.ParseCpuList(list);
        act.Should().Throw<FormatException>();
    }
}
