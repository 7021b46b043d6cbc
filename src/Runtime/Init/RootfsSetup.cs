using System.Globalization;
using OciRuntime.Interop;
using OciRuntime.Runtime.ProcessModel;
using OciRuntime.Spec;

namespace OciRuntime.Runtime.Init;

/// <summary>
/// Prepares the container's filesystem from inside its new mount namespace, in runc's order:
/// propagation of /, the rootfs bind, the mounts of config.json, /dev, pivot_root (or MS_MOVE + chroot);
/// then, after the hostname, readonlyPaths, maskedPaths and root.readonly (<see cref="FinishAfterPivot"/>).
/// </summary>
internal sealed class RootfsSetup(Spec.Spec spec, InitOptions options, PhaseTimer timer, Action beforePivot)
{
    private readonly string _rootfs = options.Rootfs.TrimEnd('/');
    private bool _devReadonly;

    /// <summary>Everything up to and including pivot_root.</summary>
    public void PrepareAndPivot()
    {
        var propagation = MountOptions.RootPropagation(spec.Linux?.RootfsPropagation);
        Libc.Mount(null, "/", null, propagation, null);
        // pivot_root refuses a new root whose parent mount is shared (rootfsPropagation shared/rshared makes it so),
        // and the rootfs bind would propagate out of the container: make that parent private, as runc does.
        MakeParentMountPrivate();
        Libc.Mount(_rootfs, _rootfs, "bind", MountFlags.Bind | MountFlags.Rec, null);
        timer.Mark("rootfs-bind");

        var mounts = spec.Mounts ?? [];
        for (var i = 0; i < mounts.Count; i++)
        {
            try
            {
                MountOne(mounts[i], i);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
            {
                throw new InitException($"config.json: mounts[{i}] ({mounts[i].Destination}): {e.Message}", e);
            }
        }
        timer.Mark("mounts");

        if (NeedsDevSetup(mounts))
        {
            Devices.Create(_rootfs, spec.Linux?.Devices);
            Devices.CreateSymlinks(_rootfs);
            timer.Mark("devices");
        }

        // prestart, createRuntime (by the runtime) and createContainer (here) hooks: the mounts are in place,
        // the old root is still reachable (config.md#posix-platform-hooks).
        beforePivot();
        if (options.NoPivot || Libc.FsType("/") == FsMagic.Ramfs) MoveRoot();
        else PivotRoot();
        CreateCwd();
        timer.Mark("pivot_root");
    }

    /// <summary>
    /// Creates a missing process.cwd (mode 0755), as runc does: inside the new root, so symlinks and ".." stay in it,
    /// and before root.readonly applies.
    /// </summary>
    private void CreateCwd()
    {
        if (spec.Process?.Cwd is not { Length: > 0 } cwd) return;
        try
        {
            MakeDirectories(cwd);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InitException($"config.json: process.cwd: {e.Message}", e);
        }
    }

    /// <summary>Makes the mount holding the rootfs private when it is shared (runc's rootfsParentMountPrivate).</summary>
    private void MakeParentMountPrivate()
    {
        string? parent = null;
        var shared = false;
        foreach (var line in File.ReadAllLines("/proc/self/mountinfo"))
        {
            // "id parent major:minor root mountpoint options [optional fields…] - fstype source superoptions"
            var fields = line.Split(' ');
            if (fields.Length < 7) continue;
            var mountPoint = CgroupMembership.Unescape(fields[4]);
            var contains = mountPoint == "/" || _rootfs == mountPoint || _rootfs.StartsWith(mountPoint + "/", StringComparison.Ordinal);
            // The longest mount point wins; of stacked mounts on one point, the last listed (the top one).
            if (!contains || (parent is not null && mountPoint.Length < parent.Length)) continue;
            parent = mountPoint;
            shared = fields.Skip(6).TakeWhile(f => f != "-").Any(f => f.StartsWith("shared:", StringComparison.Ordinal));
        }
        if (parent is not null && shared) Libc.Mount(null, parent, null, MountFlags.Private, null);
    }

    /// <summary>readonlyPaths, maskedPaths, then the read-only remounts of /dev and / (config-linux.md, config.md#root).</summary>
    public void FinishAfterPivot()
    {
        foreach (var path in spec.Linux?.ReadonlyPaths ?? []) MakeReadonly(path);
        foreach (var path in spec.Linux?.MaskedPaths ?? []) Mask(path);
        if (_devReadonly) Libc.Mount(null, "/dev", null, MountFlags.Remount | MountFlags.Bind | MountFlags.ReadOnly | Libc.MountFlagsOf("/dev"), null);
        if (spec.Root?.Readonly == true)
        {
            Libc.Mount(null, "/", null, MountFlags.Remount | MountFlags.Bind | MountFlags.ReadOnly | Libc.MountFlagsOf("/"), null);
        }
        timer.Mark("paths");
    }

    private static bool NeedsDevSetup(List<Mount> mounts) =>
        !mounts.Any(m => SecurePath.Clean(m.Destination) == "/dev" && (m.Type == "bind" || MountOptions.Parse(m.Options).IsBind));

    private void MountOne(Mount m, int index)
    {
        var parsed = MountOptions.Parse(m.Options);
        var type = m.Type;
        var isBind = parsed.IsBind || type == "bind";
        var clean = SecurePath.Clean(m.Destination);

        if (type is "proc" or "sysfs" && !isBind)
        {
            // CVE-2019-16884 / CVE-2023-27561: /proc and /sys must be real directories, never symlinks.
            var parent = SecurePath.Resolve(_rootfs, Path.GetDirectoryName(clean) ?? "/");
            var leaf = parent + "/" + Path.GetFileName(clean);
            if (SecurePath.ReadLink(leaf) is not null)
                throw new InvalidDataException($"destination {clean} is a symlink in the rootfs; {type} must be mounted on a real directory");
            if (File.Exists(leaf)) throw new InvalidDataException($"destination {clean} is not a directory; {type} must be mounted on a directory");
        }

        var dest = SecurePath.Resolve(_rootfs, clean);
        if (isBind)
        {
            var source = m.Source ?? throw new InvalidDataException("bind mount without a source");
            if (!source.StartsWith('/')) source = Path.Combine(options.Bundle, source);
            var sourceIsDir = Directory.Exists(source);
            if (!sourceIsDir && !File.Exists(source) && SecurePath.ReadLink(source) is null)
                throw new FileNotFoundException($"bind source {source} does not exist");
            EnsureTarget(dest, sourceIsDir);
            if (options.MountFds is { } fds && index < fds.Length && fds[index] >= 0) UserNamespaceFixups.AttachMount(fds[index], dest); // idmapped by the runtime
            else Libc.Mount(source, dest, "bind", MountFlags.Bind | (parsed.Flags & MountFlags.Rec), null);
            var extra = parsed.Flags & ~(MountFlags.Bind | MountFlags.Rec | MountFlags.Remount);
            if (extra != MountFlags.None)
            {
                // In a user namespace the flags the source mount had (nosuid, nodev, noexec, ro, atime) are locked:
                // a remount must repeat them or it is refused.
                var locked = Libc.MountFlagsOf(dest) & (MountFlags.NoSuid | MountFlags.NoDev | MountFlags.NoExec | MountFlags.NoAtime | MountFlags.NoDirAtime | MountFlags.RelAtime);
                Libc.Mount(null, dest, null, MountFlags.Remount | MountFlags.Bind | extra | (options.InUserNamespace ? locked : MountFlags.None), null);
            }
        }
        else if (type == "cgroup")
        {
            EnsureTarget(dest, isDir: true);
            CgroupMounts.Mount(dest, parsed, options, _rootfs);
        }
        else
        {
            var existed = Directory.Exists(dest);
            var data = parsed.Data;
            if (type == "tmpfs" && existed)
            {
                // A tmpfs over an existing directory keeps the directory's mode, as in runc; a mode= option still
                // wins (it comes later in the data).
                var mode = (int)File.GetUnixFileMode(dest) & 0xfff;
                data = "mode=" + Convert.ToString(mode, 8).PadLeft(4, '0') + (data is null ? "" : "," + data);
            }
            EnsureTarget(dest, isDir: true);
            var flags = parsed.Flags;
            if (clean == "/dev" && (flags & MountFlags.ReadOnly) != 0)
            {
                // /dev is filled with devices first, then remounted read-only (FinishAfterPivot).
                flags &= ~MountFlags.ReadOnly;
                _devReadonly = true;
            }
            var source = m.Source ?? type ?? "none";
            if (parsed.CopyUp && type == "tmpfs")
            {
                MountTmpfsCopyUp(source, dest, flags, Lsm.WithMountLabel(parsed.Data, type, isBind: false, spec.Linux?.MountLabel), existed);
            }
            else if (Libc.mount(source, dest, type, flags, Lsm.WithMountLabel(data, type, isBind: false, spec.Linux?.MountLabel)) != 0)
            {
                var errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
                if (errno == Errno.EPERM && type == "sysfs")
                {
                    // Without a network namespace of its own, a user-namespaced container may not mount sysfs:
                    // bind the host's /sys instead, read-only and recursive (runc does the same).
                    Libc.Mount("/sys", dest, "bind", MountFlags.Bind | MountFlags.Rec, null);
                    Libc.Mount(null, dest, null, MountFlags.Remount | MountFlags.Bind | MountFlags.ReadOnly | Libc.MountFlagsOf(dest), null);
                }
                else if (errno == Errno.EPERM && type == "mqueue" && options.InUserNamespace)
                {
                    UserNamespaceFixups.MountMqueueFallback(dest, clean, flags, IpcNamespaceKind());
                }
                else
                {
                    throw new SyscallException($"mount {source} on {dest}" + (type is null ? "" : $" (type {type})"), errno);
                }
            }
        }

        foreach (var propagation in parsed.Propagation) Libc.Mount(null, dest, null, propagation, null);
    }

    /// <summary>
    /// tmpcopyup (runc's extension): mounts the tmpfs over <paramref name="dest"/> and fills it with what the rootfs had
    /// there, read through a handle on the covered directory; the tmpfs root takes the owner and mode of that directory
    /// when the rootfs had it (as runc does; otherwise the mount's mode= stands).
    /// </summary>
    private static void MountTmpfsCopyUp(string source, string dest, MountFlags flags, string? data, bool existed)
    {
        using var covered = SafeFd.Check(Libc.open(dest, OpenFlags.O_PATH | OpenFlags.O_DIRECTORY | OpenFlags.O_CLOEXEC), $"open {dest}");
        // Written read-write first: a "ro" tmpfs gets its read-only flag by a remount after the copy.
        Libc.Mount(source, dest, "tmpfs", flags & ~MountFlags.ReadOnly, data);
        var from = $"/proc/self/fd/{covered.Fd.ToString(CultureInfo.InvariantCulture)}";
        CopyTree(from, dest);
        if (existed)
        {
            var owner = Libc.StatPath(from);
            Libc.Check(Libc.fchownat(OpenFlags.AT_FDCWD, dest, owner.Uid, owner.Gid, 0), $"chown {dest}");
            Libc.Check(Libc.fchmodat(OpenFlags.AT_FDCWD, dest, owner.Mode & 0xfff, 0), $"chmod {dest}");
        }
        if ((flags & MountFlags.ReadOnly) != 0) Libc.Mount(null, dest, null, MountFlags.Remount | flags, data);
    }

    /// <summary>Copies directories, regular files and symlinks with their owners and modes (others are skipped, as runc does).</summary>
    private static void CopyTree(string from, string to)
    {
        foreach (var entry in new DirectoryInfo(from).EnumerateFileSystemInfos())
        {
            var target = Path.Combine(to, entry.Name);
            var (uid, gid, mode, _, _) = Libc.LStatPath(entry.FullName);
            switch (mode & 0xf000)
            {
                case 0x4000: // directory
                    Directory.CreateDirectory(target);
                    CopyTree(entry.FullName, target);
                    break;
                case 0x8000: // regular file
                    File.Copy(entry.FullName, target);
                    break;
                case 0xa000: // symlink
                    File.CreateSymbolicLink(target, entry.LinkTarget!);
                    Libc.Check(Libc.fchownat(OpenFlags.AT_FDCWD, target, uid, gid, OpenFlags.AT_SYMLINK_NOFOLLOW), $"chown {target}");
                    continue;
                default:
                    continue;
            }
            // chown before chmod: chown clears set-id bits.
            Libc.Check(Libc.fchownat(OpenFlags.AT_FDCWD, target, uid, gid, 0), $"chown {target}");
            Libc.Check(Libc.fchmodat(OpenFlags.AT_FDCWD, target, mode & 0xfff, 0), $"chmod {target}");
        }
    }

    /// <summary>The container's ipc namespace: "own" (new), "joined" (by path) or "shared" (the runtime's).</summary>
    private string IpcNamespaceKind()
    {
        var ipc = spec.Linux?.Namespaces?.FirstOrDefault(n => n.Type == NamespaceType.Ipc);
        return ipc is null ? "shared" : string.IsNullOrEmpty(ipc.Path) ? "own" : "joined";
    }

    /// <summary>
    /// The mode of the directories and files the runtime creates in the rootfs (mount points, device directories, cwd):
    /// 0755 as runc, never world-writable. The init's umask is 0 while it builds the rootfs.
    /// </summary>
    internal const UnixFileMode CreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
        UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    /// <summary>mkdir -p giving every directory it creates <see cref="CreateMode"/> (Directory.CreateDirectory makes the parents 0777).</summary>
    /// <exception cref="IOException">a component exists and is not a directory.</exception>
    internal static void MakeDirectories(string path)
    {
        if (Directory.Exists(path)) return;
        // Directory.CreateDirectory's own message is a bare resource key in this trimmed build.
        if (File.Exists(path)) throw new IOException($"mkdir {path}: not a directory");
        var parent = Path.GetDirectoryName(path);
        if (!string.IsNullOrEmpty(parent)) MakeDirectories(parent);
        Directory.CreateDirectory(path, CreateMode);
    }

    private static void EnsureTarget(string dest, bool isDir)
    {
        if (isDir)
        {
            MakeDirectories(dest);
            return;
        }
        if (Directory.Exists(dest) || File.Exists(dest)) return;
        MakeDirectories(Path.GetDirectoryName(dest)!);
        using (File.Open(dest, new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.Write, UnixCreateMode = CreateMode })) { }
    }

