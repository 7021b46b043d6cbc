using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using OciRuntime.Interop;

namespace OciRuntime.Cgroups;

/// <summary>
/// File access to a cgroupfs (or a fake tree of plain files): one write(2) per value, as the kernel wants
/// (a cgroup file parses each write separately), reads of small files, mkdir/rmdir with the kernel's errors.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1822:Mark members as static", Justification = "Instance API: a fake tree is another instance.")]
public sealed class CgroupFs
{
    /// <summary>The real filesystem.</summary>
    public static CgroupFs Real { get; } = new();

    // O_PATH fds of cgroup roots of the real host, with their paths + "/" (CgroupHost.Detect registers the root).
    private static (string Prefix, int Fd)[] s_roots = [];
    private static readonly Lock s_rootsLock = new();

    /// <summary>
    /// Keeps an O_PATH fd of <paramref name="root"/> (e.g. /sys/fs/cgroup) for the life of the process; from then on
    /// every file operation on an absolute path below it starts from that fd (openat, mkdirat, unlinkat, statx).
    /// </summary>
    /// <remarks>
    /// A walk from "/" passes sysfs's "fs" and "cgroup" dentries, and kernfs revalidates each of its dentries under its
    /// root's rwsem, which is held for writing whenever a sysfs node is made or removed: by every network namespace made
    /// or destroyed (its loopback device). With containers starting in parallel that is nearly always: a `perf record -e
    /// sched:sched_switch` of 50 parallel runs counted 15 blocked opens per run, on those revalidations. From the fd
    /// only the cgroup's own dentries are revalidated. Missing or unopenable roots are ignored (paths are used as given).
    /// </remarks>
    /// <returns>The fd (owned here; never close it), or -1 when <paramref name="root"/> cannot be opened.</returns>
    public static int UseRootFd(string root)
    {
        var prefix = root.TrimEnd('/') + "/";
        lock (s_rootsLock)
        {
            foreach (var (p, existing) in s_roots)
            {
                if (p == prefix) return existing;
            }
            var fd = Libc.open(prefix.Length == 1 ? "/" : prefix[..^1], OpenFlags.O_PATH | OpenFlags.O_DIRECTORY | OpenFlags.O_CLOEXEC);
            if (fd >= 0) s_roots = [.. s_roots, (prefix, fd)];
            return fd;
        }
    }

    /// <summary>The directory fd and relative path to reach absolute <paramref name="path"/> by (AT_FDCWD and the path itself when no registered root holds it).</summary>
    public static int At(string path, out string relative)
    {
        foreach (var (prefix, fd) in s_roots)
        {
            if (path.Length > prefix.Length && path.StartsWith(prefix, StringComparison.Ordinal))
            {
                relative = path[prefix.Length..];
                return fd;
            }
        }
        relative = path;
        return OpenFlags.AT_FDCWD;
    }

    /// <summary>open(2) of absolute <paramref name="path"/>, from a registered root's fd when below one (<see cref="At"/>).</summary>
    internal static int Open(string path, int flags, uint mode = 0) => Libc.openat(At(path, out var relative), relative, flags, mode);

    /// <summary>rmdir(2) of absolute <paramref name="dir"/> like <see cref="Open"/>: 0, or the errno.</summary>
    internal static int Rmdir(string dir) =>
        Libc.unlinkat(At(dir, out var relative), relative, OpenFlags.AT_REMOVEDIR) == 0 ? 0 : Marshal.GetLastPInvokeError();

    /// <summary>
    /// A fake cgroupfs (plain files in a temporary directory, for tests): writes create missing files and
    /// <see cref="RemoveTree"/> deletes the plain files before rmdir. On a real cgroupfs (false) a missing file is ENOENT.
    /// </summary>
    public bool Fake { get; init; }

    /// <summary>
    /// When set, every write is appended here as (absolute file path, value) before it is made: tests read the exact
    /// sequence of values written (several writes to one file, e.g. io.max or devices.allow, leave only the last one
    /// in a fake tree).
    /// </summary>
    public List<(string Path, string Value)>? Journal { get; set; }

    /// <summary>
    /// Writes <paramref name="value"/> to <paramref name="dir"/>/<paramref name="file"/> in one write(2)
    /// (O_WRONLY|O_TRUNC; O_CREAT too in a <see cref="Fake"/> tree).
    /// </summary>
    /// <exception cref="SyscallException">open or write failed (the message names the file and value).</exception>
    public void Write(string dir, string file, string value)
    {
        var path = dir + "/" + file;
        Journal?.Add((path, value));
        var fd = Open(path, OpenFlags.O_WRONLY | OpenFlags.O_TRUNC | OpenFlags.O_CLOEXEC | (Fake ? OpenFlags.O_CREAT : 0), 0x1a4);
        if (fd < 0) throw SyscallException.FromLastError($"open {path}");
        try
        {
            var bytes = Encoding.UTF8.GetBytes(value);
            WriteOnce(fd, bytes, $"{path} = {Printable(value)}");
        }
        finally
        {
            Libc.close(fd);
        }
    }

