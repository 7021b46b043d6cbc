using System.Globalization;

namespace OciRuntime.Cgroups;

/// <summary>Reads <see cref="ContainerStats"/> from cgroup files (runc fs GetStats / fs2 GetStats); missing files leave zeros.</summary>
public static class CgroupStatsReader
{
    private const ulong NanosPerTick = 1_000_000_000 / 100; // USER_HZ is 100 on every Linux ABI

    /// <summary>v1 stats from the hierarchy directories (<paramref name="dirOf"/> maps a controller to its directory); hybrid hugetlb from <paramref name="unifiedDir"/>.</summary>
    public static ContainerStats ReadV1(CgroupFs fs, Func<string, string?> dirOf, string? unifiedDir)
    {
        var s = new ContainerStats();
        if (dirOf("cpuacct") is { } acct)
        {
            s.Cpu.Usage.Total = fs.ReadUInt64OrNull(acct, "cpuacct.usage") ?? 0;
            s.Cpu.Usage.Percpu = Numbers(fs.ReadOrNull(acct, "cpuacct.usage_percpu"));
            s.Cpu.Usage.PercpuKernel = Numbers(fs.ReadOrNull(acct, "cpuacct.usage_percpu_sys"));
            s.Cpu.Usage.PercpuUser = Numbers(fs.ReadOrNull(acct, "cpuacct.usage_percpu_user"));
            var stat = KeyValues(fs.ReadOrNull(acct, "cpuacct.stat"));
            s.Cpu.Usage.User = stat.GetValueOrDefault("user") * NanosPerTick;
            s.Cpu.Usage.Kernel = stat.GetValueOrDefault("system") * NanosPerTick;
        }
        if (dirOf("cpu") is { } cpu)
        {
            var stat = KeyValues(fs.ReadOrNull(cpu, "cpu.stat"));
            s.Cpu.Throttling.Periods = stat.GetValueOrDefault("nr_periods");
            s.Cpu.Throttling.ThrottledPeriods = stat.GetValueOrDefault("nr_throttled");
            s.Cpu.Throttling.ThrottledTime = stat.GetValueOrDefault("throttled_time");
        }
        if (dirOf("cpuset") is { } cpuset) ReadCpuset(fs, cpuset, s.Cpuset);
        if (dirOf("memory") is { } mem)
        {
            var raw = KeyValues(fs.ReadOrNull(mem, "memory.stat"));
            s.Memory.Raw = raw.Count > 0 ? raw : null;
            s.Memory.Cache = raw.GetValueOrDefault("cache");
            s.Memory.Usage = V1Entry(fs, mem, "memory");
            s.Memory.Swap = V1Entry(fs, mem, "memory.memsw");
            s.Memory.Kernel = V1Entry(fs, mem, "memory.kmem");
            s.Memory.KernelTcp = V1Entry(fs, mem, "memory.kmem.tcp");
        }
        if (dirOf("pids") is { } pids) ReadPids(fs, pids, s.Pids);
        if (dirOf("blkio") is { } blkio) ReadBlkioV1(fs, blkio, s.Blkio);
        if (dirOf("hugetlb") is { } huge)
        {
            foreach (var size in PageSizes(huge, ".usage_in_bytes"))
            {
                s.Hugetlb[size] = new HugetlbStats
                {
                    Usage = fs.ReadUInt64OrNull(huge, $"hugetlb.{size}.usage_in_bytes") ?? 0,
                    Max = fs.ReadUInt64OrNull(huge, $"hugetlb.{size}.max_usage_in_bytes") ?? 0,
                    Failcnt = fs.ReadUInt64OrNull(huge, $"hugetlb.{size}.failcnt") ?? 0,
                };
            }
        }
        else if (unifiedDir is not null)
        {
            ReadHugetlbV2(fs, unifiedDir, s);
        }
        return s;
    }

