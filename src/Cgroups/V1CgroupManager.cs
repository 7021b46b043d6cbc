using System.Globalization;
using OciRuntime.Interop;
using OciRuntime.Spec;

namespace OciRuntime.Cgroups;

/// <summary>
/// The cgroup v1 manager (kernel admin-guide/cgroup-v1; runc libcontainer/cgroups/fs): one directory per mounted
/// hierarchy, all joined. Files: cpuset.cpus/mems (initialised from the nearest ancestor that has them); devices.deny/allow (the evaluated rule
/// list); memory.limit_in_bytes, memory.memsw.limit_in_bytes (ordered against the current limit as runc does),
/// memory.soft_limit_in_bytes, memory.kmem.limit_in_bytes (when the kernel still has it; kernels ≥ 5.16 ignore it),
/// memory.kmem.tcp.limit_in_bytes, memory.oom_control, memory.swappiness, memory.use_hierarchy; cpu.shares (read back),
/// cpu.cfs_period_us/cfs_quota_us, cpu.cfs_burst_us, cpu.rt_period_us/rt_runtime_us, cpu.idle; pids.max;
/// blkio.(bfq.)weight, blkio.leaf_weight, blkio.(bfq.)weight_device, blkio.leaf_weight_device,
/// blkio.throttle.{read,write}_{bps,iops}_device; hugetlb.SIZE.limit_in_bytes; net_cls.classid; net_prio.ifpriomap;
/// rdma.max; freezer.state. In hybrid mode the cgroup2 hierarchy (key "") is joined too, as runc does, with no
/// controller enabled for it; the fields of controllers bound to it rather than to v1 (e.g. hugetlb) and
/// linux.resources.unified for them are written there by a <see cref="V2CgroupManager"/>, after
/// <see cref="HybridControllers"/> has enabled those controllers (and only those) in the ancestors.
/// </summary>
public sealed class V1CgroupManager : ICgroupManager
{
    private readonly CgroupHost _host;
    private readonly Dictionary<string, string> _paths;
    private readonly List<string> _created;
    private readonly V2CgroupManager? _unified;

    /// <summary>A manager of the directories <paramref name="paths"/> (hierarchy name → directory; "" = cgroup2 in hybrid mode).</summary>
    /// <param name="host">The host.</param>
    /// <param name="path">The cgroupsPath they stand for.</param>
    /// <param name="paths">The directories.</param>
    /// <param name="created">Directories created earlier (from the state), parents first.</param>
    public V1CgroupManager(CgroupHost host, string path, IReadOnlyDictionary<string, string> paths, IEnumerable<string> created)
    {
        _host = host;
        Path = path;
        _paths = new Dictionary<string, string>(paths, StringComparer.Ordinal);
        _created = [.. created];
        if (_paths.TryGetValue("", out var unified)) _unified = new V2CgroupManager(host, path, unified, []);
    }

    /// <inheritdoc />
    public CgroupMode Mode => _unified is null ? CgroupMode.V1 : CgroupMode.Hybrid;

    /// <inheritdoc />
    public string Path { get; }

    /// <summary>The resources in force (kept for the state).</summary>
    public LinuxResources? Resources { get; set; }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, string> Paths => _paths;

    /// <inheritdoc />
    public CgroupState State => new()
    {
        Mode = CgroupState.ModeName(Mode),
        Path = Path,
        Paths = new Dictionary<string, string>(_paths),
        Created = [.. _created],
        Resources = Resources,
    };

    private CgroupFs Fs => _host.Fs;

    /// <summary>The directory of the hierarchy <paramref name="controller"/> is bound to, or null when it is not mounted.</summary>
    public string? DirOf(string controller) =>
        _host.HierarchyOf(controller) is { } h && _paths.TryGetValue(h.Name, out var dir) ? dir : null;

