using OciRuntime.Interop;

namespace OciRuntime.Runtime.Init;

/// <summary>
/// fds 0-2 of the process being set up, as runc looks at them (reOpenDevNull, fixStdioPermissions): which are open,
/// which are a given character device (/dev/null, told apart by its device number).
/// </summary>
internal static class StdioFds
{
    /// <summary>fstat(2) of <paramref name="fd"/>; null when it is closed.</summary>
    public static FileOwner? Stat(int fd)
    {
        try
        {
            return Libc.StatFd(fd);
        }
        catch (SyscallException)
        {
            return null;
        }
    }

    /// <summary>Whether <paramref name="st"/> is the character device <paramref name="device"/> (same major:minor).</summary>
    public static bool IsCharDevice(FileOwner st, FileOwner device) =>
        (st.Mode & 0xf000) == 0x2000 && st.RdevMajor == device.RdevMajor && st.RdevMinor == device.RdevMinor;
}
