using OciRuntime.Cgroups;
using OciRuntime.Runtime.Tests.Harness;
using OciRuntime.Spec;

namespace OciRuntime.Runtime.Tests;

/// <summary>The cgroup side of the Kubernetes path (containerd's CRI plugin): update with the whole resources block,
/// pausing without holding a container's lock, pre-existing cgroups, cpuset inheritance.</summary>
public sealed partial class CgroupIntegrationTests
{
    /// <summary>The cgroup2 directory (v2) or the v1 directory of <paramref name="controller"/> for cgroupsPath <paramref name="path"/>.</summary>
    private static string HostDir(string controller, string path) =>
        (V2 ? CgroupHost.Real.UnifiedMount! : CgroupHost.Real.HierarchyOf(controller)!.MountPoint) + path;

    [Fact]
    public void Update_accepts_the_whole_resources_block_the_CRI_plugin_sends_and_keeps_the_device_rules()
    {
        using var b = new CgroupTestBundle("sleep", "1000");
        b.Resources.Memory = new LinuxMemory { Limit = 128 << 20 };
        b.Save();
        var oci = Oci(b);
        Ok(Detached(b, "run", "-d", "-b", b.Bundle, b.Id));
        try
        {
            // As containerd's UpdateContainerResources sends it (go-runc: update --resources - ID, the JSON on stdin):
            // the devices of the spec included, with access strings runc takes as they are.
            const string block = """
                {"devices":[{"allow":false,"access":"rwm"},{"allow":true,"type":"c","major":1,"minor":3,"access":"mrw"},
                 {"allow":false,"type":"c","major":1,"minor":5,"access":""}],
                 "memory":{"limit":67108864},"cpu":{"shares":512,"quota":50000,"period":100000},"pids":{"limit":100},
                 "hugepageLimits":[]}
                """;
            var r = Ocirun.Exec(oci.Binary, ["--root", b.StateRoot, "update", "--resources", "-", b.Id], stdin: block);
            Ok(r);
            var p = Paths(b);
            ReadFile(p, "memory", "memory.limit_in_bytes", "memory.max").Should().Be("67108864");
            ReadFile(p, "pids", "pids.max", "pids.max").Should().Be("100");
            // The device rules of create stay (runc 1.1's update ignores devices): /dev/zero (1:5) is still writable.
            Ok(oci.Run("exec", b.Id, "sh", "-c", "echo x > /dev/zero && echo x > /dev/null"));
        }
        finally
        {
            oci.Run("delete", "-f", b.Id);
        }
    }

    [Fact]
    public void Resume_works_while_an_exec_with_ignore_paused_waits_on_the_frozen_container()
    {
        using var b = new CgroupTestBundle("sleep", "1000");
        var oci = Oci(b);
        Ok(Detached(b, "run", "-d", "-b", b.Bundle, b.Id));
        try
        {
            Ok(oci.Run("pause", b.Id));
            using var exec = BackgroundCommand.Start(oci.Binary, ["--root", b.StateRoot, "exec", "--ignore-paused", b.Id, "sh", "-c", "echo exec-ran"]);
            // The exec'd process freezes as it joins the frozen cgroups; the exec waits for it.
            Thread.Sleep(500);

            // A resume that waited for the exec's lock would never return (the hang guard is this time limit).
            var resume = Ocirun.Exec(oci.Binary, ["--root", b.StateRoot, "resume", b.Id], timeoutMs: 15_000);

            Ok(resume);
            var done = exec.Wait(30_000);
            done.ExitCode.Should().Be(0, done.ToString());
            done.Stdout.Should().Contain("exec-ran");
            Status(b).Should().Be("running");
        }
        finally
        {
            oci.Run("resume", b.Id);
            oci.Run("delete", "-f", b.Id);
        }
    }

    [Fact]
    public void Kill_KILL_of_a_paused_container_thaws_it_so_the_init_dies()
    {
        using var b = new CgroupTestBundle("sleep", "1000");
        var oci = Oci(b);
        Ok(Detached(b, "run", "-d", "-b", b.Bundle, b.Id));
        try
        {
            Ok(oci.Run("pause", b.Id));

            Ok(oci.Run("kill", b.Id, "KILL"));

            // A frozen task gets SIGKILL only once thawed (v1): without the thaw it stays "paused".
            TestEnv.Eventually(() => Status(b) == "stopped").Should().BeTrue($"the status is {Status(b)}");
        }
        finally
        {
            oci.Run("resume", b.Id);
            oci.Run("delete", "-f", b.Id);
        }
    }

