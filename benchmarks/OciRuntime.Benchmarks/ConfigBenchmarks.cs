using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using BenchmarkDotNet.Attributes;
using OciRuntime.Spec;

namespace OciRuntime.Benchmarks;

/// <summary>
/// Parsing and validating config.json: the runc default, and a 100 KB config with a Docker-sized seccomp profile
/// (issue 3's target: under 1 ms for parse + validate of the big one).
/// </summary>
[MemoryDiagnoser]
public class ConfigBenchmarks
{
    private byte[] _default = [];
    private byte[] _big = [];
    private Spec.Spec _bigSpec = null!;

    [GlobalSetup]
    public void Setup()
    {
        _default = SpecSerializer.SerializeToUtf8(DefaultSpec.Create());
        _big = BigConfig.Build(100 * 1024);
        _bigSpec = SpecSerializer.Parse(_big);
    }

    /// <summary>SpecSerializer.Parse: the generated reader (src/Spec/Json), System.Text.Json only when it gives up.</summary>
    [Benchmark]
    public Spec.Spec ParseDefault() => SpecSerializer.Parse(_default);

    /// <summary>
    /// The same document through System.Text.Json's source-generated metadata (tests/Shared/SpecJsonContext.cs), warm.
    /// (Cold, its first use in a process costs 1.7–3 ms of metadata set-up in NativeAOT, and its serializer was ≈1 MB of
    /// ocirun: why ocirun reads with the generated reader only; the lifecycle benchmark measures that.)
    /// </summary>
    [Benchmark]
    public Spec.Spec ParseDefaultSystemTextJson() =>
        JsonSerializer.Deserialize(_default, SpecJsonContext.Default.Spec)!;

    [Benchmark]
    public Spec.Spec ParseAndValidate100KB()
    {
        var spec = SpecSerializer.Parse(_big);
        SpecValidator.Validate(spec);
        return spec;
    }

    [Benchmark]
    public void Validate100KB() => SpecValidator.Validate(_bigSpec);

    [Benchmark]
    public byte[] Serialize100KB() => SpecSerializer.SerializeToUtf8(_bigSpec);
}

/// <summary>runc's default config plus a seccomp profile grown to the requested size (Docker's default has ~300 rules).</summary>
public static class BigConfig
{
    public static byte[] Build(int targetBytes)
    {
        var spec = DefaultSpec.Create();
        spec.Process!.Terminal = false;
        var syscalls = new List<LinuxSyscall>();
        spec.Linux!.Seccomp = new LinuxSeccomp
        {
            DefaultAction = "SCMP_ACT_ERRNO",
            DefaultErrnoRet = 1,
            Architectures = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
            Syscalls = syscalls,
        };
        string[] actions = ["SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_LOG"];
        for (var n = 0; ; n++)
        {
            var rule = new LinuxSyscall { Names = [.. Enumerable.Range(0, 12).Select(j => $"syscall_{n}_{j}")], Action = actions[n % actions.Length] };
            if (n % 3 == 0)
            {
                rule.Args = [new LinuxSeccompArg { Index = 0, Value = 2114060288, ValueTwo = 0, Op = "SCMP_CMP_MASKED_EQ" }];
            }
            syscalls.Add(rule);
            if (n % 16 == 0 && SpecSerializer.SerializeToUtf8(spec).Length >= targetBytes) return SpecSerializer.SerializeToUtf8(spec);
        }
    }
}
