using System.Text.Json;
using OciRuntime.Cgroups;
using OciRuntime.Interop;
using OciRuntime.Runtime.Tests.Harness;
using OciRuntime.Spec;

namespace OciRuntime.Runtime.Tests;

/// <summary>
/// A cgroup2 hierarchy mounted in a temporary directory: ocirun pointed at it (OCIRUN_CGROUP_ROOT) runs in pure v2 mode.
/// On this hybrid VM the v2 controllers (memory, pids, cpu) are bound to v1, so limits cannot be exercised here, but
/// everything of v2 that needs no controller is: the late join through cgroup.procs, cgroup.freeze, cgroup.kill, the
/// eBPF device filter (enforced: cgroup-bpf runs on the v2 hierarchy whatever v1 does), the cgroup mount, cgroupns.
/// </summary>
public sealed class Cgroup2Root : IDisposable
{
    public Cgroup2Root()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "ocirun-rtcg2-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(Path);
        Libc.Mount("none", Path, "cgroup2", MountFlags.None, null);
    }

    public string Path { get; }

    public void Dispose()
    {
        _ = Libc.umount2(Path, Libc.MNT_DETACH);
        try { Directory.Delete(Path); } catch (IOException) { }
    }
}

public sealed class CgroupV2IntegrationTests(Cgroup2Root cgroup2) : IClassFixture<Cgroup2Root>
{
    private CommandResult Oci(CgroupTestBundle b, params string[] args) =>
        Ocirun.Exec("/usr/bin/env", [$"{CgroupHost.RootVariable}={cgroup2.Path}", Ocirun.DefaultBinary, "--root", b.StateRoot, .. args]);

    private CommandResult Detached(CgroupTestBundle b, params string[] args)
    {
        var log = Path.Combine(b.Dir, "detached.log");
        var r = Ocirun.Exec("/bin/sh", ["-c", "exec \"$@\" </dev/null >\"$0\" 2>&1", log, "/usr/bin/env", $"{CgroupHost.RootVariable}={cgroup2.Path}",
            Ocirun.DefaultBinary, "--root", b.StateRoot, .. args]);
        return new CommandResult(r.ExitCode, "", File.Exists(log) ? File.ReadAllText(log) : "");
    }

    private static CommandResult Ok(CommandResult r)
    {
        r.ExitCode.Should().Be(0, r.ToString());
        return r;
    }

    private static JsonElement CgroupState(CgroupTestBundle b)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(b.StateRoot, b.Id, "state.json")));
        return doc.RootElement.GetProperty("cgroup").Clone();
    }

    [Fact]
    public void The_container_lives_in_its_v2_cgroup_behind_its_device_filter()
    {
        using var b = new CgroupTestBundle("sh", "-c",
            "cat /proc/self/cgroup; cat /sys/fs/cgroup/cgroup.procs; echo x > /dev/null && echo null-ok; head -c1 /dev/sda >/dev/null; echo sda=$?");
        b.Spec.Linux!.Devices = [new LinuxDevice { Path = "/dev/sda", Type = "b", Major = 8, Minor = 0, FileMode = 0x1b0 }];
        b.Spec.Linux.Namespaces!.Add(new LinuxNamespace { Type = NamespaceType.Cgroup });
        b.Save();
        var r = Ok(Oci(b, "run", "-b", b.Bundle, b.Id));
        r.Stdout.Should().Contain("0::/\n", "the cgroup namespace is rooted at the container's cgroup");
        r.Stdout.Should().Contain("\n1\n", "the cgroup mount is the container's own cgroup, holding its pid 1");
        r.Stdout.Should().Contain("null-ok").And.Contain("sda=1");
        r.Stderr.Should().Contain("Operation not permitted");
        Directory.Exists(Path.Combine(cgroup2.Path, b.Id)).Should().BeFalse("run deletes the container");
    }

    [Fact]
    public void Pause_resume_kill_all_and_delete_on_v2()
    {
        using var b = new CgroupTestBundle("sh", "-c", "while :; do :; done");
        b.Spec.Linux!.Namespaces!.RemoveAll(n => n.Type == NamespaceType.Pid);
        b.Save();
        Ok(Detached(b, "run", "-d", "-b", b.Bundle, b.Id));
        var state = CgroupState(b);
        state.GetProperty("mode").GetString().Should().Be("v2");
        var dir = state.GetProperty("paths").GetProperty("").GetString()!;
        dir.Should().Be(Path.Combine(cgroup2.Path, b.Id));
        try
        {
            File.ReadAllText(Path.Combine(dir, "cgroup.procs")).Trim().Should().NotBeEmpty("the init joined through its cgroup.procs fd");
            Ok(Oci(b, "pause", b.Id));
            File.ReadAllText(Path.Combine(dir, "cgroup.events")).Should().Contain("frozen 1");
            JsonDocument.Parse(Ok(Oci(b, "state", b.Id)).Stdout).RootElement.GetProperty("status").GetString().Should().Be("paused");
            var usage = CpuUsage(dir);
            Thread.Sleep(300);
            CpuUsage(dir).Should().Be(usage);
            Ok(Oci(b, "resume", b.Id));
            Thread.Sleep(300);
            CpuUsage(dir).Should().BeGreaterThan(usage);

            Ok(Oci(b, "kill", "--all", b.Id, "KILL")); // cgroup.kill
            for (var i = 0; i < 500 && File.ReadAllText(Path.Combine(dir, "cgroup.procs")).Trim().Length > 0; i++) Thread.Sleep(10);
            File.ReadAllText(Path.Combine(dir, "cgroup.procs")).Trim().Should().BeEmpty();
        }
        finally
        {
            Oci(b, "delete", "-f", b.Id);
        }
        Directory.Exists(dir).Should().BeFalse();
    }

    private static ulong CpuUsage(string dir) =>
        ulong.Parse(File.ReadAllLines(Path.Combine(dir, "cpu.stat")).First(l => l.StartsWith("usage_usec ", StringComparison.Ordinal))["usage_usec ".Length..]);

    [Fact]
    public void Limits_need_their_controller_and_the_error_says_so()
    {
        using var b = new CgroupTestBundle("true");
        b.Resources.Pids = new LinuxPids { Limit = 5 };
        b.Save();
        var r = Oci(b, "run", "-b", b.Bundle, b.Id);
        r.ExitCode.Should().Be(1);
        r.Stderr.Should().StartWith("linux.resources.pids.limit: the pids controller is not available");
        Directory.Exists(Path.Combine(cgroup2.Path, b.Id)).Should().BeFalse("a failed create leaves no cgroup");
    }
}
