using System.Runtime.InteropServices;
using System.Globalization;
using OciRuntime.Interop;
using OciRuntime.Runtime.ProcessModel;

namespace OciRuntime.Runtime.Init;

/// <summary>
/// Mounts of type "cgroup": the container's own cgroups, bind-mounted from the host paths the runtime passed (the view
/// a cgroup namespace gives, whether or not the container has one; runc binds the same way on v1, and on v2 when it
/// cannot mount cgroup2). v2: the container's cgroup2 directory; v1/hybrid: a tmpfs with one bind per v1 hierarchy
/// (symlinks for co-mounted controllers, "cpu" → "cpu,cpuacct"), as runc. Without cgroups of its own (rootless),
/// the init's current cgroups are shown instead. In a user namespace, host mount flags are locked (kept on every
/// remount) and a hierarchy the namespace may not bind is left out with a warning.
/// </summary>
internal static class CgroupMounts
{
    /// <summary>
    /// Mounts the container's cgroups on <paramref name="dest"/> (a cleaned container path, resolved and made inside
    /// <paramref name="root"/>; every mount and symlink is made through fds of that root).
    /// </summary>
    public static void Mount(RootDir root, string dest, MountOptions options, InitOptions init)
    {
        var remount = MountFlags.Remount | MountFlags.Bind | (options.Flags & ~(MountFlags.Bind | MountFlags.Rec | MountFlags.Remount));
        var userns = init.InUserNamespace;
        if (init.Cgroups is not { Paths.Count: > 0 } cgroups)
        {
            MountOwn(root, dest, options, remount, userns);
            return;
        }
        if (cgroups.Mode == "v2")
        {
            Bind(cgroups.Paths[""], root, dest, remount, userns);
            return;
        }
        Tmpfs(root, dest);
        // The tmpfs was just mounted by this process, in a mount namespace no container process has entered yet: its
        // entries are made and opened relative to one fd of it, not resolved from the container's root each time.
        using (var top = root.Open(dest, directory: true))
        using (var sources = CommonRoot.Open(cgroups.Paths))
        {
            var names = new List<string>(cgroups.Paths.Keys);
            names.Sort(StringComparer.Ordinal);
            foreach (var name in names)
            {
                if (name.Length == 0) continue; // hybrid's cgroup2 hierarchy is not shown, as runc
                BindInTmpfs(cgroups.Paths[name], sources.Via(cgroups.Paths[name]), top, name, dest + "/" + name, root.Display(dest + "/" + name), remount, userns);
                if (!name.Contains(',', StringComparison.Ordinal)) continue;
                foreach (var controller in name.Split(','))
                {
                    if (Libc.symlinkat(name, top.Fd, controller) != 0 && Marshal.GetLastPInvokeError() != Errno.EEXIST)
                        throw SyscallException.FromLastError($"symlink {root.Display(dest + "/" + controller)}");
                }
            }
        }
        FinishTmpfs(root, dest, options);
    }

