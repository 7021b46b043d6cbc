using System.Globalization;
using OciRuntime.Spec;
using Tmds.DBus.Protocol;

namespace OciRuntime.Cgroups.Systemd;

/// <summary>
/// linux.resources as systemd unit properties (systemd.resource-control(5); runc's genV2ResourcesProperties): what
/// systemd can hold itself, so that it keeps the values when it rewrites the cgroup. Everything is written to
/// cgroupfs afterwards as well (<see cref="V2CgroupManager"/>), which covers what has no property.
/// Units: bytes for memory, microseconds for CPU quota/period, 1..10000 weights.
/// </summary>
public static class SystemdProperties
{
    /// <summary>systemd's default CPU quota period when only a quota is given (µs).</summary>
    private const ulong DefaultCpuPeriod = 100_000;

    /// <summary>
    /// The properties of a new unit, runc's Apply in its order: Description "libcontainer container NAME"; the parent
    /// as Slice= for a scope, as Wants= for a slice (whose place systemd takes from its own name); PIDs, the process it
    /// starts with; Delegate=yes (scopes only); accounting on every controller; no default dependencies.
    /// systemd refuses PIDs for a slice ("Cannot set property PIDs, or unknown property."), so a container in a slice
    /// unit fails to start, with runc 1.1 as with ocirun.
    /// </summary>
    public static List<KeyValuePair<string, VariantValue>> ForUnit(SystemdUnitPath unit, string name, int pid)
    {
        var props = new List<KeyValuePair<string, VariantValue>> { new("Description", "libcontainer container " + name) };
        if (unit.IsSlice)
        {
            props.Add(new("Wants", VariantValue.Array(new[] { unit.Slice })));
        }
        else
        {
            props.Add(new("Slice", unit.Slice));
        }
        props.Add(new("PIDs", VariantValue.Array(new[] { (uint)pid })));
        if (!unit.IsSlice) props.Add(new("Delegate", true));
        props.Add(new("MemoryAccounting", true));
        props.Add(new("CPUAccounting", true));
        props.Add(new("IOAccounting", true));
        props.Add(new("TasksAccounting", true));
        props.Add(new("DefaultDependencies", false));
        return props;
    }

    /// <summary>
    /// The resource properties: MemoryMax, MemoryLow, MemorySwapMax, CPUWeight (from shares), CPUQuotaPerSecUSec and
    /// CPUQuotaPeriodUSec (systemd ≥ 242), TasksMax, AllowedCPUs/AllowedMemoryNodes (systemd ≥ 244), IOWeight, the
    /// unified keys systemd knows (memory.*, pids.max, cpu.weight, cpu.max, cpuset.*) and, when
    /// <paramref name="withDevices"/>, DevicePolicy/DeviceAllow.
    /// </summary>
    /// <param name="r">linux.resources (null: none).</param>
    /// <param name="devices">linux.devices (their default rules, as for the cgroupfs filter).</param>
    /// <param name="withDevices">Whether to emit the device properties (not on update: runc update leaves devices alone).</param>
    /// <param name="systemdVersion">The manager's version (0 = unknown: assume new enough).</param>
    /// <param name="deviceNode">The DeviceAllow entry for an allowed ('c'|'b', major, minor; -1 = any), or null to leave
    /// it to the eBPF filter (<see cref="HostDeviceNode"/> on a real host).</param>
    /// <exception cref="CgroupException">a value systemd cannot take (names the field).</exception>
    public static List<KeyValuePair<string, VariantValue>> ForResources(LinuxResources? r, IReadOnlyList<LinuxDevice>? devices, bool withDevices,
        int systemdVersion, Func<char, long, long, string?> deviceNode)
    {
        var props = new List<KeyValuePair<string, VariantValue>>();
        if (r is null) return props;
        if (withDevices) AddDevices(props, r, devices, deviceNode);
        if (r.Memory is { } m)
        {
            var limit = m.Limit ?? 0;
            if (limit != 0) props.Add(new("MemoryMax", Limit(limit)));
            if (m.Reservation is { } low and not 0) props.Add(new("MemoryLow", Limit(low)));
            var swap = ResourceConversions.MemorySwapToV2(m.Swap ?? 0, limit);
            if (swap != 0) props.Add(new("MemorySwapMax", Limit(swap)));
        }
        if (r.Cpu is { } c)
        {
            if (ResourceConversions.CpuSharesToWeight(c.Shares ?? 0) is var weight and not 0) props.Add(new("CPUWeight", weight));
            AddCpuQuota(props, c.Quota ?? 0, c.Period ?? 0, systemdVersion);
            AddCpuset(props, c.Cpus, c.Mems, systemdVersion);
        }
        if (r.Pids is { } p && (p.Limit > 0 || p.Limit == -1)) props.Add(new("TasksMax", Limit(p.Limit)));
        if (r.BlockIO?.Weight is { } w and not 0) props.Add(new("IOWeight", ResourceConversions.BlkioWeightToIoWeight(w)));
        if (r.Unified is { } unified) AddUnified(props, unified, systemdVersion);
        return props;
    }

