using System.Runtime.InteropServices;

namespace OciRuntime.Interop;

/// <summary>open(2)/fcntl(2) flags and *at(2) constants (Linux x86-64/arm64).</summary>
public static class OpenFlags
{
    /// <summary>Read only.</summary>
    public const int O_RDONLY = 0;
    /// <summary>Write only.</summary>
    public const int O_WRONLY = 1;
    /// <summary>Read/write.</summary>
    public const int O_RDWR = 2;
    /// <summary>Create if missing.</summary>
    public const int O_CREAT = 0x40;
    /// <summary>With O_CREAT: fail if it exists.</summary>
    public const int O_EXCL = 0x80;
    /// <summary>Do not make a tty the controlling terminal.</summary>
    public const int O_NOCTTY = 0x100;
    /// <summary>Truncate.</summary>
    public const int O_TRUNC = 0x200;
    /// <summary>Append.</summary>
    public const int O_APPEND = 0x400;
    /// <summary>Non-blocking.</summary>
    public const int O_NONBLOCK = 0x800;
    /// <summary>Must be a directory.</summary>
    public const int O_DIRECTORY = 0x10000;
    /// <summary>Do not follow a final symlink.</summary>
    public const int O_NOFOLLOW = 0x20000;
    /// <summary>Close on exec.</summary>
    public const int O_CLOEXEC = 0x80000;
    /// <summary>A path-only handle.</summary>
    public const int O_PATH = 0x200000;
    /// <summary>dirfd meaning the working directory.</summary>
    public const int AT_FDCWD = -100;
    /// <summary>Do not follow symlinks.</summary>
    public const int AT_SYMLINK_NOFOLLOW = 0x100;
    /// <summary>Operate on dirfd itself when the path is empty.</summary>
    public const int AT_EMPTY_PATH = 0x1000;
    /// <summary>unlinkat: remove a directory.</summary>
    public const int AT_REMOVEDIR = 0x200;
    /// <summary>fcntl: get fd flags.</summary>
    public const int F_GETFD = 1;
    /// <summary>fcntl: set fd flags.</summary>
    public const int F_SETFD = 2;
    /// <summary>fcntl: get status flags.</summary>
    public const int F_GETFL = 3;
    /// <summary>fcntl: set status flags.</summary>
    public const int F_SETFL = 4;
    /// <summary>The close-on-exec fd flag.</summary>
    public const int FD_CLOEXEC = 1;
    /// <summary>flock: exclusive lock.</summary>
    public const int LOCK_EX = 2;
    /// <summary>flock: shared lock.</summary>
    public const int LOCK_SH = 1;
    /// <summary>flock: unlock.</summary>
    public const int LOCK_UN = 8;
    /// <summary>close_range: mark close-on-exec instead of closing.</summary>
    public const uint CLOSE_RANGE_CLOEXEC = 4;
}

// Own declarations (Tmds.LibC 0.5.0 lacks them): close_range, flock, renameat2; mknodat (Tmds binds glibc's compat-only __xmknodat).
public static unsafe partial class Libc
{
    /// <summary>open(2).</summary>
    public static int open(string path, int flags, uint mode = 0)
    {
        fixed (byte* p = Utf8Z(path)) return LibC.open(p, flags, (Tmds.Linux.mode_t)(ushort)mode);
    }

    /// <summary>openat(2).</summary>
    public static int openat(int dirfd, string path, int flags, uint mode = 0)
    {
        fixed (byte* p = Utf8Z(path)) return LibC.openat(dirfd, p, flags, (Tmds.Linux.mode_t)(ushort)mode);
    }

    /// <summary>close(2).</summary>
    public static int close(int fd) => LibC.close(fd);

    /// <summary>read(2).</summary>
    public static nint read(int fd, byte* buf, nuint count) => (nint)(long)LibC.read(fd, buf, (Tmds.Linux.size_t)(ulong)count);

    /// <summary>write(2).</summary>
    public static nint write(int fd, byte* buf, nuint count) => (nint)(long)LibC.write(fd, buf, (Tmds.Linux.size_t)(ulong)count);

    /// <summary>fcntl(2) with an integer argument.</summary>
    public static int fcntl(int fd, int cmd, int arg) => LibC.fcntl(fd, cmd, arg);

    /// <summary>dup3(2).</summary>
    public static int dup3(int oldfd, int newfd, int flags) => LibC.dup3(oldfd, newfd, flags);

    /// <summary>close_range(2) (own declaration: not in Tmds.LibC 0.5.0).</summary>
    [LibraryImport(Name, EntryPoint = "close_range", SetLastError = true)]
    public static partial int close_range(uint first, uint last, uint flags);

    /// <summary>flock(2) (own declaration: not in Tmds.LibC 0.5.0).</summary>
    [LibraryImport(Name, EntryPoint = "flock", SetLastError = true)]
    public static partial int flock(int fd, int operation);

    /// <summary>mkdirat(2).</summary>
    public static int mkdirat(int dirfd, string path, uint mode)
    {
        fixed (byte* p = Utf8Z(path)) return LibC.mkdirat(dirfd, p, (Tmds.Linux.mode_t)(ushort)mode);
    }