    /// <summary>
    /// Writes each value of <paramref name="writes"/> to <paramref name="dir"/>/file in order, one write(2) per value
    /// as <see cref="Write"/>, but consecutive values for one file go through one open fd (a cgroup file parses each
    /// write(2) on its own: the v1 device rules are a deny and a dozen allows). A <see cref="Fake"/> tree reopens the
    /// file (O_TRUNC) per value, so it keeps the last one as with <see cref="Write"/>.
    /// </summary>
    /// <exception cref="SyscallException">open or write failed (the message names the file and value).</exception>
    public void WriteAll(string dir, IEnumerable<(string File, string Value)> writes)
    {
        if (Fake)
        {
            foreach (var (file, value) in writes) Write(dir, file, value);
            return;
        }
        string? openFile = null;
        var fd = -1;
        try
        {
            foreach (var (file, value) in writes)
            {
                var path = dir + "/" + file;
                Journal?.Add((path, value));
                if (file != openFile)
                {
                    if (fd >= 0) Libc.close(fd);
                    openFile = null;
                    fd = Open(path, OpenFlags.O_WRONLY | OpenFlags.O_TRUNC | OpenFlags.O_CLOEXEC);
                    if (fd < 0) throw SyscallException.FromLastError($"open {path}");
                    openFile = file;
                }
                WriteOnce(fd, Encoding.UTF8.GetBytes(value), $"{path} = {Printable(value)}");
            }
        }
        finally
        {
            if (fd >= 0) Libc.close(fd);
        }
    }

    /// <summary>Writes <paramref name="bytes"/> with one write(2) call (no retry on a short write: cgroup files take a value whole).</summary>
    /// <exception cref="SyscallException">write failed.</exception>
    public static unsafe void WriteOnce(int fd, ReadOnlySpan<byte> bytes, string what)
    {
        fixed (byte* p = bytes)
        {
            while (true)
            {
                var n = Libc.write(fd, p, (nuint)bytes.Length);
                if (n >= 0) return;
                var errno = Marshal.GetLastPInvokeError();
                if (errno != Errno.EINTR) throw new SyscallException($"write {what}", errno);
            }
        }
    }

    /// <summary>The content of <paramref name="dir"/>/<paramref name="file"/>, or null when it does not exist.</summary>
    /// <exception cref="IOException">the file exists but cannot be read.</exception>
    public string? ReadOrNull(string dir, string file)
    {
        var path = dir + "/" + file;
        var text = Libc.TryReadFileTextAt(At(path, out var relative), relative, path, out var errno);
        if (text is not null || errno is Errno.ENOENT or Errno.ENOTDIR) return text;
        return Libc.ReadFileText(path); // the same failure again, as the exception ReadFileText throws for it
    }

    /// <summary>The trimmed content of <paramref name="dir"/>/<paramref name="file"/>.</summary>
    /// <exception cref="IOException">the file cannot be read.</exception>
    public string Read(string dir, string file) =>
        (ReadOrNull(dir, file) ?? throw new FileNotFoundException($"{dir}/{file} does not exist")).Trim();

