using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Xunit.Abstractions;
using static OciRuntime.Spec.Tests.TestSupport;

namespace OciRuntime.Spec.Tests;

/// <summary>Timing tests run alone so that parallel test classes do not skew them.</summary>
[CollectionDefinition(nameof(PerformanceCollection), DisableParallelization = true)]
public sealed class PerformanceCollection;

[Collection(nameof(PerformanceCollection))]
public class PerformanceTests(ITestOutputHelper output)
{
    /// <summary>runc's default config plus a docker-like seccomp profile, about 100 KB of indented JSON in total.</summary>
    internal static byte[] BigConfig(int targetBytes = 100 * 1024)
    {
        JsonObject root = FixtureNode("runc-spec.json");
        var syscalls = new JsonArray();
        root["linux"]!["seccomp"] = new JsonObject
        {
            ["defaultAction"] = "SCMP_ACT_ERRNO",
            ["defaultErrnoRet"] = 1,
            ["architectures"] = new JsonArray("SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"),
            ["flags"] = new JsonArray("SECCOMP_FILTER_FLAG_SPEC_ALLOW"),
            ["syscalls"] = syscalls,
        };
        string[] actions = ["SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_LOG", "SCMP_ACT_TRACE"];
        var options = new System.Text.Json.JsonSerializerOptions { WriteIndented = true };
        for (int n = 0; ; n++)
        {
            var names = new JsonArray();
            for (int j = 0; j < 12; j++)
            {
                names.Add((JsonNode)$"syscall_name_{n}_{j}");
            }
            var rule = new JsonObject { ["names"] = names, ["action"] = actions[n % actions.Length] };
            if (n % 3 == 0)
            {
                rule["args"] = new JsonArray(
                    new JsonObject { ["index"] = 0, ["value"] = 2114060288, ["valueTwo"] = 0, ["op"] = "SCMP_CMP_MASKED_EQ" },
                    new JsonObject { ["index"] = 1, ["value"] = 8, ["op"] = "SCMP_CMP_EQ" });
            }
            if (n % 4 == 1)
            {
                rule["errnoRet"] = 1;
            }
            syscalls.Add((JsonNode)rule);
            if (n % 16 == 0 && Encoding.UTF8.GetByteCount(root.ToJsonString(options)) >= targetBytes)
            {
                return Encoding.UTF8.GetBytes(root.ToJsonString(options));
            }
        }
    }

    private static double BestAverageMicroseconds(Action action, int rounds = 7, int perRound = 200)
    {
        for (int i = 0; i < perRound; i++)
        {
            action(); // warm up: JIT and tiering
        }
        double best = double.MaxValue;
        for (int r = 0; r < rounds; r++)
        {
            var watch = Stopwatch.StartNew();
            for (int i = 0; i < perRound; i++)
            {
                action();
            }
            best = Math.Min(best, watch.Elapsed.TotalMicroseconds / perRound);
        }
        return best;
    }

    [Fact]
    public void Parsing_and_validating_a_100_KB_config_takes_well_under_a_millisecond()
    {
        byte[] json = BigConfig();
        json.Length.Should().BeInRange(100 * 1024, 110 * 1024);
        SpecValidator.Check(SpecSerializer.Parse(json)).Should().BeEmpty();

        double micros = BestAverageMicroseconds(() => SpecValidator.Validate(SpecSerializer.Parse(json)));

        output.WriteLine($"{json.Length} bytes: {micros:F0} µs per parse+validate");
        micros.Should().BeLessThan(1000, "parse + validate of a 100 KB config must stay under 1 ms (about 0.3 ms on a 2-CPU VM)");
    }

    [Fact]
    public void Validating_a_100_KB_config_is_cheap()
    {
        Spec spec = SpecSerializer.Parse(BigConfig());
        double micros = BestAverageMicroseconds(() => SpecValidator.Check(spec));
        output.WriteLine($"{micros:F0} µs per validate");
        micros.Should().BeLessThan(250);
    }

    [Fact]
    public void Serializing_a_100_KB_config_is_fast()
    {
        Spec spec = SpecSerializer.Parse(BigConfig());
        double micros = BestAverageMicroseconds(() => SpecSerializer.SerializeToUtf8(spec));
        output.WriteLine($"{micros:F0} µs per serialize");
        micros.Should().BeLessThan(5000);
    }
}
