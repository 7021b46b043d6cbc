using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using OciRuntime.Interop;

namespace OciRuntime.Runtime.Init;

/// <summary>
/// A directory handle of the container's root (the rootfs before pivot_root, "/" after it) through which every path of
/// config.json is resolved and created by file descriptor, never by a host path string that a process sharing the
/// rootfs could change between the check and the use (CVE-2021-30465, the race form of CVE-2019-19921).
/// </summary>
/// <remarks>
/// <para>Lookup: openat2(2) with RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS (Linux 5.6): symlinks are followed as the
/// container would see them, ".." and absolute targets stay at the root, /proc magic links are refused, and the whole
/// walk is one atomic kernel lookup.</para>
/// <para>Creation and the fallback for kernels without openat2: a walk one component at a time from held directory
/// fds (filepath-securejoin's fd walk): each component is opened with O_NOFOLLOW relative to the fd of its parent, a
/// symlink is read from that same parent and its target pushed back onto the walk (absolute = from the root), ".."
/// pops the walk's own stack (never the kernel's ".."), and a missing directory is made with mkdirat in the held
/// parent and reopened with O_NOFOLLOW. A component swapped for a symlink after it was created is refused (ELOOP),
/// not followed.</para>
/// <para>The result is an O_PATH fd; mount(2) takes it as the magic link <c>/proc/self/fd/N</c> (<see cref="FdPath"/>,
/// usable while the host's /proc is the init's /proc, before pivot_root); after pivot_root the new mount API attaches
/// by fd alone (<see cref="Attach"/>).</para>
/// </remarks>
internal sealed class RootDir : IDisposable
{
    private const int MaxSymlinks = 255;
    private const ulong InRoot = Libc.RESOLVE_IN_ROOT | Libc.RESOLVE_NO_MAGICLINKS;
    private static bool s_noOpenat2;

    /// <summary>Tests only: use the fd walk for every lookup, as on a kernel without openat2 (Linux &lt; 5.6).</summary>
    internal static bool ForceWalk { get => s_noOpenat2; set => s_noOpenat2 = value; }
    private readonly SafeFd _fd;

    private RootDir(SafeFd fd, string hostPath)
    {
        _fd = fd;
        HostPath = hostPath;
    }

    /// <summary>The root as a host path, for messages (e.g. <c>/run/bundle/rootfs</c>; "/" after pivot_root).</summary>
    public string HostPath { get; }

    /// <summary>The O_PATH directory fd of the root.</summary>
    public int Fd => _fd.Fd;

    /// <summary>Opens <paramref name="hostPath"/> (a trusted host path: the rootfs, or "/") as the root.</summary>
    /// <exception cref="SyscallException">it cannot be opened as a directory.</exception>
    public static RootDir OpenRoot(string hostPath) =>
        new(SafeFd.Check(Libc.open(hostPath, OpenFlags.O_PATH | OpenFlags.O_DIRECTORY | OpenFlags.O_CLOEXEC), $"open {hostPath}"), hostPath);

    /// <summary><c>/proc/self/fd/N</c>: a path mount(2) and stat(2) follow to exactly the inode <paramref name="fd"/> holds.</summary>
    public static string FdPath(SafeFd fd) => "/proc/self/fd/" + fd.Fd.ToString(CultureInfo.InvariantCulture);

    /// <summary>The host path of <paramref name="containerPath"/> as written (for messages only; never opened).</summary>
    public string Display(string containerPath) => HostPath == "/" ? SecurePath.Clean(containerPath) : HostPath + SecurePath.Clean(containerPath);

    /// <summary>
    /// Opens <paramref name="path"/> (as the container sees it) as an O_PATH fd (of a directory only, with
    /// <paramref name="directory"/>); null when it (or a directory on the way) does not exist.
    /// </summary>
    /// <exception cref="SyscallException">any other error (ELOOP for too many symlinks, ENOTDIR, EACCES).</exception>
    public SafeFd? TryOpen(string path, bool directory = false)
    {
        var relative = SecurePath.Clean(path)[1..];
        if (relative.Length == 0) relative = ".";
        var flags = OpenFlags.O_PATH | OpenFlags.O_CLOEXEC | (directory ? OpenFlags.O_DIRECTORY : 0);
        // EAGAIN: a rename or mount raced with a ".." step of the lookup; the kernel refuses rather than guess. Retried,
        // then left to the fd walk, which does not depend on the global rename sequence.
        for (var attempt = 0; !s_noOpenat2 && attempt < 16; attempt++)
        {
            var fd = Libc.openat2(_fd.Fd, relative, (ulong)flags, InRoot);
            if (fd >= 0) return new SafeFd(fd);
            var errno = Marshal.GetLastPInvokeError();
            if (errno is Errno.ENOENT) return null;
            if (errno == Errno.EAGAIN) continue;
            if (errno is Errno.ENOSYS or Errno.E2BIG) { s_noOpenat2 = true; break; }
            throw new SyscallException($"open {Display(path)} in the container's root", errno);
        }
        return Walk(path, create: false, directory, out _);
    }

