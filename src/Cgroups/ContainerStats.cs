using System.Text.Json.Serialization;

namespace OciRuntime.Cgroups;

// runc's stable stats shape (runc 1.1 types/events.go): the "data" of `runc events --stats`, which containerd's
// go-runc decodes. Go's `omitempty` on a number or list maps to WhenWritingDefault / WhenWritingNull here.

/// <summary>One event of <c>events</c>: {"type":"stats"|"oom","id":ID,"data":STATS} (runc types.Event).</summary>
public sealed class ContainerEvent
{
    /// <summary>"stats" or "oom".</summary>
    [JsonPropertyName("type")] public string Type { get; set; } = "";

    /// <summary>The container id.</summary>
    [JsonPropertyName("id")] public string Id { get; set; } = "";

    /// <summary>The stats (type "stats"); omitted for "oom".</summary>
    [JsonPropertyName("data")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public ContainerStats? Data { get; set; }
}

/// <summary>Resource usage of a container's cgroups (runc types.Stats).</summary>
public sealed class ContainerStats
{
    /// <summary>CPU time and throttling.</summary>
    [JsonPropertyName("cpu")] public CpuStats Cpu { get; set; } = new();

    /// <summary>cpuset settings.</summary>
    [JsonPropertyName("cpuset")] public CpusetStats Cpuset { get; set; } = new();

    /// <summary>Memory usage in bytes.</summary>
    [JsonPropertyName("memory")] public MemoryStats Memory { get; set; } = new();

    /// <summary>Task counts.</summary>
    [JsonPropertyName("pids")] public PidsStats Pids { get; set; } = new();

    /// <summary>Block I/O counters.</summary>
    [JsonPropertyName("blkio")] public BlkioStats Blkio { get; set; } = new();

    /// <summary>Huge page usage by page size ("2MB").</summary>
    [JsonPropertyName("hugetlb")] public Dictionary<string, HugetlbStats> Hugetlb { get; set; } = [];

    /// <summary>Intel RDT (not supported: always empty).</summary>
    [JsonPropertyName("intel_rdt")] public IntelRdtStats IntelRdt { get; set; } = new();

    /// <summary>Network interfaces (runc fills them only for the container's netns in libcontainer; null here, as runc's events prints).</summary>
    [JsonPropertyName("network_interfaces")]
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public List<string>? NetworkInterfaces { get; set; }
}

/// <summary>runc types.Cpu.</summary>
public sealed class CpuStats
{
    /// <summary>CPU time in nanoseconds.</summary>
    [JsonPropertyName("usage")] public CpuUsage Usage { get; set; } = new();