    /// <summary>v2 stats of <paramref name="dir"/> (cpu.stat, memory.*, pids.*, io.stat, hugetlb.*, cpuset.*).</summary>
    public static ContainerStats ReadV2(CgroupFs fs, string dir)
    {
        var s = new ContainerStats();
        var cpu = KeyValues(fs.ReadOrNull(dir, "cpu.stat"));
        s.Cpu.Usage.Total = cpu.GetValueOrDefault("usage_usec") * 1000;
        s.Cpu.Usage.User = cpu.GetValueOrDefault("user_usec") * 1000;
        s.Cpu.Usage.Kernel = cpu.GetValueOrDefault("system_usec") * 1000;
        s.Cpu.Throttling.Periods = cpu.GetValueOrDefault("nr_periods");
        s.Cpu.Throttling.ThrottledPeriods = cpu.GetValueOrDefault("nr_throttled");
        s.Cpu.Throttling.ThrottledTime = cpu.GetValueOrDefault("throttled_usec") * 1000;
        if (fs.Exists(dir, "cpuset.cpus.effective")) ReadCpuset(fs, dir, s.Cpuset);
        var raw = KeyValues(fs.ReadOrNull(dir, "memory.stat"));
        s.Memory.Raw = raw.Count > 0 ? raw : null;
        s.Memory.Cache = raw.GetValueOrDefault("file");
        var usage = fs.ReadUInt64OrNull(dir, "memory.current");
        if (usage is not null)
        {
            s.Memory.Usage = new MemoryEntry
            {
                Usage = usage.Value,
                Limit = fs.ReadUInt64OrNull(dir, "memory.max") ?? ulong.MaxValue,
                Max = fs.ReadUInt64OrNull(dir, "memory.peak") ?? 0,
                Failcnt = KeyValues(fs.ReadOrNull(dir, "memory.events")).GetValueOrDefault("max"),
            };
            // As v1 reports memory+swap, so does runc on v2.
            var swapUsage = fs.ReadUInt64OrNull(dir, "memory.swap.current") ?? 0;
            var swapLimit = fs.ReadUInt64OrNull(dir, "memory.swap.max") ?? ulong.MaxValue;
            s.Memory.Swap = new MemoryEntry
            {
                Usage = swapUsage + usage.Value,
                Limit = swapLimit == ulong.MaxValue || s.Memory.Usage.Limit == ulong.MaxValue ? ulong.MaxValue : swapLimit + s.Memory.Usage.Limit,
            };
        }
        ReadPids(fs, dir, s.Pids);
        ReadIoV2(fs, dir, s.Blkio);
        ReadHugetlbV2(fs, dir, s);
        return s;
    }

    private static void ReadCpuset(CgroupFs fs, string dir, CpusetStats c)
    {
        var v2 = fs.Exists(dir, "cpuset.cpus.effective");
        c.Cpus = ParseList(fs.ReadOrNull(dir, v2 ? "cpuset.cpus.effective" : "cpuset.cpus"));
        c.Mems = ParseList(fs.ReadOrNull(dir, v2 ? "cpuset.mems.effective" : "cpuset.mems"));
        if (v2) return;
        c.CpuExclusive = fs.ReadUInt64OrNull(dir, "cpuset.cpu_exclusive") ?? 0;
        c.MemHardwall = fs.ReadUInt64OrNull(dir, "cpuset.mem_hardwall") ?? 0;
        c.MemExclusive = fs.ReadUInt64OrNull(dir, "cpuset.mem_exclusive") ?? 0;
        c.MemoryMigrate = fs.ReadUInt64OrNull(dir, "cpuset.memory_migrate") ?? 0;
        c.MemorySpreadPage = fs.ReadUInt64OrNull(dir, "cpuset.memory_spread_page") ?? 0;
        c.MemorySpreadSlab = fs.ReadUInt64OrNull(dir, "cpuset.memory_spread_slab") ?? 0;
        c.MemoryPressure = fs.ReadUInt64OrNull(dir, "cpuset.memory_pressure") ?? 0;
        c.SchedLoadBalance = fs.ReadUInt64OrNull(dir, "cpuset.sched_load_balance") ?? 0;
        var level = fs.ReadOrNull(dir, "cpuset.sched_relax_domain_level")?.Trim();
        c.SchedRelaxDomainLevel = long.TryParse(level, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l) ? l : 0;
    }

    private static void ReadPids(CgroupFs fs, string dir, PidsStats p)
    {
        p.Current = fs.ReadUInt64OrNull(dir, "pids.current") ?? 0;
        var max = fs.ReadUInt64OrNull(dir, "pids.max") ?? 0;
        p.Limit = max == ulong.MaxValue ? 0 : max;
    }

    private static MemoryEntry V1Entry(CgroupFs fs, string dir, string prefix) => new()
    {
        Usage = fs.ReadUInt64OrNull(dir, prefix + ".usage_in_bytes") ?? 0,
        Max = fs.ReadUInt64OrNull(dir, prefix + ".max_usage_in_bytes") ?? 0,
        Failcnt = fs.ReadUInt64OrNull(dir, prefix + ".failcnt") ?? 0,
        Limit = fs.ReadUInt64OrNull(dir, prefix + ".limit_in_bytes") ?? 0,
    };

    private static void ReadBlkioV1(CgroupFs fs, string dir, BlkioStats b)
    {
        // runc's order of preference: BFQ, CFQ, then the throttle counters (always there).
        foreach (var (serviced, bytes) in new[]
                 {
                     ("blkio.bfq.io_serviced_recursive", "blkio.bfq.io_service_bytes_recursive"),
                     ("blkio.io_serviced_recursive", "blkio.io_service_bytes_recursive"),
                     ("blkio.throttle.io_serviced_recursive", "blkio.throttle.io_service_bytes_recursive"),
                     ("blkio.throttle.io_serviced", "blkio.throttle.io_service_bytes"),
                 })
        {
            var s = fs.ReadOrNull(dir, serviced);
            if (s is null) continue;
            b.IoServicedRecursive = BlkioEntries(s);
            b.IoServiceBytesRecursive = BlkioEntries(fs.ReadOrNull(dir, bytes));
            return;
        }
    }

