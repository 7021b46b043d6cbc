using System.Runtime.InteropServices;

namespace OciRuntime.Interop;

/// <summary>struct open_how of openat2(2).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct OpenHow
{
    /// <summary>O_* flags.</summary>
    public ulong Flags;
    /// <summary>Mode for O_CREAT.</summary>
    public ulong Mode;
    /// <summary>RESOLVE_* flags.</summary>
    public ulong Resolve;
}

/// <summary>
/// openat2(2) (Linux 5.6) and a filesystem context of one's own with fsopen(2), fsconfig(2), fsmount(2) (Linux 5.2):
/// what the init needs for a procfs handle no mount of the container can redirect. Same numbers on every architecture.
/// </summary>
public static partial class Libc
{
    /// <summary>openat2 resolve: every component stays on the starting mount (no mount crossing, no overmounts).</summary>
    public const ulong RESOLVE_NO_XDEV = 0x01;
    /// <summary>openat2 resolve: no /proc magic links.</summary>
    public const ulong RESOLVE_NO_MAGICLINKS = 0x02;
    /// <summary>openat2 resolve: no symlinks at all.</summary>
    public const ulong RESOLVE_NO_SYMLINKS = 0x04;
    /// <summary>openat2 resolve: never leave dirfd.</summary>
    public const ulong RESOLVE_BENEATH = 0x08;
    /// <summary>openat2 resolve: dirfd is the root ("/" and ".." stay in it).</summary>
    public const ulong RESOLVE_IN_ROOT = 0x10;
    /// <summary>fsopen: close-on-exec.</summary>
    public const uint FSOPEN_CLOEXEC = 1;
    /// <summary>fsconfig: set parameter key to a string value.</summary>
    public const uint FSCONFIG_SET_STRING = 1;
    /// <summary>fsconfig: create the superblock.</summary>
    public const uint FSCONFIG_CMD_CREATE = 6;
    /// <summary>fsmount: close-on-exec.</summary>
    public const uint FSMOUNT_CLOEXEC = 1;
    /// <summary>S_IFMT.</summary>
    public const uint S_IFMT = 0xf000;
    /// <summary>S_IFCHR.</summary>
    public const uint S_IFCHR = 0x2000;
    /// <summary>S_IFDIR.</summary>
    public const uint S_IFDIR = 0x4000;

    [LibraryImport(Name, EntryPoint = "syscall", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial long syscallOpenat2(long number, int dirfd, string path, OpenHow* how, nuint size);

    [LibraryImport(Name, EntryPoint = "syscall", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial long syscallFsopen(long number, string fsname, uint flags);

    [LibraryImport(Name, EntryPoint = "syscall", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial long syscallFsconfig(long number, int fd, uint cmd, string? key, string? value, int aux);

    [LibraryImport(Name, EntryPoint = "syscall", SetLastError = true)]
    private static partial long syscallFsmount(long number, int fd, uint flags, uint attrFlags);

    [LibraryImport(Name, EntryPoint = "fstatfs", SetLastError = true)]
    private static unsafe partial int fstatfsForFlags(int fd, long* buf);

    /// <summary>openat2(2) (syscall 437).</summary>
    public static unsafe int openat2(int dirfd, string path, ulong flags, ulong resolve)
    {
        var how = new OpenHow { Flags = flags, Resolve = resolve };
        return (int)syscallOpenat2(437, dirfd, path, &how, (nuint)sizeof(OpenHow));
    }

    /// <summary>fsopen(2) (syscall 430).</summary>
    public static int fsopen(string fsname, uint flags) => (int)syscallFsopen(430, fsname, flags);

    /// <summary>fsconfig(2) (syscall 431) with a string value or none.</summary>
    public static int fsconfig(int fd, uint cmd, string? key, string? value, int aux) => (int)syscallFsconfig(431, fd, cmd, key, value, aux);

    /// <summary>fsmount(2) (syscall 432): a detached mount of the configured filesystem; <paramref name="attrFlags"/> are <see cref="MountAttr"/> bits.</summary>
    public static int fsmount(int fd, uint flags, uint attrFlags) => (int)syscallFsmount(432, fd, flags, attrFlags);

    /// <summary>The ST_RDONLY, ST_NOSUID, ST_NODEV and ST_NOEXEC mount flags of the mount holding open fd <paramref name="fd"/> (fstatfs f_flags).</summary>
    /// <exception cref="SyscallException">fstatfs failed.</exception>
    public static unsafe MountFlags MountFlagsOfFd(int fd)
    {
        long* buf = stackalloc long[16];
        Check(fstatfsForFlags(fd, buf), $"fstatfs {fd}");
        return (MountFlags)((ulong)buf[10] & (ulong)(MountFlags.ReadOnly | MountFlags.NoSuid | MountFlags.NoDev | MountFlags.NoExec));
    }
}
