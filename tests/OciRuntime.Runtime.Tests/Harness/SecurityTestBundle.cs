using System.Globalization;
using System.Security.Cryptography;
using OciRuntime.Spec;

namespace OciRuntime.Runtime.Tests.Harness;

/// <summary>
/// A throw-away OCI bundle for the security tests: a busybox rootfs (the host's /bin/busybox and its applet symlinks)
/// and a config from <see cref="DefaultSpec.Create"/> with terminal off and a writable root. Tests change
/// <see cref="Spec"/> and call <see cref="Run"/> (or <see cref="Save"/> + their own commands).
/// </summary>
public sealed class SecurityTestBundle : IDisposable
{
    private static readonly string[] Applets = LoadApplets();

    private SecurityTestBundle(string dir)
    {
        Dir = dir;
        Rootfs = Path.Combine(dir, "rootfs");
        Spec = DefaultSpec.Create();
        Spec.Process!.Terminal = false;
        Spec.Root!.Readonly = false;
    }

    /// <summary>The bundle directory.</summary>
    public string Dir { get; }

    /// <summary>The rootfs directory.</summary>
    public string Rootfs { get; }

    /// <summary>The config written by <see cref="Save"/>.</summary>
    public Spec.Spec Spec { get; }

    /// <summary>The ocirun under test with a state root of its own inside the bundle directory.</summary>
    public Ocirun Ocirun => new(Harness.Ocirun.DefaultBinary, Path.Combine(Dir, "state"));

