using System.Globalization;
using OciRuntime.Interop;
using OciRuntime.Spec;

namespace OciRuntime.Runtime.Tests.Harness;

/// <summary>
/// A throw-away OCI bundle for the user namespace and rootless tests: a busybox rootfs (Debian's busybox-static, one
/// symlink per applet) and runc's default config.json with terminal off and a writable root, to be edited through
/// <see cref="Spec"/> and written with <see cref="Write"/>. Lives in its own temporary directory (<see cref="Dir"/>),
/// removed on dispose.
/// </summary>
public sealed class UsernsBundle : IDisposable
{
    private static readonly Lazy<string[]> Applets = new(() =>
    {
        var result = Ocirun.Exec(BusyboxPath, ["--list"]);
        if (result.ExitCode != 0) throw new InvalidOperationException($"busybox --list failed: {result}");
        return result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    });

    private UsernsBundle(string dir)
    {
        Dir = dir;
        Path = System.IO.Path.Combine(dir, "bundle");
        Rootfs = System.IO.Path.Combine(Path, "rootfs");
        Spec = DefaultSpec.Create();
        Spec.Process!.Terminal = false;
        Spec.Root!.Readonly = false;
        Spec.Process.Args = ["true"];
    }

    /// <summary>The busybox binary (busybox-static).</summary>
    public static string BusyboxPath => File.Exists("/bin/busybox") ? "/bin/busybox" : "/usr/bin/busybox";

    /// <summary>The temporary directory holding the bundle (and anything else a test puts there).</summary>
    public string Dir { get; }

    /// <summary>The bundle directory (config.json, rootfs).</summary>
    public string Path { get; }

    /// <summary>The rootfs directory.</summary>
    public string Rootfs { get; }

    /// <summary>The configuration written by <see cref="Write"/>.</summary>
    public Spec.Spec Spec { get; set; }

    /// <summary>Makes a bundle under a new directory in /tmp (mode 0755, so that an unprivileged user may reach it).</summary>
    public static UsernsBundle Create(string prefix)
    {
        var dir = Directory.CreateTempSubdirectory(prefix).FullName;
        File.SetUnixFileMode(dir, (UnixFileMode)0x1ed); // 0755
        var bundle = new UsernsBundle(dir);
        bundle.BuildRootfs();
        return bundle;
    }

    /// <summary>Writes config.json from <see cref="Spec"/>.</summary>
    public void Write() => File.WriteAllText(System.IO.Path.Combine(Path, "config.json"), SpecSerializer.Serialize(Spec));

    /// <summary>Sets process.args (and writes config.json).</summary>
    public void SetArgs(params string[] args)
    {
        Spec.Process!.Args = [.. args];
        Write();
    }

    /// <summary>Adds a new user namespace mapping container ids 0… to host ids <paramref name="hostId"/>… (<paramref name="size"/> of them).</summary>
    public void AddUserNamespace(uint hostId, uint size)
    {
        var linux = Spec.Linux!;
        linux.Namespaces = [.. (linux.Namespaces ?? []).Where(n => n.Type != NamespaceType.User), new LinuxNamespace { Type = NamespaceType.User }];
        linux.UidMappings = [new LinuxIdMapping { ContainerId = 0, HostId = hostId, Size = size }];
        linux.GidMappings = [new LinuxIdMapping { ContainerId = 0, HostId = hostId, Size = size }];
    }

    /// <summary>chown -R of the whole temporary directory (for a rootless test user).</summary>
    public void ChownAll(uint uid, uint gid)
    {
        foreach (var path in Directory.EnumerateFileSystemEntries(Dir, "*", SearchOption.AllDirectories).Prepend(Dir))
        {
            if (Libc.fchownat(OpenFlags.AT_FDCWD, path, uid, gid, OpenFlags.AT_SYMLINK_NOFOLLOW) != 0)
                throw SyscallException.FromLastError($"chown {path}");
        }
    }

    private void BuildRootfs()
    {
        foreach (var d in new[] { "bin", "sbin", "etc", "proc", "sys", "dev", "tmp", "root", "usr/bin", "usr/sbin", "var", "mnt" })
            Directory.CreateDirectory(System.IO.Path.Combine(Rootfs, d));
        File.Copy(BusyboxPath, System.IO.Path.Combine(Rootfs, "bin/busybox"));
        File.SetUnixFileMode(System.IO.Path.Combine(Rootfs, "bin/busybox"), (UnixFileMode)0x1ed);
        foreach (var applet in Applets.Value)
        {
            if (applet != "busybox") File.CreateSymbolicLink(System.IO.Path.Combine(Rootfs, "bin", applet), "busybox");
        }
        File.WriteAllText(System.IO.Path.Combine(Rootfs, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n");
        File.WriteAllText(System.IO.Path.Combine(Rootfs, "etc/group"), "root:x:0:\ntty:x:5:\nnogroup:x:65534:\n");
        File.SetUnixFileMode(System.IO.Path.Combine(Rootfs, "tmp"), (UnixFileMode)0x3ff); // 1777
        Write();
    }

    /// <summary>Owner uid and gid of <paramref name="path"/> on the host ("uid:gid").</summary>
    public static string OwnerOf(string path)
    {
        var st = Libc.StatPath(path);
        return string.Create(CultureInfo.InvariantCulture, $"{st.Uid}:{st.Gid}");
    }

    /// <inheritdoc />
    public void Dispose()
    {
        try
        {
            Directory.Delete(Dir, recursive: true);
        }
        catch (IOException)
        {
            // a container still holding a mount: leave it for /tmp's cleaner
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
