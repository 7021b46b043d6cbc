using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using OciRuntime.Cgroups;
using OciRuntime.Runtime.Tests.Harness;
using OciRuntime.Spec;

namespace OciRuntime.Runtime.Tests;

/// <summary>
/// Cgroup enforcement with the real ocirun binary on this host (as root): limits are applied and felt, update, pause,
/// events, devices, cleanup. File names are checked for v1 (and hybrid) or v2, whichever the host runs.
/// </summary>
public sealed partial class CgroupIntegrationTests
{
    private static readonly bool V2 = CgroupHost.Real.Mode == CgroupMode.V2;

    private static Ocirun Oci(CgroupTestBundle b) => new(Ocirun.DefaultBinary, b.StateRoot);

    private static CommandResult Ok(CommandResult r)
    {
        r.ExitCode.Should().Be(0, r.ToString());
        return r;
    }

    /// <summary>
    /// Runs a command that leaves a container behind (run -d, create) with its stdio on a log file: the container
    /// inherits ocirun's stdio, and pipes it keeps open would never reach end of file.
    /// </summary>
    private static CommandResult Detached(CgroupTestBundle b, params string[] args)
    {
        var log = Path.Combine(b.Dir, "detached-" + Guid.NewGuid().ToString("N")[..8] + ".log");
        var r = Ocirun.Exec("/bin/sh", ["-c", "exec \"$@\" </dev/null >\"$0\" 2>&1", log, Ocirun.DefaultBinary, "--root", b.StateRoot, .. args]);
        return new CommandResult(r.ExitCode, "", File.Exists(log) ? File.ReadAllText(log) : "");
    }

