using OciRuntime.Spec;
using OciRuntime.Spec.Json;

namespace OciRuntime.Cgroups;

/// <summary>
/// Merges an update into the resources in force, as runc's update does (it merges into the saved config and writes
/// the result again, because some values depend on others: a new cpu quota keeps the period in force, a new memory
/// limit of -1 lifts the swap limit unless swap is given).
/// </summary>
public static class ResourceMerge
{
    /// <summary>
    /// <paramref name="current"/> with every field set in <paramref name="update"/> replaced (lists replace lists;
    /// hugepage limits by page size, rdma and unified by key). Neither argument is modified. The update's
    /// <c>devices</c> are ignored, whatever their rules say: runc 1.1's update accepts the whole linux.resources block
    /// (containerd's CRI plugin sends it, devices included) and keeps the device rules of create.
    /// </summary>
    public static LinuxResources Merge(LinuxResources? current, LinuxResources update)
    {
        var r = Clone(current ?? new LinuxResources());
        if (update.Memory is { } m)
        {
            r.Memory ??= new LinuxMemory();
            r.Memory.Limit = m.Limit ?? r.Memory.Limit;
            r.Memory.Reservation = m.Reservation ?? r.Memory.Reservation;
            r.Memory.Swap = m.Swap ?? (m.Limit == -1 ? -1 : r.Memory.Swap);
            r.Memory.Kernel = m.Kernel ?? r.Memory.Kernel;
            r.Memory.KernelTcp = m.KernelTcp ?? r.Memory.KernelTcp;
            r.Memory.Swappiness = m.Swappiness ?? r.Memory.Swappiness;
            r.Memory.DisableOomKiller = m.DisableOomKiller ?? r.Memory.DisableOomKiller;
            r.Memory.UseHierarchy = m.UseHierarchy ?? r.Memory.UseHierarchy;
            r.Memory.CheckBeforeUpdate = m.CheckBeforeUpdate ?? r.Memory.CheckBeforeUpdate;
        }
        if (update.Cpu is { } c)
        {
            r.Cpu ??= new LinuxCpu();
            r.Cpu.Shares = c.Shares ?? r.Cpu.Shares;
            r.Cpu.Quota = c.Quota ?? r.Cpu.Quota;
            r.Cpu.Burst = c.Burst ?? r.Cpu.Burst;
            r.Cpu.Period = c.Period ?? r.Cpu.Period;
            r.Cpu.RealtimeRuntime = c.RealtimeRuntime ?? r.Cpu.RealtimeRuntime;
            r.Cpu.RealtimePeriod = c.RealtimePeriod ?? r.Cpu.RealtimePeriod;
            r.Cpu.Cpus = c.Cpus is { Length: > 0 } ? c.Cpus : r.Cpu.Cpus;
            r.Cpu.Mems = c.Mems is { Length: > 0 } ? c.Mems : r.Cpu.Mems;
            r.Cpu.Idle = c.Idle ?? r.Cpu.Idle;
        }
        if (update.Pids is { } p) r.Pids = new LinuxPids { Limit = p.Limit };
        if (update.BlockIO is { } b)
        {
            r.BlockIO ??= new LinuxBlockIo();
            r.BlockIO.Weight = b.Weight ?? r.BlockIO.Weight;
            r.BlockIO.LeafWeight = b.LeafWeight ?? r.BlockIO.LeafWeight;
            r.BlockIO.WeightDevice = b.WeightDevice ?? r.BlockIO.WeightDevice;
            r.BlockIO.ThrottleReadBpsDevice = b.ThrottleReadBpsDevice ?? r.BlockIO.ThrottleReadBpsDevice;
            r.BlockIO.ThrottleWriteBpsDevice = b.ThrottleWriteBpsDevice ?? r.BlockIO.ThrottleWriteBpsDevice;
            r.BlockIO.ThrottleReadIopsDevice = b.ThrottleReadIopsDevice ?? r.BlockIO.ThrottleReadIopsDevice;
            r.BlockIO.ThrottleWriteIopsDevice = b.ThrottleWriteIopsDevice ?? r.BlockIO.ThrottleWriteIopsDevice;
        }
        if (update.HugepageLimits is { } h)
        {
            var merged = (r.HugepageLimits ?? []).FindAll(x => !h.Exists(y => y.PageSize == x.PageSize));
            merged.AddRange(h);
            r.HugepageLimits = merged;
        }
        if (update.Network is { } n)
        {
            r.Network ??= new LinuxNetwork();
            r.Network.ClassId = n.ClassId ?? r.Network.ClassId;
            r.Network.Priorities = n.Priorities ?? r.Network.Priorities;
        }
        if (update.Rdma is { } rdma)
        {
            r.Rdma ??= [];
            foreach (var (k, v) in rdma) r.Rdma[k] = v;
        }
        if (update.Unified is { } u)
        {
            r.Unified ??= [];
            foreach (var (k, v) in u) r.Unified[k] = v;
        }
        return r;
    }

    /// <summary>A deep copy (through the spec's generated JSON writer and reader).</summary>
    public static LinuxResources Clone(LinuxResources r) =>
        FastJson.Read(FastJson.Write(r, FastJson.CompactWriter, SpecFastJson.WriteLinuxResources), SpecFastJson.ReadLinuxResources, "linux.resources");
}
