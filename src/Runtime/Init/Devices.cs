using System.Runtime.InteropServices;
using OciRuntime.Interop;
using OciRuntime.Spec;

namespace OciRuntime.Runtime.Init;

/// <summary>
/// /dev inside the container: the default devices (config-linux.md#default-devices: null, zero, full, random,
/// urandom, tty), linux.devices, and the /dev/fd, stdin, stdout, stderr and ptmx symlinks.
/// Nodes are made with mknod, or bind-mounted from the host where mknod is not permitted (user namespaces).
/// </summary>
internal static class Devices
{
    private const uint S_IFCHR = 0x2000, S_IFBLK = 0x6000, S_IFIFO = 0x1000;

    /// <summary>The devices every container gets (runtime-spec config-linux.md#default-devices), as runc creates them.</summary>
    public static IReadOnlyList<LinuxDevice> Defaults { get; } =
    [
        new() { Path = "/dev/null", Type = "c", Major = 1, Minor = 3, FileMode = 438, Uid = 0, Gid = 0 },
        new() { Path = "/dev/zero", Type = "c", Major = 1, Minor = 5, FileMode = 438, Uid = 0, Gid = 0 },
        new() { Path = "/dev/full", Type = "c", Major = 1, Minor = 7, FileMode = 438, Uid = 0, Gid = 0 },
        new() { Path = "/dev/random", Type = "c", Major = 1, Minor = 8, FileMode = 438, Uid = 0, Gid = 0 },
        new() { Path = "/dev/urandom", Type = "c", Major = 1, Minor = 9, FileMode = 438, Uid = 0, Gid = 0 },
        new() { Path = "/dev/tty", Type = "c", Major = 5, Minor = 0, FileMode = 438, Uid = 0, Gid = 0 },
    ];

    /// <summary>Creates the default devices and <paramref name="extra"/> (linux.devices) under <paramref name="rootfs"/>.</summary>
    public static void Create(string rootfs, List<LinuxDevice>? extra)
    {
        var all = new List<LinuxDevice>(Defaults);
        foreach (var device in extra ?? [])
        {
            all.RemoveAll(d => d.Path == device.Path);
            all.Add(device);
        }
        for (var i = 0; i < all.Count; i++)
        {
            var device = all[i];
            try
            {
                CreateNode(rootfs, device);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                var where = extra is not null && extra.Contains(device) ? $"config.json: linux.devices[{extra.IndexOf(device)}] ({device.Path})" : $"default device {device.Path}";
                throw new InitException($"{where}: {e.Message}", e);
            }
        }
    }

    private static void CreateNode(string rootfs, LinuxDevice device)
    {
        var dest = SecurePath.Resolve(rootfs, device.Path);
        RootfsSetup.MakeDirectories(Path.GetDirectoryName(dest)!);
        var kind = device.Type switch
        {
            "c" or "u" => S_IFCHR,
            "b" => S_IFBLK,
            "p" => S_IFIFO,
            _ => throw new InvalidDataException($"unknown device type \"{device.Type}\""),
        };
        var mode = (device.FileMode ?? 438) & 0xfff; // permission bits only; 0666 when absent
        var dev = Libc.MakeDev((ulong)device.Major, (ulong)device.Minor);
        if (Libc.mknodat(OpenFlags.AT_FDCWD, dest, kind | mode, dev) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno == Errno.EEXIST) return;
            if (errno != Errno.EPERM) throw new SyscallException($"mknod {dest}", errno);
            BindFromHost(device.Path, dest);
            return;
        }
        Libc.Check(Libc.fchownat(OpenFlags.AT_FDCWD, dest, device.Uid ?? 0, device.Gid ?? 0, 0), $"chown {dest}");
    }

    private static void BindFromHost(string hostPath, string dest)
    {
        if (!File.Exists(dest)) using (File.Create(dest)) { }
        Libc.Mount(hostPath, dest, "bind", MountFlags.Bind, null);
    }

    /// <summary>/dev/fd, /dev/stdin, /dev/stdout, /dev/stderr, /dev/core (when the host has /proc/kcore) and /dev/ptmx → pts/ptmx.</summary>
    public static void CreateSymlinks(string rootfs)
    {
        var dev = SecurePath.Resolve(rootfs, "/dev");
        RootfsSetup.MakeDirectories(dev);
        (string Target, string Name)[] links =
        [
            ("/proc/self/fd", "fd"), ("/proc/self/fd/0", "stdin"), ("/proc/self/fd/1", "stdout"), ("/proc/self/fd/2", "stderr"),
        ];
        foreach (var (target, name) in links) Symlink(target, dev + "/" + name);
        if (File.Exists("/proc/kcore")) Symlink("/proc/kcore", dev + "/core");
        var ptmx = dev + "/ptmx";
        if (Libc.unlinkat(OpenFlags.AT_FDCWD, ptmx, 0) != 0 && Marshal.GetLastPInvokeError() != Errno.ENOENT)
            throw SyscallException.FromLastError($"remove {ptmx}");
        Symlink("pts/ptmx", ptmx);
    }

    private static void Symlink(string target, string link)
    {
        if (Libc.symlinkat(target, OpenFlags.AT_FDCWD, link) != 0 && Marshal.GetLastPInvokeError() != Errno.EEXIST)
            throw SyscallException.FromLastError($"symlink {link} -> {target}");
    }
}
