using System.Runtime.InteropServices;
using OciRuntime.Interop;
using OciRuntime.Spec;

namespace OciRuntime.Runtime.Init;

/// <summary>
/// process.terminal (config.md#process): a pseudoterminal allocated from the container's own /dev/ptmx, its
/// master sent to the console socket with SCM_RIGHTS (runc's protocol: data = the slave's name, one fd), its slave
/// made the process's stdio and controlling terminal (and bind-mounted on /dev/console for the container init).
/// </summary>
internal static class ContainerConsole
{
    /// <summary>Sets up the terminal; after this, fds 0-2 are the pty slave and the process leads a new session.</summary>
    /// <exception cref="InitException">the pty cannot be allocated or sent.</exception>
    public static void Setup(Process process, int socketFd, bool mountDevConsole)
    {
        try
        {
            Libc.Check(Libc.setsid(), "setsid");
            var (master, slavePath) = Libc.OpenPty("/dev/ptmx");
            using (master)
            {
                if (process.ConsoleSize is { } size)
                    Libc.Check(Libc.SetWinSize(master.Fd, new WinSize { Rows = (ushort)size.Height, Cols = (ushort)size.Width }), "set console size");
                using var slave = OpenSlave(master, slavePath);
                if (mountDevConsole) BindConsole(slave);
                Libc.SendFd(socketFd, master.Fd, slavePath);
                for (var fd = 0; fd < 3; fd++) Libc.Check(Libc.dup3(slave.Fd, fd, 0), $"dup {slavePath} to fd {fd}");
            }
            Libc.close(socketFd);
            Libc.Check(Libc.SetControllingTerminal(0), "make the pty the controlling terminal");
        }
        catch (SyscallException e)
        {
            throw new InitException($"config.json: process.terminal: {e.Message}", e);
        }
        catch (IOException e)
        {
            throw new InitException($"config.json: process.terminal: {e.Message}", e);
        }
    }

    // The slave from the master itself (TIOCGPTPEER): no /dev/pts path that a mount or a symlink could redirect.
    private static SafeFd OpenSlave(SafeFd master, string slavePath)
    {
        var fd = Libc.OpenPtyPeer(master.Fd, OpenFlags.O_RDWR | OpenFlags.O_NOCTTY | OpenFlags.O_CLOEXEC);
        if (fd >= 0) return new SafeFd(fd);
        // Linux < 4.13: by path, and checked to be the pty the master names.
        var slave = SafeFd.Check(Libc.open(slavePath, OpenFlags.O_RDWR | OpenFlags.O_NOCTTY | OpenFlags.O_NOFOLLOW | OpenFlags.O_CLOEXEC), $"open {slavePath}");
        if (!Libc.IsTty(slave.Fd)) { slave.Dispose(); throw new SyscallException($"open {slavePath}: not a terminal", Errno.ENOTTY); }
        return slave;
    }

    /// <summary>
    /// /dev/console: the verified slave fd itself, cloned (open_tree) and attached by fd on /dev/console (CVE-2025-52565):
    /// /dev is resolved inside the container's root, "console" in it is opened without following a symlink and must be a
    /// regular file or a character device (made as an empty file when missing); a symlink there (say, to a procfs file)
    /// is refused rather than followed.
    /// </summary>
    private static void BindConsole(SafeFd slave)
    {
        using var root = RootDir.OpenRoot("/");
        var (dev, name) = root.MkParent("/dev/console");
        using var _ = dev;
        var made = Libc.openat(dev.Fd, name, OpenFlags.O_CREAT | OpenFlags.O_EXCL | OpenFlags.O_WRONLY | OpenFlags.O_NOFOLLOW | OpenFlags.O_CLOEXEC, 0x1b6);
        if (made >= 0) Libc.close(made);
        using var console = SafeFd.Check(Libc.openat(dev.Fd, name, OpenFlags.O_PATH | OpenFlags.O_NOFOLLOW | OpenFlags.O_CLOEXEC), "open /dev/console");
        var type = Libc.StatFd(console.Fd).Mode & Libc.S_IFMT;
        if (type != 0x8000 && type != Libc.S_IFCHR)
            throw new InitException("config.json: process.terminal: /dev/console in the container is " + (type == 0xa000 ? "a symlink" : "not a file or a device") + " (refused, CVE-2025-52565)");
        using var clone = RootDir.CloneTree(slave, recursive: false, "of the console");
        if (clone is null) Libc.Mount(RootDir.FdPath(slave), RootDir.FdPath(console), "bind", MountFlags.Bind, null, "/dev/console"); // Linux < 5.2
        else RootDir.Attach(clone, console, "mount the console on /dev/console");
    }
}