    /// <summary>
    /// mknodat(2); <paramref name="dev"/> as made by <see cref="MakeDev"/>. Own declaration: Tmds.LibC 0.5.0 calls
    /// glibc's __xmknodat, a compat-only symbol since glibc 2.33 that the NativeAOT direct link of libc cannot bind.
    /// </summary>
    [LibraryImport(Name, EntryPoint = "mknodat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int mknodat(int dirfd, string path, uint mode, ulong dev);

    /// <summary>mkfifo(3).</summary>
    public static int mkfifo(string path, uint mode)
    {
        fixed (byte* p = Utf8Z(path)) return LibC.mkfifo(p, (Tmds.Linux.mode_t)(ushort)mode);
    }

    /// <summary>symlinkat(2).</summary>
    public static int symlinkat(string target, int newdirfd, string linkpath)
    {
        fixed (byte* t = Utf8Z(target))
        fixed (byte* l = Utf8Z(linkpath))
            return LibC.symlinkat(t, newdirfd, l);
    }

    /// <summary>unlinkat(2).</summary>
    public static int unlinkat(int dirfd, string path, int flags)
    {
        fixed (byte* p = Utf8Z(path)) return LibC.unlinkat(dirfd, p, flags);
    }

    /// <summary>fchownat(2).</summary>
    public static int fchownat(int dirfd, string path, uint uid, uint gid, int flags)
    {
        fixed (byte* p = Utf8Z(path)) return LibC.fchownat(dirfd, p, uid, gid, flags);
    }

    /// <summary>fchmodat(2).</summary>
    public static int fchmodat(int dirfd, string path, uint mode, int flags)
    {
        fixed (byte* p = Utf8Z(path)) return LibC.fchmodat(dirfd, p, (Tmds.Linux.mode_t)(ushort)mode, flags);
    }

    /// <summary>fchmod(2).</summary>
    public static int fchmod(int fd, uint mode) => LibC.fchmod(fd, (Tmds.Linux.mode_t)(ushort)mode);

    /// <summary>chdir(2).</summary>
    public static int chdir(string path)
    {
        fixed (byte* p = Utf8Z(path)) return LibC.chdir(p);
    }

    /// <summary>fchdir(2).</summary>
    public static int fchdir(int fd) => LibC.fchdir(fd);

    /// <summary>chroot(2).</summary>
    public static int chroot(string path)
    {
        fixed (byte* p = Utf8Z(path)) return LibC.chroot(p);
    }

    /// <summary>umask(2); returns the previous mask.</summary>
    public static uint umask(uint mask) => (ushort)LibC.umask((Tmds.Linux.mode_t)(ushort)mask);

    /// <summary>renameat2(2) flag: atomically exchange the two names.</summary>
    public const uint RENAME_EXCHANGE = 2;

    /// <summary>renameat2(2) (glibc 2.28); <paramref name="flags"/>: RENAME_*. Own declaration: not in Tmds.LibC 0.5.0.</summary>
    [LibraryImport(Name, EntryPoint = "renameat2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int renameat2(int olddirfd, string oldpath, int newdirfd, string newpath, uint flags);

    /// <summary>readlinkat(2).</summary>
    public static nint readlinkat(int dirfd, string path, byte* buf, nuint size)
    {
        fixed (byte* p = Utf8Z(path)) return (nint)(long)LibC.readlinkat(dirfd, p, buf, (Tmds.Linux.size_t)(ulong)size);
    }

    /// <summary>The dev_t of <paramref name="major"/>:<paramref name="minor"/> (glibc's makedev).</summary>
    public static ulong MakeDev(ulong major, ulong minor) =>
        ((major & 0xfffff000UL) << 32) | ((major & 0xfffUL) << 8) | ((minor & 0xffffff00UL) << 12) | (minor & 0xffUL);

    /// <summary>Writes all of <paramref name="data"/> to <paramref name="fd"/>, retrying on EINTR and short writes.</summary>
    /// <exception cref="SyscallException">write failed.</exception>
    public static unsafe void WriteAll(int fd, ReadOnlySpan<byte> data, string what)
    {
        fixed (byte* p = data)
        {
            var done = 0;
            while (done < data.Length)
            {
                var n = write(fd, p + done, (nuint)(data.Length - done));
                if (n < 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    if (errno == Errno.EINTR) continue;
                    throw new SyscallException($"write {what}", errno);
                }
                done += (int)n;
            }
        }
    }

    /// <summary>Reads up to <paramref name="buffer"/>.Length bytes, retrying on EINTR; returns 0 at end of file.</summary>
    /// <exception cref="SyscallException">read failed.</exception>
    public static unsafe int ReadSome(int fd, Span<byte> buffer, string what)
    {
        fixed (byte* p = buffer)
        {
            while (true)
            {
                var n = read(fd, p, (nuint)buffer.Length);
                if (n >= 0) return (int)n;
                var errno = Marshal.GetLastPInvokeError();
                if (errno != Errno.EINTR) throw new SyscallException($"read {what}", errno);
            }
        }
    }

    /// <summary>
    /// The whole content of a small file as UTF-8 text (no BOM detection): for /proc, /sys and cgroupfs files. One
    /// open, reads into a stack buffer (growing on the heap past 4 KiB), one close: File.ReadAllText builds a
    /// FileStream, a StreamReader and their buffers and costs 0.1–0.4 ms more per first use in NativeAOT.
    /// </summary>
    /// <param name="path">The file.</param>
    /// <returns>The text.</returns>
    /// <exception cref="FileNotFoundException">ENOENT.</exception>
    /// <exception cref="DirectoryNotFoundException">ENOTDIR.</exception>
    /// <exception cref="UnauthorizedAccessException">EACCES or EPERM.</exception>
    /// <exception cref="IOException">any other error (the message names the path and the errno).</exception>
    public static string ReadFileText(string path)
    {
        Span<byte> buffer = stackalloc byte[4096];
        var length = ReadFile(path, ref buffer);
        return System.Text.Encoding.UTF8.GetString(buffer[..length]);
    }

    /// <summary>
    /// <see cref="ReadFileText"/>, or null when the file cannot be opened (<paramref name="errno"/> tells why: ENOENT,
    /// ENOTDIR, ESRCH for a /proc/PID file of a gone process, …): no exception for the expected miss, which in NativeAOT
    /// costs a stack unwind (≈0.1 ms).
    /// </summary>
    /// <param name="path">The file.</param>
    /// <param name="errno">0 when the file was read; otherwise open(2)'s errno.</param>
    /// <returns>The text, or null.</returns>
    /// <exception cref="IOException">read(2) failed after the open.</exception>
    public static string? TryReadFileText(string path, out int errno) => TryReadFileTextAt(OpenFlags.AT_FDCWD, path, path, out errno);

    /// <summary><see cref="TryReadFileText"/> of <paramref name="path"/> relative to <paramref name="dirfd"/>; <paramref name="shown"/> names it in errors.</summary>
    /// <exception cref="IOException">read(2) failed after the open.</exception>
    public static string? TryReadFileTextAt(int dirfd, string path, string shown, out int errno)
    {
        Span<byte> buffer = stackalloc byte[4096];
        var length = ReadFile(dirfd, path, shown, ref buffer, out errno);
        return length < 0 ? null : System.Text.Encoding.UTF8.GetString(buffer[..length]);
    }

    /// <summary>The whole content of a small file as bytes, like <see cref="ReadFileText"/> (same exceptions).</summary>
    /// <param name="path">The file.</param>
    /// <returns>The bytes.</returns>
    public static byte[] ReadFileBytes(string path)
    {
        Span<byte> buffer = stackalloc byte[4096];
        var length = ReadFile(path, ref buffer);
        return buffer[..length].ToArray();
    }

    // Reads all of path into buffer, replacing it with a larger heap array when it fills up; returns the length.
    private static int ReadFile(string path, ref Span<byte> buffer)
    {
        var length = ReadFile(OpenFlags.AT_FDCWD, path, path, ref buffer, out var errno);
        return length >= 0 ? length : throw FileError(path, errno);
    }

    // ReadFile of path relative to dirfd (shown in errors as `shown`), but a failed open returns -1 with its errno.
    private static unsafe int ReadFile(int dirfd, string path, string shown, ref Span<byte> buffer, out int openErrno)
    {
        openErrno = 0;
        var fd = openat(dirfd, path, OpenFlags.O_RDONLY | OpenFlags.O_CLOEXEC);
        if (fd < 0)
        {
            openErrno = Marshal.GetLastPInvokeError();
            return -1;
        }
        try
        {
            var length = 0;
            while (true)
            {
                if (length == buffer.Length)
                {
                    var bigger = new byte[buffer.Length * 2];
                    buffer.CopyTo(bigger);
                    buffer = bigger;
                }
                int n;
                fixed (byte* p = buffer)
                {
                    n = (int)read(fd, p + length, (nuint)(buffer.Length - length));
                }
                if (n == 0) return length;
                if (n < 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    if (errno == Errno.EINTR) continue;
                    throw FileError(shown, errno);
                }
                length += n;
            }
        }
        finally
        {
            close(fd);
        }
    }

    /// <summary>The lines of a small file (<see cref="ReadFileText"/>), without line terminators; a final newline ends the last line.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The lines.</returns>
    public static string[] ReadFileLines(string path)
    {
        var text = ReadFileText(path);
        if (text.Length == 0) return [];
        var lines = text.Split('\n');
        return text[^1] == '\n' ? lines[..^1] : lines;
    }

    private static Exception FileError(string path, int errno) => errno switch
    {
        Errno.ENOENT => new FileNotFoundException($"{path}: {StrError(errno)}", path),
        Errno.ENOTDIR => new DirectoryNotFoundException($"{path}: {StrError(errno)}"),
        Errno.EACCES or Errno.EPERM => new UnauthorizedAccessException($"{path}: {StrError(errno)}"),
        _ => new IOException($"{path}: {StrError(errno)}", errno),
    };
}
