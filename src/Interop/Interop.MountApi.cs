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
/// The file-descriptor based mount API (fsopen(2), fsconfig(2), fsmount(2), open_tree(2), Linux 5.2) and openat2(2)
/// (Linux 5.6): the syscall numbers are the same on every architecture.
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
    /// <summary>fsconfig: set a string parameter.</summary>
    public const uint FSCONFIG_SET_STRING = 1;
    /// <summary>fsconfig: create the superblock.</summary>
    public const uint FSCONFIG_CMD_CREATE = 6;
    /// <summary>fsmount: close-on-exec.</summary>
    public const uint FSMOUNT_CLOEXEC = 1;
    /// <summary>MOUNT_ATTR_NOSUID.</summary>
    public const uint MOUNT_ATTR_NOSUID = 0x2;
    /// <summary>MOUNT_ATTR_NODEV.</summary>
    public const uint MOUNT_ATTR_NODEV = 0x4;
    /// <summary>MOUNT_ATTR_NOEXEC.</summary>
    public const uint MOUNT_ATTR_NOEXEC = 0x8;
    /// <summary>open_tree: a detached copy of the mount.</summary>
    public const uint OPEN_TREE_CLONE = 1;

    [LibraryImport(Name, EntryPoint = "syscall", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial long syscallOpenat2(long number, int dirfd, string path, OpenHow* how, nuint size);

    [LibraryImport(Name, EntryPoint = "syscall", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial long syscallFsopen(long number, string fsname, uint flags);

    [LibraryImport(Name, EntryPoint = "syscall", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial long syscallFsconfig(long number, int fd, uint cmd, string? key, string? value, int aux);

    [LibraryImport(Name, EntryPoint = "syscall", SetLastError = true)]
    private static partial long syscallFsmount(long number, int fd, uint flags, uint attrFlags);

    [LibraryImport(Name, EntryPoint = "syscall", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial long syscallOpenTree(long number, int dirfd, string path, uint flags);

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

    /// <summary>fsmount(2) (syscall 432): a detached mount of the configured filesystem.</summary>
    public static int fsmount(int fd, uint flags, uint attrFlags) => (int)syscallFsmount(432, fd, flags, attrFlags);

    /// <summary>move_mount: the source is dirfd itself (empty path).</summary>
    public const uint MOVE_MOUNT_F_EMPTY_PATH = 0x4;

    [LibraryImport(Name, EntryPoint = "syscall", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial long syscallMoveMount(long number, int fromDirfd, string fromPath, int toDirfd, string toPath, uint flags);

    /// <summary>move_mount(2) (syscall 429): attaches a detached mount (from open_tree or fsmount) at <paramref name="toPath"/>.</summary>
    public static int move_mount(int fromDirfd, string fromPath, int toDirfd, string toPath, uint flags) =>
        (int)syscallMoveMount(429, fromDirfd, fromPath, toDirfd, toPath, flags);

    [LibraryImport(Name, EntryPoint = "fstatfs", SetLastError = true)]
    private static unsafe partial int fstatfsForFlags(int fd, long* buf);

    /// <summary>The ST_RDONLY, ST_NOSUID, ST_NODEV and ST_NOEXEC mount flags of the mount holding open fd <paramref name="fd"/> (fstatfs f_flags).</summary>
    /// <exception cref="SyscallException">fstatfs failed.</exception>
    public static unsafe MountFlags MountFlagsOfFd(int fd)
    {
        long* buf = stackalloc long[16];
        Check(fstatfsForFlags(fd, buf), $"fstatfs {fd}");
        return (MountFlags)((ulong)buf[10] & (ulong)(MountFlags.ReadOnly | MountFlags.NoSuid | MountFlags.NoDev | MountFlags.NoExec));
    }

    /// <summary>MOUNT_ATTR_RDONLY.</summary>
    public const ulong MOUNT_ATTR_RDONLY = 0x1;

    [LibraryImport(Name, EntryPoint = "syscall", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial long syscallMountSetattr(long number, int dirfd, string path, uint flags, ulong* attr, nuint size);

    /// <summary>mount_setattr(2) (syscall 442, Linux 5.12): sets <paramref name="attrSet"/> (MOUNT_ATTR_*) on the mount at dirfd/path.</summary>
    public static unsafe int mount_setattr(int dirfd, string path, uint flags, ulong attrSet, ulong attrClear)
    {
        ulong* attr = stackalloc ulong[4]; // struct mount_attr { attr_set, attr_clr, propagation, userns_fd }
        attr[0] = attrSet;
        attr[1] = attrClear;
        attr[2] = 0;
        attr[3] = 0;
        return (int)syscallMountSetattr(442, dirfd, path, flags, attr, 32);
    }

    /// <summary>open_tree(2) (syscall 428).</summary>
    public static int open_tree(int dirfd, string path, uint flags) => (int)syscallOpenTree(428, dirfd, path, flags);

    /// <summary>The file type and device of <paramref name="path"/> relative to <paramref name="dirfd"/> (statx(2); AT_EMPTY_PATH with "" for dirfd itself).</summary>
    /// <returns>st_mode, and the major and minor of st_rdev.</returns>
    /// <exception cref="SyscallException">statx failed.</exception>
    public static unsafe (uint Mode, uint RdevMajor, uint RdevMinor) StatxType(int dirfd, string path, int flags)
    {
        byte* buf = stackalloc byte[256];
        if (statx(dirfd, path, flags, 0x1 /* STATX_TYPE */ | 0x2 /* STATX_MODE */, buf) != 0)
            throw SyscallException.FromLastError($"statx {(path.Length == 0 ? $"fd {dirfd}" : path)}");
        return (*(ushort*)(buf + 28), *(uint*)(buf + 128), *(uint*)(buf + 132));
    }

    [LibraryImport(Name, EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int statx(int dirfd, string path, int flags, uint mask, byte* buf);

    /// <summary>S_IFMT.</summary>
    public const uint S_IFMT = 0xf000;
    /// <summary>S_IFCHR.</summary>
    public const uint S_IFCHR = 0x2000;
    /// <summary>S_IFDIR.</summary>
    public const uint S_IFDIR = 0x4000;

    /// <summary>The mode, owner and size of open fd <paramref name="fd"/> (statx(2) with AT_EMPTY_PATH).</summary>
    /// <exception cref="SyscallException">statx failed.</exception>
    public static unsafe (uint Mode, uint Uid, long Size) FstatOwner(int fd)
    {
        byte* buf = stackalloc byte[256];
        if (statx(fd, "", OpenFlags.AT_EMPTY_PATH, 0x2 /* STATX_MODE */ | 0x8 /* STATX_UID */ | 0x200 /* STATX_SIZE */, buf) != 0)
            throw SyscallException.FromLastError($"statx fd {fd}");
        return (*(ushort*)(buf + 28), *(uint*)(buf + 20), *(long*)(buf + 40));
    }
}
