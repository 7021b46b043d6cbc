using System.Diagnostics;
using Process = System.Diagnostics.Process;
using OciRuntime.Spec;

namespace OciRuntime.Runtime.Tests;

/// <summary>
/// A throw-away OCI bundle for the cgroup tests: a rootfs holding a copy of the static /bin/busybox with a symlink per
/// applet, and runc's default config (OciRuntime.Spec.DefaultSpec) with terminal off. Tests edit <see cref="Spec"/>
/// and call <see cref="Save"/>. The state root of the runtime lives in the same temporary directory.
/// </summary>
public sealed class CgroupTestBundle : IDisposable
{
    private static readonly Lazy<string[]> Applets = new(() =>
    {
        using var p = Process.Start(new ProcessStartInfo("/bin/busybox", "--list") { RedirectStandardOutput = true })!;
        var list = p.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        p.WaitForExit();
        return list;
    });

    public CgroupTestBundle(params string[] args)
    {
        Dir = Path.Combine(Path.GetTempPath(), "ocirun-cgtest-" + Guid.NewGuid().ToString("N")[..10]);
        var bin = Path.Combine(Dir, "bundle", "rootfs", "bin");
        Directory.CreateDirectory(bin);
        File.Copy("/bin/busybox", Path.Combine(bin, "busybox"));
        foreach (var applet in Applets.Value)
        {
            if (applet != "busybox") File.CreateSymbolicLink(Path.Combine(bin, applet), "busybox");
        }
        foreach (var d in new[] { "proc", "sys", "dev", "tmp", "etc" }) Directory.CreateDirectory(Path.Combine(Dir, "bundle", "rootfs", d));
        Spec = DefaultSpec.Create();
        Spec.Process!.Terminal = false;
        Spec.Process.Args = [.. args];
        Spec.Linux!.Resources ??= new LinuxResources();
        StateRoot = Path.Combine(Dir, "state");
        Directory.CreateDirectory(StateRoot);
        Id = "cg-" + Guid.NewGuid().ToString("N")[..12];
        Save();
    }

    /// <summary>The temporary directory (bundle/ and state/ inside).</summary>
    public string Dir { get; }

    /// <summary>The bundle directory.</summary>
    public string Bundle => Path.Combine(Dir, "bundle");

    /// <summary>The --root of the runtime.</summary>
    public string StateRoot { get; }

    /// <summary>A fresh container id.</summary>
    public string Id { get; }

    /// <summary>The config; <see cref="Save"/> writes it.</summary>
    public Spec.Spec Spec { get; }

    /// <summary>linux.resources of <see cref="Spec"/>.</summary>
    public LinuxResources Resources => Spec.Linux!.Resources!;

    /// <summary>Writes config.json.</summary>
    public void Save() => File.WriteAllText(Path.Combine(Bundle, "config.json"), SpecSerializer.Serialize(Spec));

    public void Dispose()
    {
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
