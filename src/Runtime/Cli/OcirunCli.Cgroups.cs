using System.CommandLine;
using System.CommandLine.Invocation;
using System.Globalization;
using System.Text.Json;
using OciRuntime.Interop;
using OciRuntime.Runtime.Lifecycle;
using OciRuntime.Spec;

namespace OciRuntime.Runtime.Cli;

/// <summary>The cgroup commands of the CLI: update, pause, resume, events; kill --all; the refused --systemd-cgroup.</summary>
public static partial class OcirunCli
{
    /// <summary>
    /// --systemd-cgroup: the systemd cgroup driver (runc's): a new container's cgroup is a transient scope made over
    /// D-Bus, cgroupsPath "slice:prefix:name" (ContainerRuntime.SystemdCgroup). Other commands find the driver in the state.
    /// </summary>
    private static readonly Option<bool> SystemdCgroupOption = new("--systemd-cgroup")
    {
        Description = "enable systemd cgroup support, expects cgroupsPath to be of form \"slice:prefix:name\" for e.g. \"system.slice:runc:434234\"",
        Recursive = true,
    };

    private static Option<bool> KillAllOption() => new("--all", "-a") { Description = "send the specified signal to all processes inside the container" };

    private static Command UpdateCommand()
    {
        var command = new Command("update", "update container resource constraints");
        var id = IdArgument();
        var resources = new Option<string?>("--resources", "-r")
        {
            Description = "path to the file containing the resources to update or '-' to read from the standard input (then all other options are ignored)",
        };
        var blkioWeight = new Option<int>("--blkio-weight") { Description = "Specifies per cgroup weight, range is from 10 to 1000" };
        var cpuPeriod = new Option<string?>("--cpu-period") { Description = "CPU CFS period to be used for hardcapping (in usecs). 0 to use system default" };
        var cpuQuota = new Option<string?>("--cpu-quota") { Description = "CPU CFS hardcap limit (in usecs). Allowed cpu time in a given period" };
        var cpuBurst = new Option<string?>("--cpu-burst") { Description = "CPU CFS hardcap burst limit (in usecs). Allowed accumulated cpu time additionally for burst a given period" };
        var cpuShare = new Option<string?>("--cpu-share", "--cpu-shares") { Description = "CPU shares (relative weight vs. other containers)" };
        var cpuRtPeriod = new Option<string?>("--cpu-rt-period") { Description = "CPU realtime period to be used for hardcapping (in usecs). 0 to use system default" };
        var cpuRtRuntime = new Option<string?>("--cpu-rt-runtime") { Description = "CPU realtime hardcap limit (in usecs). Allowed cpu time in a given period" };
        var cpuIdle = new Option<string?>("--cpu-idle") { Description = "set cgroup SCHED_IDLE or not, 0: default behavior, 1: SCHED_IDLE" };
        var cpusetCpus = new Option<string?>("--cpuset-cpus") { Description = "CPU(s) to use" };
        var cpusetMems = new Option<string?>("--cpuset-mems") { Description = "Memory node(s) to use" };
        var kernelMemory = new Option<string?>("--kernel-memory") { Description = "Kernel memory limit (in bytes; cgroup v1, ignored by kernels since 5.16)" };
        var kernelMemoryTcp = new Option<string?>("--kernel-memory-tcp") { Description = "Kernel memory limit for tcp buffer (in bytes; cgroup v1)" };
        var memory = new Option<string?>("--memory") { Description = "Memory limit (in bytes)" };
        var memoryReservation = new Option<string?>("--memory-reservation") { Description = "Memory reservation or soft_limit (in bytes)" };
        var memorySwap = new Option<string?>("--memory-swap") { Description = "Total memory usage (memory + swap); set '-1' to enable unlimited swap" };
        var pidsLimit = new Option<string?>("--pids-limit") { Description = "Maximum number of pids allowed in the container" };
        var l3 = new Option<string?>("--l3-cache-schema") { Description = "The string of Intel RDT/CAT L3 cache schema (not supported)" };
        var memBw = new Option<string?>("--mem-bw-schema") { Description = "The string of Intel RDT/MBA memory bandwidth schema (not supported)" };
        command.Arguments.Add(id);
        foreach (var o in new Option[] { resources, blkioWeight, cpuPeriod, cpuQuota, cpuBurst, cpuShare, cpuRtPeriod, cpuRtRuntime, cpuIdle, cpusetCpus, cpusetMems, kernelMemory, kernelMemoryTcp, memory, memoryReservation, memorySwap, pidsLimit, l3, memBw })
            command.Options.Add(o);
        command.SetAction(r => Execute(r, runtime =>
        {
            if (r.GetValue(l3) is { Length: > 0 }) throw new RuntimeException("Intel RDT/CAT: l3 cache schema is not supported (linux.intelRdt is not implemented)");
            if (r.GetValue(memBw) is { Length: > 0 }) throw new RuntimeException("Intel RDT/MBA: memory bandwidth schema is not supported (linux.intelRdt is not implemented)");
            LinuxResources update;
            if (r.GetValue(resources) is { Length: > 0 } file)
            {
                update = ReadResources(file);
            }
            else
            {
                update = new LinuxResources { Memory = new LinuxMemory(), Cpu = new LinuxCpu(), BlockIO = new LinuxBlockIo() };
                if (r.GetValue(blkioWeight) is var w and not 0)
                {
                    if (w is < 10 or > 1000) throw new RuntimeException($"invalid value for --blkio-weight: {w} (the range is 10 to 1000)");
                    update.BlockIO.Weight = (ushort)w;
                }
                if (r.GetValue(cpusetCpus) is { Length: > 0 } cpus) update.Cpu.Cpus = cpus;
                if (r.GetValue(cpusetMems) is { Length: > 0 } mems) update.Cpu.Mems = mems;
                update.Cpu.Idle = Signed(r, cpuIdle);
                update.Cpu.Burst = Unsigned(r, cpuBurst);
                update.Cpu.Period = Unsigned(r, cpuPeriod);
                update.Cpu.RealtimePeriod = Unsigned(r, cpuRtPeriod);
                update.Cpu.Shares = Unsigned(r, cpuShare);
                update.Cpu.Quota = Signed(r, cpuQuota);
                update.Cpu.RealtimeRuntime = Signed(r, cpuRtRuntime);
                update.Memory.Limit = Bytes(r, memory);
                update.Memory.Swap = Bytes(r, memorySwap);
                update.Memory.Reservation = Bytes(r, memoryReservation);
                update.Memory.Kernel = Bytes(r, kernelMemory);
                update.Memory.KernelTcp = Bytes(r, kernelMemoryTcp);
                if (Signed(r, pidsLimit) is { } pids) update.Pids = new LinuxPids { Limit = pids };
            }
            runtime.Update(r.GetValue(id)!, update);
            return 0;
        }));
        return command;
    }