    /// <summary>Like <see cref="TryOpen"/>, but a missing path is an error (ENOENT).</summary>
    public SafeFd Open(string path, bool directory = false) =>
        TryOpen(path, directory) ?? throw new SyscallException($"open {Display(path)}", Errno.ENOENT);

    /// <summary>
    /// mkdir -p of <paramref name="path"/> inside the root (each new directory <c>0755</c>, as runc); returns an O_PATH
    /// fd of the directory.
    /// </summary>
    /// <exception cref="SyscallException">a component is not a directory (ENOTDIR), was swapped for a symlink while it was being made (ELOOP), or mkdir failed.</exception>
    public SafeFd MkdirAll(string path) => MkdirAll(path, out _);

    /// <summary><see cref="MkdirAll(string)"/>; <paramref name="made"/> tells whether the last directory was made by this call.</summary>
    public SafeFd MkdirAll(string path, out bool made)
    {
        made = false;
        if (TryOpen(path, directory: true) is { } existing) return existing;
        var fd = Walk(path, create: true, directory: true, out made)!;
        return fd;
    }

    /// <summary>
    /// An O_PATH fd of the file at <paramref name="path"/>, made empty (mode 0755, as runc) when nothing is there: the
    /// target of a bind mount of a file. The parent directories are made as by <see cref="MkdirAll(string)"/>. An existing entry
    /// of any type is returned as it is (a directory too: mount(2) decides).
    /// </summary>
    public SafeFd MkFile(string path) => MkFile(path, 0);

    // A dangling symlink at the destination is followed inside the root and its target made there (runc, crun).
    private SafeFd MkFile(string path, int links)
    {
        if (TryOpen(path) is { } existing) return existing;
        if (SecurePath.Clean(path) == "/") return Open(path);
        var (parent, name) = MkParent(path);
        using var _ = parent;
        if (ReadLinkAt(parent.Fd, name) is { } target)
        {
            if (links >= MaxSymlinks) throw new SyscallException($"resolve {Display(path)}", Errno.ELOOP);
            var clean = SecurePath.Clean(path);
            var dir = clean[..Math.Max(1, clean.LastIndexOf('/'))];
            return MkFile(target.StartsWith('/') ? target : dir + "/" + target, links + 1);
        }
        using (var made = new SafeFd(Libc.openat(parent.Fd, name, OpenFlags.O_CREAT | OpenFlags.O_WRONLY | OpenFlags.O_NOFOLLOW | OpenFlags.O_CLOEXEC, 0x1ed)))
        {
            if (made.IsInvalid && Marshal.GetLastPInvokeError() != Errno.EEXIST) throw SyscallException.FromLastError($"create {Display(path)}");
        }
        return SafeFd.Check(Libc.openat(parent.Fd, name, OpenFlags.O_PATH | OpenFlags.O_NOFOLLOW | OpenFlags.O_CLOEXEC), $"open {Display(path)}");
    }

    /// <summary>
    /// The parent directory of <paramref name="path"/> (made if missing) and the last component's name: for the *at()
    /// calls that make a node (mknodat, symlinkat) in place.
    /// </summary>
    public (SafeFd Parent, string Name) MkParent(string path)
    {
        var clean = SecurePath.Clean(path);
        var slash = clean.LastIndexOf('/');
        var name = clean[(slash + 1)..];
        if (name.Length == 0) throw new SyscallException($"make {Display(path)}", Errno.EEXIST);
        return (MkdirAll(slash == 0 ? "/" : clean[..slash]), name);
    }

    /// <summary>
    /// A detached copy of the mount at <paramref name="source"/> (open_tree OPEN_TREE_CLONE of the fd itself, with its
    /// submounts when <paramref name="recursive"/>), for <see cref="Attach"/>; null on kernels without open_tree (Linux
    /// &lt; 5.2), where the caller falls back to mount(2).
    /// </summary>
    /// <exception cref="SyscallException">open_tree failed otherwise (EINVAL for an unbindable mount).</exception>
    public static SafeFd? CloneTree(SafeFd source, bool recursive, string what)
    {
        var tree = Libc.open_tree(source.Fd, "", Libc.OPEN_TREE_CLONE | Libc.OPEN_TREE_CLOEXEC | (uint)OpenFlags.AT_EMPTY_PATH | (recursive ? Libc.AT_RECURSIVE : 0));
        if (tree < 0 && Marshal.GetLastPInvokeError() == Errno.ENOSYS) return null;
        return SafeFd.Check(tree, $"open_tree {what}");
    }

    /// <summary>
    /// Attaches the detached mount <paramref name="tree"/> (from open_tree OPEN_TREE_CLONE or fsmount) on the file or
    /// directory <paramref name="target"/>, by fds alone (move_mount MOVE_MOUNT_F_EMPTY_PATH | T_EMPTY_PATH).
    /// </summary>
    public static void Attach(SafeFd tree, SafeFd target, string what) =>
        Libc.Check(Libc.move_mount(tree.Fd, "", target.Fd, "", Libc.MOVE_MOUNT_F_EMPTY_PATH | Libc.MOVE_MOUNT_T_EMPTY_PATH), what);

