using BenchmarkDotNet.Attributes;
using OciRuntime.Runtime.State;

namespace OciRuntime.Benchmarks;

/// <summary>state.json write (temp + fsync + rename, under the container lock) and read, as every command does.</summary>
[MemoryDiagnoser]
public class StateBenchmarks
{
    private StateStore _store = null!;
    private ContainerDirectory _dir = null!;
    private readonly ContainerRecord _record = new()
    {
        Id = "bench",
        InitPid = 4242,
        InitStartTime = 123456789,
        Bundle = "/var/lib/bundles/bench",
        Rootfs = "/var/lib/bundles/bench/rootfs",
        Created = DateTimeOffset.UtcNow,
        NamespacePaths = new() { ["pid"] = "/proc/4242/ns/pid", ["mount"] = "/proc/4242/ns/mnt", ["network"] = "/proc/4242/ns/net" },
        OwnPidNamespace = true,
    };

    [GlobalSetup]
    public void Setup()
    {
        var root = Path.Combine(Path.GetTempPath(), "ocirun-bench-" + Guid.NewGuid().ToString("N"));
        _store = new StateStore(root);
        _dir = _store.Create("bench");
        _dir.Save(_record);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _dir.Remove();
        _dir.Dispose();
        Directory.Delete(_store.Root, recursive: true);
    }

    [Benchmark]
    public void Save() => _dir.Save(_record);

    [Benchmark]
    public ContainerRecord Load() => _dir.Load();
}
