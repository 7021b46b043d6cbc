using System.Globalization;
using System.Text.Json;
using OciRuntime.Cgroups;
using OciRuntime.Interop;
using OciRuntime.Runtime.Checkpoint;
using OciRuntime.Runtime.Init;
using OciRuntime.Runtime.State;
using OciRuntime.Spec;

namespace OciRuntime.Runtime.Lifecycle;

/// <summary>checkpoint and restore through CRIU's RPC (<c>criu swrk</c>), as runc does them (docs/checkpoint.md).</summary>
public sealed partial class ContainerRuntime
{
    /// <summary>The file runc (and ocirun) writes into the image directory: the container init's fds 0–2 at dump time.</summary>
    public const string DescriptorsFile = "descriptors.json";

    /// <summary>
    /// checkpoint: dumps the running container with CRIU into the image directory. Without --leave-running (and not
    /// a pre-dump) the container's processes end and the container is destroyed, as runc does. A failed dump leaves the
    /// container running (CRIU resumes what it stopped) and its state untouched; the error names CRIU's log.
    /// </summary>
    /// <exception cref="ContainerNotFoundException">no such container.</exception>
    /// <exception cref="RuntimeException">the container does not run, a flag is invalid, CRIU is missing, too old or failed.</exception>
    public void Checkpoint(CheckpointOptions options)
    {
        using var dir = _store.Open(options.Id);
        var record = dir.Load();
        var status = StatusOf(dir, record);
        if (status is ContainerStatus.Created or ContainerStatus.Stopped)
            throw new RuntimeException($"Container cannot be checkpointed in {status} state");
        _ = options.CgroupMode(); // flag errors before anything is written
        _ = options.EmptyNsMask();
        var spec = dir.LoadConfig();
        var version = CriuSwrk.Require(CriuSwrk.MinimumVersion);
        var imagePath = options.ImageDirectory;
        if (options.ParentPath is { Length: > 0 } parent)
        {
            if (Path.IsPathRooted(parent)) throw new RuntimeException("--parent-path: must be relative to the image path");
            if (!Directory.Exists(Path.Combine(imagePath, parent))) throw new RuntimeException($"--parent-path: {Path.Combine(imagePath, parent)}: not a directory");
        }
        if (options.LazyPages && options.StatusFd >= 0 && Libc.fcntl(options.StatusFd, 3 /* F_GETFL */, 0) is var flags && (flags < 0 || (flags & 3) == 0))
            throw new RuntimeException($"--status-fd: {options.StatusFd} is not an fd open for writing");

        using var imageDir = OpenCriuDirectory(imagePath, "--image-path");
        using var workDir = options.WorkPath is { Length: > 0 } w ? OpenCriuDirectory(Path.GetFullPath(w), "--work-path") : null;
        var logPath = Path.Combine(options.WorkPath is { Length: > 0 } wp ? Path.GetFullPath(wp) : imagePath, CriuRequestBuilder.DumpLog);

        var external = new List<string>();
        foreach (var ns in spec.Linux?.Namespaces ?? [])
        {
            if (string.IsNullOrEmpty(ns.Path) || !CriuRequestBuilder.SupportsExternal(ns.Type, version)) continue;
            external.Add(CriuRequestBuilder.ExternalNamespace(ns.Type, NamespaceInode(ns.Path)));
        }
        var cgroup = CgroupOf(record);
        var request = new CriuRequest
        {
            Type = options.PreDump ? CriuRequestType.PreDump : CriuRequestType.Dump,
            Options = CriuRequestBuilder.Dump(spec, options, record.Rootfs, record.InitPid, imageDir.Fd, workDir?.Fd,
                FreezeCgroupOf(cgroup, version), external, MaskedFiles(spec, record.InitPid)),
        };
        if (options.PageServer is { Length: > 0 } ps) SetPageServer(request.Options!, ps);
        if (options.PreDump) RequireFeature(memTrack: true, "--pre-dump (memory tracking)");
        if (options.LazyPages)
        {
            RequireFeature(memTrack: false, "--lazy-pages");
            if (options.StatusFd >= 0 && version < 31500) request.Options!.StatusFd = options.StatusFd;
        }
        if (!options.PreDump) WriteDescriptors(imagePath, record.InitPid);

        using var devNull = SafeFd.Check(Libc.open("/dev/null", OpenFlags.O_RDWR | OpenFlags.O_CLOEXEC), "open /dev/null");
        CriuResponse response;
        using (var swrk = CriuSwrk.Start([devNull.Fd, devNull.Fd, devNull.Fd]))
        {
            var statusFd = options.StatusFd;
            response = swrk.Call(request, (notify, fd) =>
            {
                fd?.Dispose();
                if (notify.NotifyScript == "status-ready" && statusFd >= 0)
                {
                    Libc.WriteAll(statusFd, [0], "--status-fd");
                    _ = Libc.close(statusFd);
                    statusFd = -1;
                }
            });
            // After a PRE_DUMP answer CRIU waits for another request: closing the socket ends it, with a failure status.
            swrk.Finish();
        }
        if (!response.Success) throw CriuFailed(response, logPath);
        if (options.LeaveRunning || options.PreDump) return;
        // CRIU killed the dumped tree; what is left (a process that escaped the dump) dies with the container.
        if (status != ContainerStatus.Stopped) KillCgroupForDelete(record, status);
        KillAndWait(record);
        Destroy(dir, record);
    }

