using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using OciRuntime.Interop;

namespace OciRuntime.Runtime.Init;

/// <summary>
/// A procfs handle the init can trust for its writes (sysctl, oom_score_adj, attr/exec) and for reopening the exec fifo
/// (CVE-2019-16884, CVE-2023-27561, CVE-2023-28642 and the procfs redirection of CVE-2025-52881).
/// </summary>
/// <remarks>
/// A path such as /proc/self/attr/exec is only as good as the mounts on the way: the rootfs may make /proc a symlink,
/// a bind mount may cover a file with a regular file or with another procfs file. So the init never writes through
/// /proc paths. It takes, in order of preference: a private procfs instance of its own pid namespace (fsopen +
/// fsmount, a detached mount nobody else can reach or mount over), a detached clone of the container's /proc mount
/// without its submounts (open_tree OPEN_TREE_CLONE), or /proc itself. The root must be procfs (fstatfs
/// PROC_SUPER_MAGIC) of the init's own pid namespace ("self" names the init's pid). Files are opened beneath it with
/// openat2 RESOLVE_NO_XDEV | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS (no mount crossing, no symlink) and
/// checked with fstatfs again; "self" and "thread-self" are spelled as the init's pid and tid.
/// </remarks>
internal sealed class ProcFs : IDisposable
{
    private const ulong StrictResolve = Libc.RESOLVE_NO_XDEV | Libc.RESOLVE_NO_SYMLINKS | Libc.RESOLVE_NO_MAGICLINKS | Libc.RESOLVE_BENEATH;
    private readonly SafeFd _root;
    private bool _noOpenat2;

    private ProcFs(SafeFd root, string origin)
    {
        _root = root;
        Origin = origin;
    }

    /// <summary>Where the handle came from: "fsopen", "open_tree /proc" or "/proc".</summary>
    public string Origin { get; }

    /// <summary>The calling process as a path component ("self" spelled out).</summary>
    public static string Self => Libc.getpid().ToString(CultureInfo.InvariantCulture);

    /// <summary>The calling thread as a path ("thread-self" spelled out): PID/task/TID.</summary>
    public static string ThreadSelf => $"{Self}/task/{Libc.gettid().ToString(CultureInfo.InvariantCulture)}";

    /// <summary>Opens the best procfs root available; call it in the container's pid namespace, with CAP_SYS_ADMIN for the first choices.</summary>
    /// <exception cref="InitException">no procfs of this pid namespace can be found.</exception>
    public static ProcFs Open()
    {
        var errors = new List<string>();
        var fs = Libc.fsopen("proc", Libc.FSOPEN_CLOEXEC);
        if (fs >= 0)
        {
            using var context = new SafeFd(fs);
            if (Libc.fsconfig(fs, Libc.FSCONFIG_CMD_CREATE, null, null, 0) == 0)
            {
                var mnt = Libc.fsmount(fs, Libc.FSMOUNT_CLOEXEC, (uint)(MountAttr.NoSuid | MountAttr.NoDev | MountAttr.NoExec));
                if (mnt >= 0 && TryAccept(new SafeFd(mnt), "fsopen", errors) is { } a) return a;
                if (mnt < 0) errors.Add($"fsmount proc: {Libc.StrError(Marshal.GetLastPInvokeError())}");
            }
            else
            {
                errors.Add($"fsconfig proc: {Libc.StrError(Marshal.GetLastPInvokeError())}");
            }
        }
        else
        {
            errors.Add($"fsopen proc: {Libc.StrError(Marshal.GetLastPInvokeError())}");
        }

        var tree = Libc.open_tree(OpenFlags.AT_FDCWD, "/proc", Libc.OPEN_TREE_CLONE | Libc.OPEN_TREE_CLOEXEC);
        if (tree >= 0 && TryAccept(new SafeFd(tree), "open_tree /proc", errors) is { } b) return b;
        if (tree < 0) errors.Add($"open_tree /proc: {Libc.StrError(Marshal.GetLastPInvokeError())}");

        var plain = Libc.open("/proc", OpenFlags.O_PATH | OpenFlags.O_DIRECTORY | OpenFlags.O_NOFOLLOW | OpenFlags.O_CLOEXEC);
        if (plain >= 0 && TryAccept(new SafeFd(plain), "/proc", errors) is { } c) return c;
        if (plain < 0) errors.Add($"open /proc: {Libc.StrError(Marshal.GetLastPInvokeError())}");
        throw new InitException($"container init: no trustworthy procfs of the container's pid namespace ({string.Join("; ", errors)})");
    }

