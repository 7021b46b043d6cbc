
using System.Text;
using System.Text.Json.Nodes;

using static OciRuntime.Spec.Tests.TestSupport;

namespace OciRuntime.Spec.Tests;

/// <summary>The 100 KB config of the parse/validate benchmark (benchmarks/), checked for validity here.</summary>
public class BigConfigTests
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

    // Timing goals live in benchmarks/ (BenchmarkDotNet), never in tests: this only checks the big config is valid.
    [Fact]
    public void A_100_KB_config_with_a_full_seccomp_profile_parses_validates_and_round_trips()
    {
        byte[] json = BigConfig();
        json.Length.Should().BeInRange(100 * 1024, 110 * 1024);
        var spec = SpecSerializer.Parse(json);
        SpecValidator.Check(spec).Should().BeEmpty();
        SpecSerializer.Parse(SpecSerializer.SerializeToUtf8(spec)).Linux!.Seccomp!.Syscalls!.Count.Should().Be(spec.Linux!.Seccomp!.Syscalls!.Count);
    }
}
