using System.Globalization;
using OciRuntime.Interop;
using OciRuntime.Spec;

namespace OciRuntime.Cgroups;

/// <summary>
/// The cgroup v2 manager: one directory of the unified hierarchy (kernel admin-guide/cgroup-v2.rst; runc fs2).
/// Files: pids.max; memory.max, memory.swap.max (swap - limit), memory.low; cpu.weight (from shares), cpu.max
/// ("quota period", "max" when quota ≤ 0, period 100000 by default), cpu.max.burst, cpu.idle; cpuset.cpus/mems;
/// io.bfq.weight or io.weight (converted), io.max ("MAJ:MIN rbps=N" …); hugetlb.SIZE.max; rdma.max; the unified
/// map; devices as an eBPF program; cgroup.freeze; cgroup.kill.
/// v1-only fields: memory.kernel, memory.swappiness, useHierarchy=true, disableOOMKiller=false and blockIO leaf
/// weights are ignored (no v2 knob; runc ignores them too); memory.kernelTCP, disableOOMKiller=true,
/// useHierarchy=false, cpu.realtimeRuntime/realtimePeriod and network are refused (v2 cannot provide them).
/// In hybrid mode a <see cref="V1CgroupManager"/> uses one of these for the controllers bound to the cgroup2 hierarchy.
/// </summary>
public sealed class V2CgroupManager : ICgroupManager
{
    private readonly CgroupHost _host;
    private readonly List<string> _created;

    /// <summary>A manager of cgroup2 directory <paramref name="dir"/>.</summary>
    /// <param name="host">The host.</param>
    /// <param name="path">The cgroupsPath it stands for.</param>
    /// <param name="dir">The absolute directory.</param>
    /// <param name="created">Directories created earlier (from the state), parents first.</param>
    public V2CgroupManager(CgroupHost host, string path, string dir, IEnumerable<string> created)
    {
        _host = host;
        Path = path;
        Dir = dir;
        _created = [.. created];
    }

    /// <inheritdoc />
    public CgroupMode Mode => CgroupMode.V2;

    /// <inheritdoc />
    public string Path { get; }

    /// <summary>The cgroup directory.</summary>
    public string Dir { get; }

    /// <summary>The resources in force (kept for the state).</summary>
    public LinuxResources? Resources { get; set; }

    /// <summary>A rootless runtime's cgroup (a delegated subtree): a device filter the kernel refuses is skipped, as runc does.</summary>
    public bool Rootless { get; init; }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, string> Paths => new Dictionary<string, string> { [""] = Dir };

    /// <inheritdoc />
    public CgroupState State => new()
    {
        Mode = CgroupState.ModeName(CgroupMode.V2),
        Path = Path,
        Paths = new Dictionary<string, string> { [""] = Dir },
        Created = [.. _created],
        Resources = Resources,
    };

    private CgroupFs Fs => _host.Fs;

    /// <inheritdoc />
    public void Create() => CreateDir(_host, Dir, _created, enableControllers: true);

    /// <summary>
    /// Creates <paramref name="dir"/> (and missing parents) and, with <paramref name="enableControllers"/> (a pure v2
    /// host), enables in every ancestor below the mount point the controllers the root offers (runc's
    /// CreateCgroupPath: "+cpu +memory …", one by one if the whole line is refused; failures surface later as the write
    /// of the field that needs the controller). A hybrid host's cgroup2 directory enables nothing here, as runc's fs
    /// driver (<see cref="HybridControllers"/> enables what the config needs). Each created directory is added to
    /// <paramref name="created"/> (unless already there) as soon as it exists, so that a failure later in the set-up
    /// still removes it.
    /// </summary>
    /// <exception cref="CgroupException">mkdir or the read of cgroup.controllers failed.</exception>
    internal static void CreateDir(CgroupHost host, string dir, List<string> created, bool enableControllers)
    {
        var mount = host.UnifiedMount!;
        var made = new List<string>();
        IReadOnlyList<string> controllers;
        try
        {
            CgroupFs.MkdirAllInto(dir, made);
            controllers = enableControllers ? host.UnifiedControllers : [];
        }
        catch (Exception e) when (e is SyscallException or IOException)
        {
            throw new CgroupException($"create cgroup: {e.Message}", null, e);
        }
        finally
        {
            Lists.AddMissing(created, made);
        }
        if (controllers.Count == 0) return;
        var line = "+" + string.Join(" +", controllers);
        var current = mount;
        var parts = dir[mount.Length..].Split('/', StringSplitOptions.RemoveEmptyEntries);
        // Every ancestor of dir, from the mount down (not dir itself): each enables the controllers for its children.
        for (int k = -1; k < parts.Length - 1; k++)
        {
            if (k >= 0) current += "/" + parts[k];
            try
            {
                host.Fs.Write(current, "cgroup.subtree_control", line);
            }
            catch (SyscallException)
            {
                foreach (var c in controllers)
                {
                    try { host.Fs.Write(current, "cgroup.subtree_control", "+" + c); } catch (SyscallException) { }
                }
            }
        }
    }

