using OciRuntime.Interop;
using OciRuntime.Runtime.ProcessModel;

namespace OciRuntime.Runtime.Init;

/// <summary>
/// Mounts of type "cgroup": the container's own cgroups, bind-mounted from the host paths the runtime passed (the view
/// a cgroup namespace gives, whether or not the container has one; runc binds the same way on v1, and on v2 when it
/// cannot mount cgroup2). v2: the container's cgroup2 directory; v1/hybrid: a tmpfs with one bind per v1 hierarchy
/// (symlinks for co-mounted controllers, "cpu" → "cpu,cpuacct"), as runc.
/// </summary>
internal static class CgroupMounts
{
    /// <summary>Mounts the container's cgroups on <paramref name="dest"/> (already created, inside the rootfs).</summary>
    /// <exception cref="InitException">no cgroup paths from the runtime.</exception>
    public static void Mount(string dest, MountOptions options, InitOptions init)
    {
        var cgroups = init.Cgroups ?? throw new InitException("cgroup mount: the runtime passed no cgroup paths");
        var remount = MountFlags.Remount | MountFlags.Bind | (options.Flags & ~(MountFlags.Bind | MountFlags.Rec | MountFlags.Remount));
        if (cgroups.Mode == "v2")
        {
            Libc.Mount(cgroups.Paths[""], dest, "bind", MountFlags.Bind, null);
            Libc.Mount(null, dest, null, remount, null);
            return;
        }
        Libc.Mount("tmpfs", dest, "tmpfs", MountFlags.NoSuid | MountFlags.NoDev | MountFlags.NoExec, "mode=755");
        foreach (var (name, dir) in cgroups.Paths.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (name.Length == 0) continue; // hybrid's cgroup2 hierarchy is not shown, as runc
            var sub = dest + "/" + name;
            Directory.CreateDirectory(sub);
            Libc.Mount(dir, sub, "bind", MountFlags.Bind, null);
            Libc.Mount(null, sub, null, remount, null);
            if (!name.Contains(',', StringComparison.Ordinal)) continue;
            foreach (var controller in name.Split(','))
            {
                if (!Path.Exists(dest + "/" + controller)) Libc.Check(Libc.symlinkat(name, OpenFlags.AT_FDCWD, dest + "/" + controller), $"symlink {dest}/{controller}");
            }
        }
        if ((options.Flags & MountFlags.ReadOnly) != 0)
            Libc.Mount(null, dest, null, MountFlags.Remount | MountFlags.NoSuid | MountFlags.NoDev | MountFlags.NoExec | MountFlags.ReadOnly, "mode=755");
    }
}
