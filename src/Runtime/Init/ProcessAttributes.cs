using System.Globalization;
using OciRuntime.Interop;
using OciRuntime.Spec;

namespace OciRuntime.Runtime.Init;

/// <summary>
/// Per-thread execution attributes the container process inherits through execve: the execution domain
/// (linux.personality, personality(2)), the scheduler (process.scheduler, sched_setattr(2)), the I/O priority
/// (process.ioPriority, ioprio_set(2)) and the CPU affinity (process.execCPUAffinity, sched_setaffinity(2)).
/// Every call applies to the calling thread: the init's main thread, the one that calls execve.
/// </summary>
internal static class ProcessAttributes
{
    /// <summary>personality(2) with the domain of linux.personality (LINUX or LINUX32).</summary>
    /// <exception cref="InitException">an unknown domain or flag, or the call failed.</exception>
    public static void SetPersonality(LinuxPersonality? personality)
    {
        if (personality is null) return;
        var domain = personality.Domain switch
        {
            PersonalityDomains.Linux => Libc.PER_LINUX,
            PersonalityDomains.Linux32 => Libc.PER_LINUX32,
            _ => throw new InitException($"config.json: linux.personality.domain: unknown personality domain \"{personality.Domain}\" (expected LINUX or LINUX32)"),
        };
        if (personality.Flags is { Count: > 0 } flags)
            throw new InitException($"config.json: linux.personality.flags[0]: unknown personality flag \"{flags[0]}\"");
        if (Libc.personality(domain) == -1)
            throw new InitException($"config.json: linux.personality: {SyscallException.FromLastError($"personality {personality.Domain}").Message}");
    }

    /// <summary>The SCHED_* number of a policy name.</summary>
    public static uint PolicyNumber(string policy) => policy switch
    {
        "SCHED_OTHER" => 0,
        "SCHED_FIFO" => 1,
        "SCHED_RR" => 2,
        "SCHED_BATCH" => 3,
        "SCHED_ISO" => 4,
        "SCHED_IDLE" => 5,
        "SCHED_DEADLINE" => 6,
        _ => throw new InitException($"config.json: process.scheduler.policy: unknown scheduling policy \"{policy}\""),
    };

    /// <summary>The SCHED_FLAG_* bit of a flag name.</summary>
    public static ulong FlagBit(string flag, int index) => flag switch
    {
        "SCHED_FLAG_RESET_ON_FORK" => 0x01,
        "SCHED_FLAG_RECLAIM" => 0x02,
        "SCHED_FLAG_DL_OVERRUN" => 0x04,
        "SCHED_FLAG_KEEP_POLICY" => 0x08,
        "SCHED_FLAG_KEEP_PARAMS" => 0x10,
        "SCHED_FLAG_UTIL_CLAMP_MIN" => 0x20,
        "SCHED_FLAG_UTIL_CLAMP_MAX" => 0x40,
        _ => throw new InitException($"config.json: process.scheduler.flags[{index}]: unknown scheduler flag \"{flag}\""),
    };

    /// <summary>sched_setattr(0, attr, 0) with process.scheduler (runc's setupScheduler).</summary>
    /// <exception cref="InitException">the kernel refused (e.g. EPERM for SCHED_FIFO without CAP_SYS_NICE).</exception>
    public static unsafe void SetScheduler(Scheduler? scheduler)
    {
        if (scheduler is null) return;
        ulong flags = 0;
        for (var i = 0; i < (scheduler.Flags?.Count ?? 0); i++) flags |= FlagBit(scheduler.Flags![i], i);
        var attr = new SchedAttr
        {
            Size = (uint)sizeof(SchedAttr),
            Policy = PolicyNumber(scheduler.Policy),
            Flags = flags,
            Nice = scheduler.Nice ?? 0,
            Priority = (uint)(scheduler.Priority ?? 0),
            Runtime = scheduler.Runtime ?? 0,
            Deadline = scheduler.Deadline ?? 0,
            Period = scheduler.Period ?? 0,
        };
        if (Libc.sched_setattr(0, &attr, 0) != 0)
            throw new InitException($"config.json: process.scheduler: {SyscallException.FromLastError($"sched_setattr {scheduler.Policy}").Message}");
    }

