using System.Globalization;
using System.Text.Json;
using OciRuntime.Cgroups;
using OciRuntime.Runtime.Tests.Harness;
using OciRuntime.Spec;

namespace OciRuntime.Runtime.Tests;

/// <summary>
/// A cgroup v1 hybrid host's cgroup2 hierarchy (/sys/fs/cgroup/unified), with runc 1.1.5 as the oracle: the container
/// gets a cgroup2 directory of its own, a relative cgroupsPath is taken under the cgroup2 root (runc's
/// GetOwnCgroupPath("") is the hybrid mount point), and nothing is enabled in cgroup.subtree_control unless a field
/// needs a controller that only the cgroup2 hierarchy has; whatever was enabled is gone after delete. Only on hybrid
/// hosts; the subtree_control cases only while the cgroup2 hierarchy offers a controller (hugetlb before anything
/// mounts it as v1).
/// </summary>
public sealed class CgroupHybridTests
{
    private const string Unified = "/sys/fs/cgroup/unified";

    private static bool Hybrid => CgroupHost.Real.Mode == CgroupMode.Hybrid;

    private static bool HugetlbOnCgroup2 =>
        Hybrid && File.ReadAllText(Unified + "/cgroup.controllers").Split(' ', StringSplitOptions.TrimEntries).Contains("hugetlb");

    /// <summary>Runs <paramref name="binary"/> with <paramref name="args"/> from cgroup2 directory <paramref name="cgroup"/> (moved there first), stdio on a log file.</summary>
    private static CommandResult FromCgroup(string cgroup, string binary, string stateRoot, string log, params string[] args)
    {
        var r = Ocirun.Exec("/bin/sh", ["-c", "echo 0 > \"$1/cgroup.procs\" && shift && exec \"$@\" </dev/null >\"$0\" 2>&1", log, cgroup, binary, "--root", stateRoot, .. args]);
        return new CommandResult(r.ExitCode, "", File.Exists(log) ? File.ReadAllText(log) : "");
    }

    private static string Cgroup2Of(int pid) =>
        File.ReadAllLines($"/proc/{pid}/cgroup").Single(l => l.StartsWith("0::", StringComparison.Ordinal))[3..];

    private static int InitPid(string binary, string stateRoot, string id)
    {
        var r = Ocirun.Exec(binary, ["--root", stateRoot, "state", id]);
        r.ExitCode.Should().Be(0, r.ToString());
        using var doc = JsonDocument.Parse(r.Stdout);
        return doc.RootElement.GetProperty("pid").GetInt32();
    }

    /// <summary>Every cgroup.subtree_control of the cgroup2 hierarchy that enables something: directory → value.</summary>
    private static SortedDictionary<string, string> Enabled()
    {
        var map = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var dir in Directory.EnumerateDirectories(Unified, "*", SearchOption.AllDirectories).Prepend(Unified))
        {
            try
            {
                var value = File.ReadAllText(dir + "/cgroup.subtree_control").Trim();
                if (value.Length > 0) map[dir] = value;
            }
            catch (IOException)
            {
                // removed meanwhile (another test's container)
            }
        }
        return map;
    }

    [Fact]
    public void A_relative_cgroupsPath_is_under_the_cgroup2_root_whatever_the_callers_cgroup2_cgroup_as_runc()
    {
        if (!Hybrid) return; // v1 and v2 hosts: nothing of this applies
        // The runtime is started from a cgroup2 cgroup of its own (no controllers there, so it may hold processes).
        var caller = Path.Combine(Unified, "ocirun-hybtest-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(caller);
        using var b = new CgroupTestBundle("sleep", "1000");
        var runcId = b.Id + "-runc";
        try
        {
            var r = FromCgroup(caller, Ocirun.DefaultBinary, b.StateRoot, Path.Combine(b.Dir, "ocirun.log"), "create", "-b", b.Bundle, b.Id);
            r.ExitCode.Should().Be(0, r.ToString());
            Cgroup2Of(InitPid(Ocirun.DefaultBinary, b.StateRoot, b.Id)).Should().Be("/" + b.Id, "no cgroupsPath is the relative path ID, under the cgroup2 root");
            if (File.Exists("/usr/sbin/runc") || File.Exists("/usr/bin/runc"))
            {
                var runcRoot = Path.Combine(b.Dir, "runc-state");
                r = FromCgroup(caller, "runc", runcRoot, Path.Combine(b.Dir, "runc.log"), "create", "-b", b.Bundle, runcId);
                r.ExitCode.Should().Be(0, r.ToString());
                Cgroup2Of(InitPid("runc", runcRoot, runcId)).Should().Be("/" + runcId, "runc, the oracle, from the same cgroup");
                Ocirun.Exec("runc", ["--root", runcRoot, "delete", "-f", runcId]);
            }
        }
        finally
        {
            new Ocirun(Ocirun.DefaultBinary, b.StateRoot).Run("delete", "-f", b.Id);
            for (var i = 0; i < 100 && Directory.Exists(caller); i++)
            {
                try { Directory.Delete(caller); } catch (IOException) { Thread.Sleep(20); }
            }
        }
        Directory.Exists(Path.Combine(Unified, b.Id)).Should().BeFalse("delete removes the container's cgroup2 directory");
    }

    [Fact]
    public void Without_cgroup2_fields_nothing_is_enabled_and_hugepage_limits_enable_hugetlb_until_delete()
    {
        if (!HugetlbOnCgroup2) return; // hugetlb is mounted as v1 here (or no hybrid host): the cgroup2 hierarchy offers nothing to enable
        var before = Enabled();
        var parent = "/ocirun-hybtest-" + Guid.NewGuid().ToString("N")[..8];
        using var b = new CgroupTestBundle("sleep", "1000");
        var oci = new Ocirun(Ocirun.DefaultBinary, b.StateRoot);
        b.Spec.Linux!.CgroupsPath = parent + "/plain";
        b.Save();
        try
        {
            oci.RunDetached(Path.Combine(b.Dir, "run1.log"), "run", "-d", "-b", b.Bundle, b.Id).ExitCode.Should().Be(0);
            Directory.Exists(Unified + parent + "/plain").Should().BeTrue("the container joins a cgroup2 directory of its own, as runc");
            Enabled().Should().Equal(before, "runc enables no controller on a hybrid host's cgroup2 hierarchy");
            oci.Run("delete", "-f", b.Id).ExitCode.Should().Be(0);
            Enabled().Should().Equal(before);

            b.Spec.Linux.CgroupsPath = parent + "/huge";
            b.Resources.HugepageLimits = [new LinuxHugepageLimit { PageSize = "2MB", Limit = 4 << 20 }];
            b.Save();
            var r = oci.RunDetached(Path.Combine(b.Dir, "run2.log"), "run", "-d", "-b", b.Bundle, b.Id);
            r.ExitCode.Should().Be(0, r.ToString());
            File.ReadAllText(Unified + parent + "/huge/hugetlb.2MB.max").Trim().Should().Be((4 << 20).ToString(CultureInfo.InvariantCulture),
                "no v1 hugetlb: the limit goes through the cgroup2 hierarchy");
            oci.Run("delete", "-f", b.Id).ExitCode.Should().Be(0);
            Enabled().Should().Equal(before, "delete disables what the hugepage limits enabled");
            Directory.Exists(Unified + parent).Should().BeFalse();
        }
        finally
        {
            oci.Run("delete", "-f", b.Id);
        }
    }
}
