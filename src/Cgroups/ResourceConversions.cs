namespace OciRuntime.Cgroups;

/// <summary>The v1 → v2 value conversions runc and crun use (runc libcontainer/cgroups/utils.go).</summary>
public static class ResourceConversions
{
    /// <summary>
    /// cpu.shares (2..262144) to cpu.weight (1..10000): 1 + ((shares - 2) * 9999) / 262142; 0 stays 0 (unset).
    /// Shares below 2 are taken as 2 (the kernel's minimum).
    /// </summary>
    public static ulong CpuSharesToWeight(ulong shares)
    {
        if (shares == 0) return 0;
        if (shares < 2) shares = 2;
        return 1 + ((shares - 2) * 9999) / 262142;
    }

    /// <summary>blkio.weight (10..1000) to io.weight (1..10000): 1 + (weight - 10) * 9999 / 990; 0 stays 0 (unset).</summary>
    public static ulong BlkioWeightToIoWeight(ushort weight)
    {
        if (weight == 0) return 0;
        if (weight < 10) weight = 10;
        return 1 + ((ulong)weight - 10) * 9999 / 990;
    }

    /// <summary>
    /// linux.resources.memory.swap (memory + swap, bytes; -1 unlimited; 0 unset) to memory.swap.max (swap only):
    /// swap - limit. Unlimited memory with unset swap gives unlimited swap, as on v1.
    /// </summary>
    /// <exception cref="CgroupException">swap without a memory limit, or swap below the limit (names memory.swap).</exception>
    public static long MemorySwapToV2(long swap, long limit)
    {
        const string field = "linux.resources.memory.swap";
        if (limit == -1 && swap == 0) return -1;
        if (swap is -1 or 0) return swap;
        if (limit == -1) return swap;
        if (limit == 0) throw new CgroupException("unable to set a swap limit without a memory limit", field);
        if (limit < 0) throw new CgroupException($"invalid memory limit {limit}", "linux.resources.memory.limit");
        if (swap < limit) throw new CgroupException($"memory+swap limit {swap} must be at least the memory limit {limit}", field);
        return swap - limit;
    }

    /// <summary>A v2 limit value: -1 → "max", 0 → "" (do not write), otherwise the number (runc's numToStr).</summary>
    public static string V2Limit(long value) => value switch
    {
        0 => "",
        -1 => "max",
        _ => value.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
