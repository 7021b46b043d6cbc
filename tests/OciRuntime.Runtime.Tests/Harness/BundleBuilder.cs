using OciRuntime.Spec;

namespace OciRuntime.Runtime.Tests.Harness;

/// <summary>
/// An OCI bundle in a fresh temporary directory: a busybox rootfs (copied with `cp -a` from a template built once per
/// test run) and <see cref="Spec"/>, runc's default configuration with terminal off, which tests change before
/// <see cref="Write"/> writes config.json. Dispose removes the directory (never across a mount).
/// </summary>
public sealed class BundleBuilder : IDisposable
{
    /// <summary>The host's static busybox.</summary>
    public const string Busybox = "/bin/busybox";

    private static readonly Lazy<string> Template = new(BuildTemplate, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>A new bundle with its own copy of the template rootfs.</summary>
    public BundleBuilder(string prefix = "bundle")
    {
        Dir = TestEnv.NewDir(prefix);
        Rootfs = Path.Combine(Dir, "rootfs");
        var cp = Ocirun.Exec("/bin/cp", ["-a", Template.Value, Rootfs]);
        if (cp.ExitCode != 0) throw new IOException($"cp -a {Template.Value} {Rootfs}: {cp.Stderr}");
        Spec = DefaultSpec.Create();
        Spec.Process!.Terminal = false;
    }

    /// <summary>The bundle directory.</summary>
    public string Dir { get; }

    /// <summary>The rootfs directory (bundle/rootfs).</summary>
    public string Rootfs { get; }

    /// <summary>The configuration written by <see cref="Write"/>.</summary>
    public Spec.Spec Spec { get; }

    /// <summary>The process of <see cref="Spec"/>.</summary>
    public Process Process => Spec.Process!;

    /// <summary>Sets process.args.</summary>
    public BundleBuilder Args(params string[] args)
    {
        Process.Args = [.. args];
        return this;
    }

    /// <summary>Sets process.args to `sh -c SCRIPT`.</summary>
    public BundleBuilder Sh(string script) => Args("sh", "-c", script);

    /// <summary>Writes config.json (SpecSerializer, as `ocirun spec` would) and returns the bundle directory.</summary>
    public string Write()
    {
        File.WriteAllText(Path.Combine(Dir, "config.json"), SpecSerializer.Serialize(Spec));
        return Dir;
    }

    /// <summary>Removes a namespace type from linux.namespaces.</summary>
    public BundleBuilder WithoutNamespace(string type)
    {
        Spec.Linux!.Namespaces!.RemoveAll(n => n.Type == type);
        return this;
    }

    /// <summary>Sets (or adds) a namespace of <paramref name="type"/>, joined at <paramref name="path"/> when given.</summary>
    public BundleBuilder WithNamespace(string type, string? path = null)
    {
        WithoutNamespace(type);
        Spec.Linux!.Namespaces!.Add(new LinuxNamespace { Type = type, Path = path });
        return this;
    }

    /// <inheritdoc />
    public void Dispose() => TestEnv.RemoveTree(Dir);

    private static string BuildTemplate()
    {
        if (!File.Exists(Busybox)) throw new FileNotFoundException($"{Busybox} is missing (apt-get install busybox-static)");
        var rootfs = Path.Combine(TestEnv.BaseDir, "template", "rootfs");
        foreach (var d in new[] { "bin", "sbin", "etc", "proc", "sys", "dev", "tmp", "root", "usr/bin", "usr/sbin", "var" })
            Directory.CreateDirectory(Path.Combine(rootfs, d));
        File.Copy(Busybox, Path.Combine(rootfs, "bin", "busybox"));
        File.SetUnixFileMode(Path.Combine(rootfs, "bin", "busybox"), (UnixFileMode)0x1ed /* 0755 */);
        var list = Ocirun.Exec(Busybox, ["--list"]);
        if (list.ExitCode != 0) throw new IOException($"busybox --list: {list.Stderr}");
        foreach (var applet in list.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (applet == "busybox" || applet.Contains('/', StringComparison.Ordinal)) continue;
            File.CreateSymbolicLink(Path.Combine(rootfs, "bin", applet), "busybox");
        }
        File.WriteAllText(Path.Combine(rootfs, "etc", "passwd"), "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n");
        File.WriteAllText(Path.Combine(rootfs, "etc", "group"), "root:x:0:\nnobody:x:65534:\n");
        File.SetUnixFileMode(Path.Combine(rootfs, "tmp"), (UnixFileMode)0x3ff /* 01777 */);
        return rootfs;
    }
}