    /// <summary>ioprio_set(IOPRIO_WHO_PROCESS, 0, class &lt;&lt; 13 | priority) with process.ioPriority.</summary>
    /// <exception cref="InitException">an unknown class, or the kernel refused (EPERM for IOPRIO_CLASS_RT without CAP_SYS_ADMIN/CAP_SYS_NICE).</exception>
    public static void SetIoPriority(LinuxIoPriority? io)
    {
        if (io is null) return;
        var ioClass = io.Class switch
        {
            IoPriorityClasses.RealTime => 1,
            IoPriorityClasses.BestEffort => 2,
            IoPriorityClasses.Idle => 3,
            _ => throw new InitException($"config.json: process.ioPriority.class: unknown I/O priority class \"{io.Class}\""),
        };
        if (io.Priority is < 0 or > 7)
            throw new InitException($"config.json: process.ioPriority.priority: must be between 0 and 7, got {io.Priority}");
        if (Libc.ioprio_set(Libc.IOPRIO_WHO_PROCESS, 0, Libc.IoprioValue(ioClass, io.Priority)) != 0)
            throw new InitException($"config.json: process.ioPriority: {SyscallException.FromLastError($"ioprio_set {io.Class} {io.Priority}").Message}");
    }

    /// <summary>
    /// Parses a cpuset list ("0-3,7", "0-7:2" is not accepted) into a cpu_set_t-style bit array (bit n = CPU n).
    /// </summary>
    /// <exception cref="FormatException">not a CPU list.</exception>
    public static byte[] ParseCpuList(string list)
    {
        var cpus = new List<int>();
        foreach (var raw in list.Split(','))
        {
            var part = raw.Trim();
            if (part.Length == 0) throw new FormatException($"invalid CPU list \"{list}\": empty element");
            var dash = part.IndexOf('-', StringComparison.Ordinal);
            if (dash < 0)
            {
                cpus.Add(ParseCpu(part, list));
                continue;
            }
            var first = ParseCpu(part[..dash], list);
            var last = ParseCpu(part[(dash + 1)..], list);
            if (last < first) throw new FormatException($"invalid CPU list \"{list}\": range {part} is backwards");
            for (var c = first; c <= last; c++) cpus.Add(c);
        }
        var mask = new byte[Math.Max(128, (MaxOf(cpus) / 64 + 1) * 8)]; // at least glibc's 1024-bit cpu_set_t
        foreach (var c in cpus) mask[c / 8] |= (byte)(1 << (c % 8));
        return mask;
    }

    private static int ParseCpu(string text, string list)
    {
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var cpu) || cpu > 65535)
            throw new FormatException($"invalid CPU list \"{list}\": \"{text}\" is not a CPU number");
        return cpu;
    }

    /// <summary>sched_setaffinity of the calling thread to the CPU list <paramref name="list"/> of <paramref name="field"/>.</summary>
    /// <exception cref="InitException">an invalid list, or none of its CPUs is usable (EINVAL).</exception>
    public static unsafe void SetCpuAffinity(string? list, string field)
    {
        if (string.IsNullOrEmpty(list)) return;
        byte[] mask;
        try
        {
            mask = ParseCpuList(list);
        }
        catch (FormatException e)
        {
            throw new InitException($"config.json: {field}: {e.Message}", e);
        }
        fixed (byte* m = mask)
        {
            if (Libc.sched_setaffinity(0, (nuint)mask.Length, m) != 0)
                throw new InitException($"config.json: {field}: {SyscallException.FromLastError($"sched_setaffinity {list}").Message}");
        }
    }

    private static int MaxOf(List<int> values)
    {
        var max = int.MinValue;
        foreach (var v in values) max = Math.Max(max, v);
        return max;
    }
}
