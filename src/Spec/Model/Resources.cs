using System.Text.Json.Serialization;

namespace OciRuntime.Spec;

/// <summary><c>linux.resources</c>: cgroup settings, one object per controller (config-linux.md#control-groups).</summary>
public sealed class LinuxResources
{
    /// <summary><c>devices</c>: the device allow/deny list, applied in order (config-linux.md#allowed-device-list).</summary>
    [JsonPropertyName("devices")]
    public List<LinuxDeviceCgroup>? Devices { get; set; }

    /// <summary><c>memory</c>: the memory controller (config-linux.md#memory).</summary>
    [JsonPropertyName("memory")]
    public LinuxMemory? Memory { get; set; }

    /// <summary><c>cpu</c>: the cpu and cpuset controllers (config-linux.md#cpu).</summary>
    [JsonPropertyName("cpu")]
    public LinuxCpu? Cpu { get; set; }

    /// <summary><c>pids</c>: the pids controller (config-linux.md#pids).</summary>
    [JsonPropertyName("pids")]
    public LinuxPids? Pids { get; set; }

    /// <summary><c>blockIO</c>: the blkio (v1) / io (v2) controller (config-linux.md#block-io).</summary>
    [JsonPropertyName("blockIO")]
    public LinuxBlockIo? BlockIO { get; set; }

    /// <summary><c>hugepageLimits</c>: the hugetlb controller (config-linux.md#huge-page-limits).</summary>
    [JsonPropertyName("hugepageLimits")]
    public List<LinuxHugepageLimit>? HugepageLimits { get; set; }

    /// <summary><c>network</c>: the net_cls and net_prio controllers (config-linux.md#network).</summary>
    [JsonPropertyName("network")]
    public LinuxNetwork? Network { get; set; }

    /// <summary><c>rdma</c>: the rdma controller, keyed by device name, e.g. "mlx5_1" (config-linux.md#rdma).</summary>
    [JsonPropertyName("rdma")]
    public Dictionary<string, LinuxRdma>? Rdma { get; set; }

    /// <summary>
    /// <c>unified</c>: raw cgroup v2 files to write, keyed by file name, e.g. {"memory.high": "1073741824"}
    /// (config-linux.md#unified).
    /// </summary>
    [JsonPropertyName("unified")]
    public Dictionary<string, string>? Unified { get; set; }
}

/// <summary>One rule of <c>linux.resources.devices</c> (config-linux.md#allowed-device-list).</summary>
public sealed class LinuxDeviceCgroup
{
    /// <summary><c>allow</c> (REQUIRED): allow (<see langword="true"/>) or deny the matching devices. Always written.</summary>
    [JsonPropertyName("allow")]
    public bool Allow { get; set; }

    /// <summary><c>type</c>: "a" (all), "c" (char) or "b" (block); absent = all.</summary>
    [JsonPropertyName("type")]
    public string? Type { get; set; }

    /// <summary><c>major</c>: major number; absent = any ("*").</summary>
    [JsonPropertyName("major")]
    public long? Major { get; set; }

    /// <summary><c>minor</c>: minor number; absent = any ("*").</summary>
    [JsonPropertyName("minor")]
    public long? Minor { get; set; }

    /// <summary><c>access</c>: a combination of "r" (read), "w" (write) and "m" (mknod), e.g. "rwm".</summary>
    [JsonPropertyName("access")]
    public string? Access { get; set; }
}

/// <summary><c>linux.resources.memory</c>: memory controller settings; byte values, -1 = unlimited (config-linux.md#memory).</summary>
public sealed class LinuxMemory
{
    /// <summary><c>limit</c>: memory limit in bytes; -1 = unlimited (memory.limit_in_bytes / memory.max).</summary>
    [JsonPropertyName("limit")]
    public long? Limit { get; set; }

    /// <summary><c>reservation</c>: soft limit in bytes; -1 = unlimited (memory.soft_limit_in_bytes / memory.low).</summary>
    [JsonPropertyName("reservation")]
    public long? Reservation { get; set; }

    /// <summary><c>swap</c>: memory+swap limit in bytes; -1 = unlimited; must be at least <see cref="Limit"/>.</summary>
    [JsonPropertyName("swap")]
    public long? Swap { get; set; }

    /// <summary><c>kernel</c> (deprecated): kernel memory limit in bytes, cgroup v1 only.</summary>
    [JsonPropertyName("kernel")]
    public long? Kernel { get; set; }

    /// <summary><c>kernelTCP</c> (not recommended): kernel TCP buffer limit in bytes, cgroup v1 only.</summary>
    [JsonPropertyName("kernelTCP")]
    public long? KernelTcp { get; set; }