    [Fact]
    public void A_frozen_pre_existing_cgroup_is_refused_without_hanging()
    {
        using var b = new CgroupTestBundle("true");
        var path = "/ocirun-frozen-" + b.Id;
        b.Spec.Linux!.CgroupsPath = path;
        b.Save();
        var freezer = HostDir("freezer", path);
        Directory.CreateDirectory(freezer);
        try
        {
            File.WriteAllText(Path.Combine(freezer, V2 ? "cgroup.freeze" : "freezer.state"), V2 ? "1" : "FROZEN");

            var r = Ocirun.Exec(Ocirun.DefaultBinary, ["--root", b.StateRoot, "run", "-b", b.Bundle, b.Id], timeoutMs: 20_000);

            r.ExitCode.Should().Be(1, r.ToString());
            r.Stderr.Should().Contain("container's cgroup unexpectedly frozen");
            Directory.Exists(Path.Combine(b.StateRoot, b.Id)).Should().BeFalse("nothing is left");
        }
        finally
        {
            Directory.Delete(freezer);
        }
    }

    [Fact]
    public void A_non_empty_pre_existing_cgroup_gets_runcs_warning()
    {
        using var b = new CgroupTestBundle("true");
        var path = "/ocirun-nonempty-" + b.Id;
        b.Spec.Linux!.CgroupsPath = path;
        b.Save();
        // Where ocirun (and runc) look for the cgroup's processes on v1: the freezer hierarchy.
        var dir = HostDir("freezer", path);
        Directory.CreateDirectory(dir);
        using var sleeper = System.Diagnostics.Process.Start("/bin/sleep", "1000");
        try
        {
            File.WriteAllText(Path.Combine(dir, "cgroup.procs"), sleeper.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));

            var r = Oci(b).Run("run", "-b", b.Bundle, b.Id);

            r.ExitCode.Should().Be(0, r.ToString());
            r.Stderr.Should().Contain("container's cgroup is not empty: 1 process(es) found");
        }
        finally
        {
            sleeper.Kill();
            sleeper.WaitForExit();
            TestEnv.Eventually(() => { try { Directory.Delete(dir); return true; } catch (IOException) { return false; } });
        }
    }

    [Fact]
    public void A_cgroup_under_a_parent_whose_cpuset_is_empty_gets_the_nearest_ancestors_cpus_and_mems()
    {
        if (V2) return; // cgroup v1 only: cgroup2's cpuset is inherited by the kernel
        using var b = new CgroupTestBundle("cat", "/sys/fs/cgroup/cpuset/cpuset.cpus");
        // A pod cgroup made by someone else: a new v1 cpuset cgroup has empty cpus and mems.
        var parent = "/ocirun-pod-" + b.Id;
        b.Spec.Linux!.CgroupsPath = parent + "/" + b.Id;
        b.Save();
        var cpuset = HostDir("cpuset", parent);
        Directory.CreateDirectory(cpuset);
        try
        {
            File.ReadAllText(Path.Combine(cpuset, "cpuset.cpus")).Trim().Should().BeEmpty("the premise: an empty parent");
            var root = CgroupHost.Real.HierarchyOf("cpuset")!.MountPoint;
            var want = File.ReadAllText(Path.Combine(root, "cpuset.cpus")).Trim();

            var r = Oci(b).Run("run", "-b", b.Bundle, b.Id);

            r.ExitCode.Should().Be(0, r.ToString());
            r.Stdout.Trim().Should().Be(want);
            File.ReadAllText(Path.Combine(cpuset, "cpuset.cpus")).Trim().Should().Be(want, "the parent is filled on the way, as runc does");
        }
        finally
        {
            foreach (var h in CgroupHost.Real.V1)
            {
                if (Directory.Exists(h.MountPoint + parent)) Directory.Delete(h.MountPoint + parent);
            }
        }
    }
}