    private void PivotRoot()
    {
        using var oldRoot = SafeFd.Check(Libc.open("/", OpenFlags.O_DIRECTORY | OpenFlags.O_RDONLY | OpenFlags.O_CLOEXEC), "open /");
        using var newRoot = SafeFd.Check(Libc.open(_rootfs, OpenFlags.O_DIRECTORY | OpenFlags.O_RDONLY | OpenFlags.O_CLOEXEC), $"open {_rootfs}");
        Libc.Check(Libc.fchdir(newRoot.Fd), $"chdir {_rootfs}");
        // pivot_root(".", "."): the old root is stacked under the new one, then detached (runc's trick: no put_old dir).
        Libc.Check(Libc.pivot_root(".", "."), $"pivot_root {_rootfs}");
        Libc.Check(Libc.fchdir(oldRoot.Fd), "chdir to the old root");
        Libc.Mount(null, ".", null, MountFlags.Slave | MountFlags.Rec, null);
        Libc.Check(Libc.umount2(".", Libc.MNT_DETACH), "unmount the old root");
        Libc.Check(Libc.chdir("/"), "chdir /");
    }

    private void MoveRoot()
    {
        Libc.Check(Libc.chdir(_rootfs), $"chdir {_rootfs}");
        Libc.Mount(_rootfs, "/", null, MountFlags.Move, null);
        Libc.Check(Libc.chroot("."), "chroot .");
        Libc.Check(Libc.chdir("/"), "chdir /");
    }

    private static void MakeReadonly(string path)
    {
        var target = SecurePath.Resolve("/", path);
        if (target.Length == 0) target = "/";
        if (Libc.mount(target, target, null, MountFlags.Bind | MountFlags.Rec, null) != 0)
        {
            if (System.Runtime.InteropServices.Marshal.GetLastPInvokeError() == Errno.ENOENT) return;
            throw SyscallException.FromLastError($"linux.readonlyPaths: bind {path}");
        }
        Libc.Mount(null, target, null, MountFlags.Remount | MountFlags.Bind | MountFlags.ReadOnly | MountFlags.Rec | Libc.MountFlagsOf(target), null);
    }

    private static void Mask(string path)
    {
        var target = SecurePath.Resolve("/", path);
        if (target.Length == 0) target = "/";
        try
        {
            MaskedPaths.Mask(target, path);
        }
        catch (SyscallException e)
        {
            throw new SyscallException($"linux.maskedPaths: mask {path}: {e.Call}", e.Errno);
        }
    }
}
