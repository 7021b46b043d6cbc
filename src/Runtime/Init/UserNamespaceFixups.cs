using System.Runtime.InteropServices;
using OciRuntime.Interop;

namespace OciRuntime.Runtime.Init;

/// <summary>
/// What the init does differently in a user namespace (runc's fix-ups for user-namespaced and rootless containers):
/// setgroups when the namespace denies it, ownership of the console and of stdio, mqueue and cgroup mounts the kernel
/// refuses there, and attaching idmapped mounts prepared by the runtime. Workarounds are reported as warnings
/// (<see cref="Warnings"/>), which the runtime logs.
/// </summary>
internal static class UserNamespaceFixups
{
    private const int EROFS = 30;

    /// <summary>Warnings for the runtime's log (sent with the Ready report).</summary>
    public static List<string> Warnings { get; } = [];

    /// <summary>
    /// True when this process's user namespace denies setgroups(2) (/proc/self/setgroups is "deny"): an unprivileged
    /// runtime mapped only its own gid. Supplementary groups then stay as they are.
    /// </summary>
    public static bool SetgroupsDenied()
    {
        try
        {
            return Libc.ReadFileText("/proc/self/setgroups").Trim() == "deny";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false; // kernels before 3.19: no such file, no such rule
        }
    }

    /// <summary>
    /// runc's fixStdioPermissions: before switching to the container user, give it fds 0-2 unless they are /dev/null or
    /// already its own, so that it can reopen them (/proc/self/fd/N, /dev/stdout). Only the owner changes; EINVAL (the
    /// group is not mapped), EPERM (the owner is not mapped: the inode is not ours to give) and EROFS are ignored, as runc does.
    /// </summary>
    public static void FixStdioOwnership(uint uid)
    {
        FileOwner devNull;
        try
        {
            devNull = Libc.StatPath("/dev/null");
        }
        catch (SyscallException)
        {
            return;
        }
        for (var fd = 0; fd < 3; fd++)
        {
            if (StdioFds.Stat(fd) is not { } st) continue; // closed
            if (st.Uid == uid || StdioFds.IsCharDevice(st, devNull)) continue;
            if (Libc.fchown(fd, uid, st.Gid) != 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno is Errno.EINVAL or Errno.EPERM or EROFS) continue;
                throw new InitException($"config.json: process.user.uid: give stdio fd {fd} to uid {uid}: {Libc.StrError(errno)}");
            }
        }
    }

    /// <summary>
    /// The console (the pty slave, fd <paramref name="fd"/>) belongs to the container's root: uid 0 of the user namespace,
    /// that is the host id it maps to. A pty of a devpts the namespace does not own cannot be given (ignored).
    /// </summary>
    public static void ChownConsole(int fd)
    {
        if (Libc.fchown(fd, 0, uint.MaxValue /* group unchanged */) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno is Errno.EINVAL or Errno.EPERM or EROFS) return;
            throw new InitException($"config.json: process.terminal: chown the console to the container's root: {Libc.StrError(errno)}");
        }
    }

    /// <summary>Attaches the detached (idmapped) mount <paramref name="fd"/> on <paramref name="target"/> (by fd) and closes the fd.</summary>
    /// <exception cref="SyscallException">move_mount failed.</exception>
    public static void AttachMount(int fd, SafeFd target, string shown)
    {
        using var tree = new SafeFd(fd);
        RootDir.Attach(tree, target, $"move_mount the idmapped mount to {shown}");
    }

    /// <summary>
    /// mqueue in a user namespace: the kernel mounts it only for an ipc namespace that namespace owns. A container
    /// sharing the runtime's ipc namespace gets the host's /dev/mqueue bound instead (the same queues it sees) when the
    /// host has one; otherwise (a foreign ipc namespace joined by path, or no host mqueue) the mount is skipped with a
    /// warning: the destination stays an empty directory.
    /// </summary>
    /// <param name="root">The rootfs.</param>
    /// <param name="destination">The destination as config.json names it (cleaned), resolved in <paramref name="root"/>.</param>
    /// <param name="flags">The mount's flags (nosuid, nodev, noexec …).</param>
    /// <param name="ipcNamespace">"own", "joined" or "shared" (no ipc entry in linux.namespaces).</param>
    public static void MountMqueueFallback(RootDir root, string destination, MountFlags flags, string ipcNamespace)
    {
        const long MqueueMagic = 0x19800202;
        var hostHasMqueue = false;
        try
        {
            hostHasMqueue = Libc.FsType("/dev/mqueue") == MqueueMagic;
        }
        catch (SyscallException)
        {
            // no /dev/mqueue on the host
        }
        if (ipcNamespace != "shared" || !hostHasMqueue)
        {
            Warnings.Add($"{destination}: mqueue cannot be mounted in a user namespace that does not own the ipc namespace "
                         + (ipcNamespace == "joined" ? "(joined by path)" : "(the runtime's, and the host has no /dev/mqueue to bind)") + "; skipped");
            return;
        }
        using (var target = root.MkdirAll(destination)) Libc.Mount("/dev/mqueue", RootDir.FdPath(target), "bind", MountFlags.Bind | MountFlags.Rec, null, root.Display(destination));
        using var mounted = root.Open(destination);
        var dest = RootDir.FdPath(mounted);
        var locked = Libc.MountFlagsOf(dest);
        var wanted = flags & (MountFlags.ReadOnly | MountFlags.NoSuid | MountFlags.NoDev | MountFlags.NoExec);
        Libc.Mount(null, dest, null, MountFlags.Remount | MountFlags.Bind | wanted | locked, null);
        Warnings.Add($"{destination}: mqueue cannot be mounted in a user namespace that does not own the ipc namespace; bound the host's /dev/mqueue instead");
    }
}
