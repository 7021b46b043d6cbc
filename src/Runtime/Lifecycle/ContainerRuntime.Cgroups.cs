using System.Text.Json;
using OciRuntime.Cgroups;
using OciRuntime.Interop;
using OciRuntime.Runtime.ProcessModel;
using OciRuntime.Runtime.State;
using OciRuntime.Spec;
using OciRuntime.Spec.Json;

namespace OciRuntime.Runtime.Lifecycle;

/// <summary>The cgroup side of the lifecycle: create-time setup, update, pause/resume, stats and events, kill --all.</summary>
public sealed partial class ContainerRuntime
{
    /// <summary>
    /// create: makes the container's cgroups, writes linux.resources and opens their join files (ICgroupManager.OpenJoinFiles)
    /// for the init, which joins them itself once its setup is done (docs/process-model.md, "cgroups").
    /// </summary>
    /// A systemd scope comes into being with the init in it (ICgroupManager.CreatedWithProcess): <paramref name="initPid"/>.
    private static CgroupSetup PrepareCgroups(ICgroupManager? cgroup, Spec.Spec spec, bool bornInCgroup2, int initPid)
    {
        if (cgroup is null)
        {
            // Rootless without cgroups of its own: still the cgroup namespace the config asks for, rooted at the caller's cgroup.
            return NamespaceType.IsNew(spec.Linux?.Namespaces, NamespaceType.Cgroup)
                ? new CgroupSetup([], new CgroupJoinOptions { ProcsFds = [], NewNamespace = true, Paths = [], Mode = "" })
                : new CgroupSetup([], null);
        }
        if (cgroup.CreatedWithProcess) cgroup.Apply(initPid);
        else cgroup.Create();
        cgroup.ApplyResources(spec.Linux?.Resources, spec.Linux?.Devices);
        var fds = cgroup.OpenJoinFiles(bornInCgroup2);
        return new CgroupSetup(fds, new CgroupJoinOptions
        {
            ProcsFds = [], // the fds themselves go with the Bootstrap frame (SendOrders)
            NewNamespace = NamespaceType.IsNew(spec.Linux?.Namespaces, NamespaceType.Cgroup),
            Paths = new Dictionary<string, string>(cgroup.Paths),
            Mode = CgroupState.ModeName(cgroup.Mode),
        }, MovesWholeProcess: JoinMovesWholeProcess(cgroup, bornInCgroup2));
    }

    /// <summary>A cgroup2 directory is joined through cgroup.procs (the global lock) unless the process is born in it.</summary>
    private static bool JoinMovesWholeProcess(ICgroupManager cgroup, bool bornInCgroup2) =>
        cgroup.Mode == CgroupMode.V2 || (cgroup.Mode == CgroupMode.Hybrid && !bornInCgroup2);

    /// <summary>For a hybrid host, the container's cgroup2 directory made now, to be born in (ICgroupManager.CreateBirthCgroup).</summary>
    private static SafeFd? CreateBirthCgroup(ICgroupManager? cgroup)
    {
        try
        {
            return cgroup?.CreateBirthCgroup();
        }
        catch (CgroupException e)
        {
            throw new RuntimeException(e.Message, e);
        }
    }

    /// <summary>
    /// create, before anything is made in the cgroups: a pre-existing cgroup that is frozen is refused (the init would
    /// freeze as it joins, and create would wait forever); one with processes in it gets runc's warning (runc 1.1's
    /// create, the same texts). A refusal removes the new state directory <paramref name="dir"/> and nothing else: the
    /// cgroup and its processes are not the container's.
    /// </summary>
    /// <exception cref="RuntimeException">the cgroup is frozen.</exception>
    private void CheckExistingCgroup(ICgroupManager cgroup, ContainerDirectory dir)
    {
        if (cgroup.GetPids() is { Count: > 0 } pids) _log.Warn($"container's cgroup is not empty: {pids.Count} process(es) found");
        if (cgroup.GetFreezerState() != FreezerState.Frozen) return;
        dir.Remove();
        dir.Dispose();
        throw new RuntimeException("container's cgroup unexpectedly frozen");
    }

