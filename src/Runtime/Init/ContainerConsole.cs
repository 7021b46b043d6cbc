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
                using var slave = SafeFd.Check(Libc.open(slavePath, OpenFlags.O_RDWR | OpenFlags.O_NOCTTY | OpenFlags.O_CLOEXEC), $"open {slavePath}");
                if (mountDevConsole)
                {
                    if (!File.Exists("/dev/console")) using (File.Create("/dev/console")) { }
                    Libc.Mount(slavePath, "/dev/console", "bind", MountFlags.Bind, null);
                }
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
}