    private static VariantValue Limit(long value) => value < 0 ? ulong.MaxValue : (ulong)value;

    /// <summary>
    /// CPUQuotaPerSecUSec = quota × 1 s / period, rounded up to 10 ms (systemd's granularity); "max" (no quota) is
    /// UINT64_MAX. CPUQuotaPeriodUSec when a period is given.
    /// </summary>
    private static void AddCpuQuota(List<KeyValuePair<string, VariantValue>> props, long quota, ulong period, int version)
    {
        if (quota == 0 && period == 0) return;
        if (period == 0) period = DefaultCpuPeriod;
        var perSec = ulong.MaxValue;
        if (quota > 0)
        {
            perSec = (ulong)quota * 1_000_000 / period;
            if (perSec % 10_000 != 0) perSec = (perSec / 10_000 + 1) * 10_000;
        }
        props.Add(new("CPUQuotaPerSecUSec", perSec));
        if (version is 0 or >= 242) props.Add(new("CPUQuotaPeriodUSec", period));
    }

    private static void AddCpuset(List<KeyValuePair<string, VariantValue>> props, string? cpus, string? mems, int version)
    {
        if (version is > 0 and < 244) return; // cgroupfs only
        if (!string.IsNullOrEmpty(cpus)) props.Add(new("AllowedCPUs", VariantValue.Array(RangeToBits(cpus, "linux.resources.cpu.cpus"))));
        if (!string.IsNullOrEmpty(mems)) props.Add(new("AllowedMemoryNodes", VariantValue.Array(RangeToBits(mems, "linux.resources.cpu.mems"))));
    }

