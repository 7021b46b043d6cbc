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

    /// <summary>Creates the default devices and <paramref name="extra"/> (linux.devices) under <paramref name="root"/> (the rootfs, by fd).</summary>
    public static void Create(RootDir root, List<LinuxDevice>? extra)
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
                CreateNode(root, device);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                var where = extra is not null && extra.Contains(device) ? $"config.json: linux.devices[{extra.IndexOf(device)}] ({device.Path})" : $"default device {device.Path}";
                throw new InitException($"{where}: {e.Message}", e);
            }
        }
    }

    // The node is made in its parent directory, held by an fd resolved inside the rootfs (RootDir): a /dev that is a
    // symlink, or is swapped for one, cannot place a device node (or the bind of a host device) outside the container.
    private static void CreateNode(RootDir root, LinuxDevice device)
    {
        var kind = device.Type switch
        {
            "c" or "u" => S_IFCHR,
            "b" => S_IFBLK,
            "p" => S_IFIFO,
            _ => throw new InvalidDataException($"unknown device type \"{device.Type}\""),
        };
        var (parent, name) = root.MkParent(device.Path);
        using (parent)
        {
            var shown = root.Display(device.Path);
            var mode = (device.FileMode ?? 438) & 0xfff; // permission bits only; 0666 when absent
            var dev = Libc.MakeDev((ulong)device.Major, (ulong)device.Minor);
            if (Libc.mknodat(parent.Fd, name, kind | mode, dev) != 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno == Errno.EEXIST)
                {
                    // config-linux.md#devices: a file already at path that does not match the device MUST be an error
                    // (runc 1.1 keeps whatever is there; ocirun follows the spec: docs/behaviour.md).
                    var existing = Libc.StatAt(parent.Fd, name, OpenFlags.AT_SYMLINK_NOFOLLOW);
                    if ((existing.Mode & Libc.S_IFMT) == kind && (kind == S_IFIFO
                        || (existing.RdevMajor == (ulong)device.Major && existing.RdevMinor == (ulong)device.Minor)))
                        return;
                    throw new IOException($"{shown} exists and is not that device");
                }
                if (errno != Errno.EPERM) throw new SyscallException($"mknod {shown}", errno);
                BindFromHost(device.Path, parent, name, shown);
                return;
            }
            Libc.Check(Libc.fchownat(parent.Fd, name, device.Uid ?? 0, device.Gid ?? 0, OpenFlags.AT_SYMLINK_NOFOLLOW), $"chown {shown}");
        }
    }

    // Where mknod is not permitted (a user namespace): an empty file, the host's node bind-mounted on it by fd.
    private static void BindFromHost(string hostPath, SafeFd parent, string name, string shown)
    {
        var made = Libc.openat(parent.Fd, name, OpenFlags.O_CREAT | OpenFlags.O_WRONLY | OpenFlags.O_NOFOLLOW | OpenFlags.O_CLOEXEC, 0);
        if (made < 0 && Marshal.GetLastPInvokeError() != Errno.EEXIST) throw SyscallException.FromLastError($"create {shown}");
        if (made >= 0) Libc.close(made);
        using var target = SafeFd.Check(Libc.openat(parent.Fd, name, OpenFlags.O_PATH | OpenFlags.O_NOFOLLOW | OpenFlags.O_CLOEXEC), $"open {shown}");
        if ((Libc.StatFd(target.Fd).Mode & Libc.S_IFMT) == 0xa000) throw new SyscallException($"bind {hostPath} on {shown}", Errno.ELOOP);
        Libc.Mount(hostPath, RootDir.FdPath(target), "bind", MountFlags.Bind, null, shown);
    }

    /// <summary>/dev/fd, /dev/stdin, /dev/stdout, /dev/stderr, /dev/core (when the host has /proc/kcore) and /dev/ptmx → pts/ptmx.</summary>
    public static void CreateSymlinks(RootDir root)
    {
        using var dev = root.MkdirAll("/dev");
        (string Target, string Name)[] links =
        [
            ("/proc/self/fd", "fd"), ("/proc/self/fd/0", "stdin"), ("/proc/self/fd/1", "stdout"), ("/proc/self/fd/2", "stderr"),
        ];
        foreach (var (target, name) in links) Symlink(target, dev, name, root);
        if (File.Exists("/proc/kcore")) Symlink("/proc/kcore", dev, "core", root);
        if (Libc.unlinkat(dev.Fd, "ptmx", 0) != 0 && Marshal.GetLastPInvokeError() != Errno.ENOENT)
            throw SyscallException.FromLastError($"remove {root.Display("/dev/ptmx")}");
        Symlink("pts/ptmx", dev, "ptmx", root);
    }

    private static void Symlink(string target, SafeFd dir, string name, RootDir root)
    {
        if (Libc.symlinkat(target, dir.Fd, name) != 0 && Marshal.GetLastPInvokeError() != Errno.EEXIST)
            throw SyscallException.FromLastError($"symlink {root.Display("/dev/" + name)} -> {target}");
    }
}