    /// <summary>A file holding one unsigned number ("max" reads as <see cref="ulong.MaxValue"/>), or null when missing.</summary>
    /// <exception cref="IOException">the file is not a number.</exception>
    public ulong? ReadUInt64OrNull(string dir, string file)
    {
        var text = ReadOrNull(dir, file)?.Trim();
        if (text is null || text.Length == 0) return null;
        if (text == "max") return ulong.MaxValue;
        return ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var v)
            ? v
            : throw new IOException($"{dir}/{file}: expected a number, got \"{Printable(text)}\"");
    }

    /// <summary>Whether <paramref name="dir"/>/<paramref name="file"/> exists.</summary>
    public bool Exists(string dir, string file) => Path.Exists(dir + "/" + file);

    /// <summary>
    /// Creates <paramref name="dir"/> and any missing parents (mode 0755); returns the directories it created, parents first.
    /// </summary>
    /// <exception cref="SyscallException">mkdir failed (not EEXIST).</exception>
    public List<string> MkdirAll(string dir)
    {
        var created = new List<string>();
        MkdirAll(dir, created);
        return created;
    }

    /// <summary>
    /// <see cref="MkdirAll(string)"/> that appends each directory to <paramref name="created"/> as soon as it is made,
    /// so a failure half-way still tells the caller what to remove.
    /// </summary>
    /// <exception cref="SyscallException">mkdir failed (not EEXIST).</exception>
    public static void MkdirAllInto(string dir, List<string> created) => MkdirAll(dir, created);

    // mkdir first, the parent only on ENOENT: a container's cgroup is usually one new directory under an existing one,
    // so this is one mkdir per hierarchy, where a stat of each missing level first would add a negative lookup in
    // kernfs (a dentry allocated and dropped) per level. EEXIST (an existing directory) is success, as before.
    private static void MkdirAll(string dir, List<string> created)
    {
        if (dir.Length <= 1) return;
        if (Libc.mkdirat(At(dir, out var relative), relative, 0x1ed) == 0)
        {
            created.Add(dir);
            return;
        }
        var errno = Marshal.GetLastPInvokeError();
        if (errno == Errno.EEXIST) return;
        if (errno != Errno.ENOENT) throw new SyscallException($"mkdir {dir}", errno);
        MkdirAll(Path.GetDirectoryName(dir) ?? "/", created);
        if (Libc.mkdirat(At(dir, out relative), relative, 0x1ed) == 0)
        {
            created.Add(dir);
            return;
        }
        errno = Marshal.GetLastPInvokeError();
        if (errno != Errno.EEXIST) throw new SyscallException($"mkdir {dir}", errno);
    }

    /// <summary>
    /// Removes cgroup directory <paramref name="dir"/> and the cgroups below it (deepest first). A cgroup directory
    /// holds only kernel files, which rmdir ignores; in a fake tree the plain files are deleted first. Retries EBUSY
    /// for a while (a cgroup stays busy until its last task is released). A missing directory is not an error.
    /// </summary>
    /// <exception cref="SyscallException">rmdir failed.</exception>
    public void RemoveTree(string dir)
    {
        // rmdir first: a container's cgroup rarely has children, and listing a v1 cgroup directory (30-odd kernel
        // files) costs more than the rmdir itself. EBUSY (children or tasks) or, in a fake tree, ENOTEMPTY: the child
        // cgroups go first, then the rmdir is tried again.
        var delay = 1;
        var childrenRemoved = false;
        for (var attempt = 0; ; attempt++)
        {
            var errno = Rmdir(dir);
            if (errno == 0) return;
            if (errno == Errno.ENOENT) return;
            if (!childrenRemoved && errno is Errno.EBUSY or Errno.ENOTEMPTY)
            {
                childrenRemoved = true;
                foreach (var sub in Directory.EnumerateDirectories(dir)) RemoveTree(sub);
                attempt--;
                continue;
            }
            if (errno == Errno.ENOTEMPTY && Fake)
            {
                foreach (var f in Directory.EnumerateFiles(dir)) File.Delete(f);
                continue;
            }
            if (errno != Errno.EBUSY || attempt >= 12) throw new SyscallException($"rmdir {dir}", errno);
            Thread.Sleep(delay);
            delay = Math.Min(delay * 2, 200);
        }
    }

    /// <summary>
    /// Opens, for writing, the file through which a process joins <paramref name="dir"/> of <paramref name="hierarchy"/>
    /// ("" = cgroup2): a v1 hierarchy's tasks file ("0" moves the writing thread only, without the global lock), cgroup2's
    /// cgroup.procs (see <see cref="ICgroupManager.OpenJoinFiles"/>).
    /// </summary>
    /// <exception cref="CgroupException">the file cannot be opened.</exception>
    public static SafeFd OpenJoinFile(string hierarchy, string dir)
    {
        var path = dir + (hierarchy.Length == 0 ? "/cgroup.procs" : "/tasks");
        var fd = Open(path, OpenFlags.O_WRONLY | OpenFlags.O_CLOEXEC);
        return fd < 0 ? throw new CgroupException(SyscallException.FromLastError($"open {path}").Message) : new SafeFd(fd);
    }

    /// <summary>The pids listed in <paramref name="dir"/>/cgroup.procs (empty when the file is missing).</summary>
    /// <exception cref="IOException">the file cannot be read.</exception>
    public List<int> ReadPids(string dir)
    {
        var result = new List<int>();
        var text = ReadOrNull(dir, "cgroup.procs");
        if (text is null) return result;
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (int.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out var pid)) result.Add(pid);
        }
        return result;
    }

    /// <summary>The pids of <paramref name="dir"/> and of every cgroup below it.</summary>
    /// <exception cref="IOException">a file cannot be read.</exception>
    public List<int> ReadPidsRecursive(string dir)
    {
        var result = ReadPids(dir);
        // A directory's link count is 2 + its subdirectories on cgroupfs: listing the 10-30 kernel files of a cgroup
        // that has no child cgroups (the usual case) is skipped. -1: gone; other counts (btrfs says 1): list it.
        var links = Libc.LinkCount(At(dir, out var relative), relative);
        if (links is -1 or 2) return result;
        foreach (var sub in Directory.EnumerateDirectories(dir)) result.AddRange(ReadPidsRecursive(sub));
        return result;
    }

    /// <summary>
    /// Moves process <paramref name="pid"/> into cgroup <paramref name="dir"/> (cgroup.procs). EINVAL, which a task
    /// still in TASK_NEW gives, is retried a few times, as runc does.
    /// </summary>
    /// <exception cref="SyscallException">the kernel refused.</exception>
    public void WriteProcs(string dir, int pid)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                Write(dir, "cgroup.procs", pid.ToString(CultureInfo.InvariantCulture));
                return;
            }
            catch (SyscallException e) when (e.Errno == Errno.EINVAL && attempt < 5)
            {
                Thread.Sleep(30);
            }
        }
    }

    /// <summary>Escapes control characters so a value fits on one line of an error message.</summary>
    public static string Printable(string value)
    {
        var trimmed = value.TrimEnd('\n');
        return trimmed.Contains('\n', StringComparison.Ordinal) ? trimmed.Replace("\n", "\\n", StringComparison.Ordinal) : trimmed;
    }
}
