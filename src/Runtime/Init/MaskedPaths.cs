using System.Runtime.InteropServices;
using OciRuntime.Interop;

namespace OciRuntime.Runtime.Init;

/// <summary>
/// linux.maskedPaths (config-linux.md#masked-paths): a file is covered with a bind mount of the null device, a directory
/// with an empty read-only tmpfs, each attached by fd on the path resolved inside the container's root.
/// </summary>
/// <remarks>
/// CVE-2025-31133: the container's /dev/null is not trustworthy (a shared or bind-mounted /dev can make it a symlink to,
/// say, /proc/sysrq-trigger, and the "mask" would then expose that file). So /dev/null is opened without following a
/// symlink, checked to be the character device 1:3, and that very inode is bind-mounted over the target (open_tree of
/// the fd + move_mount): no path is looked up twice.
/// </remarks>
internal static class MaskedPaths
{
    /// <summary>
    /// Masks <paramref name="path"/> (a container path, resolved by fd inside <paramref name="root"/>, the container's
    /// root after pivot_root); a missing path is skipped. The mask is attached to the resolved fd (move_mount), so nothing
    /// is looked up by path after the check.
    /// </summary>
    /// <exception cref="InitException">the container's /dev/null is not the null device.</exception>
    /// <exception cref="SyscallException">a mount failed.</exception>
    public static void Mask(RootDir root, string path)
    {
        using var target = root.TryOpen(path);
        if (target is null) return;
        var shown = SecurePath.Clean(path);
        if ((Libc.StatFd(target.Fd).Mode & Libc.S_IFMT) == Libc.S_IFDIR)
        {
            // An empty read-only tmpfs of our own (fsopen + fsmount), attached on the directory's fd.
            var fs = Libc.fsopen("tmpfs", Libc.FSOPEN_CLOEXEC);
            if (fs < 0 && Marshal.GetLastPInvokeError() == Errno.ENOSYS)
            {
                Libc.Mount("tmpfs", RootDir.FdPath(target), "tmpfs", MountFlags.ReadOnly, null, shown); // Linux < 5.2
                return;
            }
            using var context = SafeFd.Check(fs, "fsopen tmpfs");
            // "tmpfs" as the source, as mount(8) and runc show it in mountinfo (fsopen's default is "none").
            Libc.Check(Libc.fsconfig(context.Fd, Libc.FSCONFIG_SET_STRING, "source", "tmpfs", 0), "fsconfig tmpfs source");
            Libc.Check(Libc.fsconfig(context.Fd, Libc.FSCONFIG_CMD_CREATE, null, null, 0), "fsconfig tmpfs");
            using var tmpfs = SafeFd.Check(Libc.fsmount(context.Fd, Libc.FSMOUNT_CLOEXEC, (uint)MountAttr.ReadOnly), "fsmount tmpfs");
            RootDir.Attach(tmpfs, target, $"mount tmpfs on {shown}");
            return;
        }
        // The container's /dev/null, through its root (the rootfs before pivot_root on create's direct path): /dev resolved
        // inside the root, "null" not followed.
        using var dev = root.TryOpen("/dev", directory: true) ?? throw new SyscallException($"open {root.Display("/dev/null")}", Errno.ENOENT);
        using var devNull = SafeFd.Check(Libc.openat(dev.Fd, "null", OpenFlags.O_PATH | OpenFlags.O_NOFOLLOW | OpenFlags.O_CLOEXEC), $"open {root.Display("/dev/null")}");
        var devNullStat = Libc.StatFd(devNull.Fd); // of the O_PATH|O_NOFOLLOW fd: a symlink stays a symlink
        if ((devNullStat.Mode & Libc.S_IFMT) != Libc.S_IFCHR || devNullStat.RdevMajor != 1 || devNullStat.RdevMinor != 3)
            throw new InitException($"config.json: linux.maskedPaths ({path}): /dev/null in the container is not the null device (refused, CVE-2025-31133)");
        using var mount = RootDir.CloneTree(devNull, recursive: false, "/dev/null");
        if (mount is null) Libc.Mount("/dev/null", RootDir.FdPath(target), null, MountFlags.Bind, null, shown); // Linux < 5.2
        else RootDir.Attach(mount, target, $"mount /dev/null on {shown}");
    }
}