    /// <summary>
    /// exec: opens the join files of a running container's cgroups for the new process to join late, like the
    /// init. <paramref name="subCgroups"/> are runc's <c>exec --cgroup</c> values: "PATH" (every hierarchy) or
    /// "CONTROLLER[,CONTROLLER…]:PATH", an existing sub-cgroup relative to the container's cgroup.
    /// </summary>
    /// <exception cref="RuntimeException">a malformed or missing sub-cgroup (the message names --cgroup).</exception>
    private static CgroupSetup JoinExistingCgroups(ContainerRecord record, IReadOnlyList<string> subCgroups)
    {
        if (CgroupOf(record) is not { } cgroup)
        {
            return subCgroups.Count == 0 ? new CgroupSetup([], null) : throw new RuntimeException("exec --cgroup: the container has no cgroups of its own");
        }
        // As for create: a v1 hierarchy is joined through tasks (the exec'ing thread only, no global lock); a hybrid host's
        // cgroup2 directory at birth (CLONE_INTO_CGROUP) when nothing is charged there; otherwise through cgroup.procs.
        var bornInCgroup2 = cgroup.CanBeBornInCgroup2;
        string? all = null;
        var byController = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var value in subCgroups)
        {
            var colon = value.IndexOf(':', StringComparison.Ordinal);
            var path = colon < 0 ? value : value[(colon + 1)..];
            if (path.Length == 0 || path.StartsWith('/') || Array.Exists(path.Split('/'), p => p is ".." or "."))
                throw new RuntimeException($"exec --cgroup {value}: expected a path relative to the container's cgroup, without . or ..");
            if (colon < 0) all = path;
            else foreach (var controller in value[..colon].Split(',')) byController[controller] = path;
        }
        var fds = new List<SafeFd>();
        SafeFd? birth = null;
        var paths = new Dictionary<string, string>(cgroup.Paths);
        try
        {
            foreach (var (hierarchy, dir) in cgroup.Paths)
            {
                string? sub = null;
                foreach (var c in hierarchy.Split(','))
                {
                    if (byController.TryGetValue(c, out sub)) break;
                }
                sub ??= all;
                var target = sub is null ? dir : dir + "/" + sub;
                if (sub is not null && !Directory.Exists(target))
                    throw new RuntimeException($"exec --cgroup: sub-cgroup {sub} does not exist in {(hierarchy.Length == 0 ? "the cgroup2 hierarchy" : hierarchy)} ({target})");
                paths[hierarchy] = target;
                if (hierarchy.Length == 0 && bornInCgroup2)
                {
                    birth = SafeFd.Check(Libc.open(target, OpenFlags.O_RDONLY | OpenFlags.O_DIRECTORY | OpenFlags.O_CLOEXEC), $"open {target}");
                    continue;
                }
                fds.Add(CgroupFs.OpenJoinFile(hierarchy, target));
            }
        }
        catch
        {
            foreach (var fd in fds) fd.Dispose();
            birth?.Dispose();
            throw;
        }
        return new CgroupSetup(fds, new CgroupJoinOptions
        {
            ProcsFds = [], // the fds themselves go with the Bootstrap frame (SendOrders)
            NewNamespace = false,
            Paths = paths,
            Mode = CgroupState.ModeName(cgroup.Mode),
        }, MovesWholeProcess: JoinMovesWholeProcess(cgroup, bornInCgroup2), BirthCgroup: birth);
    }

    /// <summary>
    /// The parent's end of the late join: the join files' fds (closed once the init has its copies), whether one of them
    /// moves the whole process (cgroup.procs: the global lock, see CgroupHost.WarmMigrationLock), and for exec the cgroup2
    /// directory to be born in.
    /// </summary>
    private sealed class CgroupSetup(IReadOnlyList<SafeFd> fds, CgroupJoinOptions? options, bool MovesWholeProcess = false, SafeFd? BirthCgroup = null) : IDisposable
    {
        public IReadOnlyList<SafeFd> Fds { get; } = fds;
        public CgroupJoinOptions? Options { get; } = options;
        public bool MovesWholeProcess { get; } = MovesWholeProcess;
        public SafeFd? BirthCgroup { get; } = BirthCgroup;

        public void Dispose()
        {
            foreach (var fd in Fds) fd.Dispose();
            BirthCgroup?.Dispose();
        }
    }

    /// <summary>The manager of a recorded container's cgroups, or null when none were made.</summary>
    private static ICgroupManager? CgroupOf(ContainerRecord record) =>
        record.Cgroup is { } state ? CgroupManagerFactory.Load(state) : null;

    /// <summary>Whether a live container is frozen (its status is then "paused").</summary>
    private static bool IsPaused(ContainerRecord record)
    {
        try
        {
            return CgroupOf(record)?.GetFreezerState() == FreezerState.Frozen;
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>kill SIGKILL of a paused container: thawed, so the frozen init can die (runc's Signal does the same).</summary>
    private void ThawForKill(ContainerRecord record)
    {
        try
        {
            CgroupOf(record)?.Freeze(FreezerState.Thawed);
        }
        catch (IOException e)
        {
            _log.Warn($"kill {record.Id}: thaw cgroup: {e.Message}");
        }
    }

    /// <summary>
    /// delete of a live container: without its own pid namespace every process of its cgroup gets SIGKILL (killing the
    /// init would leave the others); a paused one is thawed once the signals are queued, so they can be delivered.
    /// </summary>
    private void KillCgroupForDelete(ContainerRecord record, string status)
    {
        var cgroup = CgroupOf(record);
        if (cgroup is null) return;
        try
        {
            if (!record.OwnPidNamespace) cgroup.SignalAll(Signals.SIGKILL);
            if (status == ContainerStatus.Paused)
            {
                using (var pidFd = OpenPidFd(record))
                {
                    if (pidFd is not null) _ = Libc.pidfd_send_signal(pidFd.Fd, Signals.SIGKILL);
                }
                cgroup.SignalAll(Signals.SIGKILL);
                cgroup.Freeze(FreezerState.Thawed);
            }
        }
        catch (IOException e)
        {
            _log.Warn($"delete {record.Id}: kill the processes of cgroup {cgroup.Path}: {e.Message}");
        }
    }

    /// <summary>
    /// kill --all: <paramref name="signal"/> to every process of the container's cgroup (and to its init). As runc's, it
    /// works on a stopped container too, whose init has exited while other processes may remain in its cgroup (a
    /// container sharing another's pid namespace, or the host's): containerd-shim-runc-v2 sends it for such containers,
    /// and containerd's CRI plugin for every exited task; with no cgroup left there is nothing to signal, and no error.
    /// </summary>
    /// <exception cref="ContainerNotFoundException">no such container.</exception>
    public void KillAll(string id, int signal)
    {
        using var dir = _store.Open(id);
        var record = dir.Load();
        var stopped = StatusOf(dir, record) == ContainerStatus.Stopped;
        // A created container's init has not joined its cgroup yet: signal it directly too.
        using (var pidFd = stopped ? null : OpenPidFd(record))
        {
            if (pidFd is not null) _ = Libc.pidfd_send_signal(pidFd.Fd, signal);
        }
        if (CgroupOf(record) is { } cgroup)
        {
            try
            {
                cgroup.SignalAll(signal);
            }
            catch (IOException e)
            {
                // The cgroup went away meanwhile (its last process exited): nothing is left to signal.
                if (!stopped) throw new RuntimeException($"kill --all: signal the processes of cgroup {cgroup.Path}: {e.Message}", e);
            }
            return;
        }
        if (stopped) return;
        // No cgroup (rootless): every process of the container's pid namespace.
        foreach (var pid in ProcessesOf(record))
        {
            if (pid != record.InitPid) _ = Libc.kill(pid, signal);
        }
    }

    /// <summary>
    /// update: merges <paramref name="resources"/> into the resources in force and writes the result, devices aside
    /// (runc update). The merged resources are recorded for the next update.
    /// </summary>
    /// <exception cref="ContainerNotFoundException">no such container.</exception>
    /// <exception cref="RuntimeException">the container has stopped, or a value is refused (the message names the field).</exception>
    public void Update(string id, LinuxResources resources)
    {
        using var dir = _store.Open(id);
        var record = dir.Load();
        if (StatusOf(dir, record) == ContainerStatus.Stopped) throw new RuntimeException("container not running");
        var cgroup = CgroupOf(record) ?? throw new RuntimeException($"container {id} has no cgroups to update");
        var merged = ResourceMerge.Merge(record.Cgroup!.Resources, resources);
        cgroup.Update(merged);
        record.Cgroup = cgroup.State;
        dir.Save(record);
    }

    /// <summary>pause: freezes every process of a running container (v1 freezer.state, v2 cgroup.freeze) and waits until frozen.</summary>
    /// <exception cref="ContainerNotFoundException">no such container.</exception>
    /// <exception cref="RuntimeException">"container not running".</exception>
    public void Pause(string id)
    {
        using var dir = _store.Open(id);
        var record = dir.Load();
        if (StatusOf(dir, record) != ContainerStatus.Running) throw new RuntimeException("container not running");
        (CgroupOf(record) ?? throw new RuntimeException($"container {id} has no cgroups to freeze")).Freeze(FreezerState.Frozen);
    }

    /// <summary>resume: thaws a paused container.</summary>
    /// <exception cref="ContainerNotFoundException">no such container.</exception>
    /// <exception cref="RuntimeException">"container not paused".</exception>
    public void Resume(string id)
    {
        using var dir = _store.Open(id);
        var record = dir.Load();
        if (StatusOf(dir, record) != ContainerStatus.Paused) throw new RuntimeException("container not paused");
        CgroupOf(record)!.Freeze(FreezerState.Thawed);
    }

    /// <summary>events --stats: the container's resource usage (runc's stats shape).</summary>
    /// <exception cref="ContainerNotFoundException">no such container.</exception>
    /// <exception cref="RuntimeException">"container not running" when it has stopped.</exception>
    public ContainerStats Stats(string id)
    {
        using var dir = _store.Open(id);
        var record = dir.Load();
        if (StatusOf(dir, record) == ContainerStatus.Stopped) throw new RuntimeException("container not running");
        return (CgroupOf(record) ?? throw new RuntimeException($"container {id} has no cgroups")).GetStats();
    }

    /// <summary>One event as runc prints it: {"type":"stats","id":ID,"data":{…}} or {"type":"oom","id":ID}.</summary>
    public static string FormatEvent(ContainerEvent e) =>
        System.Text.Encoding.UTF8.GetString(FastJson.Write(e, FastJson.CompactWriter, RuntimeFastJson.WriteContainerEvent));

    /// <summary>
    /// events: writes a stats event every <paramref name="interval"/> and an "oom" event for each OOM kill as it happens
    /// (v1: eventfd on memory.oom_control; v2: memory.events), until the container's init exits.
    /// </summary>
    /// <exception cref="ContainerNotFoundException">no such container.</exception>
    /// <exception cref="RuntimeException">"container not running" when it has stopped.</exception>
    public void Events(string id, TimeSpan interval, TextWriter output)
    {
        ContainerRecord record;
        SafeFd? pidFd;
        using (var dir = _store.Open(id))
        {
            record = dir.Load();
            if (StatusOf(dir, record) == ContainerStatus.Stopped) throw new RuntimeException("container not running");
            pidFd = OpenPidFd(record);
        }
        if (pidFd is null) throw new RuntimeException("container not running");
        var cgroup = CgroupOf(record) ?? throw new RuntimeException($"container {id} has no cgroups");
        using (pidFd)
        using (var oom = cgroup.WatchOom())
        {
            var intervalMs = (long)Math.Max(1, interval.TotalMilliseconds);
            var next = Environment.TickCount64;
            Span<PollFd> fds = stackalloc PollFd[2];
            while (true)
            {
                var now = Environment.TickCount64;
                if (now >= next)
                {
                    output.WriteLine(FormatEvent(new ContainerEvent { Type = "stats", Id = id, Data = cgroup.GetStats() }));
                    output.Flush();
                    next = now + intervalMs;
                }
                fds[0] = new PollFd { Fd = pidFd.Fd, Events = PollFd.POLLIN };
                fds[1] = new PollFd { Fd = oom?.Fd ?? -1, Events = PollFd.POLLIN };
                Libc.Poll(fds, (int)Math.Min(int.MaxValue, Math.Max(0, next - Environment.TickCount64)));
                if (oom is not null && (fds[1].REvents & PollFd.POLLIN) != 0)
                {
                    for (var n = oom.ReadEvents(); n > 0; n--)
                    {
                        output.WriteLine(FormatEvent(new ContainerEvent { Type = "oom", Id = id }));
                        output.Flush();
                    }
                }
                if ((fds[0].REvents & PollFd.POLLIN) != 0) return;
            }
        }
    }
}