    /// <summary><c>swappiness</c>: vm.swappiness of the cgroup, 0..100.</summary>
    [JsonPropertyName("swappiness")]
    public ulong? Swappiness { get; set; }

    /// <summary><c>disableOOMKiller</c>: disable the OOM killer for the cgroup (cgroup v1 only).</summary>
    [JsonPropertyName("disableOOMKiller")]
    public bool? DisableOomKiller { get; set; }

    /// <summary><c>useHierarchy</c>: enable hierarchical accounting (cgroup v1 only).</summary>
    [JsonPropertyName("useHierarchy")]
    public bool? UseHierarchy { get; set; }

    /// <summary><c>checkBeforeUpdate</c>: on update, refuse a limit lower than the current usage (runtime-spec 1.1).</summary>
    [JsonPropertyName("checkBeforeUpdate")]
    public bool? CheckBeforeUpdate { get; set; }
}

/// <summary><c>linux.resources.cpu</c>: cpu and cpuset controller settings; times in microseconds (config-linux.md#cpu).</summary>
public sealed class LinuxCpu
{
    /// <summary><c>shares</c>: relative CPU weight (cgroup v1 cpu.shares, 2..262144; converted to cpu.weight on v2).</summary>
    [JsonPropertyName("shares")]
    public ulong? Shares { get; set; }

    /// <summary><c>quota</c>: CPU time in µs the cgroup may use per <see cref="Period"/>; -1 or 0 = unlimited.</summary>
    [JsonPropertyName("quota")]
    public long? Quota { get; set; }

    /// <summary><c>burst</c>: extra accumulated CPU time in µs per period; must not exceed a positive <see cref="Quota"/>.</summary>
    [JsonPropertyName("burst")]
    public ulong? Burst { get; set; }

    /// <summary><c>period</c>: CFS period in µs.</summary>
    [JsonPropertyName("period")]
    public ulong? Period { get; set; }

    /// <summary><c>realtimeRuntime</c>: realtime runtime in µs per <see cref="RealtimePeriod"/> (cgroup v1 only).</summary>
    [JsonPropertyName("realtimeRuntime")]
    public long? RealtimeRuntime { get; set; }

    /// <summary><c>realtimePeriod</c>: realtime period in µs (cgroup v1 only).</summary>
    [JsonPropertyName("realtimePeriod")]
    public ulong? RealtimePeriod { get; set; }

    /// <summary><c>cpus</c>: cpuset CPU list, e.g. "0-3,5".</summary>
    [JsonPropertyName("cpus")]
    public string? Cpus { get; set; }

    /// <summary><c>mems</c>: cpuset memory node list, e.g. "0-1".</summary>
    [JsonPropertyName("mems")]
    public string? Mems { get; set; }

    /// <summary><c>idle</c>: cpu.idle; 0 = default, 1 = SCHED_IDLE for the cgroup.</summary>
    [JsonPropertyName("idle")]
    public long? Idle { get; set; }
}

/// <summary><c>linux.resources.pids</c>: pids controller settings (config-linux.md#pids).</summary>
public sealed class LinuxPids
{
    /// <summary><c>limit</c> (REQUIRED): maximum number of tasks; 0 or -1 = unlimited ("max"). Always written.</summary>
    [JsonPropertyName("limit")]
    public long Limit { get; set; }
}

/// <summary><c>linux.resources.blockIO</c>: blkio / io controller settings (config-linux.md#block-io).</summary>
public sealed class LinuxBlockIo
{
    /// <summary><c>weight</c>: default per-cgroup weight, 10..1000 (blkio.weight; converted on cgroup v2).</summary>
    [JsonPropertyName("weight")]
    public ushort? Weight { get; set; }

    /// <summary><c>leafWeight</c>: weight while competing with child cgroups (CFQ, cgroup v1 only).</summary>
    [JsonPropertyName("leafWeight")]
    public ushort? LeafWeight { get; set; }

    /// <summary><c>weightDevice</c>: per-device weights.</summary>
    [JsonPropertyName("weightDevice")]
    public List<LinuxWeightDevice>? WeightDevice { get; set; }

    /// <summary><c>throttleReadBpsDevice</c>: per-device read limits in bytes per second.</summary>
    [JsonPropertyName("throttleReadBpsDevice")]
    public List<LinuxThrottleDevice>? ThrottleReadBpsDevice { get; set; }