    /// <summary>Whether (hybrid) <paramref name="controller"/> lives on the cgroup2 hierarchy instead of a v1 one.</summary>
    private bool OnUnified(string controller) =>
        _unified is not null && _host.HierarchyOf(controller) is null && Lists.ContainsOrdinal(_host.UnifiedControllers, controller);

    /// <inheritdoc />
    public void Create()
    {
        var cpuset = DirOf("cpuset");
        foreach (var (name, dir) in _paths)
        {
            if (name.Length == 0)
            {
                V2CgroupManager.CreateDir(_host, dir, _created, enableControllers: false);
                continue;
            }
            // Recorded as made, before anything else can fail: a failed create removes them (docs/cgroups.md, "Removal").
            var made = new List<string>();
            try
            {
                CgroupFs.MkdirAllInto(dir, made);
            }
            catch (SyscallException e)
            {
                throw new CgroupException($"create cgroup: {e.Message}", null, e);
            }
            finally
            {
                Lists.AddMissing(_created, made);
            }
            if (dir == cpuset && _host.HierarchyOf("cpuset") is { } hierarchy)
            {
                // A new cpuset cgroup has empty cpus and mems, and no task can join it until they are set.
                Inherit(dir, hierarchy.MountPoint, "cpuset.cpus");
                Inherit(dir, hierarchy.MountPoint, "cpuset.mems");
            }
        }
    }

    /// <summary>
    /// Fills <paramref name="file"/> (cpuset.cpus or cpuset.mems) of <paramref name="dir"/> and of every ancestor below
    /// <paramref name="mountPoint"/> where it is empty, new or pre-existing (e.g. a Kubernetes pod cgroup made by
    /// another manager), with the value of the nearest ancestor that has one, top-down (runc fs cpusetEnsureParent and
    /// cpusetCopyIfNeeded). A directory whose value is set stops the walk up: one read per level when nothing is empty.
    /// </summary>
    private void Inherit(string dir, string mountPoint, string file)
    {
        var empty = new List<string>();
        string? value;
        for (var d = dir; ; d = System.IO.Path.GetDirectoryName(d)!)
        {
            value = Fs.ReadOrNull(d, file)?.Trim();
            if (!string.IsNullOrEmpty(value)) break;
            if (d.Length <= mountPoint.Length) return; // the hierarchy's root has none: nothing to copy
            empty.Add(d);
        }
        try
        {
            for (var i = empty.Count - 1; i >= 0; i--) Fs.Write(empty[i], file, value);
        }
        catch (SyscallException e)
        {
            throw new CgroupException($"create cgroup: {e.Message}", null, e);
        }
    }

    /// <inheritdoc />
    public void Apply(int pid)
    {
        foreach (var d in _paths.Values)
        {
            if (Directory.Exists(d)) continue;
            Create();
            break;
        }
        var distinct = new List<string>(_paths.Count);
        Lists.AddMissing(distinct, _paths.Values);
        foreach (var dir in distinct)
        {
            try
            {
                Fs.WriteProcs(dir, pid);
            }
            catch (SyscallException e)
            {
                throw new CgroupException($"join cgroup: {e.Message}", null, e);
            }
        }
    }

