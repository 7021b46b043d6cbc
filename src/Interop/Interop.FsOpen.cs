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

    /// <summary>openat2(2) (Tmds.LibC's, which calls syscall 437).</summary>
    public static unsafe int openat2(int dirfd, string path, ulong flags, ulong resolve)
    {
        var how = new OpenHow { Flags = flags, Resolve = resolve };
        fixed (byte* p = Utf8Z(path)) return LibC.openat2(dirfd, p, (Tmds.Linux.open_how*)&how, sizeof(OpenHow));
    }

    /// <summary>fsopen(2) (not in Tmds.LibC: LibC.syscall 430).</summary>
    public static unsafe int fsopen(string fsname, uint flags)
    {
        fixed (byte* p = Utf8Z(fsname)) return (int)Result(LibC.syscall(Arg(430), p, flags));
    }

    /// <summary>fsconfig(2) (not in Tmds.LibC: LibC.syscall 431) with a string value or none.</summary>
    public static unsafe int fsconfig(int fd, uint cmd, string? key, string? value, int aux)
    {
        fixed (byte* k = Utf8Z(key))
        fixed (byte* v = Utf8Z(value))
            return (int)Result(LibC.syscall(Arg(431), fd, cmd, k, v, aux));
    }

    /// <summary>fsmount(2) (not in Tmds.LibC: LibC.syscall 432): a detached mount of the configured filesystem; <paramref name="attrFlags"/> are <see cref="MountAttr"/> bits.</summary>
    public static int fsmount(int fd, uint flags, uint attrFlags) => (int)Result(LibC.syscall(Arg(432), fd, flags, attrFlags));

    /// <summary>The ST_RDONLY, ST_NOSUID, ST_NODEV and ST_NOEXEC mount flags of the mount holding open fd <paramref name="fd"/> (fstatfs f_flags).</summary>
    /// <exception cref="SyscallException">fstatfs failed.</exception>
    public static unsafe MountFlags MountFlagsOfFd(int fd)
    {
        long* buf = stackalloc long[16];
        Check(fstatfs(fd, buf), $"fstatfs {fd}");
        return (MountFlags)((ulong)buf[10] & (ulong)(MountFlags.ReadOnly | MountFlags.NoSuid | MountFlags.NoDev | MountFlags.NoExec));
    }
}