    // The fd walk (see the remarks). Returns null for ENOENT when not creating.
    private SafeFd? Walk(string path, bool create, bool directory, out bool madeLeaf)
    {
        madeLeaf = false;
        var pending = new Stack<string>();
        PushReversed(pending, SecurePath.Clean(path));
        var stack = new List<SafeFd>(); // the directories walked, below the root; the last is the current one
        var links = 0;
        try
        {
            while (pending.Count > 0)
            {
                var part = pending.Pop();
                if (part is "" or ".") continue;
                if (part == "..")
                {
                    if (stack.Count > 0) { stack[^1].Dispose(); stack.RemoveAt(stack.Count - 1); }
                    continue;
                }
                var current = stack.Count > 0 ? stack[^1].Fd : _fd.Fd;
                var last = pending.Count == 0;
                var fd = Libc.openat(current, part, OpenFlags.O_PATH | OpenFlags.O_NOFOLLOW | OpenFlags.O_CLOEXEC);
                if (fd < 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    if (errno != Errno.ENOENT) throw new SyscallException($"open {Display(path)} in the container's root", errno);
                    if (!create) return null;
                    if (Libc.mkdirat(current, part, 0x1ed) != 0 && Marshal.GetLastPInvokeError() != Errno.EEXIST)
                        throw SyscallException.FromLastError($"mkdir {Display(path)}");
                    // Reopened without following: a symlink put there since the mkdir is refused (ELOOP/ENOTDIR).
                    fd = Libc.openat2(current, part, (ulong)(OpenFlags.O_PATH | OpenFlags.O_DIRECTORY | OpenFlags.O_NOFOLLOW | OpenFlags.O_CLOEXEC), Libc.RESOLVE_BENEATH | Libc.RESOLVE_NO_SYMLINKS);
                    if (fd < 0 && Marshal.GetLastPInvokeError() is Errno.ENOSYS or Errno.E2BIG)
                        fd = Libc.openat(current, part, OpenFlags.O_PATH | OpenFlags.O_DIRECTORY | OpenFlags.O_NOFOLLOW | OpenFlags.O_CLOEXEC);
                    stack.Add(SafeFd.Check(fd, $"open {Display(path)} (made by ocirun; changed since)"));
                    madeLeaf = last;
                    continue;
                }
                var entry = new SafeFd(fd);
                var mode = Libc.StatFd(fd).Mode & Libc.S_IFMT;
                if (mode == S_IFLNK)
                {
                    entry.Dispose();
                    if (++links > MaxSymlinks) throw new SyscallException($"resolve {Display(path)}", Errno.ELOOP);
                    if (ReadLinkAt(current, part) is not { } target)
                    {
                        pending.Push(part); // no longer a symlink (swapped since the open): look at it again
                        continue;
                    }
                    if (target.StartsWith('/')) { foreach (var d in stack) d.Dispose(); stack.Clear(); }
                    PushReversed(pending, target);
                    continue;
                }
                if (mode != Libc.S_IFDIR && !last)
                {
                    entry.Dispose();
                    throw new SyscallException($"open {Display(path)}", Errno.ENOTDIR);
                }
                stack.Add(entry);
            }
            if (stack.Count == 0) return SafeFd.Check(Libc.openat(_fd.Fd, ".", OpenFlags.O_PATH | OpenFlags.O_DIRECTORY | OpenFlags.O_CLOEXEC), $"open {HostPath}");
            var leaf = stack[^1];
            if (directory && (Libc.StatFd(leaf.Fd).Mode & Libc.S_IFMT) != Libc.S_IFDIR) throw new SyscallException($"open {Display(path)}", Errno.ENOTDIR);
            stack.RemoveAt(stack.Count - 1);
            return leaf;
        }
        finally
        {
            foreach (var d in stack) d.Dispose();
        }
    }

    private const uint S_IFLNK = 0xa000;

    // The target of symlink NAME in DIRFD; null when NAME is no longer a symlink or is gone (a concurrent rename).
    private static unsafe string? ReadLinkAt(int dirfd, string name)
    {
        const int size = 4096;
        byte* buf = stackalloc byte[size];
        var n = Libc.readlinkat(dirfd, name, buf, size);
        if (n >= 0) return Encoding.UTF8.GetString(buf, (int)n);
        if (Marshal.GetLastPInvokeError() is Errno.EINVAL or Errno.ENOENT) return null;
        throw SyscallException.FromLastError($"readlink {name}");
    }

    /// <inheritdoc/>
    public void Dispose() => _fd.Dispose();

    /// <summary>Pushes the components of <paramref name="path"/> so that the first is on top.</summary>
    private static void PushReversed(Stack<string> pending, string path)
    {
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        for (int i = parts.Length - 1; i >= 0; i--) pending.Push(parts[i]);
    }
}
