using System.Runtime.InteropServices;
using System.Text;
using OciRuntime.Interop;

namespace OciRuntime.Runtime.Init;

/// <summary>
/// HOME of the container's process when process.env has none: the home directory of process.user.uid in the
/// container's /etc/passwd, "/" when there is no entry or no readable file (runc's setupUser: GetExecUserPath with
/// the default user's home "/", then HOME is set only when the environment has none or an empty one).
/// </summary>
internal static class UserHome
{
    /// <summary>The largest /etc/passwd read (a bigger file is treated as unreadable).</summary>
    private const int MaxPasswd = 1 << 20;

    /// <summary>True when <paramref name="env"/> has no HOME or an empty one, i.e. <see cref="Apply"/> will set it.</summary>
    public static bool IsMissing(List<string>? env) => string.IsNullOrEmpty(ProcessSetup.GetEnv(env, "HOME"));

    /// <summary>
    /// Sets HOME in <paramref name="process"/>.env when it has none (appended) or an empty one (replaced in place), from
    /// /etc/passwd read through <paramref name="rootFd"/>, a directory fd of the container's root (symlinks resolved
    /// inside it: openat2 RESOLVE_IN_ROOT).
    /// </summary>
    /// <param name="process">The process whose env is completed.</param>
    /// <param name="rootFd">The container's root directory (any fd that openat2 takes as dirfd).</param>
    public static void Apply(Spec.Process process, int rootFd)
    {
        if (!IsMissing(process.Env)) return;
        var home = Find(ReadPasswd(rootFd), process.User.Uid);
        var env = process.Env ??= [];
        var entry = "HOME=" + home;
        var at = env.FindIndex(e => e.StartsWith("HOME=", StringComparison.Ordinal));
        if (at >= 0) env[at] = entry;
        else env.Add(entry);
    }

    /// <summary>
    /// The home field of the first passwd line whose uid is <paramref name="uid"/>; "/" when none is (or
    /// <paramref name="passwd"/> is null). Lines are trimmed, empty ones skipped; a line with fewer than six fields is
    /// ignored.
    /// </summary>
    /// <param name="passwd">The text of /etc/passwd, or null.</param>
    /// <param name="uid">process.user.uid.</param>
    public static string Find(string? passwd, uint uid) => Field(passwd, uid, 5) ?? "/";

    /// <summary>
    /// Field <paramref name="index"/> (0 = name, 5 = home) of the first passwd line whose uid is <paramref name="uid"/>,
    /// or null when none is (or <paramref name="passwd"/> is null). Lines are trimmed, empty ones skipped; a line with
    /// fewer than six fields is ignored.
    /// </summary>
    /// <param name="passwd">The text of a passwd file, or null.</param>
    /// <param name="uid">The uid looked up.</param>
    /// <param name="index">The field wanted, 0-based (passwd(5): name, password, uid, gid, gecos, home, shell).</param>
    public static string? Field(string? passwd, uint uid, int index)
    {
        if (passwd is null) return null;
        foreach (var raw in passwd.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0) continue;
            var fields = line.Split(':');
            if (fields.Length < 6) continue;
            if (uint.TryParse(fields[2], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var u) && u == uid)
                return fields[index];
        }
        return null;
    }

    /// <summary>
    /// /etc/passwd of the root at <paramref name="rootFd"/>, or null when it is missing, not a regular file (a fifo would
    /// block) or unreadable.
    /// </summary>
    private static unsafe string? ReadPasswd(int rootFd)
    {
        var fd = Libc.openat2(rootFd, "etc/passwd", (ulong)(OpenFlags.O_RDONLY | OpenFlags.O_NONBLOCK | OpenFlags.O_CLOEXEC),
            Libc.RESOLVE_IN_ROOT | Libc.RESOLVE_NO_MAGICLINKS);
        if (fd < 0) return null;
        using var file = new SafeFd(fd);
        try
        {
            if ((Libc.StatAt(fd, "", OpenFlags.AT_EMPTY_PATH).Mode & Libc.S_IFMT) != 0x8000 /* S_IFREG */) return null;
        }
        catch (SyscallException)
        {
            return null;
        }
        var buffer = new byte[64 * 1024];
        var length = 0;
        while (true)
        {
            if (length == buffer.Length)
            {
                if (buffer.Length >= MaxPasswd) return null;
                Array.Resize(ref buffer, buffer.Length * 2);
            }
            nint n;
            fixed (byte* p = &buffer[length]) n = Libc.read(fd, p, (nuint)(buffer.Length - length));
            if (n < 0)
            {
                if (Marshal.GetLastPInvokeError() == Errno.EINTR) continue;
                return null;
            }
            if (n == 0) break;
            length += (int)n;
        }
        return Encoding.UTF8.GetString(buffer, 0, length);
    }
}