    /// <summary>CFS throttling.</summary>
    [JsonPropertyName("throttling")] public Throttling Throttling { get; set; } = new();
}

/// <summary>runc types.CpuUsage; nanoseconds.</summary>
public sealed class CpuUsage
{
    /// <summary>Total CPU time (cpuacct.usage / cpu.stat usage_usec × 1000).</summary>
    [JsonPropertyName("total")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public ulong Total { get; set; }

    /// <summary>Per-CPU total (v1 cpuacct.usage_percpu).</summary>
    [JsonPropertyName("percpu")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public List<ulong>? Percpu { get; set; }

    /// <summary>Per-CPU kernel time (v1 cpuacct.usage_percpu_sys).</summary>
    [JsonPropertyName("percpu_kernel")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public List<ulong>? PercpuKernel { get; set; }

    /// <summary>Per-CPU user time (v1 cpuacct.usage_percpu_user).</summary>
    [JsonPropertyName("percpu_user")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public List<ulong>? PercpuUser { get; set; }

    /// <summary>Kernel-mode time.</summary>
    [JsonPropertyName("kernel")] public ulong Kernel { get; set; }

    /// <summary>User-mode time.</summary>
    [JsonPropertyName("user")] public ulong User { get; set; }
}

/// <summary>runc types.Throttling.</summary>
public sealed class Throttling
{
    /// <summary>CFS periods elapsed.</summary>
    [JsonPropertyName("periods")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public ulong Periods { get; set; }

    /// <summary>Periods in which the cgroup was throttled.</summary>
    [JsonPropertyName("throttledPeriods")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public ulong ThrottledPeriods { get; set; }

    /// <summary>Time throttled, nanoseconds.</summary>
    [JsonPropertyName("throttledTime")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public ulong ThrottledTime { get; set; }
}

/// <summary>runc types.CPUSet.</summary>
public sealed class CpusetStats
{
    /// <summary>CPUs of cpuset.cpus.</summary>
    [JsonPropertyName("cpus")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public List<ushort>? Cpus { get; set; }

    /// <summary>cpuset.cpu_exclusive.</summary>
    [JsonPropertyName("cpu_exclusive")] public ulong CpuExclusive { get; set; }

    /// <summary>Memory nodes of cpuset.mems.</summary>
    [JsonPropertyName("mems")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public List<ushort>? Mems { get; set; }

    /// <summary>cpuset.mem_hardwall.</summary>
    [JsonPropertyName("mem_hardwall")] public ulong MemHardwall { get; set; }

    /// <summary>cpuset.mem_exclusive.</summary>
    [JsonPropertyName("mem_exclusive")] public ulong MemExclusive { get; set; }

    /// <summary>cpuset.memory_migrate.</summary>
    [JsonPropertyName("memory_migrate")] public ulong MemoryMigrate { get; set; }

    /// <summary>cpuset.memory_spread_page.</summary>
    [JsonPropertyName("memory_spread_page")] public ulong MemorySpreadPage { get; set; }

    /// <summary>cpuset.memory_spread_slab.</summary>
    [JsonPropertyName("memory_spread_slab")] public ulong MemorySpreadSlab { get; set; }

    /// <summary>cpuset.memory_pressure.</summary>
    [JsonPropertyName("memory_pressure")] public ulong MemoryPressure { get; set; }

    /// <summary>cpuset.sched_load_balance.</summary>
    [JsonPropertyName("sched_load_balance")] public ulong SchedLoadBalance { get; set; }

    /// <summary>cpuset.sched_relax_domain_level.</summary>
    [JsonPropertyName("sched_relax_domain_level")] public long SchedRelaxDomainLevel { get; set; }
}

/// <summary>runc types.Memory; bytes.</summary>
public sealed class MemoryStats
{
    /// <summary>Page cache (memory.stat "cache" on v1, "file" on v2).</summary>
    [JsonPropertyName("cache")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public ulong Cache { get; set; }

    /// <summary>Memory usage and limit.</summary>
    [JsonPropertyName("usage")] public MemoryEntry Usage { get; set; } = new();

    /// <summary>Memory + swap usage and limit (v1 memsw; v2 memory + swap, for v1 compatibility).</summary>
    [JsonPropertyName("swap")] public MemoryEntry Swap { get; set; } = new();

    /// <summary>Kernel memory (v1 memory.kmem.*).</summary>
    [JsonPropertyName("kernel")] public MemoryEntry Kernel { get; set; } = new();

    /// <summary>Kernel TCP buffers (v1 memory.kmem.tcp.*).</summary>
    [JsonPropertyName("kernelTCP")] public MemoryEntry KernelTcp { get; set; } = new();

    /// <summary>memory.stat as key → value.</summary>
    [JsonPropertyName("raw")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public SortedDictionary<string, ulong>? Raw { get; set; }
}

/// <summary>runc types.MemoryEntry; bytes.</summary>
public sealed class MemoryEntry
{
    /// <summary>The limit (unlimited: the kernel's value, e.g. 9223372036854771712 on v1, 2^64-1 for "max" on v2).</summary>
    [JsonPropertyName("limit")] public ulong Limit { get; set; }

    /// <summary>Current usage.</summary>
    [JsonPropertyName("usage")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public ulong Usage { get; set; }

    /// <summary>Peak usage.</summary>
    [JsonPropertyName("max")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public ulong Max { get; set; }

    /// <summary>Times the limit was hit.</summary>
    [JsonPropertyName("failcnt")] public ulong Failcnt { get; set; }
}

/// <summary>runc types.Pids.</summary>
public sealed class PidsStats
{
    /// <summary>pids.current.</summary>
    [JsonPropertyName("current")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public ulong Current { get; set; }

    /// <summary>pids.max (0 = "max").</summary>
    [JsonPropertyName("limit")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public ulong Limit { get; set; }
}

/// <summary>runc types.Blkio.</summary>
public sealed class BlkioStats
{
    /// <summary>Bytes transferred.</summary>
    [JsonPropertyName("ioServiceBytesRecursive")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public List<BlkioEntry>? IoServiceBytesRecursive { get; set; }

    /// <summary>I/O operations.</summary>
    [JsonPropertyName("ioServicedRecursive")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public List<BlkioEntry>? IoServicedRecursive { get; set; }

    /// <summary>Queued operations (CFQ).</summary>
    [JsonPropertyName("ioQueueRecursive")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public List<BlkioEntry>? IoQueuedRecursive { get; set; }

    /// <summary>Service time (CFQ).</summary>
    [JsonPropertyName("ioServiceTimeRecursive")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public List<BlkioEntry>? IoServiceTimeRecursive { get; set; }

    /// <summary>Wait time (CFQ).</summary>
    [JsonPropertyName("ioWaitTimeRecursive")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public List<BlkioEntry>? IoWaitTimeRecursive { get; set; }

    /// <summary>Merged operations (CFQ).</summary>
    [JsonPropertyName("ioMergedRecursive")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public List<BlkioEntry>? IoMergedRecursive { get; set; }

    /// <summary>Disk time (CFQ).</summary>
    [JsonPropertyName("ioTimeRecursive")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public List<BlkioEntry>? IoTimeRecursive { get; set; }

    /// <summary>Sectors (CFQ).</summary>
    [JsonPropertyName("sectorsRecursive")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public List<BlkioEntry>? SectorsRecursive { get; set; }
}

/// <summary>runc types.BlkioEntry.</summary>
public sealed class BlkioEntry
{
    /// <summary>Device major.</summary>
    [JsonPropertyName("major")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public ulong Major { get; set; }

    /// <summary>Device minor.</summary>
    [JsonPropertyName("minor")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public ulong Minor { get; set; }

    /// <summary>"Read", "Write", "Sync", "Async", "Total" or "" (v1), "Read"/"Write" (v2).</summary>
    [JsonPropertyName("op")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public string? Op { get; set; }

    /// <summary>The counter.</summary>
    [JsonPropertyName("value")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public ulong Value { get; set; }
}

/// <summary>runc types.Hugetlb; bytes.</summary>
public sealed class HugetlbStats
{
    /// <summary>Current usage.</summary>
    [JsonPropertyName("usage")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public ulong Usage { get; set; }

    /// <summary>Peak usage (v1).</summary>
    [JsonPropertyName("max")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public ulong Max { get; set; }

    /// <summary>Allocations refused by the limit.</summary>
    [JsonPropertyName("failcnt")] public ulong Failcnt { get; set; }
}

/// <summary>runc types.IntelRdt: always empty (Intel RDT is not supported).</summary>
public sealed class IntelRdtStats
{
}
