using OciRuntime.Interop;
using OciRuntime.Spec;

namespace OciRuntime.Cgroups.Systemd;

/// <summary>
/// The systemd cgroup driver on a cgroup v2 host (runc's <c>--systemd-cgroup</c>): the container's cgroup is a
/// transient scope systemd makes (StartTransientUnit with Delegate=yes and the init's pid; a slice unit when the
/// name ends in ".slice", as runc), in the slice of linux.cgroupsPath "slice:prefix:name" (<see cref="SystemdUnitPath"/>),
/// waiting for the unit's job to finish (JobRemoved); the system manager, or the caller's user
/// manager (systemd --user) when rootless. Resources go to systemd as unit properties (<see cref="SystemdProperties"/>)
/// and then to cgroupfs as the cgroupfs driver writes them, which covers what systemd has no property for; freezing,
/// pids, stats, OOM events and signals are the cgroupfs driver's on the unit's directory. Destroy stops the unit.
/// </summary>
public sealed class SystemdCgroupManager : ICgroupManager
{
    private readonly CgroupHost _host;
    private readonly V2CgroupManager _fs;
    private readonly string _containerName;
    private bool _started;

    /// <summary>A manager of unit <paramref name="unit"/> whose cgroup is <paramref name="dir"/>.</summary>
    /// <param name="host">The host (cgroup v2).</param>
    /// <param name="path">linux.cgroupsPath as given ("" when absent).</param>
    /// <param name="unit">The parent slice and the unit.</param>
    /// <param name="user">Whether the user's manager runs it.</param>
    /// <param name="dir">The unit's cgroup directory.</param>
    /// <param name="containerName">The container id (the unit's description when <paramref name="unit"/> has no name).</param>
    /// <param name="started">Whether the unit was started already (a manager loaded from the state).</param>
    public SystemdCgroupManager(CgroupHost host, string path, SystemdUnitPath unit, bool user, string dir, string containerName, bool started)
    {
        _host = host;
        Path = path;
        Unit = unit;
        User = user;
        _containerName = containerName;
        _started = started;
        // The user manager's scope is a rootless runtime's cgroup: a device filter the kernel refuses is skipped, as runc.
        _fs = new V2CgroupManager(host, path, dir, []) { Rootless = user };
    }

    /// <summary>
    /// The manager for container <paramref name="id"/> with linux.cgroupsPath <paramref name="cgroupsPath"/>: asks the
    /// manager (system, or the user's for <paramref name="rootless"/>) where its cgroup is, to know the unit's directory.
    /// </summary>
    /// <exception cref="CgroupException">systemd is not PID 1 (runc's message), not a cgroup v2 host, a bad cgroupsPath, or no systemd to talk to.</exception>
    public static SystemdCgroupManager Create(string id, string? cgroupsPath, bool rootless, CgroupHost host)
    {
        // sd_booted(3): systemd as init makes this directory.
        if (!System.IO.Directory.Exists("/run/systemd/system"))
            throw new CgroupException("systemd not running on this host, cannot use systemd cgroups manager");
        if (host.Mode != CgroupMode.V2)
            throw new CgroupException("the systemd cgroup driver needs a cgroup v2 (unified) host; this one is " + CgroupState.ModeName(host.Mode));
        var unit = SystemdUnitPath.Parse(id, cgroupsPath, rootless);
        var managerCgroup = "/";
        if (rootless)
        {
            using var client = SystemdManagerClient.Connect(user: true);
            managerCgroup = client.ControlGroup();
        }
        return new SystemdCgroupManager(host, cgroupsPath ?? "", unit, rootless, unit.Directory(host.UnifiedMount!, managerCgroup), id, started: false);
    }

    /// <summary>The slice and the unit (a scope, or a slice).</summary>
    public SystemdUnitPath Unit { get; }

    /// <summary>Whether the user's manager runs the unit.</summary>
    public bool User { get; }

    /// <inheritdoc />
    public CgroupMode Mode => CgroupMode.V2;

    /// <inheritdoc />
    public string Path { get; }

    /// <summary>The unit's cgroup directory.</summary>
    public string Dir => _fs.Dir;

    /// <summary>The resources in force (kept for the state).</summary>
    public LinuxResources? Resources
    {
        get => _fs.Resources;
        set => _fs.Resources = value;
    }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, string> Paths => _fs.Paths;

    /// <inheritdoc />
    public CgroupState State
    {
        get
        {
            var state = _fs.State;
            state.SystemdUnit = Unit.Unit;
            state.SystemdSlice = Unit.Slice;
            state.SystemdUser = User ? true : null;
            return state;
        }
    }