    /// <inheritdoc />
    public void Apply(int pid)
    {
        if (!Directory.Exists(Dir)) Create();
        try
        {
            Fs.WriteProcs(Dir, pid);
        }
        catch (SyscallException e)
        {
            throw new CgroupException($"join cgroup: {e.Message}", null, e);
        }
    }

    /// <inheritdoc />
    public IReadOnlyList<SafeFd> OpenJoinFiles(bool bornInCgroup2) => bornInCgroup2 ? [] : [CgroupFs.OpenJoinFile("", Dir)];

    /// <inheritdoc />
    public SafeFd? CreateBirthCgroup() => null;

    /// <inheritdoc />
    public bool CanBeBornInCgroup2 => false;

    /// <summary>Opens a cgroup2 directory (O_RDONLY|O_DIRECTORY|O_CLOEXEC), e.g. for CLONE_INTO_CGROUP.</summary>
    internal static SafeFd OpenDir(string dir)
    {
        var fd = CgroupFs.Open(dir, OpenFlags.O_RDONLY | OpenFlags.O_DIRECTORY | OpenFlags.O_CLOEXEC);
        return fd < 0 ? throw new CgroupException(SyscallException.FromLastError($"open {dir}").Message) : new SafeFd(fd);
    }

    /// <inheritdoc />
    public void ApplyResources(LinuxResources? resources, IReadOnlyList<LinuxDevice>? devices = null)
    {
        Resources = resources;
        Set(resources ?? new LinuxResources(), devices, update: false, handles: null);
    }

    /// <inheritdoc />
    public void Update(LinuxResources resources)
    {
        Set(resources, null, update: true, handles: null);
        Resources = resources;
    }

    /// <summary>
    /// Writes <paramref name="r"/> in runc fs2's order: pids, memory, io, cpu, devices (not on update), cpuset, hugetlb,
    /// rdma, unified. <paramref name="handles"/> (hybrid) limits the writes to the controllers bound to this hierarchy.
    /// </summary>
    internal void Set(LinuxResources r, IReadOnlyList<LinuxDevice>? devices, bool update, Func<string, bool>? handles)
    {
        bool Handles(string controller) => handles is null || handles(controller);
        if (handles is null && r.Network is { } net && (net.ClassId is not null || net.Priorities is { Count: > 0 }))
            throw new CgroupException("not supported on cgroup v2 (net_cls and net_prio are v1 controllers; use eBPF)", "linux.resources.network");
        if (r.Pids is { } pids && Handles("pids"))
            Write("pids.max", pids.Limit > 0 ? pids.Limit.ToString(CultureInfo.InvariantCulture) : "max", "linux.resources.pids.limit");
        if (r.Memory is { } memory && Handles("memory")) SetMemory(memory, update);
        if (r.BlockIO is { } io && Handles("io")) SetIo(io);
        if (r.Cpu is { } cpu && Handles("cpu")) SetCpu(cpu);
        if (!update && handles is null) SetDevices(r, devices);
        if (r.Cpu is { } cpuset && Handles("cpuset"))
        {
            if (cpuset.Cpus is { Length: > 0 } cpus) Write("cpuset.cpus", cpus, "linux.resources.cpu.cpus");
            if (cpuset.Mems is { Length: > 0 } mems) Write("cpuset.mems", mems, "linux.resources.cpu.mems");
        }
        if (r.HugepageLimits is { Count: > 0 } huge && Handles("hugetlb")) SetHugetlb(huge);
        if (r.Rdma is { Count: > 0 } rdma && Handles("rdma")) SetRdma(rdma);
        if (r.Unified is { Count: > 0 } unified) SetUnified(unified, handles);
    }