    private static ProcFs? TryAccept(SafeFd root, string origin, List<string> errors)
    {
        try
        {
            if (Libc.FsType(root.Fd) != FsMagic.Proc)
            {
                errors.Add($"{origin}: not procfs");
            }
            else if (ReadLinkAt(root.Fd, "self") != Self)
            {
                errors.Add($"{origin}: a procfs of another pid namespace");
            }
            else
            {
                return new ProcFs(root, origin);
            }
        }
        catch (SyscallException e)
        {
            errors.Add($"{origin}: {e.Message}");
        }
        root.Dispose();
        return null;
    }

    private static unsafe string? ReadLinkAt(int dirfd, string path)
    {
        byte* buf = stackalloc byte[64];
        var n = Libc.readlinkat(dirfd, path, buf, 64);
        return n < 0 ? null : Encoding.UTF8.GetString(buf, (int)n);
    }

    /// <summary>
    /// Opens <paramref name="relative"/> (e.g. "sys/net/ipv4/ip_forward", "12/oom_score_adj") beneath the procfs root,
    /// crossing no mount and following no symlink, and verifies the result is procfs.
    /// </summary>
    /// <exception cref="SyscallException">the open failed (named /proc/<paramref name="relative"/>) or the file is not on procfs.</exception>
    public SafeFd OpenFile(string relative, int flags)
    {
        var fd = -1;
        if (!_noOpenat2)
        {
            fd = Libc.openat2(_root.Fd, relative, (ulong)(flags | OpenFlags.O_CLOEXEC | OpenFlags.O_NOFOLLOW), StrictResolve);
            if (fd < 0 && Marshal.GetLastPInvokeError() == Errno.ENOSYS) _noOpenat2 = true;
        }
        if (_noOpenat2)
        {
            // Linux < 5.6: one component at a time would be the full answer; the mount is private or a clone, so a plain
            // openat with O_NOFOLLOW and the fstatfs check below is what is left.
            fd = Libc.openat(_root.Fd, relative, flags | OpenFlags.O_CLOEXEC | OpenFlags.O_NOFOLLOW);
        }
        var file = SafeFd.Check(fd, $"open /proc/{relative}");
        if (Libc.FsType(file.Fd) != FsMagic.Proc)
        {
            file.Dispose();
            throw new SyscallException($"open /proc/{relative}: not on procfs (refused)", Errno.EPERM);
        }
        return file;
    }

    /// <summary>Writes <paramref name="value"/> to the procfs file <paramref name="relative"/> in one write(2).</summary>
    /// <exception cref="SyscallException">open or write failed.</exception>
    public void Write(string relative, string value)
    {
        using var file = OpenFile(relative, OpenFlags.O_WRONLY);
        Libc.WriteAll(file.Fd, Encoding.UTF8.GetBytes(value), $"/proc/{relative}");
    }

    /// <summary>
    /// Reopens this process's fd <paramref name="fd"/> (an O_PATH handle, e.g. the exec fifo) with <paramref name="flags"/>
    /// through PID/fd of this procfs: the directory is opened strictly, then the magic link of the fd is followed.
    /// </summary>
    /// <exception cref="SyscallException">the reopen failed.</exception>
    public SafeFd Reopen(int fd, int flags)
    {
        using var dir = OpenFile($"{Self}/fd", OpenFlags.O_PATH | OpenFlags.O_DIRECTORY);
        var name = fd.ToString(CultureInfo.InvariantCulture);
        return SafeFd.Check(Libc.openat(dir.Fd, name, flags | OpenFlags.O_CLOEXEC), $"reopen fd {name} through /proc/{Self}/fd");
    }

    /// <inheritdoc />
    public void Dispose() => _root.Dispose();
}
