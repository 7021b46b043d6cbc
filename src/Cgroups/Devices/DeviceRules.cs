using OciRuntime.Spec;

namespace OciRuntime.Cgroups;

/// <summary>
/// The device rules of a container and their meaning. The effective list is runc's (libcontainer/specconv
/// CreateCgroupConfig): linux.resources.devices in order, then runc's AllowedDevices, minus the defaults whose path
/// linux.devices redefines. A rule list means what the cgroup v1 devices controller makes of it applied in order;
/// <see cref="Evaluate"/> reproduces that (kernel security/device_cgroup.c), and the v2 eBPF program is compiled from
/// its result, so v1 and v2 enforce the same thing.
/// </summary>
public static class DeviceRules
{
    /// <summary>A default device of runc's AllowedDevices: its path (null for rules without a node) and rule.</summary>
    public sealed record DefaultDevice(string? Path, DeviceRule Rule);

    /// <summary>
    /// runc 1.1's specconv.AllowedDevices, in order: mknod of any char and block device, /dev/null, /dev/random,
    /// /dev/full, /dev/tty, /dev/zero, /dev/urandom, the pts (136:*), /dev/ptmx (5:2) and /dev/net/tun (10:200).
    /// </summary>
    public static IReadOnlyList<DefaultDevice> AllowedDevices { get; } =
    [
        new(null, new DeviceRule(true, 'c', -1, -1, DeviceRule.Mknod)),
        new(null, new DeviceRule(true, 'b', -1, -1, DeviceRule.Mknod)),
        new("/dev/null", new DeviceRule(true, 'c', 1, 3, DeviceRule.All)),
        new("/dev/random", new DeviceRule(true, 'c', 1, 8, DeviceRule.All)),
        new("/dev/full", new DeviceRule(true, 'c', 1, 7, DeviceRule.All)),
        new("/dev/tty", new DeviceRule(true, 'c', 5, 0, DeviceRule.All)),
        new("/dev/zero", new DeviceRule(true, 'c', 1, 5, DeviceRule.All)),
        new("/dev/urandom", new DeviceRule(true, 'c', 1, 9, DeviceRule.All)),
        new(null, new DeviceRule(true, 'c', 136, -1, DeviceRule.All)),
        new(null, new DeviceRule(true, 'c', 5, 2, DeviceRule.All)),
        new(null, new DeviceRule(true, 'c', 10, 200, DeviceRule.All)),
    ];

    /// <summary>
    /// The effective rules: <paramref name="resources"/> (linux.resources.devices) in order, then <see cref="AllowedDevices"/>
    /// except those whose path is also in <paramref name="devices"/> (linux.devices), as runc does.
    /// </summary>
    /// <exception cref="CgroupException">a malformed rule (names the field).</exception>
    public static List<DeviceRule> Effective(IReadOnlyList<LinuxDeviceCgroup>? resources, IReadOnlyList<LinuxDevice>? devices)
    {
        var rules = new List<DeviceRule>();
        for (var i = 0; i < (resources?.Count ?? 0); i++) rules.Add(DeviceRule.FromSpec(resources![i], i));
        foreach (var d in AllowedDevices)
        {
            if (d.Path is not null && devices is not null && HasPath(devices, d.Path)) continue;
            rules.Add(d.Rule);
        }
        return rules;

        static bool HasPath(IReadOnlyList<LinuxDevice> devices, string path)
        {
            for (int i = 0; i < devices.Count; i++)
            {
                if (devices[i].Path == path) return true;
            }
            return false;
        }
    }

    /// <summary>
    /// The state a cgroup v1 devices controller reaches when <paramref name="rules"/> are written in order to a cgroup
    /// whose parent allows everything: the default behaviour and the exception list (kernel devcgroup_update_access:
    /// type "a" resets; otherwise a rule whose verdict is the default removes access bits from the exception with the
    /// same type/major/minor, and a rule against the default adds them, merging with such an exception).
    /// </summary>
    public static DeviceState Evaluate(IEnumerable<DeviceRule> rules)
    {
        var defaultAllow = true;
        var exceptions = new List<DeviceRule>();
        foreach (var rule in rules)
        {
            if (rule.Type == 'a')
            {
                defaultAllow = rule.Allow;
                exceptions.Clear();
                continue;
            }
            var index = exceptions.FindIndex(e => e.Type == rule.Type && e.Major == rule.Major && e.Minor == rule.Minor);
            if (rule.Allow != defaultAllow)
            {
                if (index >= 0) exceptions[index] = exceptions[index] with { Access = exceptions[index].Access | rule.Access };
                else exceptions.Add(rule with { Allow = !defaultAllow });
            }
            else if (index >= 0)
            {
                var left = exceptions[index].Access & ~rule.Access;
                if (left == 0) exceptions.RemoveAt(index);
                else exceptions[index] = exceptions[index] with { Access = left };
            }
        }
        return new DeviceState(defaultAllow, exceptions);
    }
}

/// <summary>
/// A device cgroup's effective state: the default behaviour and its exceptions (each with the opposite verdict).
/// An access to (type, major, minor) with access bits A is allowed when the default is deny and some exception matches
/// the device and holds all of A, or when the default is allow and no exception matching the device shares a bit with A
/// (kernel match_exception / match_exception_partial).
/// </summary>
/// <param name="DefaultAllow">The default behaviour.</param>
/// <param name="Exceptions">The exceptions, in order.</param>
public sealed record DeviceState(bool DefaultAllow, IReadOnlyList<DeviceRule> Exceptions)
{
    /// <summary>Whether an access is allowed (the reference semantics the eBPF program implements).</summary>
    public bool IsAllowed(char type, long major, long minor, int access)
    {
        foreach (var e in Exceptions)
        {
            if (e.Type != type || (e.Major >= 0 && e.Major != major) || (e.Minor >= 0 && e.Minor != minor)) continue;
            if (DefaultAllow && (access & e.Access) != 0) return false;
            if (!DefaultAllow && (access & ~e.Access) == 0) return true;
        }
        return DefaultAllow;
    }

    /// <summary>
    /// The writes that put a fresh v1 devices cgroup into this state: ("devices.deny" or "devices.allow", "a") to set the
    /// default, then one write per exception.
    /// </summary>
    public IEnumerable<(string File, string Value)> V1Writes()
    {
        yield return (DefaultAllow ? "devices.allow" : "devices.deny", "a");
        foreach (var e in Exceptions) yield return (DefaultAllow ? "devices.deny" : "devices.allow", e.CgroupString);
    }
}