    private void SetMemory(LinuxMemory m, bool update)
    {
        const string f = "linux.resources.memory";
        if (m.KernelTcp is not null) throw new CgroupException("not supported on cgroup v2 (no kernel TCP limit; use memory.max)", f + ".kernelTCP");
        if (m.DisableOomKiller == true) throw new CgroupException("not supported on cgroup v2 (no way to disable the OOM killer of a cgroup)", f + ".disableOOMKiller");
        if (m.UseHierarchy == false) throw new CgroupException("cgroup v2 is always hierarchical", f + ".useHierarchy");
        var limit = m.Limit ?? 0;
        var swap = m.Swap ?? 0;
        var reservation = m.Reservation ?? 0;
        if (limit == 0 && swap == 0 && reservation == 0) return;
        if (update && m.CheckBeforeUpdate == true && limit > 0 && Fs.ReadUInt64OrNull(Dir, "memory.current") is { } usage && usage >= (ulong)limit)
            throw new CgroupException($"cannot set the limit to {limit} bytes: the current usage is {usage} bytes (checkBeforeUpdate)", f + ".limit");
        var swapV2 = ResourceConversions.MemorySwapToV2(swap, limit);
        var swapText = ResourceConversions.V2Limit(swapV2);
        if (swapText.Length == 0 && swapV2 == 0 && swap > 0) swapText = "0"; // limit == swap: no swap at all
        if (swapText.Length > 0)
        {
            // Without swap accounting (CONFIG_MEMCG_SWAP off) there is no memory.swap.max: "max" and "0" then mean what they ask.
            if (Fs.Exists(Dir, "memory.swap.max") || swapText is not ("max" or "0"))
                Write("memory.swap.max", swapText, f + ".swap");
        }
        if (ResourceConversions.V2Limit(limit) is { Length: > 0 } max) Write("memory.max", max, f + ".limit");
        if (ResourceConversions.V2Limit(reservation) is { Length: > 0 } low) Write("memory.low", low, f + ".reservation");
    }

    private void SetCpu(LinuxCpu c)
    {
        const string f = "linux.resources.cpu";
        if (c.RealtimeRuntime is not null) throw new CgroupException("not supported on cgroup v2 (realtime group scheduling is v1 only)", f + ".realtimeRuntime");
        if (c.RealtimePeriod is not null) throw new CgroupException("not supported on cgroup v2 (realtime group scheduling is v1 only)", f + ".realtimePeriod");
        if (c.Shares is { } shares && shares != 0)
            Write("cpu.weight", ResourceConversions.CpuSharesToWeight(shares).ToString(CultureInfo.InvariantCulture), f + ".shares");
        string? burst = null;
        if (c.Burst is { } b)
        {
            burst = b.ToString(CultureInfo.InvariantCulture);
            try
            {
                Fs.Write(Dir, "cpu.max.burst", burst);
                burst = null;
            }
            catch (SyscallException e) when (e.Errno == Errno.EINVAL && c.Quota is > 0)
            {
                // A burst above the old quota: retried once the new quota is in (runc does the same).
            }
            catch (SyscallException e)
            {
                throw Wrap(e, f + ".burst", "cpu.max.burst");
            }
        }
        if (c.Quota is not null || c.Period is not null)
        {
            var quota = c.Quota is > 0 ? c.Quota.Value.ToString(CultureInfo.InvariantCulture) : "max";
            var period = c.Period is > 0 ? c.Period.Value : 100000UL;
            Write("cpu.max", $"{quota} {period.ToString(CultureInfo.InvariantCulture)}", c.Quota is not null ? f + ".quota" : f + ".period");
        }
        if (burst is not null) Write("cpu.max.burst", burst, f + ".burst");
        if (c.Idle is { } idle) Write("cpu.idle", idle.ToString(CultureInfo.InvariantCulture), f + ".idle");
    }

