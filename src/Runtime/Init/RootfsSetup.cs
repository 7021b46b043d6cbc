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
/// <remarks>
/// create's direct path (<see cref="ProcessModel.DirectCreate"/>) runs the same steps from a runtime thread inside the
/// container's namespaces: <see cref="PrepareMounts"/>, the hooks, then <see cref="FinishBeforePivot"/>, which does what
/// <see cref="FinishAfterPivot"/> does through the rootfs handle instead of "/"; the child then pivots. Its proc mounts
/// are made from the fs contexts the child opened in the container's pid namespace (<paramref name="procContexts"/>), and
/// mounts that need what the runtime makes meanwhile wait for it (<paramref name="beforeMount"/>, called with the type of
/// each mount: a cgroup mount needs the cgroups, sysfs the network namespace).
/// </remarks>
internal sealed class RootfsSetup(Spec.Spec spec, InitOptions options, PhaseTimer timer, Action beforePivot, Queue<SafeFd>? procContexts = null, Action<string>? beforeMount = null)
{
    private readonly string _rootfs = options.Rootfs.TrimEnd('/');
    private RootDir _root = null!; // the rootfs (after its bind mount) until pivot_root
    private bool _devReadonly;
    private MountFlags? _finalPropagation; // linux.rootfsPropagation shared/unbindable: applied last

    /// <summary>
    /// linux.rootfsPropagation shared or unbindable (with their recursive forms): applied to the new / last, after
    /// pivot_root (which refuses a shared root); 0 otherwise.
    /// </summary>
    public static MountFlags FinalPropagationOf(Spec.Spec spec)
    {
        var propagation = MountOptions.RootPropagation(spec.Linux?.RootfsPropagation);
        return (propagation & (MountFlags.Shared | MountFlags.Unbindable)) != 0 ? propagation : MountFlags.None;
    }

    /// <summary>Everything up to and including pivot_root.</summary>
    public void PrepareAndPivot()
    {
        try
        {
            PrepareMounts();
            // prestart, createRuntime (by the runtime) and createContainer (here) hooks: the mounts are in place,
            // the old root is still reachable (config.md#posix-platform-hooks).
            beforePivot();
            if (options.NoPivot || Libc.FsType("/") == FsMagic.Ramfs) MoveRoot();
            else PivotRoot();
            if (NeedsDevSetup(spec)) ReopenDevNull();
            CreateCwd();
            timer.Mark("pivot_root");
        }
        finally
        {
            _root?.Dispose();
            _root = null!;
        }
    }

    /// <summary>
    /// create's direct path, after <see cref="PrepareMounts"/> and the hooks: process.cwd, readonlyPaths, maskedPaths and
    /// the read-only remounts of /dev and the rootfs, all through the rootfs handle, before the child's pivot_root (which
    /// makes that mount its /). The final shared/unbindable propagation is the child's (<see cref="FinalPropagationOf"/>).
    /// </summary>
    public void FinishBeforePivot()
    {
        try
        {
            if (spec.Process?.Cwd is { Length: > 0 } cwd)
            {
                try
                {
                    _root.MkdirAll(cwd).Dispose();
                }
                catch (SyscallException e)
                {
                    throw new InitException($"config.json: process.cwd: {e.Message}", e);
                }
            }
            timer.Mark("cwd");
            foreach (var path in spec.Linux?.ReadonlyPaths ?? []) MakeReadonly(_root, path);
            foreach (var path in spec.Linux?.MaskedPaths ?? []) Mask(_root, path);
            if (_devReadonly) RemountReadonly(_root.Open("/dev", directory: true));
            if (spec.Root?.Readonly == true) RemountReadonly(_root.Open("/", directory: true));
            timer.Mark("paths");
        }
        finally
        {
            _root.Dispose();
            _root = null!;
        }
    }

    private static void RemountReadonly(SafeFd mounted)
    {
        using var _ = mounted;
        var at = RootDir.FdPath(mounted);
        Libc.Mount(null, at, null, MountFlags.Remount | MountFlags.Bind | MountFlags.ReadOnly | Libc.MountFlagsOf(at), null);
    }