    /// <summary>
    /// A cpuset list ("0-3,7") as systemd's bitmask: byte i holds bits 8i..8i+7, least significant first.
    /// </summary>
    /// <exception cref="CgroupException">not a list of numbers and ranges.</exception>
    public static byte[] RangeToBits(string list, string field)
    {
        var bits = new List<byte>();
        foreach (var raw in list.Split(','))
        {
            var part = raw.Trim();
            if (part.Length == 0) continue;
            var dash = part.IndexOf('-', StringComparison.Ordinal);
            if (!uint.TryParse(dash < 0 ? part : part[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out var from)
                || !uint.TryParse(dash < 0 ? part : part[(dash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var to)
                || to < from || to > 65535)
                throw new CgroupException($"invalid cpuset list \"{list}\"", field);
            for (var i = from; i <= to; i++)
            {
                while (bits.Count <= i / 8) bits.Add(0);
                bits[(int)(i / 8)] |= (byte)(1 << (int)(i % 8));
            }
        }
        return bits.Count == 0 ? [0] : [.. bits];
    }

    private static void AddUnified(List<KeyValuePair<string, VariantValue>> props, Dictionary<string, string> unified, int version)
    {
        foreach (var (key, raw) in unified)
        {
            var field = $"linux.resources.unified[\"{key}\"]";
            var value = raw.Trim();
            switch (key)
            {
                case "cpu.weight":
                    props.Add(new("CPUWeight", ParseUlong(value, field)));
                    break;
                case "cpu.max":
                    var parts = value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    if (parts.Length is < 1 or > 2) throw new CgroupException($"invalid value \"{value}\"", field);
                    var quota = parts[0] == "max" ? 0 : (long)ParseUlong(parts[0], field);
                    var period = parts.Length == 2 ? ParseUlong(parts[1], field) : DefaultCpuPeriod;
                    // quota 0 with a period means no limit (UINT64_MAX) for AddCpuQuota.
                    if (quota == 0) props.Add(new("CPUQuotaPerSecUSec", ulong.MaxValue));
                    else AddCpuQuota(props, quota, period, version);
                    break;
                case "cpuset.cpus":
                    AddCpuset(props, value, null, version);
                    break;
                case "cpuset.mems":
                    AddCpuset(props, null, value, version);
                    break;
                case "memory.high" or "memory.low" or "memory.min" or "memory.max" or "memory.swap.max":
                    var name = key switch
                    {
                        "memory.high" => "MemoryHigh",
                        "memory.low" => "MemoryLow",
                        "memory.min" => "MemoryMin",
                        "memory.max" => "MemoryMax",
                        _ => "MemorySwapMax",
                    };
                    props.Add(new(name, value == "max" ? ulong.MaxValue : ParseUlong(value, field)));
                    break;
                case "pids.max":
                    props.Add(new("TasksMax", value == "max" ? ulong.MaxValue : ParseUlong(value, field)));
                    break;
                default:
                    break; // no property: written to cgroupfs only
            }
        }
    }

    private static ulong ParseUlong(string value, string field) =>
        ulong.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : throw new CgroupException($"invalid value \"{value}\"", field);

    /// <summary>
    /// DevicePolicy and DeviceAllow from the effective device rules: a default-deny list becomes DevicePolicy=strict
    /// with one DeviceAllow per allowed device the host knows (<see cref="HostDeviceNode"/>);
    /// a default-allow list becomes DevicePolicy=auto without DeviceAllow (systemd has no deny entries; the
    /// cgroupfs eBPF filter enforces the exact rules either way).
    /// </summary>
    private static void AddDevices(List<KeyValuePair<string, VariantValue>> props, LinuxResources r, IReadOnlyList<LinuxDevice>? devices, Func<char, long, long, string?> deviceNode)
    {
        var state = DeviceRules.Evaluate(DeviceRules.Effective(r.Devices, devices));
        if (state.DefaultAllow)
        {
            props.Add(new("DevicePolicy", "auto"));
            props.Add(new("DeviceAllow", new Array<Struct<string, string>>()));
            return;
        }
        var allow = new Array<Struct<string, string>>();
        foreach (var e in state.Exceptions)
        {
            if (deviceNode(e.Type, e.Major, e.Minor) is not { } node) continue; // unknown here: left to the eBPF filter
            allow.Add(Struct.Create(node, DeviceRule.AccessString(e.Access)));
        }
        props.Add(new("DevicePolicy", "strict"));
        props.Add(new("DeviceAllow", allow));
    }

    /// <summary>
    /// The DeviceAllow entry systemd understands for ('c'|'b', major, minor) on this host, as runc makes it: "char-*" for
    /// any major; "char-NAME" (the /proc/devices name) for any minor; "/dev/char/M:m" when /sys/dev/char/M:m exists.
    /// Null otherwise (runc skips such a device with a warning; the cgroupfs eBPF filter still holds the rule).
    /// </summary>
    public static string? HostDeviceNode(char type, long major, long minor)
    {
        var kind = type == 'b' ? "block" : "char";
        if (major < 0) return kind + "-*";
        if (minor < 0) return ProcDevicesName(type, major) is { } name ? kind + "-" + name : null;
        var node = string.Create(CultureInfo.InvariantCulture, $"{major}:{minor}");
        return File.Exists($"/sys/dev/{kind}/{node}") || Directory.Exists($"/sys/dev/{kind}/{node}") ? $"/dev/{kind}/{node}" : null;
    }

    /// <summary>The name /proc/devices gives major <paramref name="major"/> of type <paramref name="type"/> ('c' or 'b'), or null.</summary>
    public static string? ProcDevicesName(char type, long major)
    {
        string text;
        try
        {
            text = File.ReadAllText("/proc/devices");
        }
        catch (IOException)
        {
            return null;
        }
        var section = "";
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith("Character devices", StringComparison.Ordinal)) { section = "c"; continue; }
            if (line.StartsWith("Block devices", StringComparison.Ordinal)) { section = "b"; continue; }
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length == 2 && section.Length == 1 && section[0] == type && long.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var m) && m == major)
                return fields[1];
        }
        return null;
    }
}