    /// <summary>A linux.resources JSON object from <paramref name="file"/> ("-" = stdin).</summary>
    private static LinuxResources ReadResources(string file)
    {
        byte[] bytes;
        if (file == "-")
        {
            using var stdin = Console.OpenStandardInput();
            using var buffer = new MemoryStream();
            stdin.CopyTo(buffer);
            bytes = buffer.ToArray();
        }
        else
        {
            bytes = File.ReadAllBytes(file);
        }
        try
        {
            return SpecSerializer.ParseDocument(bytes, OciRuntime.Spec.Json.SpecFastJson.ReadLinuxResources, $"--resources {file}");
        }
        catch (SpecException e)
        {
            throw new RuntimeException(e.Message, e);
        }
    }

    private static ulong? Unsigned(ParseResult r, Option<string?> option) =>
        r.GetValue(option) is not { Length: > 0 } text ? null
        : ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v
        : throw new RuntimeException($"invalid value for {option.Name}: \"{text}\" is not an unsigned integer");

    private static long? Signed(ParseResult r, Option<string?> option) =>
        r.GetValue(option) is not { Length: > 0 } text ? null
        : long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) ? v
        : throw new RuntimeException($"invalid value for {option.Name}: \"{text}\" is not an integer");

    private static long? Bytes(ParseResult r, Option<string?> option)
    {
        if (r.GetValue(option) is not { Length: > 0 } text) return null;
        if (text == "-1") return -1;
        return ParseRamBytes(text) ?? throw new RuntimeException($"invalid value for {option.Name}: invalid size: '{text}'");
    }

    /// <summary>
    /// A size as docker/go-units RAMInBytes reads it: a number with an optional binary unit, e.g. "1024", "512k",
    /// "64m", "1.5g", "2GiB" (k = 1024). Null when malformed.
    /// </summary>
    public static long? ParseRamBytes(string text)
    {
        var s = text.Trim();
        var end = 0;
        while (end < s.Length && (char.IsAsciiDigit(s[end]) || s[end] == '.')) end++;
        if (end == 0 || !double.TryParse(s[..end], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number)) return null;
        var unit = s[end..].Trim().ToLowerInvariant();
        if (unit.EndsWith('b')) unit = unit[..^1];
        if (unit.EndsWith('i')) unit = unit[..^1];
        double multiplier = unit switch
        {
            "" => 1,
            "k" => 1L << 10,
            "m" => 1L << 20,
            "g" => 1L << 30,
            "t" => 1L << 40,
            "p" => 1L << 50,
            _ => -1,
        };
        if (multiplier < 0) return null;
        var value = number * multiplier;
        return value >= long.MaxValue ? null : (long)value;
    }

    private static Command PauseCommand()
    {
        var command = new Command("pause", "pause suspends all processes inside the container");
        var id = IdArgument();
        command.Arguments.Add(id);
        command.SetAction(r => Execute(r, runtime =>
        {
            runtime.Pause(r.GetValue(id)!);
            return 0;
        }));
        return command;
    }

    private static Command ResumeCommand()
    {
        var command = new Command("resume", "resumes all processes that have been previously paused");
        var id = IdArgument();
        command.Arguments.Add(id);
        command.SetAction(r => Execute(r, runtime =>
        {
            runtime.Resume(r.GetValue(id)!);
            return 0;
        }));
        return command;
    }

    private static Command EventsCommand()
    {
        var command = new Command("events", "display container events such as OOM notifications, cpu, memory, and IO usage statistics");
        var id = IdArgument();
        var interval = new Option<string>("--interval") { Description = "set the stats collection interval", DefaultValueFactory = _ => "5s" };
        var stats = new Option<bool>("--stats") { Description = "display the container's stats then exit" };
        command.Arguments.Add(id);
        command.Options.Add(interval);
        command.Options.Add(stats);
        command.SetAction(r => Execute(r, runtime =>
        {
            var container = r.GetValue(id)!;
            if (r.GetValue(stats))
            {
                StdIo.OutLine(ContainerRuntime.FormatEvent(new Cgroups.ContainerEvent { Type = "stats", Id = container, Data = runtime.Stats(container) }));
                return 0;
            }
            var text = r.GetValue(interval)!;
            var period = ParseDuration(text) ?? throw new RuntimeException($"invalid value \"{text}\" for flag --interval: a duration such as 5s, 500ms or 1m");
            if (period <= TimeSpan.Zero) throw new RuntimeException("duration interval must be greater than 0");
            runtime.Events(container, period, Console.Out);
            return 0;
        }));
        return command;
    }

    /// <summary>A Go time.ParseDuration-style text ("5s", "1.5s", "300ms", "1m30s", "2h"); null when malformed.</summary>
    public static TimeSpan? ParseDuration(string text)
    {
        var s = text.Trim();
        if (s.Length == 0) return null;
        if (s == "0") return TimeSpan.Zero;
        double total = 0;
        var i = 0;
        while (i < s.Length)
        {
            var start = i;
            while (i < s.Length && (char.IsAsciiDigit(s[i]) || s[i] == '.')) i++;
            if (start == i || !double.TryParse(s[start..i], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var n)) return null;
            var unitStart = i;
            while (i < s.Length && !char.IsAsciiDigit(s[i]) && s[i] != '.') i++;
            double? ms = s[unitStart..i] switch
            {
                "ns" => n / 1e6,
                "us" or "µs" => n / 1e3,
                "ms" => n,
                "s" => n * 1e3,
                "m" => n * 60e3,
                "h" => n * 3600e3,
                _ => null,
            };
            if (ms is null) return null;
            total += ms.Value;
        }
        return TimeSpan.FromMilliseconds(total);
    }
}
