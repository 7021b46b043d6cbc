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
    /// <summary>Mounts the container's cgroups on <paramref name="dest"/> (already created, inside <paramref name="rootfs"/>).</summary>
    public static void Mount(string dest, MountOptions options, InitOptions init, string rootfs)
    {
        var remount = MountFlags.Remount | MountFlags.Bind | (options.Flags & ~(MountFlags.Bind | MountFlags.Rec | MountFlags.Remount));
        var userns = init.InUserNamespace;
        if (init.Cgroups is not { } cgroups)
        {
            MountOwn(dest, options, remount, rootfs, userns);
            return;
        }
        if (cgroups.Mode == "v2")
        {
            Bind(cgroups.Paths[""], dest, remount, userns, rootfs);
            return;
        }
        Libc.Mount("tmpfs", dest, "tmpfs", MountFlags.NoSuid | MountFlags.NoDev | MountFlags.NoExec, "mode=755");
        foreach (var (name, dir) in cgroups.Paths.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (name.Length == 0) continue; // hybrid's cgroup2 hierarchy is not shown, as runc
            var sub = dest + "/" + name;
            Directory.CreateDirectory(sub);
            Bind(dir, sub, remount, userns, rootfs);
            if (!name.Contains(',', StringComparison.Ordinal)) continue;
            foreach (var controller in name.Split(','))
            {
                if (!Path.Exists(dest + "/" + controller)) Libc.Check(Libc.symlinkat(name, OpenFlags.AT_FDCWD, dest + "/" + controller), $"symlink {dest}/{controller}");
            }
        }
        FinishTmpfs(dest, options);
    }

    // No cgroups of its own (rootless): the init's current cgroups, from /proc/self/cgroup and the host's mounts.
    private static void MountOwn(string dest, MountOptions options, MountFlags remount, string rootfs, bool userns)
    {
        if (Libc.FsType("/sys/fs/cgroup") == FsMagic.Cgroup2)
        {
            var own = CgroupMembership.Read().FirstOrDefault(c => c.Controllers.Length == 0).Path ?? "/";
            Bind("/sys/fs/cgroup" + own, dest, remount, userns, rootfs);
            return;
        }
        Libc.Mount("tmpfs", dest, "tmpfs", MountFlags.NoSuid | MountFlags.NoDev | MountFlags.NoExec, "mode=755");
        var memberships = CgroupMembership.Read();
        var done = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (mountPoint, superOptions) in CgroupMembership.V1Mounts())
        {
            // Only the host's hierarchies: a /sys bound into the rootfs shows copies of them under it.
            if (mountPoint.StartsWith(rootfs + "/", StringComparison.Ordinal) || !done.Add(Path.GetFileName(mountPoint))) continue;
            var path = memberships.FirstOrDefault(c => c.Controllers.Length > 0 && c.Controllers.All(superOptions.Contains)).Path;
            if (path is null) continue;
            var sub = dest + "/" + Path.GetFileName(mountPoint);
            Directory.CreateDirectory(sub);
            Bind(mountPoint + path, sub, remount, userns, rootfs);
        }
        FinishTmpfs(dest, options);
    }

    private static void Bind(string source, string target, MountFlags remount, bool userns, string rootfs)
    {
        try
        {
            Libc.Mount(source, target, "bind", MountFlags.Bind, null);
            // In a user namespace the flags of the host's mount are locked: the remount repeats them.
            Libc.Mount(null, target, null, remount | (userns ? Libc.MountFlagsOf(target) : MountFlags.None), null);
        }
        catch (SyscallException e) when (userns && e.Errno is Errno.EPERM or Errno.EACCES)
        {
            // A hierarchy the user namespace may not see or bind: leave it out rather than fail the container.
            _ = Libc.umount2(target, Libc.MNT_DETACH);
            UserNamespaceFixups.Warnings.Add($"{target[Math.Min(rootfs.Length, target.Length)..]}: cgroup {source} skipped in the user namespace ({e.Message})");
        }
    }

    private static void FinishTmpfs(string dest, MountOptions options)
    {
        if ((options.Flags & MountFlags.ReadOnly) != 0)
            Libc.Mount(null, dest, null, MountFlags.Remount | MountFlags.NoSuid | MountFlags.NoDev | MountFlags.NoExec | MountFlags.ReadOnly, "mode=755");
    }
}
/// <summary>The cgroup memberships of this process (/proc/self/cgroup) and the host's v1 hierarchies (/proc/self/mountinfo).</summary>
internal static class CgroupMembership
{
    /// <summary>Entries of /proc/self/cgroup: controllers (empty for the v2 line) and path.</summary>
    public static List<(string[] Controllers, string Path)> Read()
    {
        var result = new List<(string[], string)>();
        foreach (var line in File.ReadAllLines("/proc/self/cgroup"))
        {
            var parts = line.Split(':', 3);
            if (parts.Length == 3) result.Add((parts[1].Length == 0 ? [] : parts[1].Split(','), parts[2]));
        }
        return result;
    }

    /// <summary>Mount points and super options of every cgroup v1 mount (fstype "cgroup").</summary>
    public static IEnumerable<(string MountPoint, HashSet<string> SuperOptions)> V1Mounts()
    {
        foreach (var line in File.ReadAllLines("/proc/self/mountinfo"))
        {
            var sep = line.IndexOf(" - ", StringComparison.Ordinal);
            if (sep < 0) continue;
            var tail = line[(sep + 3)..].Split(' ');
            if (tail.Length < 3 || tail[0] != "cgroup") continue;
            var head = line[..sep].Split(' ');
            yield return (Unescape(head[4]), tail[2].Split(',').ToHashSet(StringComparer.Ordinal));
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