    private void SetIo(LinuxBlockIo b)
    {
        const string f = "linux.resources.blockIO";
        var bfq = Fs.Exists(Dir, "io.bfq.weight");
        if (b.Weight is { } w && w != 0)
        {
            if (bfq) Write("io.bfq.weight", w.ToString(CultureInfo.InvariantCulture), f + ".weight");
            else Write("io.weight", ResourceConversions.BlkioWeightToIoWeight(w).ToString(CultureInfo.InvariantCulture), f + ".weight");
        }
        for (var i = 0; i < (b.WeightDevice?.Count ?? 0); i++)
        {
            var d = b.WeightDevice![i];
            if (d.Weight is not { } dw) continue;
            var dev = $"{d.Major}:{d.Minor}";
            if (bfq) Write("io.bfq.weight", $"{dev} {dw}", $"{f}.weightDevice[{i}]");
            else Write("io.weight", $"{dev} {ResourceConversions.BlkioWeightToIoWeight(dw)}", $"{f}.weightDevice[{i}]");
        }
        Throttle(b.ThrottleReadBpsDevice, "rbps", f + ".throttleReadBpsDevice");
        Throttle(b.ThrottleWriteBpsDevice, "wbps", f + ".throttleWriteBpsDevice");
        Throttle(b.ThrottleReadIopsDevice, "riops", f + ".throttleReadIOPSDevice");
        Throttle(b.ThrottleWriteIopsDevice, "wiops", f + ".throttleWriteIOPSDevice");
    }

    private void Throttle(List<LinuxThrottleDevice>? list, string key, string field)
    {
        for (var i = 0; i < (list?.Count ?? 0); i++)
        {
            var d = list![i];
            Write("io.max", $"{d.Major}:{d.Minor} {key}={d.Rate.ToString(CultureInfo.InvariantCulture)}", $"{field}[{i}]");
        }
    }

    private void SetHugetlb(List<LinuxHugepageLimit> limits)
    {
        for (var i = 0; i < limits.Count; i++)
        {
            var l = limits[i];
            var field = $"linux.resources.hugepageLimits[{i}]";
            var file = $"hugetlb.{l.PageSize}.max";
            if (!Fs.Exists(Dir, file))
                throw new CgroupException($"no hugetlb page size \"{l.PageSize}\" ({Dir}/{file} does not exist)", field + ".pageSize");
            var value = l.Limit.ToString(CultureInfo.InvariantCulture);
            Write(file, value, field + ".limit");
            if (Fs.Exists(Dir, $"hugetlb.{l.PageSize}.rsvd.max")) Write($"hugetlb.{l.PageSize}.rsvd.max", value, field + ".limit");
        }
    }

    private void SetRdma(Dictionary<string, LinuxRdma> rdma) => WriteRdma(Fs, Dir, rdma);

    /// <summary>rdma.max lines "DEVICE hca_handle=N hca_object=M" (v1 and v2 share the format).</summary>
    internal static void WriteRdma(CgroupFs fs, string dir, Dictionary<string, LinuxRdma> rdma)
    {
        foreach (var (device, limit) in rdma)
        {
            var field = $"linux.resources.rdma.{device}";
            if (limit.HcaHandles is null && limit.HcaObjects is null)
                throw new CgroupException("at least one of hcaHandles and hcaObjects must be set", field);
            var line = device;
            if (limit.HcaHandles is { } h) line += " hca_handle=" + h.ToString(CultureInfo.InvariantCulture);
            if (limit.HcaObjects is { } o) line += " hca_object=" + o.ToString(CultureInfo.InvariantCulture);
            try
            {
                fs.Write(dir, "rdma.max", line);
            }
            catch (SyscallException e)
            {
                throw new CgroupException(e.Message, field, e);
            }
        }
    }

    private void SetUnified(Dictionary<string, string> unified, Func<string, bool>? handles)
    {
        foreach (var (key, value) in unified)
        {
            var field = $"linux.resources.unified.{key}";
            if (key.Length == 0 || key is "." or ".." || key.Contains('/', StringComparison.Ordinal) || key.Contains('\0', StringComparison.Ordinal))
                throw new CgroupException("must be a file name (no \"/\", not \".\" or \"..\")", field);
            var dot = key.IndexOf('.', StringComparison.Ordinal);
            if (dot <= 0) throw new CgroupException("must be CONTROLLER.PARAMETER", field);
            var controller = key[..dot];
            if (handles is not null && controller != "cgroup" && !handles(controller))
                throw new CgroupException($"the {controller} controller is not on the cgroup v2 hierarchy of this hybrid host", field);
            if (!Fs.Exists(Dir, key))
            {
                if (controller != "cgroup" && !ControllersOf(Dir).Contains(controller))
                    throw new CgroupException($"the {controller} controller is not available in {Dir}", field);
                throw new CgroupException($"{Dir}/{key} does not exist", field);
            }
            Write(key, value, field);
        }
    }

