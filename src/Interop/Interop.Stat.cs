using System.Runtime.InteropServices;

namespace OciRuntime.Interop;

/// <summary>Filesystem magic numbers (statfs f_type).</summary>
public static class FsMagic
{
    /// <summary>PROC_SUPER_MAGIC.</summary>
    public const long Proc = 0x9fa0;
    /// <summary>SYSFS_MAGIC.</summary>
    public const long Sysfs = 0x62656572;
    /// <summary>TMPFS_MAGIC.</summary>
    public const long Tmpfs = 0x01021994;
    /// <summary>CGROUP_SUPER_MAGIC (v1).</summary>
    public const long Cgroup = 0x27e0eb;
    /// <summary>CGROUP2_SUPER_MAGIC.</summary>
    public const long Cgroup2 = 0x63677270;
    /// <summary>RAMFS_MAGIC.</summary>
    public const long Ramfs = 0x858458f6;
    /// <summary>NSFS_MAGIC: namespace files (/proc/PID/ns/*, and their bind mounts such as /run/netns/NAME).</summary>
    public const long Nsfs = 0x6e736673;
}

// Own declarations (Tmds.LibC 0.5.0 lacks them): statfs, fstatfs, realpath, free.
public static partial class Libc
{
    [LibraryImport(Name, EntryPoint = "statfs", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int statfs(string path, long* buf);

    [LibraryImport(Name, EntryPoint = "fstatfs", SetLastError = true)]
    private static unsafe partial int fstatfs(int fd, long* buf);

    /// <summary>The filesystem type (f_type) of the filesystem holding <paramref name="path"/>.</summary>
    /// <exception cref="SyscallException">statfs failed.</exception>
    public static unsafe long FsType(string path)
    {
        long* buf = stackalloc long[16]; // struct statfs is 120 bytes on 64-bit
        Check(statfs(path, buf), $"statfs {path}");
        return buf[0];
    }

    /// <summary>The filesystem type (f_type) of the filesystem holding open fd <paramref name="fd"/>.</summary>
    /// <exception cref="SyscallException">fstatfs failed.</exception>
    public static unsafe long FsType(int fd)
    {
        long* buf = stackalloc long[16];
        Check(fstatfs(fd, buf), $"fstatfs {fd}");
        return buf[0];
    }
}

public static partial class Libc
{
    /// <summary>access(2).</summary>
    public static unsafe int access(string path, int mode)
    {
        fixed (byte* p = Utf8Z(path)) return LibC.access(p, mode);
    }

    /// <summary>access(2) mode: executable.</summary>
    public const int X_OK = 1;

    /// <summary>
    /// The mount flags (statfs f_flags, ST_* = MS_* bits for RDONLY, NOSUID, NODEV, NOEXEC, NOATIME, NODIRATIME, RELATIME)
    /// of the mount holding <paramref name="path"/>. A bind remount must repeat the locked ones.
    /// </summary>
    /// <exception cref="SyscallException">statfs failed.</exception>
    public static unsafe MountFlags MountFlagsOf(string path)
    {
        long* buf = stackalloc long[16];
        Check(statfs(path, buf), $"statfs {path}");
        const ulong keep = (ulong)(MountFlags.ReadOnly | MountFlags.NoSuid | MountFlags.NoDev | MountFlags.NoExec | MountFlags.NoAtime | MountFlags.NoDirAtime);
        var flags = (ulong)buf[10];
        var result = (MountFlags)(flags & keep);
        if ((flags & 4096) != 0) result |= MountFlags.RelAtime; // ST_RELATIME
        return result;
    }
}

public static partial class Libc
{
    [LibraryImport(Name, EntryPoint = "realpath", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint realpath(string path, nint resolved);

    [LibraryImport(Name, EntryPoint = "free")]
    private static partial void free(nint ptr);

    /// <summary>realpath(3): the absolute path with every symlink, "." and ".." resolved.</summary>
    /// <exception cref="SyscallException">a component does not exist or cannot be read.</exception>
    public static string RealPath(string path)
    {
        var p = realpath(path, 0);
        if (p == 0) throw SyscallException.FromLastError($"resolve {path}");
        try
        {
            return Marshal.PtrToStringUTF8(p)!;
        }
        finally
        {
            free(p);
        }
    }
}