    // No cgroups of its own (rootless): the init's current cgroups, from /proc/self/cgroup and the host's mounts.
    private static void MountOwn(RootDir root, string dest, MountOptions options, MountFlags remount, bool userns)
    {
        if (Libc.FsType("/sys/fs/cgroup") == FsMagic.Cgroup2)
        {
            var own = CgroupMembership.Read().Find(c => c.Controllers.Length == 0).Path ?? "/";
            Bind("/sys/fs/cgroup" + own, root, dest, remount, userns);
            return;
        }
        Tmpfs(root, dest);
        var memberships = CgroupMembership.Read();
        var done = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (mountPoint, superOptions) in CgroupMembership.V1Mounts())
        {
            // Only the host's hierarchies: a /sys bound into the rootfs shows copies of them under it.
            if (mountPoint.StartsWith(root.HostPath + "/", StringComparison.Ordinal) || !done.Add(Path.GetFileName(mountPoint))) continue;
            var path = memberships.Find(c => c.Controllers.Length > 0 && Array.TrueForAll(c.Controllers, superOptions.Contains)).Path;
            if (path is null) continue;
            Bind(mountPoint + path, root, dest + "/" + Path.GetFileName(mountPoint), remount, userns);
        }
        FinishTmpfs(root, dest, options);
    }

    private static void Tmpfs(RootDir root, string dest)
    {
        using var target = root.MkdirAll(dest);
        Libc.Mount("tmpfs", RootDir.FdPath(target), "tmpfs", MountFlags.NoSuid | MountFlags.NoDev | MountFlags.NoExec, "mode=755", root.Display(dest));
    }

    private static void Bind(string source, RootDir root, string path, MountFlags remount, bool userns)
    {
        var shown = root.Display(path);
        try
        {
            using (var target = root.MkdirAll(path)) Libc.Mount(source, RootDir.FdPath(target), "bind", MountFlags.Bind, null, shown);
            using var mounted = root.Open(path);
            var at = RootDir.FdPath(mounted);
            // In a user namespace the flags of the host's mount are locked: the remount repeats them.
            Libc.Mount(null, at, null, remount | (userns ? Libc.MountFlagsOf(at) : MountFlags.None), null, shown);
        }
        catch (SyscallException e) when (userns && e.Errno is Errno.EPERM or Errno.EACCES)
        {
            // A hierarchy the user namespace may not see or bind: leave it out rather than fail the container.
            using (var mounted = root.TryOpen(path)) if (mounted is not null) _ = Libc.umount2(RootDir.FdPath(mounted), Libc.MNT_DETACH);
            UserNamespaceFixups.Warnings.Add($"{path}: cgroup {source} skipped in the user namespace ({e.Message})");
        }
    }

    // Bind for an entry of the fresh tmpfs (see Mount): mkdirat + an O_NOFOLLOW open under the tmpfs fd.
    // source: the host path (for messages); via: the same directory, reached through an fd of the hierarchies' parent.
    private static void BindInTmpfs(string source, string via, SafeFd tmpfs, string name, string path, string shown, MountFlags remount, bool userns)
    {
        const int directory = OpenFlags.O_PATH | OpenFlags.O_DIRECTORY | OpenFlags.O_NOFOLLOW | OpenFlags.O_CLOEXEC;
        if (Libc.mkdirat(tmpfs.Fd, name, 0x1ed /* 0755 */) != 0 && Marshal.GetLastPInvokeError() != Errno.EEXIST)
            throw SyscallException.FromLastError($"mkdir {shown}");
        try
        {
            using (var target = SafeFd.Check(Libc.openat(tmpfs.Fd, name, directory), $"open {shown}"))
            {
                if (Libc.mount(via, RootDir.FdPath(target), "bind", MountFlags.Bind, null) != 0)
                    throw SyscallException.FromLastError($"mount {source} on {shown} (type bind)");
            }
            using var mounted = SafeFd.Check(Libc.openat(tmpfs.Fd, name, directory), $"open {shown}");
            var at = RootDir.FdPath(mounted);
            // In a user namespace the flags of the host's mount are locked: the remount repeats them.
            Libc.Mount(null, at, null, remount | (userns ? Libc.MountFlagsOf(at) : MountFlags.None), null, shown);
        }
        catch (SyscallException e) when (userns && e.Errno is Errno.EPERM or Errno.EACCES)
        {
            // A hierarchy the user namespace may not see or bind: leave it out rather than fail the container.
            var mounted = Libc.openat(tmpfs.Fd, name, directory);
            if (mounted >= 0)
            {
                _ = Libc.umount2("/proc/self/fd/" + mounted.ToString(CultureInfo.InvariantCulture), Libc.MNT_DETACH);
                Libc.close(mounted);
            }
            UserNamespaceFixups.Warnings.Add($"{path}: cgroup {source} skipped in the user namespace ({e.Message})");
        }
    }

    private static void FinishTmpfs(RootDir root, string dest, MountOptions options)
    {
        if ((options.Flags & MountFlags.ReadOnly) == 0) return;
        using var mounted = root.Open(dest);
        Libc.Mount(null, RootDir.FdPath(mounted), null, MountFlags.Remount | MountFlags.NoSuid | MountFlags.NoDev | MountFlags.NoExec | MountFlags.ReadOnly, "mode=755", root.Display(dest));
    }
}