    /// <inheritdoc />
    public bool CreatedWithProcess => true;

    /// <summary>A scope cannot exist without a process: the unit is made by <see cref="Apply"/>.</summary>
    /// <exception cref="CgroupException">always, unless the unit was started.</exception>
    public void Create()
    {
        if (!_started) throw new CgroupException($"systemd cgroup driver: the scope {Unit.Unit} is created with its first process (Apply)");
    }

    /// <summary>
    /// Starts the transient unit with <paramref name="pid"/> in it and waits until its job is done (the first call),
    /// or moves <paramref name="pid"/> into its cgroup (later calls).
    /// </summary>
    /// <exception cref="CgroupException">systemd refused the unit, or the process cannot join.</exception>
    public void Apply(int pid)
    {
        if (_started)
        {
            _fs.Apply(pid);
            return;
        }
        using (var client = SystemdManagerClient.Connect(User))
        {
            client.StartTransientUnit(Unit.Unit, SystemdProperties.ForUnit(Unit, Unit.Name ?? _containerName, pid));
        }
        _started = true;
        // The controllers systemd delegated are enabled in the ancestors already; make sure of it as runc does.
        V2CgroupManager.CreateDir(_host, Dir, [], enableControllers: true); // systemd made the unit's cgroup and removes it at StopUnit: nothing to record
    }

    /// <inheritdoc />
    public IReadOnlyList<SafeFd> OpenJoinFiles(bool bornInCgroup2) => _fs.OpenJoinFiles(bornInCgroup2);

    /// <inheritdoc />
    public SafeFd? CreateBirthCgroup() => null;

    /// <inheritdoc />
    public bool CanBeBornInCgroup2 => false;

    /// <summary>Sets the unit's properties (devices included), then writes every resource to the unit's cgroupfs files.</summary>
    /// <exception cref="CgroupException">systemd or the kernel refused a value.</exception>
    public void ApplyResources(LinuxResources? resources, IReadOnlyList<LinuxDevice>? devices = null)
    {
        SetProperties(resources, devices, withDevices: true);
        _fs.ApplyResources(resources, devices);
    }

    /// <summary>update: the unit's properties, then cgroupfs (devices left alone, as runc update).</summary>
    /// <exception cref="CgroupException">systemd or the kernel refused a value.</exception>
    public void Update(LinuxResources resources)
    {
        SetProperties(resources, null, withDevices: false);
        _fs.Update(resources);
    }

    private void SetProperties(LinuxResources? resources, IReadOnlyList<LinuxDevice>? devices, bool withDevices)
    {
        if (resources is null) return;
        using var client = SystemdManagerClient.Connect(User);
        var properties = SystemdProperties.ForResources(resources, devices, withDevices, client.Version(), SystemdProperties.HostDeviceNode);
        client.SetUnitProperties(Unit.Unit, properties);
    }

    /// <inheritdoc />
    public void Freeze(FreezerState state) => _fs.Freeze(state);

    /// <inheritdoc />
    public FreezerState GetFreezerState() => _fs.GetFreezerState();

    /// <inheritdoc />
    public IReadOnlyList<int> GetPids() => _fs.GetPids();

    /// <inheritdoc />
    public void SignalAll(int signal) => _fs.SignalAll(signal);

    /// <inheritdoc />
    public ContainerStats GetStats() => _fs.GetStats();

    /// <inheritdoc />
    public IOomWatcher? WatchOom() => _fs.WatchOom();

    /// <summary>
    /// Kills what is left in the unit's cgroup, stops the unit and waits for the stop job (systemd removes its cgroup;
    /// a result other than "done" is not an error, as for runc, which warns), resets it if it failed, and removes the
    /// directory if still there. Nothing when the unit was never started by this manager (a failed create's).
    /// </summary>
    /// <exception cref="CgroupException">systemd refused to stop the unit.</exception>
    public void Destroy()
    {
        // A unit this manager did not start (StartTransientUnit refused: UnitExists for an active unit of the name,
        // a property systemd rejects) is not the container's: neither its processes nor the unit are touched. runc
        // stops it all the same, e.g. someone else's scope, or "system.slice" for the name "system.slice".
        if (!_started) return;
        if (Directory.Exists(Dir)) CgroupRemoval.KillRemaining(this);
        using (var client = SystemdManagerClient.Connect(User))
        {
            _ = client.StopUnit(Unit.Unit);
        }
        if (Directory.Exists(Dir))
        {
            try
            {
                _host.Fs.RemoveTree(Dir);
            }
            catch (SyscallException e)
            {
                throw new CgroupException($"remove cgroup {Dir}: {e.Message}", null, e);
            }
        }
    }
}