    /// <summary>The container's cgroup directories, from its state.json.</summary>
    private static Dictionary<string, string> Paths(CgroupTestBundle b)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(b.StateRoot, b.Id, "state.json")));
        return doc.RootElement.GetProperty("cgroup").GetProperty("paths").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
    }

    /// <summary>The directory of <paramref name="controller"/> (v1: its hierarchy; v2: the one directory).</summary>
    private static string Dir(Dictionary<string, string> paths, string controller) =>
        V2 ? paths[""] : paths.First(p => p.Key.Split(',').Contains(controller)).Value;

    private static string ReadFile(Dictionary<string, string> paths, string controller, string v1File, string v2File) =>
        File.ReadAllText(Path.Combine(Dir(paths, controller), V2 ? v2File : v1File)).Trim();

    private static JsonElement Stats(CgroupTestBundle b)
    {
        var r = Ok(Oci(b).Run("events", "--stats", b.Id));
        var doc = JsonDocument.Parse(r.Stdout);
        doc.RootElement.GetProperty("type").GetString().Should().Be("stats");
        doc.RootElement.GetProperty("id").GetString().Should().Be(b.Id);
        return doc.RootElement.GetProperty("data").Clone();
    }

    private static ulong CpuTotal(CgroupTestBundle b) => Stats(b).GetProperty("cpu").GetProperty("usage").GetProperty("total").GetUInt64();

    private static string Status(CgroupTestBundle b)
    {
        using var doc = JsonDocument.Parse(Ok(Oci(b).Run("state", b.Id)).Stdout);
        return doc.RootElement.GetProperty("status").GetString()!;
    }

    [Fact]
    public void A_memory_hog_is_oom_killed_under_a_16MiB_limit()
    {
        using var b = new CgroupTestBundle("dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1");
        b.Resources.Memory = new LinuxMemory { Limit = 16 << 20, Swap = 16 << 20 };
        b.Save();
        var r = Oci(b).Run("run", "-b", b.Bundle, b.Id);
        r.ExitCode.Should().Be(137, "dd is SIGKILLed by the OOM killer: " + r);
    }

    [Fact]
    public void A_fork_loop_is_stopped_by_pids_limit()
    {
        using var b = new CgroupTestBundle("sh", "-c", "i=0; while [ $i -lt 40 ]; do sleep 30 & i=$((i+1)); echo $i; done");
        b.Resources.Pids = new LinuxPids { Limit = 10 };
        b.Save();
        var r = Oci(b).Run("run", "-b", b.Bundle, b.Id);
        r.ExitCode.Should().NotBe(0, r.ToString());
        r.Stderr.Should().Contain("can't fork");
        var forks = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).DefaultIfEmpty(0).Max();
        forks.Should().BeLessThan(10, "sh itself and at most 9 sleeps fit in 10 tasks");
    }

    [Fact]
    public void Cpu_values_are_in_the_files_and_update_changes_them_on_a_running_container()
    {
        using var b = new CgroupTestBundle("sleep", "1000");
        b.Resources.Cpu = new LinuxCpu { Shares = 512, Quota = 50000, Period = 100000, Cpus = "0", Mems = "0" };
        b.Resources.Memory = new LinuxMemory { Limit = 128 << 20 };
        b.Resources.Pids = new LinuxPids { Limit = 20 };
        b.Save();
        var oci = Oci(b);
        Ok(Detached(b, "run", "-d", "-b", b.Bundle, b.Id));
        try
        {
            var p = Paths(b);
            ReadFile(p, "cpu", "cpu.shares", "cpu.weight").Should().Be(V2 ? "20" : "512");
            ReadFile(p, "cpu", "cpu.cfs_quota_us", "cpu.max").Should().Be(V2 ? "50000 100000" : "50000");
            ReadFile(p, "cpuset", "cpuset.cpus", "cpuset.cpus").Should().Be("0");
            ReadFile(p, "memory", "memory.limit_in_bytes", "memory.max").Should().Be((128 << 20).ToString(CultureInfo.InvariantCulture));
            ReadFile(p, "pids", "pids.max", "pids.max").Should().Be("20");

            var cpus = Environment.ProcessorCount > 1 ? "0-1" : "0";
            Ok(oci.Run("update", "--cpu-share", "1024", "--cpu-quota", "20000", "--cpu-period", "50000", "--cpuset-cpus", cpus,
                "--memory", "64m", "--pids-limit", "50", b.Id));
            ReadFile(p, "cpu", "cpu.shares", "cpu.weight").Should().Be(V2 ? "39" : "1024");
            ReadFile(p, "cpu", "cpu.cfs_quota_us", "cpu.max").Should().Be(V2 ? "20000 50000" : "20000");
            if (!V2) ReadFile(p, "cpu", "cpu.cfs_period_us", "").Should().Be("50000");
            ReadFile(p, "cpuset", "cpuset.cpus", "cpuset.cpus").Should().Be(cpus);
            ReadFile(p, "memory", "memory.limit_in_bytes", "memory.max").Should().Be((64 << 20).ToString(CultureInfo.InvariantCulture));
            ReadFile(p, "pids", "pids.max", "pids.max").Should().Be("50");

            // -r -: JSON on stdin; the period in force is kept when only the quota changes.
            var r = Ocirun.Exec(oci.Binary, ["--root", b.StateRoot, "update", "-r", "-", b.Id], stdin: "{\"cpu\":{\"quota\":-1}}");
            Ok(r);
            ReadFile(p, "cpu", "cpu.cfs_quota_us", "cpu.max").Should().Be(V2 ? "max 50000" : "-1");

        }
        finally
        {
            oci.Run("delete", "-f", b.Id);
        }
    }

    [Fact]
    public void Pause_freezes_a_busy_loop_and_resume_thaws_it()
    {
        using var b = new CgroupTestBundle("sh", "-c", "while :; do :; done");
        var oci = Oci(b);
        Ok(Detached(b, "run", "-d", "-b", b.Bundle, b.Id));
        try
        {
            Ok(oci.Run("pause", b.Id));
            Status(b).Should().Be("paused");
            var frozen = CpuTotal(b);
            Thread.Sleep(300);
            CpuTotal(b).Should().Be(frozen, "no CPU time is used while frozen");
            oci.Run("pause", b.Id).Stderr.Should().Contain("container not running");

            Ok(oci.Run("resume", b.Id));
            Status(b).Should().Be("running");
            Thread.Sleep(300);
            CpuTotal(b).Should().BeGreaterThan(frozen);
            oci.Run("resume", b.Id).Stderr.Should().Contain("container not paused");
        }
        finally
        {
            oci.Run("delete", "-f", b.Id);
        }
    }

    [Fact]
    public void A_paused_container_can_be_deleted_with_force()
    {
        using var b = new CgroupTestBundle("sleep", "1000");
        var oci = Oci(b);
        Ok(Detached(b, "run", "-d", "-b", b.Bundle, b.Id));
        var paths = Paths(b);
        Ok(oci.Run("pause", b.Id));
        Ok(oci.Run("delete", "-f", b.Id));
        paths.Values.Should().OnlyContain(d => !Directory.Exists(d));
    }

    [Fact]
    public void Dev_null_is_usable_and_a_device_outside_the_allow_list_is_refused()
    {
        using var b = new CgroupTestBundle("sh", "-c", "echo x > /dev/null && echo null-ok; head -c1 /dev/sda >/dev/null; echo sda=$?");
        b.Spec.Linux!.Devices = [new LinuxDevice { Path = "/dev/sda", Type = "b", Major = 8, Minor = 0, FileMode = 0x1b0 }];
        b.Save();
        var r = Oci(b).Run("run", "-b", b.Bundle, b.Id);
        Ok(r);
        r.Stdout.Should().Contain("null-ok").And.Contain("sda=1");
        r.Stderr.Should().Contain("Operation not permitted");
    }

    [Fact]
    public void The_created_init_and_an_exec_process_are_in_every_cgroup_of_the_container_cgroup2_included()
    {
        // v1 hierarchies are joined through their tasks file (the thread that execs), a hybrid host's cgroup2 directory
        // at birth (CLONE_INTO_CGROUP), a v2 host's through cgroup.procs: whichever way, each one lists the process.
        using var b = new CgroupTestBundle("sleep", "1000");
        var oci = Oci(b);
        Ok(Detached(b, "create", "-b", b.Bundle, b.Id));
        try
        {
            using var state = JsonDocument.Parse(oci.Run("state", b.Id).Stdout);
            var init = state.RootElement.GetProperty("pid").GetInt32().ToString(CultureInfo.InvariantCulture);
            var paths = Paths(b);
            if (!V2) paths.Keys.Should().Contain("", "this hybrid host has a cgroup2 hierarchy");
            foreach (var (hierarchy, dir) in paths)
                File.ReadAllLines(Path.Combine(dir, "cgroup.procs")).Should().Contain(init, $"the created init is in {hierarchy} ({dir})");
            Ok(oci.Run("start", b.Id));
            var pidFile = Path.Combine(b.Dir, "exec.pid");
            Ok(Detached(b, "exec", "-d", "--pid-file", pidFile, b.Id, "sleep", "1000"));
            var exec = File.ReadAllText(pidFile).Trim();
            foreach (var (hierarchy, dir) in paths)
                File.ReadAllLines(Path.Combine(dir, "cgroup.procs")).Should().Contain(exec, $"the exec'd process is in {hierarchy} ({dir})");
        }
        finally
        {
            oci.Run("delete", "-f", b.Id);
        }
    }

    [Fact]
    public void Delete_removes_child_cgroups_made_under_the_container_deepest_first()
    {
        using var b = new CgroupTestBundle("sleep", "1000");
        var oci = Oci(b);
        Ok(Detached(b, "run", "-d", "-b", b.Bundle, b.Id));
        var paths = Paths(b);
        // What a container with cgroup delegation (systemd inside, a nested runtime) leaves: children, grandchildren.
        foreach (var dir in paths.Values) Directory.CreateDirectory(Path.Combine(dir, "child", "grandchild"));
        Ok(oci.Run("delete", "-f", b.Id));
        paths.Values.Should().OnlyContain(d => !Directory.Exists(d));
    }

    [Fact]
    public void Delete_leaves_no_cgroup_directory_behind()
    {
        using var b = new CgroupTestBundle("sleep", "1000");
        var oci = Oci(b);
        Ok(Detached(b, "run", "-d", "-b", b.Bundle, b.Id));
        var paths = Paths(b);
        paths.Should().NotBeEmpty();
        paths.Values.Should().OnlyContain(d => Directory.Exists(d));
        paths.Values.Should().OnlyContain(d => Path.GetFileName(d) == b.Id, "no cgroupsPath means the relative path ID, as runc");
        Ok(oci.Run("delete", "-f", b.Id));
        paths.Values.Should().OnlyContain(d => !Directory.Exists(d));
    }

    [Fact]
    public void A_failed_create_leaves_no_cgroup_directory_behind()
    {
        using var b = new CgroupTestBundle("/no/such/program");
        var expected = CgroupManagerFactory.Create(b.Id, null).Paths.Values.ToList(); // this process's cgroups are ocirun's
        var r = Detached(b, "create", "-b", b.Bundle, b.Id);
        r.ExitCode.Should().Be(1);
        expected.Should().OnlyContain(d => !Directory.Exists(d));

        b.Resources.Cpu = new LinuxCpu { Shares = 1_000_000_000 };
        b.Spec.Process!.Args = ["true"];
        b.Save();
        r = Detached(b, "create", "-b", b.Bundle, b.Id);
        r.ExitCode.Should().Be(1);
        r.Stderr.Should().StartWith("linux.resources.cpu.shares: ", r.ToString());
        expected.Should().OnlyContain(d => !Directory.Exists(d));
        Directory.Exists(Path.Combine(b.StateRoot, b.Id)).Should().BeFalse();
    }

    [Fact]
    public void A_1MiB_memory_limit_runs_true_because_the_init_joins_its_cgroups_last()
    {
        using var b = new CgroupTestBundle("true");
        b.Resources.Memory = new LinuxMemory { Limit = 1 << 20 };
        b.Save();
        for (var i = 0; i < 3; i++)
        {
            var r = Oci(b).Run("run", "-b", b.Bundle, b.Id + "-" + i);
            r.ExitCode.Should().Be(0, r.ToString());
        }
    }

    [Fact]
    public void Events_stats_has_runcs_shape()
    {
        using var b = new CgroupTestBundle("sleep", "1000");
        b.Resources.Pids = new LinuxPids { Limit = 7 };
        b.Save();
        var oci = Oci(b);
        Ok(Detached(b, "run", "-d", "-b", b.Bundle, b.Id));
        try
        {
            var data = Stats(b);
            foreach (var key in new[] { "cpu", "memory", "pids", "blkio", "hugetlb" }) data.TryGetProperty(key, out _).Should().BeTrue(key);
            data.GetProperty("pids").GetProperty("current").GetUInt64().Should().Be(1);
            data.GetProperty("pids").GetProperty("limit").GetUInt64().Should().Be(7);
            data.GetProperty("memory").GetProperty("usage").GetProperty("usage").GetUInt64().Should().BeGreaterThan(0);
        }
        finally
        {
            oci.Run("delete", "-f", b.Id);
        }
    }

    [Fact]
    public void Events_reports_an_oom_kill()
    {
        using var b = new CgroupTestBundle("dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1");
        b.Resources.Memory = new LinuxMemory { Limit = 16 << 20, Swap = 16 << 20 };
        b.Save();
        var oci = Oci(b);
        Ok(Detached(b, "create", "-b", b.Bundle, b.Id));
        try
        {
            var start = new ProcessStartInfo(oci.Binary) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in new[] { "--root", b.StateRoot, "events", "--interval", "1h", b.Id }) start.ArgumentList.Add(a);
            using var events = Reaper.Spawn(start);
            try
            {
                var first = events.StandardOutput.ReadLine(); // the first stats event: the OOM watch is in place
                first.Should().Contain("\"type\":\"stats\"");
                Ok(oci.Run("start", b.Id));
                var rest = events.StandardOutput.ReadToEnd(); // events ends when the init exits
                events.WaitForExit(30_000).Should().BeTrue();
                rest.Should().Contain($"{{\"type\":\"oom\",\"id\":\"{b.Id}\"}}");
            }
            finally
            {
                Reaper.Forget(events.Id);
            }
        }
        finally
        {
            oci.Run("delete", "-f", b.Id);
        }
    }

    [Fact]
    public void Without_a_pid_namespace_delete_kills_every_process_of_the_cgroup()
    {
        using var b = new CgroupTestBundle("sh", "-c", "sleep 1000 & sleep 1000 & wait");
        b.Spec.Linux!.Namespaces!.RemoveAll(n => n.Type == NamespaceType.Pid);
        b.Save();
        var oci = Oci(b);
        Ok(Detached(b, "run", "-d", "-b", b.Bundle, b.Id));
        var paths = Paths(b);
        var procs = Path.Combine(Dir(paths, "pids"), "cgroup.procs");
        for (var i = 0; i < 500 && File.ReadAllLines(procs).Length < 3; i++) Thread.Sleep(10);
        var pids = File.ReadAllLines(procs).Select(int.Parse).ToList();
        pids.Should().HaveCount(3, "sh and two sleeps");
        Ok(oci.Run("delete", "-f", b.Id));
        foreach (var pid in pids)
        {
            var gone = false;
            for (var i = 0; i < 500 && !gone; i++)
            {
                gone = !File.Exists($"/proc/{pid}/stat") || File.ReadAllText($"/proc/{pid}/stat").Split(' ')[2] == "Z";
                if (!gone) Thread.Sleep(10);
            }
            gone.Should().BeTrue($"pid {pid} was in the container's cgroup");
        }
        paths.Values.Should().OnlyContain(d => !Directory.Exists(d));
    }

    [Fact]
    public void Kill_all_signals_every_process_of_the_cgroup()
    {
        using var b = new CgroupTestBundle("sh", "-c", "trap 'echo term' TERM; sleep 1000 & wait; sleep 1000");
        b.Spec.Linux!.Namespaces!.RemoveAll(n => n.Type == NamespaceType.Pid);
        b.Save();
        var oci = Oci(b);
        Ok(Detached(b, "run", "-d", "-b", b.Bundle, b.Id));
        try
        {
            var procs = Path.Combine(Dir(Paths(b), "pids"), "cgroup.procs");
            for (var i = 0; i < 500 && File.ReadAllLines(procs).Length < 2; i++) Thread.Sleep(10);
            Ok(oci.Run("kill", "--all", b.Id, "KILL"));
            for (var i = 0; i < 500 && File.ReadAllLines(procs).Length > 0; i++) Thread.Sleep(10);
            File.ReadAllLines(procs).Should().BeEmpty();
        }
        finally
        {
            oci.Run("delete", "-f", b.Id);
        }
    }

    [Fact]
    public void The_container_sees_its_own_cgroups_and_a_cgroup_namespace_roots_them()
    {
        using var b = new CgroupTestBundle("sh", "-c", "cat /proc/self/cgroup; echo limit=$(cat /sys/fs/cgroup/" + (V2 ? "" : "pids/") + "pids.max)");
        b.Resources.Pids = new LinuxPids { Limit = 42 };
        b.Save();
        var r = Ok(Oci(b).Run("run", "-b", b.Bundle, b.Id));
        r.Stdout.Should().Contain("limit=42", "the cgroup mount shows the container's own cgroup");
        r.Stdout.Should().Contain("/" + b.Id, "no cgroup namespace: host paths");

        b.Spec.Linux!.Namespaces!.Add(new LinuxNamespace { Type = NamespaceType.Cgroup });
        b.Save();
        r = Ok(Oci(b).Run("run", "-b", b.Bundle, b.Id + "-ns"));
        r.Stdout.Should().Contain("limit=42");
        var lines = r.Stdout.Split('\n').Where(l => l.Contains(':', StringComparison.Ordinal) && !l.StartsWith("limit", StringComparison.Ordinal)).ToList();
        lines.Should().NotBeEmpty().And.OnlyContain(l => l.EndsWith(":/", StringComparison.Ordinal), "the namespace is rooted at the container's cgroups");
    }

    [Fact]
    public void Features_report_both_cgroup_versions_and_both_systemd_drivers()
    {
        var r = Harness.Ocirun.Exec(Harness.Ocirun.DefaultBinary, ["features"]);
        r.ExitCode.Should().Be(0, r.ToString());
        var cgroup = SpecSerializer.ParseFeatures(System.Text.Encoding.UTF8.GetBytes(r.Stdout)).Linux!.Cgroup;
        cgroup.Should().NotBeNull("features-linux.md#cgroup: runc lists its drivers");
        (cgroup!.V1, cgroup.V2, cgroup.Systemd, cgroup.SystemdUser).Should().Be((true, true, true, true));
    }

    [Fact]
    public void The_systemd_cgroup_driver_needs_systemd_as_init()
    {
        // This host has no systemd as PID 1 (the driver itself runs in the VM stage, conformance/vm): runc's one line.
        if (Directory.Exists("/run/systemd/system")) return;
        using var b = new CgroupTestBundle("true");
        var r = Oci(b).Run("--systemd-cgroup", "run", "-b", b.Bundle, b.Id);
        r.ExitCode.Should().Be(1);
        r.Stderr.Trim().Split('\n').Should().ContainSingle().Which.Should().Contain("systemd not running on this host, cannot use systemd cgroups manager");
        Oci(b).Run("state", b.Id).ExitCode.Should().NotBe(0, "nothing is left behind");
    }
}