    /// <summary>
    /// Propagation of /, the rootfs bind, the mounts of config.json and /dev; the rootfs handle stays open for what
    /// follows (<see cref="PrepareAndPivot"/> or <see cref="FinishBeforePivot"/>).
    /// </summary>
    public void PrepareMounts()
    {
        // shared and unbindable are applied to the new / at the very end (FinishAfterPivot): pivot_root refuses a shared
        // root (EINVAL), and neither the rootfs nor a readonlyPaths entry can be bound from an unbindable mount. Until
        // then / is a recursive slave.
        var propagation = MountOptions.RootPropagation(spec.Linux?.RootfsPropagation);
        if ((propagation & (MountFlags.Shared | MountFlags.Unbindable)) != 0) _finalPropagation = propagation;
        var applied = _finalPropagation is null ? propagation : MountFlags.Slave | MountFlags.Rec;
        Libc.Mount(null, "/", null, applied, null);
        // pivot_root refuses a new root whose parent mount is shared (rootfsPropagation shared/rshared makes it so),
        // and the rootfs bind would propagate out of the container: make that parent private, as runc does. After a
        // recursive private or slave change (the default, rprivate) no mount of this namespace is shared any more, and
        // the host's mount table need not be read.
        if ((applied & MountFlags.Rec) == 0 || (applied & MountFlags.Shared) != 0) MakeParentMountPrivate();
        Libc.Mount(_rootfs, _rootfs, "bind", MountFlags.Bind | MountFlags.Rec, null);
        timer.Mark("rootfs-bind");
        _root = RootDir.OpenRoot(_rootfs);

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
            Devices.Create(_root, spec.Linux?.Devices);
            Devices.CreateSymlinks(_root);
            timer.Mark("devices");
        }
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
        // thread-self: on create's direct path this thread, not the process, is in the container's mount namespace.
        foreach (var line in Libc.ReadFileLines("/proc/thread-self/mountinfo"))
        {
            // "id parent major:minor root mountpoint options [optional fields…] - fstype source superoptions"
            var fields = line.Split(' ');
            if (fields.Length < 7) continue;
            var mountPoint = CgroupMembership.Unescape(fields[4]);
            var contains = mountPoint == "/" || _rootfs == mountPoint || _rootfs.StartsWith(mountPoint + "/", StringComparison.Ordinal);
            // The longest mount point wins; of stacked mounts on one point, the last listed (the top one).
            if (!contains || (parent is not null && mountPoint.Length < parent.Length)) continue;
            parent = mountPoint;
            shared = false;
            for (int k = 6; k < fields.Length && fields[k] != "-"; k++) shared |= fields[k].StartsWith("shared:", StringComparison.Ordinal);
        }
        if (parent is not null && shared) Libc.Mount(null, parent, null, MountFlags.Private, null);
    }

    /// <summary>readonlyPaths, maskedPaths, then the read-only remounts of /dev and / (config-linux.md, config.md#root).</summary>
    public void FinishAfterPivot()
    {
        using (var root = RootDir.OpenRoot("/"))
        {
            foreach (var path in spec.Linux?.ReadonlyPaths ?? []) MakeReadonly(root, path);
            foreach (var path in spec.Linux?.MaskedPaths ?? []) Mask(root, path);
        }
        if (_devReadonly) Libc.Mount(null, "/dev", null, MountFlags.Remount | MountFlags.Bind | MountFlags.ReadOnly | Libc.MountFlagsOf("/dev"), null);
        if (spec.Root?.Readonly == true)
        {
            Libc.Mount(null, "/", null, MountFlags.Remount | MountFlags.Bind | MountFlags.ReadOnly | Libc.MountFlagsOf("/"), null);
        }
        if (_finalPropagation is { } final) Libc.Mount(null, "/", null, final, null);
        timer.Mark("paths");
    }

    /// <summary>Whether the runtime sets up /dev (config.json does not bind-mount one): then it also reopens /dev/null.</summary>
    internal static bool NeedsDevSetup(Spec.Spec spec) => NeedsDevSetup(spec.Mounts ?? []);

    private static bool NeedsDevSetup(List<Mount> mounts) =>
        !mounts.Exists(m => SecurePath.Clean(m.Destination) == "/dev" && (m.Type == "bind" || MountOptions.Parse(m.Options).IsBind));

    private void MountOne(Mount m, int index)
    {
        var parsed = MountOptions.Parse(m.Options);
        var type = m.Type;
        var isBind = parsed.IsBind || type == "bind";
        var clean = SecurePath.Clean(m.Destination);
        var shown = _root.Display(clean);

        if (type is "proc" or "sysfs" && !isBind) RequireRealDirectory(clean, type);
        if (type is not null) beforeMount?.Invoke(type); // direct path: made by the runtime's main thread meanwhile

        // The destination is resolved (and made) inside the rootfs by fd, and mounted on through that fd: no path a
        // process sharing the rootfs could swap for a symlink is looked up between the check and the mount
        // (CVE-2021-30465). Everything done to the new mount afterwards goes through a fresh fd of it (Mounted).
        if (isBind)
        {
            var source = m.Source ?? throw new InvalidDataException("bind mount without a source");
            if (!source.StartsWith('/')) source = Path.Combine(options.Bundle, source);
            // A source the runtime opened on the host (idmapped, or any bind with a user namespace): its fd says what it is.
            var prepared = options.MountFds is { } mountFds && index < mountFds.Length ? mountFds[index] : -1;
            var sourceIsDir = prepared >= 0 ? (Libc.StatFd(prepared).Mode & Libc.S_IFMT) == Libc.S_IFDIR : Directory.Exists(source);
            if (prepared < 0 && !sourceIsDir && !File.Exists(source) && SecurePath.ReadLink(source) is null)
                throw new FileNotFoundException($"bind source {source} does not exist");
            using (var target = sourceIsDir ? _root.MkdirAll(clean) : _root.MkFile(clean))
            {
                if (prepared >= 0) UserNamespaceFixups.AttachMount(prepared, target, shown); // opened (and maybe idmapped) by the runtime
                else Libc.Mount(source, RootDir.FdPath(target), "bind", MountFlags.Bind | (parsed.Flags & MountFlags.Rec), null, shown);
            }
            var extra = parsed.Flags & ~(MountFlags.Bind | MountFlags.Rec | MountFlags.Remount);
            if (extra != MountFlags.None)
            {
                using var mounted = _root.Open(clean);
                var dest = RootDir.FdPath(mounted);
                // In a user namespace the flags the source mount had (nosuid, nodev, noexec, ro, atime) are locked:
                // a remount must repeat them or it is refused.
                var locked = Libc.MountFlagsOf(dest) & (MountFlags.NoSuid | MountFlags.NoDev | MountFlags.NoExec | MountFlags.NoAtime | MountFlags.NoDirAtime | MountFlags.RelAtime);
                Libc.Mount(null, dest, null, MountFlags.Remount | MountFlags.Bind | extra | (options.InUserNamespace ? locked : MountFlags.None), null, shown);
            }
        }
        else if (type == "cgroup")
        {
            CgroupMounts.Mount(_root, clean, parsed, options);
        }
        else
        {
            using var target = _root.MkdirAll(clean, out var made);
            var at = RootDir.FdPath(target);
            var data = parsed.Data;
            var covered = Libc.StatFd(target.Fd);
            if (type == "tmpfs" && !made)
            {
                // A tmpfs over an existing directory keeps the directory's mode, as in runc; a mode= option still
                // wins (it comes later in the data).
                data = "mode=" + Convert.ToString(covered.Mode & 0xfff, 8).PadLeft(4, '0') + (data is null ? "" : "," + data);
            }
            var flags = parsed.Flags;
            if (clean == "/dev" && (flags & MountFlags.ReadOnly) != 0)
            {
                // /dev is filled with devices first, then remounted read-only (FinishAfterPivot).
                flags &= ~MountFlags.ReadOnly;
                _devReadonly = true;
            }
            var source = m.Source ?? type ?? "none";
            if (type == "proc" && procContexts is not null)
            {
                MountProc(source, target, flags, shown);
            }
            else if (parsed.CopyUp && type == "tmpfs")
            {
                MountTmpfsCopyUp(source, target, clean, flags, Lsm.WithMountLabel(parsed.Data, type, isBind: false, spec.Linux?.MountLabel), !made, covered);
            }
            else if (Libc.mount(source, at, type, flags, Lsm.WithMountLabel(data, type, isBind: false, spec.Linux?.MountLabel)) != 0)
            {
                var errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
                if (errno == Errno.EPERM && type == "sysfs")
                {
                    // Without a network namespace of its own, a user-namespaced container may not mount sysfs:
                    // bind the host's /sys instead, read-only and recursive (runc does the same).
                    Libc.Mount("/sys", at, "bind", MountFlags.Bind | MountFlags.Rec, null, shown);
                    using var mounted = _root.Open(clean);
                    Libc.Mount(null, RootDir.FdPath(mounted), null, MountFlags.Remount | MountFlags.Bind | MountFlags.ReadOnly | Libc.MountFlagsOf(RootDir.FdPath(mounted)), null, shown);
                }
                else if (errno == Errno.EPERM && type == "mqueue" && options.InUserNamespace)
                {
                    UserNamespaceFixups.MountMqueueFallback(_root, clean, flags, IpcNamespaceKind());
                }
                else
                {
                    throw new SyscallException($"mount {source} on {shown}" + (type is null ? "" : $" (type {type})"), errno);
                }
            }
        }

        if (parsed.Propagation.Count > 0)
        {
            using var mounted = _root.Open(clean);
            foreach (var propagation in parsed.Propagation) Libc.Mount(null, RootDir.FdPath(mounted), null, propagation, null, shown);
        }
        if (parsed.HasRecursiveAttributes)
        {
            // "rro", "rnosuid", …: the mount and every mount below it (runc 1.1: mount_setattr AT_RECURSIVE).
            using var mounted = _root.Open(clean);
            var attr = new MountAttrArgs { AttrSet = parsed.RecursiveAttrSet, AttrClr = parsed.RecursiveAttrClear };
            if (Libc.mount_setattr(mounted.Fd, "", (uint)OpenFlags.AT_EMPTY_PATH | Libc.AT_RECURSIVE, attr) != 0)
                throw SyscallException.FromLastError($"set recursive mount attributes on {shown} (mount_setattr, Linux 5.12)");
        }
    }

    /// <summary>
    /// A proc mount on create's direct path: the next fs context the child opened in the container's pid namespace,
    /// created and mounted here (fsmount with the mount's flags as attributes) and attached on the target by fd.
    /// </summary>
    private void MountProc(string source, SafeFd target, MountFlags flags, string shown)
    {
        if (!procContexts!.TryDequeue(out var context)) throw new InitException($"config.json: mounts: {shown}: no procfs context from the container's pid namespace");
        using var _ = context;
        // The source as mount(2) would show it in mountinfo (fsopen's default is "none").
        Libc.Check(Libc.fsconfig(context.Fd, Libc.FSCONFIG_SET_STRING, "source", source, 0), $"mount proc on {shown} (fsconfig source)");
        Libc.Check(Libc.fsconfig(context.Fd, Libc.FSCONFIG_CMD_CREATE, null, null, 0), $"mount proc on {shown} (fsconfig)");
        var attrs = MountAttr.None;
        if ((flags & MountFlags.ReadOnly) != 0) attrs |= MountAttr.ReadOnly;
        if ((flags & MountFlags.NoSuid) != 0) attrs |= MountAttr.NoSuid;
        if ((flags & MountFlags.NoDev) != 0) attrs |= MountAttr.NoDev;
        if ((flags & MountFlags.NoExec) != 0) attrs |= MountAttr.NoExec;
        using var mounted = SafeFd.Check(Libc.fsmount(context.Fd, Libc.FSMOUNT_CLOEXEC, (uint)attrs), $"mount proc on {shown} (fsmount)");
        RootDir.Attach(mounted, target, $"mount proc on {shown}");
    }

    /// <summary>
    /// CVE-2019-16884 / CVE-2023-27561: proc and sysfs only on a real directory of the rootfs, never on a symlink (which
    /// would point the mount, or the procfs writes made through it later, somewhere else).
    /// </summary>
    private void RequireRealDirectory(string clean, string type)
    {
        if (clean == "/") return;
        var (parent, name) = _root.MkParent(clean);
        using var _ = parent;
        FileOwner st;
        try
        {
            st = Libc.StatAt(parent.Fd, name, OpenFlags.AT_SYMLINK_NOFOLLOW);
        }
        catch (SyscallException e) when (e.Errno == Errno.ENOENT)
        {
            return; // made as a directory next
        }
        if ((st.Mode & Libc.S_IFMT) == 0xa000)
            throw new InvalidDataException($"destination {clean} is a symlink in the rootfs; {type} must be mounted on a real directory");
        if ((st.Mode & Libc.S_IFMT) != Libc.S_IFDIR)
            throw new InvalidDataException($"destination {clean} is not a directory; {type} must be mounted on a directory");
    }

    /// <summary>
    /// tmpcopyup (runc's extension): mounts the tmpfs over <paramref name="covered"/> (the directory <paramref name="clean"/>
    /// of the rootfs) and fills it with what the rootfs had there, read through that handle on the covered directory; the
    /// tmpfs root takes the owner and mode of that directory when the rootfs had it (as runc does; otherwise the mount's
    /// mode= stands).
    /// </summary>
    private void MountTmpfsCopyUp(string source, SafeFd covered, string clean, MountFlags flags, string? data, bool existed, FileOwner owner)
    {
        var shown = _root.Display(clean);
        // Written read-write first: a "ro" tmpfs gets its read-only flag by a remount after the copy.
        Libc.Mount(source, RootDir.FdPath(covered), "tmpfs", flags & ~MountFlags.ReadOnly, data, shown);
        using var mounted = _root.Open(clean, directory: true);
        var dest = RootDir.FdPath(mounted);
        CopyTree(RootDir.FdPath(covered), dest);
        if (existed)
        {
            Libc.Check(Libc.fchownat(OpenFlags.AT_FDCWD, dest, owner.Uid, owner.Gid, 0), $"chown {shown}");
            Libc.Check(Libc.fchmodat(OpenFlags.AT_FDCWD, dest, owner.Mode & 0xfff, 0), $"chmod {shown}");
        }
        if ((flags & MountFlags.ReadOnly) != 0) Libc.Mount(null, dest, null, MountFlags.Remount | flags, data, shown);
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
        var ipc = NamespaceType.Find(spec.Linux?.Namespaces, NamespaceType.Ipc);
        return ipc is null ? "shared" : string.IsNullOrEmpty(ipc.Path) ? "own" : "joined";
    }

    /// <summary>
    /// The mode of the directories the runtime creates for process.cwd after pivot_root (mount points and device
    /// directories are made by RootDir, with the same 0755):
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

    /// <summary>
    /// runc's reOpenDevNull, after pivot_root: fds 0-2 that are a /dev/null (of the host: the caller's, e.g. conmon's
    /// stdin) become the container's own /dev/null, so that every stdio file is inside the container's mount tree (CRIU
    /// cannot dump a file on a mount outside it: "Can't lookup mount=N for fd=0 path=/dev/null"). The direct path does
    /// the same with raw syscalls (DirectCreate.Prepare).
    /// </summary>
    private static void ReopenDevNull()
    {
        using var devNull = SafeFd.Check(Libc.open("/dev/null", OpenFlags.O_RDWR | OpenFlags.O_CLOEXEC), "reopen /dev/null inside the container: open /dev/null");
        var own = Libc.StatFd(devNull.Fd);
        for (var fd = 0; fd < 3; fd++)
        {
            if (StdioFds.Stat(fd) is not { } st || !StdioFds.IsCharDevice(st, own)) continue; // closed, or not /dev/null
            Libc.Check(Libc.dup3(devNull.Fd, fd, 0), $"reopen /dev/null inside the container: dup3 onto fd {fd}");
        }
    }

    private void MoveRoot()
    {
        HideFullProcAndSysfs();
        Libc.Check(Libc.chdir(_rootfs), $"chdir {_rootfs}");
        Libc.Mount(_rootfs, "/", null, MountFlags.Move, null);
        Libc.Check(Libc.chroot("."), "chroot .");
        Libc.Check(Libc.chdir("/"), "chdir /");
    }

    /// <summary>
    /// --no-pivot (runc's msMoveRoot): chroot leaves the host's mounts in this mount namespace, below the container's
    /// root, and the kernel lets a nested user namespace mount a fresh proc or sysfs whenever a full (root "/") mount of
    /// that type is visible there (mount_too_revealing). So every full proc and sysfs mount outside the rootfs is
    /// unmounted first (made a slave so that nothing propagates back), or covered with a tmpfs where the unmount is refused.
    /// </summary>
    private void HideFullProcAndSysfs()
    {
        var rootfs = _rootfs + "/";
        var mountPoints = new List<string>();
        foreach (var line in Libc.ReadFileLines("/proc/self/mountinfo"))
        {
            // ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL…] - FSTYPE SOURCE SUPER
            var fields = line.Split(' ');
            var dash = Array.IndexOf(fields, "-");
            if (fields.Length < 5 || dash < 0 || dash + 1 >= fields.Length) continue;
            var mountPoint = CgroupMembership.Unescape(fields[4]);
            if (fields[3] != "/" || fields[dash + 1] is not ("proc" or "sysfs")) continue;
            if (mountPoint == _rootfs || mountPoint.StartsWith(rootfs, StringComparison.Ordinal)) continue;
            mountPoints.Add(mountPoint);
        }
        // Deepest first: a parent's unmount would take its children with it.
        mountPoints.Sort((a, b) => b.Length.CompareTo(a.Length));
        foreach (var p in mountPoints)
        {
            if (Libc.mount(null, p, null, MountFlags.Slave | MountFlags.Rec, null) != 0)
            {
                if (System.Runtime.InteropServices.Marshal.GetLastPInvokeError() == Errno.ENOENT) continue;
                throw SyscallException.FromLastError($"--no-pivot: make {p} a slave");
            }
            if (Libc.umount2(p, Libc.MNT_DETACH) == 0) continue;
            var errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
            if (errno is not (Errno.EINVAL or Errno.EPERM)) throw new SyscallException($"--no-pivot: unmount {p}", errno);
            Libc.Mount("tmpfs", p, "tmpfs", MountFlags.None, null, p);
        }
    }

    /// <summary>
    /// linux.readonlyPaths: a read-only bind of the path over itself, made by fd: a recursive detached clone of the
    /// resolved path (open_tree), made read-only with every submount (mount_setattr AT_RECURSIVE: stricter than runc,
    /// whose remount leaves submounts writable), attached on the same fd. A missing path is skipped.
    /// </summary>
    private static void MakeReadonly(RootDir root, string path)
    {
        using var target = root.TryOpen(path);
        if (target is null) return;
        var shown = SecurePath.Clean(path);
        try
        {
            using (var clone = RootDir.CloneTree(target, recursive: true, shown))
            {
                if (clone is not null)
                {
                    if (Libc.mount_setattr(clone.Fd, "", (uint)OpenFlags.AT_EMPTY_PATH | Libc.AT_RECURSIVE, new MountAttrArgs { AttrSet = (ulong)MountAttr.ReadOnly }) == 0)
                    {
                        RootDir.Attach(clone, target, $"mount {shown} read-only on itself");
                        return;
                    }
                    if (System.Runtime.InteropServices.Marshal.GetLastPInvokeError() != Errno.ENOSYS)
                        throw SyscallException.FromLastError($"make {shown} read-only");
                }
            }
            // No open_tree (Linux < 5.2) or no mount_setattr (< 5.12): bind, then remount read-only, through the fd's
            // magic link.
            var at = RootDir.FdPath(target);
            Libc.Mount(at, at, null, MountFlags.Bind | MountFlags.Rec, null, shown);
            using var mounted = root.Open(path);
            at = RootDir.FdPath(mounted);
            Libc.Mount(null, at, null, MountFlags.Remount | MountFlags.Bind | MountFlags.ReadOnly | Libc.MountFlagsOf(at), null, shown);
        }
        catch (SyscallException e)
        {
            throw new SyscallException($"linux.readonlyPaths: {e.Call}", e.Errno);
        }
    }

    private static void Mask(RootDir root, string path)
    {
        try
        {
            MaskedPaths.Mask(root, path);
        }
        catch (SyscallException e)
        {
            throw new SyscallException($"linux.maskedPaths: mask {path}: {e.Call}", e.Errno);
        }
    }
}