/// <summary>The cgroup memberships of this process (/proc/self/cgroup) and the host's v1 hierarchies (/proc/self/mountinfo).</summary>
internal static class CgroupMembership
{
    /// <summary>Entries of /proc/self/cgroup: controllers (empty for the v2 line) and path.</summary>
    public static List<(string[] Controllers, string Path)> Read()
    {
        var result = new List<(string[], string)>();
        foreach (var line in Libc.ReadFileLines("/proc/self/cgroup"))
        {
            var parts = line.Split(':', 3);
            if (parts.Length == 3) result.Add((parts[1].Length == 0 ? [] : parts[1].Split(','), parts[2]));
        }
        return result;
    }

    /// <summary>Mount points and super options of every cgroup v1 mount (fstype "cgroup").</summary>
    public static IEnumerable<(string MountPoint, HashSet<string> SuperOptions)> V1Mounts()
    {
        foreach (var line in Libc.ReadFileLines("/proc/self/mountinfo"))
        {
            var sep = line.IndexOf(" - ", StringComparison.Ordinal);
            if (sep < 0) continue;
            var tail = line[(sep + 3)..].Split(' ');
            if (tail.Length < 3 || tail[0] != "cgroup") continue;
            var head = line[..sep].Split(' ');
            yield return (Unescape(head[4]), new HashSet<string>(tail[2].Split(','), StringComparer.Ordinal));
        }
    }

    /// <summary>Undoes mountinfo's octal escapes (\040 for space and so on).</summary>
    public static string Unescape(string s)
    {
        if (!s.Contains('\\', StringComparison.Ordinal)) return s;
        var sb = new System.Text.StringBuilder(s.Length);
        for (var i = 0; i < s.Length; i++)
        {
            if (s[i] == '\\' && i + 3 < s.Length &&
                int.TryParse(s.AsSpan(i + 1, 3), NumberStyles.None, CultureInfo.InvariantCulture, out _))
            {
                sb.Append((char)Convert.ToInt32(s.Substring(i + 1, 3), 8));
                i += 3;
            }
            else sb.Append(s[i]);
        }
        return sb.ToString();
    }
}

/// <summary>
/// An O_PATH fd of the directory that holds every v1 hierarchy of the container's cgroup paths (e.g. /sys/fs/cgroup),
/// opened in the caller's mount namespace; bind sources are reached through it (/proc/thread-self/fd/N/cpu/ID).
/// </summary>
/// <remarks>
/// A walk from "/" passes sysfs's "fs" and "cgroup" dentries, whose revalidation waits for sysfs's rwsem, held for
/// writing by every network namespace made or destroyed meanwhile (see CgroupFs.UseRootFd): one walk instead of
/// one per hierarchy. Without a common directory below "/" the paths are used as they are.
/// </remarks>
file readonly struct CommonRoot : IDisposable
{
    private readonly SafeFd? _fd;
    private readonly string _prefix;

    private CommonRoot(SafeFd? fd, string prefix)
    {
        _fd = fd;
        _prefix = prefix;
    }

    public static CommonRoot Open(Dictionary<string, string> paths)
    {
        string? common = null;
        foreach (var (name, path) in paths)
        {
            if (name.Length == 0) continue;
            var dir = Path.GetDirectoryName(path) ?? "/";
            common = common is null ? dir : CommonDirectory(common, dir);
        }
        if (common is null or "/" or "") return new CommonRoot(null, "");
        var fd = Libc.open(common, OpenFlags.O_PATH | OpenFlags.O_DIRECTORY | OpenFlags.O_CLOEXEC);
        return fd < 0 ? new CommonRoot(null, "") : new CommonRoot(new SafeFd(fd), common + "/");
    }

    /// <summary>The path to bind <paramref name="path"/> from: through the fd when it lies below the common directory.</summary>
    public string Via(string path) =>
        _fd is not null && path.StartsWith(_prefix, StringComparison.Ordinal)
            ? "/proc/thread-self/fd/" + _fd.Fd.ToString(CultureInfo.InvariantCulture) + "/" + path[_prefix.Length..]
            : path;

    public void Dispose() => _fd?.Dispose();

    private static string CommonDirectory(string a, string b)
    {
        while (a != "/" && !(b == a || b.StartsWith(a + "/", StringComparison.Ordinal)))
            a = Path.GetDirectoryName(a) ?? "/";
        return a;
    }
}