    /// <inheritdoc />
    public IReadOnlyList<SafeFd> OpenJoinFiles(bool bornInCgroup2)
    {
        var fds = new List<SafeFd>();
        try
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (name, dir) in _paths)
            {
                if (!seen.Add(dir)) continue;
                if (name.Length == 0 && bornInCgroup2) continue;
                fds.Add(CgroupFs.OpenJoinFile(name, dir));
            }
        }
        catch
        {
            foreach (var fd in fds) fd.Dispose();
            throw;
        }
        return fds;
    }

    /// <inheritdoc />
    public bool CanBeBornInCgroup2 => _unified is not null && !OnUnified("memory") && !OnUnified("pids");

    /// <inheritdoc />
    public SafeFd? CreateBirthCgroup()
    {
        if (!CanBeBornInCgroup2) return null;
        var dir = _paths[""];
        V2CgroupManager.CreateDir(_host, dir, _created, enableControllers: false);
        return V2CgroupManager.OpenDir(dir);
    }

    /// <inheritdoc />
    public void ApplyResources(LinuxResources? resources, IReadOnlyList<LinuxDevice>? devices = null)
    {
        Resources = resources;
        Set(resources ?? new LinuxResources(), devices, update: false);
    }

    /// <inheritdoc />
    public void Update(LinuxResources resources)
    {
        Set(resources, null, update: true);
        Resources = resources;
    }

    /// <summary>Writes <paramref name="r"/> in runc fs's subsystem order: cpuset, devices, memory, cpu, pids, blkio, hugetlb, net_cls, net_prio, rdma.</summary>
    private void Set(LinuxResources r, IReadOnlyList<LinuxDevice>? devices, bool update)
    {
        if (r.Cpu is { } cpuset && (cpuset.Cpus is { Length: > 0 } || cpuset.Mems is { Length: > 0 }))
        {
            if (Controller("cpuset", "linux.resources.cpu.cpus") is { } dir)
            {
                if (cpuset.Cpus is { Length: > 0 } cpus) Write(dir, "cpuset.cpus", cpus, "linux.resources.cpu.cpus");
                if (cpuset.Mems is { Length: > 0 } mems) Write(dir, "cpuset.mems", mems, "linux.resources.cpu.mems");
            }
        }
        if (!update && DirOf("devices") is { } devicesDir)
        {
            var state = DeviceRules.Evaluate(DeviceRules.Effective(r.Devices, devices));
            try
            {
                Fs.WriteAll(devicesDir, state.V1Writes());
            }
            catch (SyscallException e)
            {
                throw new CgroupException(e.Message, "linux.resources.devices", e);
            }
        }
        if (r.Memory is { } memory && HasAny(memory) && Controller("memory", "linux.resources.memory") is { } memDir) SetMemory(memDir, memory, update);
        if (r.Cpu is { } cpu && HasAny(cpu) && Controller("cpu", "linux.resources.cpu") is { } cpuDir) SetCpu(cpuDir, cpu);
        if (r.Pids is { } pids && Controller("pids", "linux.resources.pids") is { } pidsDir)
            Write(pidsDir, "pids.max", pids.Limit > 0 ? pids.Limit.ToString(CultureInfo.InvariantCulture) : "max", "linux.resources.pids.limit");
        if (r.BlockIO is { } blkio && Controller("blkio", "linux.resources.blockIO", "io") is { } blkioDir) SetBlkio(blkioDir, blkio);
        if (r.HugepageLimits is { Count: > 0 } huge && Controller("hugetlb", "linux.resources.hugepageLimits") is { } hugeDir) SetHugetlb(hugeDir, huge);
        if (r.Network?.ClassId is { } classId && Controller("net_cls", "linux.resources.network.classID") is { } clsDir)
            Write(clsDir, "net_cls.classid", classId.ToString(CultureInfo.InvariantCulture), "linux.resources.network.classID");
        if (r.Network?.Priorities is { Count: > 0 } prios && Controller("net_prio", "linux.resources.network.priorities") is { } prioDir)
        {
            for (var i = 0; i < prios.Count; i++)
                Write(prioDir, "net_prio.ifpriomap", $"{prios[i].Name} {prios[i].Priority.ToString(CultureInfo.InvariantCulture)}", $"linux.resources.network.priorities[{i}]");
        }
        if (r.Rdma is { Count: > 0 } rdma && Controller("rdma", "linux.resources.rdma") is { } rdmaDir) V2CgroupManager.WriteRdma(Fs, rdmaDir, rdma);
        if (_unified is not null)
        {
            // Hybrid: the controllers bound to the cgroup2 hierarchy (and their unified keys) are written there, enabled
            // in its ancestors only for the fields that ask for them (runc enables none: HybridControllers).
            HybridControllers.Enable(_host, _unified.Dir, Cgroup2Needs(r));
            _unified.Set(r, null, update, OnUnified);
        }
        else if (r.Unified is { Count: > 0 })
        {
            throw new CgroupException("cannot use unified on cgroup v1 (this host has no cgroup v2 hierarchy)", "linux.resources.unified");
        }
    }

    /// <summary>
    /// (Hybrid) the controllers of the cgroup2 hierarchy that <paramref name="r"/> sets something for: its fields whose
    /// controller has no v1 hierarchy here (hugepageLimits when hugetlb is bound to cgroup2), and the controllers its
    /// unified keys name. Empty on a v1 host and for a config that sets nothing there.
    /// </summary>
    internal List<string> Cgroup2Needs(LinuxResources? r)
    {
        var needs = new List<string>();
        if (_unified is null || r is null) return needs;
        void Need(bool set, string controller)
        {
            if (set && OnUnified(controller) && !needs.Contains(controller)) needs.Add(controller);
        }
        Need(r.Cpu is { } cs && (cs.Cpus is { Length: > 0 } || cs.Mems is { Length: > 0 }), "cpuset");
        Need(r.Memory is { } m && HasAny(m), "memory");
        Need(r.Cpu is { } c && HasAny(c), "cpu");
        Need(r.Pids is not null, "pids");
        Need(r.BlockIO is not null, "io");
        Need(r.HugepageLimits is { Count: > 0 }, "hugetlb");
        Need(r.Rdma is { Count: > 0 }, "rdma");
        if (r.Unified is { } unified)
        {
            foreach (var key in unified.Keys)
            {
                var dot = key.IndexOf('.', StringComparison.Ordinal);
                if (dot > 0) Need(true, key[..dot]);
            }
        }
        return needs;
    }

    /// <summary>
    /// The v1 directory of <paramref name="controller"/>; null when (hybrid) the controller (<paramref name="v2Name"/> there)
    /// is bound to the cgroup2 hierarchy, whose manager writes the fields instead.
    /// </summary>
    /// <exception cref="CgroupException">the controller is not mounted anywhere (names <paramref name="field"/>).</exception>
    private string? Controller(string controller, string field, string? v2Name = null)
    {
        if (DirOf(controller) is { } dir) return dir;
        if (OnUnified(v2Name ?? controller)) return null;
        throw new CgroupException($"the {controller} controller is not mounted on this host", field);
    }

    private static bool HasAny(LinuxMemory m) =>
        m.Limit is not null || m.Reservation is not null || m.Swap is not null || m.Kernel is not null || m.KernelTcp is not null
        || m.Swappiness is not null || m.DisableOomKiller is not null || m.UseHierarchy is not null;

    private static bool HasAny(LinuxCpu c) =>
        c.Shares is not null || c.Quota is not null || c.Period is not null || c.Burst is not null
        || c.RealtimeRuntime is not null || c.RealtimePeriod is not null || c.Idle is not null;

    private void SetMemory(string dir, LinuxMemory m, bool update)
    {
        const string f = "linux.resources.memory";
        var limit = m.Limit ?? 0;
        var swap = m.Swap ?? 0;
        if (limit == -1 && swap == 0 && Fs.Exists(dir, "memory.memsw.limit_in_bytes")) swap = -1;
        if (update && m.CheckBeforeUpdate == true && limit > 0 && Fs.ReadUInt64OrNull(dir, "memory.usage_in_bytes") is { } usage && usage >= (ulong)limit)
            throw new CgroupException($"cannot set the limit to {limit} bytes: the current usage is {usage} bytes (checkBeforeUpdate)", f + ".limit");
        // memsw must stay ≥ limit at every step: raise swap first when it grows (runc setMemoryAndSwap).
        var swapFirst = false;
        if (limit != 0 && swap != 0)
        {
            var current = Fs.ReadUInt64OrNull(dir, "memory.limit_in_bytes") ?? 0;
            swapFirst = swap == -1 || current < (ulong)swap;
        }
        if (swapFirst) SetSwap(dir, swap);
        SetLimit(dir, limit);
        if (!swapFirst) SetSwap(dir, swap);
        if (m.Reservation is { } reservation && reservation != 0)
            Write(dir, "memory.soft_limit_in_bytes", reservation.ToString(CultureInfo.InvariantCulture), f + ".reservation");
        if (m.Kernel is { } kernel && kernel != 0 && Fs.Exists(dir, "memory.kmem.limit_in_bytes"))
            Write(dir, "memory.kmem.limit_in_bytes", kernel.ToString(CultureInfo.InvariantCulture), f + ".kernel");
        if (m.KernelTcp is { } tcp && tcp != 0)
            Write(dir, "memory.kmem.tcp.limit_in_bytes", tcp.ToString(CultureInfo.InvariantCulture), f + ".kernelTCP");
        if (m.DisableOomKiller is { } disable) Write(dir, "memory.oom_control", disable ? "1" : "0", f + ".disableOOMKiller");
        if (m.Swappiness is { } swappiness)
        {
            if (swappiness > 100) throw new CgroupException($"must be 0..100, got {swappiness}", f + ".swappiness");
            Write(dir, "memory.swappiness", swappiness.ToString(CultureInfo.InvariantCulture), f + ".swappiness");
        }
        if (m.UseHierarchy is { } hierarchy) Write(dir, "memory.use_hierarchy", hierarchy ? "1" : "0", f + ".useHierarchy");
    }

    private void SetLimit(string dir, long limit)
    {
        if (limit == 0) return;
        try
        {
            Fs.Write(dir, "memory.limit_in_bytes", limit.ToString(CultureInfo.InvariantCulture));
        }
        catch (SyscallException e) when (e.Errno == Errno.EBUSY)
        {
            var usage = Fs.ReadUInt64OrNull(dir, "memory.usage_in_bytes");
            var peak = Fs.ReadUInt64OrNull(dir, "memory.max_usage_in_bytes");
            throw new CgroupException($"unable to set the memory limit to {limit} (current usage: {usage}, peak usage: {peak})", "linux.resources.memory.limit", e);
        }
        catch (SyscallException e)
        {
            throw new CgroupException(e.Message, "linux.resources.memory.limit", e);
        }
    }

    private void SetSwap(string dir, long swap)
    {
        if (swap == 0) return;
        Write(dir, "memory.memsw.limit_in_bytes", swap.ToString(CultureInfo.InvariantCulture), "linux.resources.memory.swap");
    }

    private void SetCpu(string dir, LinuxCpu c)
    {
        const string f = "linux.resources.cpu";
        // Realtime first: a SCHED_RR task cannot join a cgroup without rt bandwidth (runc CpuGroup.Apply).
        SetRealtime(dir, c);
        if (c.Shares is { } shares && shares != 0)
        {
            Write(dir, "cpu.shares", shares.ToString(CultureInfo.InvariantCulture), f + ".shares");
            var read = Fs.ReadUInt64OrNull(dir, "cpu.shares");
            if (read is { } got && got != shares)
                throw new CgroupException(got < shares ? $"the maximum allowed cpu-shares is {got}" : $"the minimum allowed cpu-shares is {got}", f + ".shares");
        }
        string? period = null;
        if (c.Period is { } p && p != 0)
        {
            period = p.ToString(CultureInfo.InvariantCulture);
            try
            {
                Fs.Write(dir, "cpu.cfs_period_us", period);
                period = null;
            }
            catch (SyscallException e) when (e.Errno == Errno.EINVAL)
            {
                // old quota / new period may exceed the parent's: retried after the quota (runc does the same).
            }
            catch (SyscallException e)
            {
                throw new CgroupException(e.Message, f + ".period", e);
            }
        }
        if (c.Quota is { } q && q != 0)
        {
            Write(dir, "cpu.cfs_quota_us", q.ToString(CultureInfo.InvariantCulture), f + ".quota");
        }
        if (period is not null) Write(dir, "cpu.cfs_period_us", period, f + ".period");
        if (c.Burst is { } burst) Write(dir, "cpu.cfs_burst_us", burst.ToString(CultureInfo.InvariantCulture), f + ".burst");
        if (c.Idle is { } idle) Write(dir, "cpu.idle", idle.ToString(CultureInfo.InvariantCulture), f + ".idle");
    }

    private void SetRealtime(string dir, LinuxCpu c)
    {
        const string f = "linux.resources.cpu";
        if (c.RealtimePeriod is { } period && period != 0)
            Write(dir, "cpu.rt_period_us", period.ToString(CultureInfo.InvariantCulture), f + ".realtimePeriod");
        if (c.RealtimeRuntime is { } runtime && runtime != 0)
            Write(dir, "cpu.rt_runtime_us", runtime.ToString(CultureInfo.InvariantCulture), f + ".realtimeRuntime");
    }

    private void SetBlkio(string dir, LinuxBlockIo b)
    {
        const string f = "linux.resources.blockIO";
        // BFQ (the only proportional scheduler left since 5.0) names its files blkio.bfq.*; CFQ used blkio.*.
        var bfq = Fs.Exists(dir, "blkio.bfq.weight");
        if (b.Weight is { } w && w != 0) Write(dir, bfq ? "blkio.bfq.weight" : "blkio.weight", w.ToString(CultureInfo.InvariantCulture), f + ".weight");
        if (b.LeafWeight is { } lw && lw != 0) Write(dir, "blkio.leaf_weight", lw.ToString(CultureInfo.InvariantCulture), f + ".leafWeight");
        for (var i = 0; i < (b.WeightDevice?.Count ?? 0); i++)
        {
            var d = b.WeightDevice![i];
            var field = $"{f}.weightDevice[{i}]";
            if (d.Weight is { } dw) Write(dir, bfq ? "blkio.bfq.weight_device" : "blkio.weight_device", $"{d.Major}:{d.Minor} {dw}", field + ".weight");
            if (d.LeafWeight is { } dlw) Write(dir, "blkio.leaf_weight_device", $"{d.Major}:{d.Minor} {dlw}", field + ".leafWeight");
        }
        Throttle(dir, b.ThrottleReadBpsDevice, "blkio.throttle.read_bps_device", f + ".throttleReadBpsDevice");
        Throttle(dir, b.ThrottleWriteBpsDevice, "blkio.throttle.write_bps_device", f + ".throttleWriteBpsDevice");
        Throttle(dir, b.ThrottleReadIopsDevice, "blkio.throttle.read_iops_device", f + ".throttleReadIOPSDevice");
        Throttle(dir, b.ThrottleWriteIopsDevice, "blkio.throttle.write_iops_device", f + ".throttleWriteIOPSDevice");
    }

    private void Throttle(string dir, List<LinuxThrottleDevice>? list, string file, string field)
    {
        for (var i = 0; i < (list?.Count ?? 0); i++)
            Write(dir, file, $"{list![i].Major}:{list[i].Minor} {list[i].Rate.ToString(CultureInfo.InvariantCulture)}", $"{field}[{i}]");
    }

    private void SetHugetlb(string dir, List<LinuxHugepageLimit> limits)
    {
        for (var i = 0; i < limits.Count; i++)
        {
            var l = limits[i];
            var field = $"linux.resources.hugepageLimits[{i}]";
            var file = $"hugetlb.{l.PageSize}.limit_in_bytes";
            if (!Fs.Exists(dir, file)) throw new CgroupException($"no hugetlb page size \"{l.PageSize}\" ({dir}/{file} does not exist)", field + ".pageSize");
            var value = l.Limit.ToString(CultureInfo.InvariantCulture);
            Write(dir, file, value, field + ".limit");
            if (Fs.Exists(dir, $"hugetlb.{l.PageSize}.rsvd.limit_in_bytes")) Write(dir, $"hugetlb.{l.PageSize}.rsvd.limit_in_bytes", value, field + ".limit");
        }
    }

    private void Write(string dir, string file, string value, string field)
    {
        try
        {
            Fs.Write(dir, file, value);
        }
        catch (SyscallException e)
        {
            throw new CgroupException(e.Message, field, e);
        }
    }

    /// <inheritdoc />
    public void Freeze(FreezerState state)
    {
        if (state == FreezerState.Undefined) return;
        if (DirOf("freezer") is not { } dir)
        {
            if (state == FreezerState.Thawed) return;
            throw new CgroupException("freezer not supported: the freezer controller is not mounted");
        }
        var want = state == FreezerState.Frozen ? "FROZEN" : "THAWED";
        try
        {
            // FREEZING can last while tasks are busy in the kernel; writing FROZEN again retries (runc's v1 freezer loop).
            for (var i = 0; i < 2000; i++)
            {
                if (i % 50 == 0) Fs.Write(dir, "freezer.state", want);
                var now = Fs.Read(dir, "freezer.state");
                if (now == want) return;
                Thread.Sleep(i < 10 ? 1 : 5);
            }
        }
        catch (SyscallException e)
        {
            throw new CgroupException($"freeze: {e.Message}", null, e);
        }
        if (state == FreezerState.Frozen)
        {
            try { Fs.Write(dir, "freezer.state", "THAWED"); } catch (SyscallException) { }
        }
        throw new CgroupException($"{dir} did not reach freezer.state {want}");
    }

    /// <inheritdoc />
    public FreezerState GetFreezerState()
    {
        if (DirOf("freezer") is not { } dir) return FreezerState.Undefined;
        return Fs.ReadOrNull(dir, "freezer.state")?.Trim() switch
        {
            "FROZEN" or "FREEZING" => FreezerState.Frozen,
            "THAWED" => FreezerState.Thawed,
            _ => FreezerState.Undefined,
        };
    }

    /// <summary>The directory whose cgroup.procs lists the container's processes: freezer's (as every hierarchy is joined at once).</summary>
    private string? ProcsDir => DirOf("freezer") ?? DirOf("devices") ?? DirOf("memory") ?? FirstPath();

    private string? FirstPath()
    {
        foreach (var path in _paths.Values) return path;
        return null;
    }

    /// <inheritdoc />
    public IReadOnlyList<int> GetPids() => ProcsDir is { } dir ? Fs.ReadPidsRecursive(dir) : [];

    /// <inheritdoc />
    public void SignalAll(int signal)
    {
        var frozen = false;
        if (DirOf("freezer") is { } freezer && Directory.Exists(freezer))
        {
            try
            {
                Freeze(FreezerState.Frozen);
                frozen = true;
            }
            catch (CgroupException)
            {
                // Signal anyway.
            }
        }
        foreach (var pid in GetPids()) _ = Libc.kill(pid, signal);
        if (frozen) Freeze(FreezerState.Thawed);
    }

    /// <inheritdoc />
    public ContainerStats GetStats() => CgroupStatsReader.ReadV1(Fs, DirOf, _unified?.Dir);

    /// <inheritdoc />
    public IOomWatcher? WatchOom()
    {
        if (DirOf("memory") is { } dir) return V1OomWatcher.Open(dir);
        return _unified is not null && OnUnified("memory") ? _unified.WatchOom() : null;
    }

    /// <inheritdoc />
    public void Destroy()
    {
        CgroupRemoval.KillRemaining(this);
        try
        {
            CgroupRemoval.Remove(Fs, _paths.Values, _created);
        }
        finally
        {
            // Hybrid: what the config had enabled in the cgroup2 ancestors goes where nothing else uses it.
            if (_unified is not null) HybridControllers.Release(_host, _unified.Dir, Cgroup2Needs(Resources));
        }
    }
}