    /// <summary>Parses v1 blkio lines "MAJ:MIN Op VALUE" (or "MAJ:MIN VALUE"), skipping "Total N".</summary>
    public static List<BlkioEntry>? BlkioEntries(string? text)
    {
        if (text is null) return null;
        var list = new List<BlkioEntry>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var f = line.Split([' ', ':'], StringSplitOptions.RemoveEmptyEntries);
            if (f.Length < 3) continue;
            if (!ulong.TryParse(f[0], CultureInfo.InvariantCulture, out var major) || !ulong.TryParse(f[1], CultureInfo.InvariantCulture, out var minor)) continue;
            var op = f.Length == 4 ? f[2] : "";
            if (!ulong.TryParse(f[^1], CultureInfo.InvariantCulture, out var value)) continue;
            list.Add(new BlkioEntry { Major = major, Minor = minor, Op = op.Length > 0 ? op : null, Value = value });
        }
        return list.Count > 0 ? list : null;
    }

    private static void ReadIoV2(CgroupFs fs, string dir, BlkioStats b)
    {
        var text = fs.ReadOrNull(dir, "io.stat");
        if (text is null) return;
        var bytes = new List<BlkioEntry>();
        var ios = new List<BlkioEntry>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var dev = parts[0].Split(':');
            if (dev.Length != 2 || !ulong.TryParse(dev[0], CultureInfo.InvariantCulture, out var major) || !ulong.TryParse(dev[1], CultureInfo.InvariantCulture, out var minor)) continue;
            for (int k = 1; k < parts.Length; k++)
            {
                var eq = parts[k].Split('=');
                if (eq.Length != 2 || !ulong.TryParse(eq[1], CultureInfo.InvariantCulture, out var value)) continue;
                var (table, op) = eq[0] switch
                {
                    "rbytes" => (bytes, "Read"),
                    "wbytes" => (bytes, "Write"),
                    "rios" => (ios, "Read"),
                    "wios" => (ios, "Write"),
                    _ => (null, ""),
                };
                table?.Add(new BlkioEntry { Major = major, Minor = minor, Op = op, Value = value });
            }
        }
        b.IoServiceBytesRecursive = bytes.Count > 0 ? bytes : null;
        b.IoServicedRecursive = ios.Count > 0 ? ios : null;
    }

    private static void ReadHugetlbV2(CgroupFs fs, string dir, ContainerStats s)
    {
        foreach (var size in PageSizes(dir, ".current"))
        {
            s.Hugetlb[size] = new HugetlbStats
            {
                Usage = fs.ReadUInt64OrNull(dir, $"hugetlb.{size}.current") ?? 0,
                Failcnt = KeyValues(fs.ReadOrNull(dir, $"hugetlb.{size}.events")).GetValueOrDefault("max"),
            };
        }
    }

    private static IEnumerable<string> PageSizes(string dir, string suffix)
    {
        if (!Directory.Exists(dir)) yield break;
        var files = new List<string>();
        foreach (var path in Directory.EnumerateFiles(dir, "hugetlb.*" + suffix)) files.Add(Path.GetFileName(path));
        files.Sort(StringComparer.Ordinal);
        foreach (var file in files)
        {
            var middle = file["hugetlb.".Length..^suffix.Length];
            if (middle.Contains('.', StringComparison.Ordinal)) continue; // hugetlb.2MB.rsvd.*
            yield return middle;
        }
    }

    /// <summary>Parses "key value" lines (cpu.stat, memory.stat, memory.events); non-numeric values are skipped.</summary>
    public static SortedDictionary<string, ulong> KeyValues(string? text)
    {
        var map = new SortedDictionary<string, ulong>(StringComparer.Ordinal);
        if (text is null) return map;
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = line.Split(' ', 2, StringSplitOptions.TrimEntries);
            if (parts.Length == 2 && ulong.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var v)) map[parts[0]] = v;
        }
        return map;
    }

    private static List<ulong>? Numbers(string? text)
    {
        if (text is null) return null;
        var list = new List<ulong>();
        foreach (var w in text.Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries))
        {
            if (ulong.TryParse(w, NumberStyles.None, CultureInfo.InvariantCulture, out var v)) list.Add(v);
        }
        return list.Count > 0 ? list : null;
    }

    /// <summary>Parses a cpuset list such as "0-3,7" into its members.</summary>
    public static List<ushort>? ParseList(string? text)
    {
        text = text?.Trim();
        if (string.IsNullOrEmpty(text)) return null;
        var list = new List<ushort>();
        foreach (var part in text.Split(','))
        {
            var range = part.Split('-');
            if (!ushort.TryParse(range[0], CultureInfo.InvariantCulture, out var from)) continue;
            var to = from;
            if (range.Length == 2 && !ushort.TryParse(range[1], CultureInfo.InvariantCulture, out to)) continue;
            for (var i = from; i <= to; i++) list.Add(i);
        }
        return list;
    }
}