    private void SetDevices(LinuxResources r, IReadOnlyList<LinuxDevice>? devices)
    {
        var state = DeviceRules.Evaluate(DeviceRules.Effective(r.Devices, devices));
        try
        {
            _host.DeviceFilter.Attach(Dir, DeviceFilter.Compile(state));
        }
        catch (CgroupException) when (Rootless)
        {
            // Loading a BPF_PROG_TYPE_CGROUP_DEVICE program needs privileges a rootless runtime lacks: runc ignores the
            // device filter there too (the user namespace already keeps device nodes out of reach).
        }
    }

    private List<string> ControllersOf(string dir) =>
        [.. (Fs.ReadOrNull(dir, "cgroup.controllers") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];

    private void Write(string file, string value, string field)
    {
        try
        {
            Fs.Write(Dir, file, value);
        }
        catch (SyscallException e)
        {
            throw Wrap(e, field, file);
        }
    }

    private CgroupException Wrap(SyscallException e, string field, string file)
    {
        var dot = file.IndexOf('.', StringComparison.Ordinal);
        var controller = dot > 0 ? file[..dot] : file;
        if (e.Errno == Errno.ENOENT && controller != "cgroup" && !ControllersOf(Dir).Contains(controller))
            return new CgroupException($"the {controller} controller is not available in {Dir} (cgroup.controllers: \"{string.Join(' ', ControllersOf(Dir))}\")", field, e);
        return new CgroupException(e.Message, field, e);
    }

    /// <inheritdoc />
    public void Freeze(FreezerState state)
    {
        if (state == FreezerState.Undefined) return;
        if (!Fs.Exists(Dir, "cgroup.freeze"))
        {
            if (state == FreezerState.Thawed) return;
            throw new CgroupException($"freezer not supported: {Dir}/cgroup.freeze does not exist");
        }
        var want = state == FreezerState.Frozen ? "1" : "0";
        try
        {
            Fs.Write(Dir, "cgroup.freeze", want);
        }
        catch (SyscallException e)
        {
            throw new CgroupException($"freeze: {e.Message}", null, e);
        }
        // cgroup.events "frozen 1" once every task is stopped (kernel cgroup-v2.rst, cgroup.freeze).
        for (var i = 0; i < 2000; i++)
        {
            var events = Fs.ReadOrNull(Dir, "cgroup.events");
            if (events is null || KeyValue(events, "frozen") == want) return;
            Thread.Sleep(i < 10 ? 1 : 5);
        }
        throw new CgroupException($"{Dir} did not reach cgroup.events frozen {want}");
    }

    /// <inheritdoc />
    public FreezerState GetFreezerState() => Fs.ReadOrNull(Dir, "cgroup.freeze")?.Trim() switch
    {
        "1" => FreezerState.Frozen,
        "0" => FreezerState.Thawed,
        _ => FreezerState.Undefined,
    };

    internal static string? KeyValue(string text, string key)
    {
        foreach (var line in text.Split('\n'))
        {
            var parts = line.Split(' ', 2, StringSplitOptions.TrimEntries);
            if (parts.Length == 2 && parts[0] == key) return parts[1];
        }
        return null;
    }

    /// <inheritdoc />
    public IReadOnlyList<int> GetPids() => Fs.ReadPidsRecursive(Dir);

    /// <inheritdoc />
    public void SignalAll(int signal)
    {
        if (!Directory.Exists(Dir)) return;
        if (signal == Signals.SIGKILL && Fs.Exists(Dir, "cgroup.kill"))
        {
            try
            {
                Fs.Write(Dir, "cgroup.kill", "1");
                return;
            }
            catch (SyscallException)
            {
                // Fall back to the freeze / kill / thaw loop.
            }
        }
        var frozen = false;
        try
        {
            if (Fs.Exists(Dir, "cgroup.freeze"))
            {
                Freeze(FreezerState.Frozen);
                frozen = true;
            }
        }
        catch (CgroupException)
        {
            // Signal anyway.
        }
        foreach (var pid in GetPids()) _ = Libc.kill(pid, signal);
        if (frozen) Freeze(FreezerState.Thawed);
    }

    /// <inheritdoc />
    public ContainerStats GetStats() => CgroupStatsReader.ReadV2(Fs, Dir);

    /// <inheritdoc />
    public IOomWatcher? WatchOom() => Fs.Exists(Dir, "memory.events") ? new V2OomWatcher(Fs, Dir) : null;

    /// <inheritdoc />
    public void Destroy()
    {
        CgroupRemoval.KillRemaining(this);
        CgroupRemoval.Remove(Fs, [Dir], _created);
    }
}