    /// <summary>
    /// restore: makes a container <see cref="CriuFlags.Id"/> from the bundle's config.json and CRIU's images: its
    /// state directory and cgroups (the config's, resources applied), then CRIU restores the process tree into them
    /// as a child of this process (rst_sibling). prestart and createRuntime hooks run when CRIU has made the
    /// namespaces (its setup-namespaces notification), as runc runs them. In the foreground it waits for the restored
    /// init and deletes the container (returning the init's status); with detach it returns 0. A failed restore leaves
    /// nothing: no state directory, cgroups, processes or mounts; the error names CRIU's log.
    /// </summary>
    /// <exception cref="SpecException">config.json is malformed or invalid.</exception>
    /// <exception cref="RuntimeException">the restore failed.</exception>
    public int Restore(RestoreOptions options)
    {
        if (!options.NoSubreaper && !options.Detach) _ = Libc.prctl(Prctl.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        ContainerId.Validate(options.Id);
        _ = options.CgroupMode();
        _ = options.EmptyNsMask();
        var bundle = Path.GetFullPath(options.Bundle is { Length: > 0 } b ? b : Directory.GetCurrentDirectory());
        var spec = SpecSerializer.LoadBundle(bundle);
        SpecValidator.Validate(spec, new ValidationOptions { BundleDir = bundle, Detached = true, HasConsoleSocket = options.ConsoleSocket is not null });
        if (spec.Process is null) throw new RuntimeException("config.json: process: required to restore a container");
        if (spec.Process.Terminal && options.Detach && options.ConsoleSocket is null)
            throw new RuntimeException("restore: --console-socket is required when process.terminal is true and the container is detached");
        var rootfs = ResolveRootfs(bundle, spec);
        var version = CriuSwrk.Require(CriuSwrk.MinimumVersion);
        var imagePath = options.ImageDirectory;
        if (!Directory.Exists(imagePath)) throw new RuntimeException($"--image-path: {imagePath}: no such directory");
        var descriptors = ReadDescriptors(imagePath);
        if (_store.TryReadRecord(options.Id) is not null) throw new RuntimeException($"container with id exists: {options.Id}");

        using var imageDir = OpenCriuDirectory(imagePath, "--image-path");
        using var workDir = options.WorkPath is { Length: > 0 } w ? OpenCriuDirectory(Path.GetFullPath(w), "--work-path") : null;
        var logPath = Path.Combine(options.WorkPath is { Length: > 0 } wp ? Path.GetFullPath(wp) : imagePath, CriuRequestBuilder.RestoreLog);

        // Namespaces joined by path that CRIU keeps external: their fds become CRIU's 4, 5… (inherit_fd).
        var inherited = new List<string>();
        var namespaceFds = new List<SafeFd>();
        var cgroup = CgroupsFor(options.Id, spec.Linux?.CgroupsPath, spec.Linux?.Resources);
        var dir = _store.Create(options.Id);
        var criuRoot = dir.Path + "/criu-root";
        var rootMounted = false;
        var restoredPid = 0;
        SafeFd? master = null;
        try
        {
            foreach (var ns in spec.Linux?.Namespaces ?? [])
            {
                if (string.IsNullOrEmpty(ns.Path) || !CriuRequestBuilder.SupportsExternal(ns.Type, version)) continue;
                var fd = Libc.open(ns.Path, OpenFlags.O_RDONLY | OpenFlags.O_CLOEXEC);
                if (fd < 0) throw new RuntimeException($"config.json: linux.namespaces: {ns.Type} namespace {ns.Path} does not exist");
                namespaceFds.Add(new SafeFd(fd));
                inherited.Add(ns.Type);
            }
            // A systemd scope comes into being with its first process: CRIU's, below (runc's criuApplyCgroups: Apply, then Set).
            if (cgroup is { CreatedWithProcess: false })
            {
                cgroup.Create();
                cgroup.ApplyResources(spec.Linux?.Resources, spec.Linux?.Devices);
            }
            // CRIU wants its root to be a mount point whose parent is not overmounted: the rootfs bound on a directory
            // of the state directory (runc's criu-root).
            Directory.CreateDirectory(criuRoot);
            Libc.Mount(rootfs, criuRoot, null, MountFlags.Bind | MountFlags.Rec, null);
            rootMounted = true;
            PrepareRestoreMountpoints(spec, rootfs);

            var request = new CriuRequest
            {
                Type = CriuRequestType.Restore,
                Options = CriuRequestBuilder.Restore(spec, options, criuRoot, imageDir.Fd, workDir?.Fd, inherited, descriptors),
            };
            if (options.LazyPages) RequireFeature(memTrack: false, "--lazy-pages");
            var extra = new List<int>();
            foreach (var fd in namespaceFds) extra.Add(fd.Fd);
            using var swrk = CriuSwrk.Start([0, 1, 2], extra);
            if (cgroup is not null)
            {
                // CRIU restores the tree into its own cgroups: those of the container (cg_root, runc's criuApplyCgroups).
                cgroup.Apply(swrk.Pid);
                if (cgroup.CreatedWithProcess) cgroup.ApplyResources(spec.Linux?.Resources, spec.Linux?.Devices);
                var procCgroup = Libc.ReadFileText($"/proc/{swrk.Pid.ToString(CultureInfo.InvariantCulture)}/cgroup");
                request.Options!.CgroupRoots.AddRange(CriuRequestBuilder.CgroupRoots(procCgroup));
            }
            var response = swrk.Call(request, (notify, fd) =>
            {
                switch (notify.NotifyScript)
                {
                    case "setup-namespaces":
                        fd?.Dispose();
                        RunRuntimeHooks(options.Id, notify.NotifyPid ?? 0, bundle, spec);
                        break;
                    case "post-restore":
                        fd?.Dispose();
                        restoredPid = notify.NotifyPid ?? 0;
                        break;
                    case "orphan-pts-master":
                        if (fd is null) throw new RuntimeException("criu sent orphan-pts-master without a file descriptor");
                        if (options.ConsoleSocket is { } socketPath)
                        {
                            using (fd)
                            using (var socket = Libc.ConnectUnix(socketPath))
                                Libc.SendFd(socket.Fd, fd.Fd, "console");
                        }
                        else
                        {
                            master?.Dispose();
                            master = fd;
                        }
                        break;
                    default:
                        fd?.Dispose();
                        break;
                }
            });
            if (!response.Success) throw CriuFailed(response, logPath);
            if (response.RestorePid is { } pid) restoredPid = pid;
            swrk.Finish();
            if (restoredPid <= 0) throw new RuntimeException($"criu restored no process; see {logPath}");

            var stat = ProcStat.Read(restoredPid) ?? throw new RuntimeException($"restored container init {restoredPid} vanished; see {logPath}");
            var namespaces = spec.Linux?.Namespaces ?? [];
            dir.SaveConfig(SpecSerializer.SerializeForRuntime(spec));
            dir.Save(new ContainerRecord
            {
                Id = options.Id,
                InitPid = restoredPid,
                InitStartTime = stat.StartTime,
                Bundle = bundle,
                Rootfs = rootfs,
                Created = DateTimeOffset.UtcNow, // the restored container's creation (runc's)
                Owner = OwnerName(),
                Annotations = spec.Annotations,
                ConfigOciVersion = spec.OciVersion,
                NamespacePaths = NamespacePathsOf(namespaces, restoredPid),
                OwnPidNamespace = NamespaceType.IsNew(namespaces, NamespaceType.Pid),
                CgroupsPath = spec.Linux?.CgroupsPath,
                HasRuntimeHooks = HookRunner.Of(spec.Hooks, "poststart").Count + HookRunner.Of(spec.Hooks, "poststop").Count > 0,
                Cgroup = cgroup?.State,
            });
            dir.SaveInitMark(restoredPid, stat.StartTime);
            if (options.PidFile is { Length: > 0 } pidFile) WritePidFile(pidFile, restoredPid);
        }
        catch (Exception e)
        {
            master?.Dispose();
            if (restoredPid > 0) _ = Libc.kill(restoredPid, Signals.SIGKILL);
            if (cgroup is not null)
            {
                try { cgroup.SignalAll(Signals.SIGKILL); } catch (CgroupException) { }
                if (restoredPid > 0) _ = Libc.WaitPid(restoredPid);
                TryDestroy(cgroup);
            }
            else if (restoredPid > 0)
            {
                _ = Libc.WaitPid(restoredPid);
            }
            UnmountCriuRoot(criuRoot, rootMounted);
            dir.Remove();
            dir.Dispose();
            foreach (var fd in namespaceFds) fd.Dispose();
            if (e is SyscallException or IOException or UnauthorizedAccessException or HookException or CgroupException or InitException)
                throw new RuntimeException(e.Message, e);
            throw;
        }
        UnmountCriuRoot(criuRoot, rootMounted);
        foreach (var fd in namespaceFds) fd.Dispose();
        dir.Dispose(); // let state, exec and kill from other processes in
        if (options.Detach)
        {
            master?.Dispose();
            return 0;
        }
        using var pidFd = SafeFd.Check(Libc.pidfd_open(restoredPid), "pidfd_open");
        var relay = master is not null ? TerminalRelay.Start(master) : null;
        WaitStatus waited;
        using (SignalForwarder.Start(pidFd))
        {
            waited = WaitForInit(restoredPid);
        }
        relay?.Dispose();
        try
        {
            Delete(options.Id, force: true);
        }
        catch (Exception e) when (e is RuntimeException or IOException)
        {
            _log.Warn($"delete {options.Id} after restore: {e.Message}");
        }
        return waited.ShellStatus;
    }

    private void UnmountCriuRoot(string criuRoot, bool mounted)
    {
        if (mounted && Libc.umount2(criuRoot, Libc.MNT_DETACH) != 0) _log.Warn($"unmount {criuRoot}: {SyscallException.FromLastError("umount2").Message}");
        try { Directory.Delete(criuRoot); } catch (IOException) { }
    }

    /// <summary>Asks CRIU for an optional feature (FEATURE_CHECK); throws naming <paramref name="what"/> when it is missing.</summary>
    private static void RequireFeature(bool memTrack, string what)
    {
        using var devNull = SafeFd.Check(Libc.open("/dev/null", OpenFlags.O_RDWR | OpenFlags.O_CLOEXEC), "open /dev/null");
        using var swrk = CriuSwrk.Start([devNull.Fd, devNull.Fd, devNull.Fd]);
        var response = swrk.Call(new CriuRequest
        {
            Type = CriuRequestType.FeatureCheck,
            FeatureMemTrack = memTrack ? true : null,
            FeatureLazyPages = memTrack ? null : true,
        }, null);
        swrk.Finish();
        var has = memTrack ? response.FeatureMemTrack : response.FeatureLazyPages;
        if (!response.Success || has != true) throw new RuntimeException($"{what}: not supported by this CRIU and kernel (criu feature check)");
    }

    /// <summary>Creates (0700, as runc) and opens an image or work directory.</summary>
    private static SafeFd OpenCriuDirectory(string path, string flag)
    {
        try
        {
            if (!Directory.Exists(path)) Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        catch (IOException e)
        {
            throw new RuntimeException($"{flag}: {e.Message}", e);
        }
        var fd = Libc.open(path, OpenFlags.O_RDONLY | OpenFlags.O_DIRECTORY | OpenFlags.O_CLOEXEC);
        if (fd < 0) throw new RuntimeException($"{flag}: {SyscallException.FromLastError("open " + path).Message}");
        return new SafeFd(fd);
    }

    /// <summary>
    /// The inode of a namespace file (CRIU's key for an external namespace, <c>net[INODE]</c>), by stat as runc does. Not
    /// from the /proc/self/fd link: that is "net:[INODE]" only for /proc/PID/ns/*; for a bind mount of one (podman's and
    /// `ip netns`'s /run/netns/NAME) it is the mount's path.
    /// </summary>
    private static ulong NamespaceInode(string path)
    {
        using var fd = SafeFd.Check(Libc.open(path, OpenFlags.O_RDONLY | OpenFlags.O_CLOEXEC), $"open namespace {path}");
        if (Libc.FsType(fd.Fd) != FsMagic.Nsfs) throw new RuntimeException($"namespace {path}: not a namespace file");
        return Libc.InodeOf(fd.Fd);
    }

    /// <summary>
    /// The freezer CRIU should stop the tree with: v1's freezer hierarchy, or v2's cgroup directory from CRIU 3.14 (the
    /// first to freeze through cgroup.freeze); none otherwise, and CRIU stops the tasks with ptrace (runc's choice).
    /// </summary>
    private static string? FreezeCgroupOf(ICgroupManager? cgroup, int version)
    {
        if (cgroup is null) return null;
        if (cgroup.Paths.TryGetValue("freezer", out var v1)) return v1;
        return cgroup.Mode == CgroupMode.V2 && version >= 31400 && cgroup.Paths.TryGetValue("", out var v2) ? v2 : null;
    }

    /// <summary>linux.maskedPaths that are files in the container (runc binds /dev/null on them: external at dump).</summary>
    private static List<string> MaskedFiles(Spec.Spec spec, int pid)
    {
        var files = new List<string>();
        foreach (var path in spec.Linux?.MaskedPaths ?? [])
        {
            var inContainer = $"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/root{SecurePath.Clean(path)}";
            if (File.Exists(inContainer)) files.Add(path);
        }
        return files;
    }

    private static void SetPageServer(CriuOptions options, string value)
    {
        var colon = value.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(value.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port))
            throw new RuntimeException($"--page-server: \"{value}\" is not ADDRESS:PORT");
        options.PageServerAddress = value[..colon];
        options.PageServerPort = port;
    }

    /// <summary>descriptors.json: what the init's fds 0–2 are (readlink of /proc/PID/fd/N), as runc records them.</summary>
    private static void WriteDescriptors(string imagePath, int pid)
    {
        var fds = new List<string>(3);
        for (var i = 0; i < 3; i++)
            fds.Add(SecurePath.ReadLink($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/fd/{i.ToString(CultureInfo.InvariantCulture)}") ?? "/dev/null");
        using var file = File.Create(Path.Combine(imagePath, DescriptorsFile));
        using var json = new Utf8JsonWriter(file);
        json.WriteStartArray();
        foreach (var fd in fds) json.WriteStringValue(fd);
        json.WriteEndArray();
    }

    private static List<string> ReadDescriptors(string imagePath)
    {
        var path = Path.Combine(imagePath, DescriptorsFile);
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            var fds = new List<string>();
            foreach (var e in doc.RootElement.EnumerateArray()) fds.Add(e.GetString() ?? "");
            return fds;
        }
        catch (Exception e) when (e is IOException or JsonException or InvalidOperationException)
        {
            throw new RuntimeException($"--image-path: {path}: {e.Message}", e);
        }
    }

    /// <summary>
    /// Makes the mount points of config.json's mounts in the rootfs before CRIU mounts on them (runc's
    /// prepareCriuRestoreMounts), except below a tmpfs mount, whose content CRIU restores itself, and cgroup mounts.
    /// </summary>
    private static void PrepareRestoreMountpoints(Spec.Spec spec, string rootfs)
    {
        var tmpfs = new List<string>();
        foreach (var m in spec.Mounts ?? [])
        {
            if (m.Type == "tmpfs") tmpfs.Add(SecurePath.Clean(m.Destination));
        }
        using var root = RootDir.OpenRoot(rootfs);
        foreach (var m in spec.Mounts ?? [])
        {
            var dest = SecurePath.Clean(m.Destination);
            if (m.Type is "cgroup" or "cgroup2" || tmpfs.Exists(t => dest.StartsWith(t + "/", StringComparison.Ordinal))) continue;
            var isBind = m.Type == "bind" || MountOptions.Parse(m.Options).IsBind;
            if (isBind && m.Source is { } source && File.Exists(source)) root.MkFile(dest).Dispose();
            else root.MkdirAll(dest).Dispose();
        }
    }

    private static RuntimeException CriuFailed(CriuResponse response, string logPath)
    {
        var what = response.Type switch
        {
            CriuRequestType.Dump => "DUMP",
            CriuRequestType.PreDump => "PRE_DUMP",
            CriuRequestType.Restore => "RESTORE",
            _ => response.Type.ToString(),
        };
        var detail = response.ErrorMessage is { } m && m.Trim() is { Length: > 0 } trimmed ? trimmed : FirstError(logPath);
        return new RuntimeException($"criu failed: type {what} errno {response.Errno ?? 0}{(detail is null ? "" : ": " + detail)}; log file: {logPath}");
    }

    /// <summary>The first "Error" line of CRIU's log, trimmed (null when there is none or no log).</summary>
    private static string? FirstError(string logPath)
    {
        try
        {
            foreach (var line in File.ReadLines(logPath))
            {
                if (line.Contains("Error", StringComparison.Ordinal)) return line.Trim();
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return null;
    }
}