    /// <summary>Makes a bundle whose process runs <c>sh -c <paramref name="script"/></c>.</summary>
    public static SecurityTestBundle Create(string script = "true")
    {
        var dir = Path.Combine(Path.GetTempPath(), "ocirun-sec-" + Guid.NewGuid().ToString("N")[..12]);
        var bundle = new SecurityTestBundle(dir);
        var rootfs = bundle.Rootfs;
        foreach (var d in new[] { "bin", "sbin", "etc", "proc", "sys", "dev", "tmp", "root", "usr/bin", "usr/sbin", "var", "mnt" })
            Directory.CreateDirectory(Path.Combine(rootfs, d));
        File.Copy("/bin/busybox", Path.Combine(rootfs, "bin/busybox"));
        foreach (var applet in Applets)
        {
            var link = Path.Combine(rootfs, "bin", applet);
            if (!File.Exists(link)) File.CreateSymbolicLink(link, "busybox");
        }
        File.WriteAllText(Path.Combine(rootfs, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/tmp:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n");
        File.WriteAllText(Path.Combine(rootfs, "etc/group"), "root:x:0:\nuser:x:1000:\nnogroup:x:65534:\n");
        File.SetUnixFileMode(Path.Combine(rootfs, "tmp"), (UnixFileMode)0x3ff); // 1777
        bundle.Spec.Process!.Args = ["sh", "-c", script];
        return bundle;
    }

    /// <summary>Sets the script run by <c>sh -c</c>.</summary>
    public SecurityTestBundle Script(string script)
    {
        Spec.Process!.Args = ["sh", "-c", script];
        return this;
    }

    /// <summary>Writes config.json.</summary>
    public void Save() => File.WriteAllText(Path.Combine(Dir, "config.json"), SpecSerializer.Serialize(Spec));

    /// <summary>A unique container id for this bundle.</summary>
    public static string NewId() => "sec-" + Guid.NewGuid().ToString("N")[..10];

    /// <summary>Saves the config and runs <c>ocirun run</c> in the foreground; returns its status and output.</summary>
    public CommandResult Run(int timeoutMs = 60_000)
    {
        Save();
        return Harness.Ocirun.Exec(Ocirun.Binary, ["--root", Ocirun.StateRoot, "run", "--bundle", Dir, NewId()], timeoutMs);
    }

    /// <summary>
    /// Runs <c>ocirun create</c> (or <c>run -d</c> with <paramref name="detachedRun"/>) with the container's stdio going to
    /// DIR/ID.out, so the test does not wait on the container's pipes; returns the result and the init's pid.
    /// </summary>
    /// <param name="id">The container id.</param>
    /// <param name="detachedRun">Use <c>run -d</c> instead of <c>create</c>.</param>
    /// <param name="outputFifo">A fifo in the bundle to use as the container's stdout and stderr instead of DIR/ID.out
    /// (see <see cref="FillFifo"/>); null = the file.</param>
    public (CommandResult Result, int Pid) CreateDetached(string id, bool detachedRun = false, string? outputFifo = null)
    {
        Save();
        var outFile = OutputFile(id);
        File.WriteAllText(outFile, "");
        var verb = detachedRun ? "run -d" : "create";
        var stdout = $">{outFile} 2>&1";
        if (outputFifo is not null)
        {
            var fifo = Path.Combine(Dir, outputFifo);
            if (!File.Exists(fifo)) Harness.Ocirun.Exec("mkfifo", [fifo]);
            stdout = $"1<>{fifo} 2>&1";
        }
        var script = $"exec {Harness.Ocirun.DefaultBinary} --root {Ocirun.StateRoot} {verb} --bundle {Dir} {id} </dev/null {stdout}";
        var r = Harness.Ocirun.Exec("sh", ["-c", script]);
        var pid = 0;
        if (r.ExitCode == 0)
        {
            var state = Command("state", id);
            pid = System.Text.Json.JsonDocument.Parse(state.Stdout).RootElement.GetProperty("pid").GetInt32();
        }
        return (r with { Stderr = r.Stderr + File.ReadAllText(outFile) }, pid);
    }

    /// <summary>Fills the pipe buffer of fifo <paramref name="name"/> (someone must hold it open), so the next write to it blocks.</summary>
    public unsafe void FillFifo(string name)
    {
        var fd = OciRuntime.Interop.Libc.open(Path.Combine(Dir, name), OciRuntime.Interop.OpenFlags.O_WRONLY | OciRuntime.Interop.OpenFlags.O_NONBLOCK | OciRuntime.Interop.OpenFlags.O_CLOEXEC);
        if (fd < 0) throw new IOException($"open {name} for writing");
        try
        {
            var chunk = stackalloc byte[4096];
            while (OciRuntime.Interop.Libc.write(fd, chunk, 4096) > 0) { }
        }
        finally
        {
            OciRuntime.Interop.Libc.close(fd);
        }
    }

    /// <summary>The file a detached container's stdout and stderr go to.</summary>
    public string OutputFile(string id) => Path.Combine(Dir, id + ".out");

    /// <summary>Copies the host's dynamic loader and C library into the rootfs, so that host binaries (ocirun) can run inside.</summary>
    public void AddHostLibraries()
    {
        foreach (var lib in new[] { "/lib64/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu/libc.so.6", "/lib/x86_64-linux-gnu/libm.so.6" })
        {
            var target = Rootfs + lib;
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(new FileInfo(lib).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? lib, target, overwrite: true);
        }
    }

    /// <summary>Runs a command of the runtime against this bundle's state root.</summary>
    public CommandResult Command(params string[] args) => Harness.Ocirun.Exec(Ocirun.Binary, ["--root", Ocirun.StateRoot, .. args]);

    /// <summary>The value of a "Key:\tvalue" line of a /proc/PID/status dump in <paramref name="output"/>.</summary>
    public static string StatusField(string output, string key)
    {
        foreach (var line in output.Split('\n'))
        {
            if (line.StartsWith(key + ":", StringComparison.Ordinal)) return line[(key.Length + 1)..].Trim();
        }
        throw new KeyNotFoundException($"{key} not in:\n{output}");
    }

    /// <summary>The capability mask of a CapXxx status field.</summary>
    public static ulong CapField(string output, string key) => ulong.Parse(StatusField(output, key), NumberStyles.HexNumber, CultureInfo.InvariantCulture);

    /// <summary>The sha256 of a file, hex.</summary>
    public static string Sha256(string path) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)));

    private static string[] LoadApplets()
    {
        var list = Harness.Ocirun.Exec("/bin/busybox", ["--list"]);
        return list.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(a => a != "busybox").ToArray();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        try
        {
            // Anything left (a failed test) is deleted before the files go.
            if (Directory.Exists(Path.Combine(Dir, "state")))
            {
                foreach (var c in Directory.EnumerateDirectories(Path.Combine(Dir, "state")))
                    Command("delete", "--force", Path.GetFileName(c));
            }
            Directory.Delete(Dir, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
