using System.Runtime.InteropServices;

namespace OciRuntime.Interop;

/// <summary>MOUNT_ATTR_* of mount_setattr(2).</summary>
[Flags]
public enum MountAttr : ulong
{
    /// <summary>No attribute.</summary>
    None = 0,
    /// <summary>MOUNT_ATTR_RDONLY.</summary>
    ReadOnly = 0x1,
    /// <summary>MOUNT_ATTR_NOSUID.</summary>
    NoSuid = 0x2,
    /// <summary>MOUNT_ATTR_NODEV.</summary>
    NoDev = 0x4,
    /// <summary>MOUNT_ATTR_NOEXEC.</summary>
    NoExec = 0x8,
    /// <summary>MOUNT_ATTR_IDMAP: idmap the mount with the user namespace in <see cref="MountAttrArgs.UsernsFd"/>.</summary>
    Idmap = 0x100000,
}

/// <summary>struct mount_attr of mount_setattr(2) (MOUNT_ATTR_SIZE_VER0, 32 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct MountAttrArgs
{
    /// <summary>Attributes to set.</summary>
    public ulong AttrSet;
    /// <summary>Attributes to clear.</summary>
    public ulong AttrClr;
    /// <summary>Propagation type (MS_SHARED …), 0 = unchanged.</summary>
    public ulong Propagation;
    /// <summary>User namespace fd for <see cref="MountAttr.Idmap"/>.</summary>
    public ulong UsernsFd;
}

/// <summary>The owner, mode and device number of a file (from statx(2)).</summary>
/// <param name="Uid">Owner uid (as the caller's user namespace sees it).</param>
/// <param name="Gid">Owner gid.</param>
/// <param name="Mode">File type and permission bits.</param>
/// <param name="RdevMajor">Device major number (device files).</param>
/// <param name="RdevMinor">Device minor number.</param>
public readonly record struct FileOwner(uint Uid, uint Gid, uint Mode, uint RdevMajor, uint RdevMinor);

public static unsafe partial class Libc
{
    /// <summary>open_tree(2) flag: clone the mount (a detached copy) instead of opening it.</summary>
    public const uint OPEN_TREE_CLONE = 1;

    /// <summary>open_tree(2) flag: close-on-exec (= O_CLOEXEC).</summary>
    public const uint OPEN_TREE_CLOEXEC = 0x80000;

    /// <summary>AT_RECURSIVE: the whole mount tree (open_tree, mount_setattr).</summary>
    public const uint AT_RECURSIVE = 0x8000;

    /// <summary>move_mount(2) flag: the source is the fd itself (empty path).</summary>
    public const uint MOVE_MOUNT_F_EMPTY_PATH = 0x4;

    /// <summary>move_mount(2) flag: the target is the fd itself (empty path).</summary>
    public const uint MOVE_MOUNT_T_EMPTY_PATH = 0x40;

    // The new mount API has the same numbers on every architecture (the unified syscall table).
    private const long SysOpenTree = 428, SysMoveMount = 429, SysMountSetattr = 442;

    /// <summary>open_tree(2): an fd of the mount at <paramref name="path"/>, or with OPEN_TREE_CLONE a detached copy of it.</summary>
    public static int open_tree(int dirfd, string path, uint flags)
    {
        fixed (byte* p = Utf8Z(path)) return (int)Result(LibC.syscall(Arg(SysOpenTree), dirfd, p, flags));
    }

    /// <summary>move_mount(2): attaches (or moves) a mount.</summary>
    public static int move_mount(int fromDirfd, string fromPath, int toDirfd, string toPath, uint flags)
    {
        fixed (byte* from = Utf8Z(fromPath))
        fixed (byte* to = Utf8Z(toPath))
            return (int)Result(LibC.syscall(Arg(SysMoveMount), fromDirfd, from, toDirfd, to, flags));
    }

    /// <summary>mount_setattr(2): changes the attributes of a mount (or a tree of them with AT_RECURSIVE).</summary>
    public static int mount_setattr(int dirfd, string path, uint flags, MountAttrArgs attr)
    {
        fixed (byte* p = Utf8Z(path)) return (int)Result(LibC.syscall(Arg(SysMountSetattr), dirfd, p, flags, &attr, sizeof(MountAttrArgs)));
    }

    /// <summary>fchown(2).</summary>
    public static int fchown(int fd, uint uid, uint gid) => LibC.fchown(fd, uid, gid);

    private static int statx(int dirfd, string path, int flags, uint mask, byte* buf)
    {
        fixed (byte* p = Utf8Z(path)) return LibC.statx(dirfd, p, flags, mask, (Tmds.Linux.statx*)buf);
    }

    /// <summary>Owner, mode and rdev of open fd <paramref name="fd"/> (statx AT_EMPTY_PATH).</summary>
    /// <exception cref="SyscallException">statx failed.</exception>
    public static FileOwner StatFd(int fd) => StatAt(fd, "", OpenFlags.AT_EMPTY_PATH);

    /// <summary>The inode number (stx_ino) of open fd <paramref name="fd"/> (statx AT_EMPTY_PATH).</summary>
    /// <exception cref="SyscallException">statx failed.</exception>
    public static ulong InodeOf(int fd)
    {
        byte* buf = stackalloc byte[256]; // struct statx
        const uint STATX_INO = 0x100;
        Check(statx(fd, "", OpenFlags.AT_EMPTY_PATH, STATX_INO, buf), $"statx fd {fd}");
        return *(ulong*)(buf + 32);
    }

    /// <summary>Owner, mode and rdev of <paramref name="path"/> (following symlinks).</summary>
    /// <exception cref="SyscallException">statx failed.</exception>
    public static FileOwner StatPath(string path) => StatAt(OpenFlags.AT_FDCWD, path, 0);

    /// <summary>
    /// The link count (stx_nlink) of <paramref name="path"/>, or -1 when it cannot be stat'ed. For a directory on
    /// kernfs (cgroupfs), tmpfs or ext4 it is 2 + the number of its subdirectories (btrfs always says 1).
    /// </summary>
    public static long LinkCount(string path) => LinkCount(OpenFlags.AT_FDCWD, path);

    /// <summary><see cref="LinkCount(string)"/> of <paramref name="path"/> relative to <paramref name="dirfd"/>.</summary>
    public static long LinkCount(int dirfd, string path)
    {
        byte* buf = stackalloc byte[256]; // struct statx
        const uint STATX_NLINK = 0x4;
        return statx(dirfd, path, 0, STATX_NLINK, buf) == 0 ? *(uint*)(buf + 16) : -1;
    }

    /// <summary>Owner, mode and rdev of <paramref name="path"/> relative to <paramref name="dirfd"/> (statx; AT_* <paramref name="flags"/>).</summary>
    /// <exception cref="SyscallException">statx failed.</exception>
    public static FileOwner StatAt(int dirfd, string path, int flags)
    {
        byte* buf = stackalloc byte[256]; // struct statx
        const uint STATX_BASIC_STATS = 0x7ff;
        Check(statx(dirfd, path, flags, STATX_BASIC_STATS, buf), path.Length == 0 ? $"statx fd {dirfd}" : $"stat {path}");
        return new FileOwner(*(uint*)(buf + 20), *(uint*)(buf + 24), *(ushort*)(buf + 28), *(uint*)(buf + 128), *(uint*)(buf + 132));
    }
}