    /// <summary><c>throttleWriteBpsDevice</c>: per-device write limits in bytes per second.</summary>
    [JsonPropertyName("throttleWriteBpsDevice")]
    public List<LinuxThrottleDevice>? ThrottleWriteBpsDevice { get; set; }

    /// <summary><c>throttleReadIOPSDevice</c>: per-device read limits in I/O operations per second.</summary>
    [JsonPropertyName("throttleReadIOPSDevice")]
    public List<LinuxThrottleDevice>? ThrottleReadIopsDevice { get; set; }

    /// <summary><c>throttleWriteIOPSDevice</c>: per-device write limits in I/O operations per second.</summary>
    [JsonPropertyName("throttleWriteIOPSDevice")]
    public List<LinuxThrottleDevice>? ThrottleWriteIopsDevice { get; set; }
}

/// <summary>One entry of <c>blockIO.weightDevice</c>: "major:minor weight" (config-linux.md#block-io).</summary>
public sealed class LinuxWeightDevice
{
    /// <summary><c>major</c> (REQUIRED): major device number.</summary>
    [JsonPropertyName("major")]
    public long Major { get; set; }

    /// <summary><c>minor</c> (REQUIRED): minor device number.</summary>
    [JsonPropertyName("minor")]
    public long Minor { get; set; }

    /// <summary><c>weight</c>: weight for the device; at least one of weight / leafWeight MUST be set.</summary>
    [JsonPropertyName("weight")]
    public ushort? Weight { get; set; }

    /// <summary><c>leafWeight</c>: leaf weight for the device (CFQ, cgroup v1 only).</summary>
    [JsonPropertyName("leafWeight")]
    public ushort? LeafWeight { get; set; }
}

/// <summary>One entry of a <c>blockIO.throttle*Device</c> list: "major:minor rate" (config-linux.md#block-io).</summary>
public sealed class LinuxThrottleDevice
{
    /// <summary><c>major</c> (REQUIRED): major device number.</summary>
    [JsonPropertyName("major")]
    public long Major { get; set; }

    /// <summary><c>minor</c> (REQUIRED): minor device number.</summary>
    [JsonPropertyName("minor")]
    public long Minor { get; set; }

    /// <summary><c>rate</c> (REQUIRED): bytes per second (Bps lists) or operations per second (IOPS lists).</summary>
    [JsonPropertyName("rate")]
    public ulong Rate { get; set; }
}

/// <summary>One entry of <c>linux.resources.hugepageLimits</c> (config-linux.md#huge-page-limits).</summary>
public sealed class LinuxHugepageLimit
{
    /// <summary><c>pageSize</c> (REQUIRED): "&lt;size&gt;&lt;unit-prefix&gt;B" with a base-1024 prefix, e.g. "64KB", "2MB", "1GB".</summary>
    [JsonPropertyName("pageSize")]
    public string PageSize { get; set; } = "";

    /// <summary><c>limit</c> (REQUIRED): limit in bytes of huge page usage / reservations.</summary>
    [JsonPropertyName("limit")]
    public ulong Limit { get; set; }
}

/// <summary><c>linux.resources.network</c>: net_cls / net_prio settings (config-linux.md#network).</summary>
public sealed class LinuxNetwork
{
    /// <summary><c>classID</c>: net_cls class identifier for the cgroup's packets.</summary>
    [JsonPropertyName("classID")]
    public uint? ClassId { get; set; }

    /// <summary><c>priorities</c>: net_prio priority per interface.</summary>
    [JsonPropertyName("priorities")]
    public List<LinuxInterfacePriority>? Priorities { get; set; }
}

/// <summary>One entry of <c>network.priorities</c> (config-linux.md#network).</summary>
public sealed class LinuxInterfacePriority
{
    /// <summary><c>name</c> (REQUIRED): interface name in the runtime network namespace.</summary>
    [JsonPropertyName("name")]
    public string Name { get; set; } = "";

    /// <summary><c>priority</c> (REQUIRED): priority applied to the interface.</summary>
    [JsonPropertyName("priority")]
    public uint Priority { get; set; }
}

/// <summary>A value of <c>linux.resources.rdma</c> (config-linux.md#rdma); at least one limit MUST be set.</summary>
public sealed class LinuxRdma
{
    /// <summary><c>hcaHandles</c>: maximum number of HCA handles.</summary>
    [JsonPropertyName("hcaHandles")]
    public uint? HcaHandles { get; set; }

    /// <summary><c>hcaObjects</c>: maximum number of HCA objects.</summary>
    [JsonPropertyName("hcaObjects")]
    public uint? HcaObjects { get; set; }
}
