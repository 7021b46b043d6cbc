using System.Runtime.InteropServices;

namespace OciRuntime.Interop;

/// <summary>struct winsize (TIOCGWINSZ/TIOCSWINSZ): rows and columns of a terminal.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct WinSize
{
    /// <summary>Rows.</summary>
    public ushort Rows;
    /// <summary>Columns.</summary>
    public ushort Cols;
    /// <summary>Width in pixels (unused).</summary>
    public ushort XPixel;
    /// <summary>Height in pixels (unused).</summary>
    public ushort YPixel;
}

public static unsafe partial class Libc
{
    private const nuint TIOCGPTN = 0x80045430, TIOCSPTLCK = 0x40045431, TIOCSCTTY = 0x540E, TIOCGWINSZ = 0x5413, TIOCSWINSZ = 0x5414, TIOCGPTPEER = 0x5441;

    private static int ioctl(int fd, nuint request, void* arg) => LibC.ioctl(fd, unchecked((int)(uint)request), arg);

    private static int ioctl(int fd, nuint request, nint arg) => LibC.ioctl(fd, unchecked((int)(uint)request), (int)arg);

    private static int tcgetattr(int fd, byte* termios) => LibC.tcgetattr(fd, (Tmds.Linux.termios*)termios);

    private static int tcsetattr(int fd, int action, byte* termios) => LibC.tcsetattr(fd, action, (Tmds.Linux.termios*)termios);

    // cfmakeraw(3): own declaration (not in Tmds.LibC 0.5.0).
    [LibraryImport(Name, EntryPoint = "cfmakeraw")]
    private static partial void cfmakeraw(byte* termios);

    private static int isatty(int fd) => LibC.isatty(fd);

    /// <summary>
    /// Opens a new pseudoterminal from <paramref name="ptmx"/> (e.g. the container's /dev/ptmx): the unlocked master
    /// (close-on-exec) and the slave's path (/dev/pts/N).
    /// </summary>
    /// <exception cref="SyscallException">the pty cannot be allocated.</exception>
    public static (SafeFd Master, string SlavePath) OpenPty(string ptmx)
    {
        var master = SafeFd.Check(open(ptmx, OpenFlags.O_RDWR | OpenFlags.O_NOCTTY | OpenFlags.O_CLOEXEC), $"open {ptmx}");
        int zero = 0, number = 0;
        if (ioctl(master.Fd, TIOCSPTLCK, &zero) != 0 || ioctl(master.Fd, TIOCGPTN, &number) != 0)
        {
            var e = SyscallException.FromLastError("unlock pty");
            master.Dispose();
            throw e;
        }
        return (master, $"/dev/pts/{number}");
    }

    /// <summary>
    /// The slave of pty master <paramref name="master"/> opened from the master itself (ioctl TIOCGPTPEER, Linux 4.13):
    /// no /dev/pts path is looked up, so it is the peer of this master and no other file. <paramref name="flags"/>: O_*.
    /// Returns the fd, or -1 with errno (EINVAL/ENOTTY on kernels without it).
    /// </summary>
    public static int OpenPtyPeer(int master, int flags) => ioctl(master, TIOCGPTPEER, flags);

    /// <summary>Makes <paramref name="fd"/> (a tty) the controlling terminal of the calling session leader.</summary>
    public static int SetControllingTerminal(int fd) => ioctl(fd, TIOCSCTTY, 0);

    /// <summary>The window size of terminal <paramref name="fd"/>, or null when it is not a terminal.</summary>
    public static WinSize? GetWinSize(int fd)
    {
        WinSize ws;
        return ioctl(fd, TIOCGWINSZ, &ws) == 0 ? ws : null;
    }

    /// <summary>Sets the window size of terminal <paramref name="fd"/>.</summary>
    public static int SetWinSize(int fd, WinSize size) => ioctl(fd, TIOCSWINSZ, &size);

    /// <summary>True when <paramref name="fd"/> is a terminal.</summary>
    public static bool IsTty(int fd) => isatty(fd) == 1;

    /// <summary>Puts terminal <paramref name="fd"/> in raw mode; returns the previous settings (for <see cref="RestoreTerminal"/>), or null when it is not a terminal.</summary>
    public static byte[]? MakeRaw(int fd)
    {
        var saved = new byte[128];
        fixed (byte* p = saved)
        {
            if (tcgetattr(fd, p) != 0) return null;
            byte* raw = stackalloc byte[128];
            new Span<byte>(p, 128).CopyTo(new Span<byte>(raw, 128));
            cfmakeraw(raw);
            return tcsetattr(fd, 0 /* TCSANOW */, raw) == 0 ? saved : null;
        }
    }

    /// <summary>Restores terminal settings saved by <see cref="MakeRaw"/>.</summary>
    public static void RestoreTerminal(int fd, byte[] saved)
    {
        fixed (byte* p = saved) _ = tcsetattr(fd, 0, p);
    }
}
