using System.Runtime.InteropServices;
using OciRuntime.Interop;

namespace OciRuntime.Runtime.Init;

/// <summary>
/// linux.maskedPaths (config-linux.md#masked-paths): a file is covered with a bind mount of the null device, a directory
/// with an empty read-only tmpfs.
/// </summary>
/// <remarks>
/// CVE-2025-31133: the container's /dev/null is not trustworthy (a shared or bind-mounted /dev can make it a symlink to,
/// say, /proc/sysrq-trigger, and the "mask" would then expose that file). So /dev/null is opened without following a
/// symlink, checked to be the character device 1:3, and that very inode is bind-mounted over the target (open_tree of
/// the fd + move_mount): no path is looked up twice.
/// </remarks>
internal static class MaskedPaths
{
    /// <summary>Masks <paramref name="target"/> (a path in the current root, already resolved); a missing target is skipped.</summary>
    /// <exception cref="InitException">the container's /dev/null is not the null device.</exception>
    /// <exception cref="SyscallException">a mount failed.</exception>
    public static void Mask(string target, string path)
    {
        uint mode;
        try
        {
            mode = Libc.StatPath(target).Mode;
        }
        catch (SyscallException e) when (e.Errno is Errno.ENOENT or Errno.ENOTDIR)
        {
            return;
        }
        if ((mode & Libc.S_IFMT) == Libc.S_IFDIR)
        {
            Libc.Mount("tmpfs", target, "tmpfs", MountFlags.ReadOnly, null);
            return;
        }
        using var devNull = SafeFd.Check(Libc.open("/dev/null", OpenFlags.O_PATH | OpenFlags.O_NOFOLLOW | OpenFlags.O_CLOEXEC), "open /dev/null");
        var devNullStat = Libc.StatFd(devNull.Fd); // of the O_PATH|O_NOFOLLOW fd: a symlink stays a symlink
        if ((devNullStat.Mode & Libc.S_IFMT) != Libc.S_IFCHR || devNullStat.RdevMajor != 1 || devNullStat.RdevMinor != 3)
            throw new InitException($"config.json: linux.maskedPaths ({path}): /dev/null in the container is not the null device (refused, CVE-2025-31133)");
        var tree = Libc.open_tree(devNull.Fd, "", Libc.OPEN_TREE_CLONE | Libc.OPEN_TREE_CLOEXEC | (uint)OpenFlags.AT_EMPTY_PATH);
        if (tree < 0 && Marshal.GetLastPInvokeError() == Errno.ENOSYS)
        {
            Libc.Mount("/dev/null", target, null, MountFlags.Bind, null); // Linux < 5.2
            return;
        }
        using var mount = SafeFd.Check(tree, "open_tree /dev/null");
        Libc.Check(Libc.move_mount(mount.Fd, "", OpenFlags.AT_FDCWD, target, Libc.MOVE_MOUNT_F_EMPTY_PATH), $"mount /dev/null on {target}");
    }
}
