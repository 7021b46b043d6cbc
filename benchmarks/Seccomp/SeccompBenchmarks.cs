using System.Runtime.InteropServices;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using OciRuntime.Interop;
using OciRuntime.Runtime.Init;
using OciRuntime.Runtime.ProcessModel;
using OciRuntime.Spec;

namespace OciRuntime.Benchmarks.Seccomp;

/// <summary>
/// The seccomp work ocirun does per container, on the Docker default profile (434 syscall names for x86-64):
/// compiling it with libseccomp (create time) and loading it with seccomp(2) (right before execve).
/// Loading is measured on a fresh thread per operation (a filter cannot be removed from a thread); ThreadOnly is
/// that thread's cost without a filter, to subtract.
/// </summary>
[MemoryDiagnoser]
public class SeccompBenchmarks
{
    private LinuxSeccomp _grouped = null!;
    private LinuxSeccomp _exploded = null!;
    private SeccompFilter _filter = null!;
    private SeccompFilter _explodedFilter = null!;

    [GlobalSetup]
    public void Setup()
    {
        var dir = Path.Combine(AppContext.BaseDirectory, "fixtures");
        _grouped = Load(Path.Combine(dir, "docker-default.json"));
        _exploded = Load(Path.Combine(dir, "docker-default-exploded.json"));
        _filter = SeccompFilter.Build(_grouped);
        Console.WriteLine($"// docker-default: {_grouped.Syscalls!.Count} rules, {_grouped.Syscalls.Sum(r => r.Names.Count)} names, {_filter.Length} BPF instructions");
        _explodedFilter = SeccompFilter.Build(_exploded);
        Console.WriteLine($"// docker-default-exploded: {_exploded.Syscalls!.Count} rules, {_explodedFilter.Length} BPF instructions");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _filter.Dispose();
        _explodedFilter.Dispose();
    }

    private static LinuxSeccomp Load(string path) =>
        JsonSerializer.Deserialize(File.ReadAllBytes(path), SpecJsonContext.Default.LinuxSeccomp) ?? throw new InvalidDataException(path);

    /// <summary>libseccomp: seccomp_init, the architectures, every rule, binary-tree optimisation, export to BPF.</summary>
    [Benchmark]
    public int Compile_docker_default()
    {
        using var f = SeccompFilter.Build(_grouped);
        return f.Length;
    }

    /// <summary>The same filter given as one rule per syscall name.</summary>
    [Benchmark]
    public int Compile_docker_default_one_rule_per_syscall()
    {
        using var f = SeccompFilter.Build(_exploded);
        return f.Length;
    }

    /// <summary>A thread that sets no_new_privs and exits: the baseline of <see cref="Load_on_a_new_thread"/>.</summary>
    [Benchmark(Baseline = true)]
    public void ThreadOnly() => OnNewThread(() => _ = Libc.prctl(Prctl.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));

    /// <summary>seccomp(SECCOMP_SET_MODE_FILTER) of the compiled profile on a fresh thread.</summary>
    [Benchmark]
    public void Load_on_a_new_thread() => OnNewThread(() =>
    {
        _ = Libc.prctl(Prctl.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        _filter.Load();
    });

    /// <summary>The one-rule-per-syscall form (libseccomp's binary tree is on: more than 32 rules).</summary>
    [Benchmark]
    public void Load_one_rule_per_syscall_on_a_new_thread() => OnNewThread(() =>
    {
        _ = Libc.prctl(Prctl.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        _explodedFilter.Load();
    });

    private static void OnNewThread(Action action)
    {
        Exception? failure = null;
        var t = new Thread(() =>
        {
            try { action(); } catch (Exception e) { failure = e; }
        });
        t.Start();
        t.Join();
        if (failure is not null) throw failure;
    }
}

/// <summary>The CVE-2019-5736 protection made once per launched init: a read-only bind of the ocirun binary, or a sealed memfd copy.</summary>
public class SealedExecutableBenchmarks
{
    private string _binary = "";

    [GlobalSetup]
    public void Setup()
    {
        _binary = Environment.GetEnvironmentVariable("OCIRUN_BINARY") is { Length: > 0 } b ? b : FindRepoFile("ocirun");
        Console.WriteLine($"// copying {_binary}: {new FileInfo(_binary).Length} bytes");
    }

    private static string FindRepoFile(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, name);
            if (File.Exists(candidate) && File.Exists(Path.Combine(dir.FullName, "OciRuntime.sln"))) return candidate;
        }
        throw new FileNotFoundException($"{name} not found above {AppContext.BaseDirectory}: run make, or set OCIRUN_BINARY");
    }

    /// <summary>memfd_create + sendfile of the whole binary + F_ADD_SEALS (the fallback).</summary>
    [Benchmark]
    public long Sealed_memfd_copy_of_ocirun()
    {
        using var copy = SealedExecutable.CreateMemfdCopy(_binary);
        return copy.Size;
    }

    /// <summary>open_tree OPEN_TREE_CLONE + mount_setattr MOUNT_ATTR_RDONLY (the default as root).</summary>
    [Benchmark]
    public long Read_only_bind_of_ocirun()
    {
        using var bind = SealedExecutable.TryReadOnlyBind(_binary) ?? throw new InvalidOperationException("open_tree/mount_setattr refused (not root?)");
        return bind.Size;
    }
}
