using OciRuntime.Spec;

namespace OciRuntime.Cgroups.Tests;

public sealed class ConversionTests
{
    [Theory]
    [InlineData(0UL, 0UL)]
    [InlineData(2UL, 1UL)]
    [InlineData(1024UL, 39UL)]
    [InlineData(262144UL, 10000UL)]
    public void Cpu_shares_to_weight_is_runcs_formula(ulong shares, ulong weight) =>
        ResourceConversions.CpuSharesToWeight(shares).Should().Be(weight);

    [Theory]
    [InlineData(10, 1UL)]
    [InlineData(500, 4950UL)]
    [InlineData(1000, 10000UL)]
    public void Blkio_weight_to_io_weight(ushort weight, ulong io) => ResourceConversions.BlkioWeightToIoWeight(weight).Should().Be(io);

    [Theory]
    [InlineData(0L, -1L, -1L)]
    [InlineData(-1L, 100L, -1L)]
    [InlineData(300L, 100L, 200L)]
    [InlineData(100L, 100L, 0L)]
    [InlineData(0L, 100L, 0L)]
    public void Swap_to_v2(long swap, long limit, long expected) => ResourceConversions.MemorySwapToV2(swap, limit).Should().Be(expected);

    [Theory]
    [InlineData("a/../../b", "b")]
    [InlineData("/a/../../b", "/b")]
    [InlineData("../x", "x")]
    [InlineData("/", "/")]
    [InlineData("./c1//", "c1")]
    public void Clean_paths_as_runc(string path, string expected) => CgroupPaths.Clean(path).Should().Be(expected);

    [Fact]
    public void Factory_refuses_the_root_path_and_takes_a_systemd_path_as_a_plain_one()
    {
        using var tree = FakeCgroupTree.V2();
        ((Action)(() => CgroupManagerFactory.Create("c", "/", tree.Host))).Should().Throw<CgroupException>().WithMessage("linux.cgroupsPath: *root cgroup");
        // Without --systemd-cgroup, runc takes "slice:prefix:name" as a relative cgroupfs path.
        var m = CgroupManagerFactory.Create("c", "system.slice:ocirun:c", tree.Host);
        m.Paths[""].Should().EndWith("/system.slice:ocirun:c");
    }

    [Fact]
    public void Merge_keeps_what_the_update_does_not_set()
    {
        var current = new LinuxResources
        {
            Cpu = new LinuxCpu { Shares = 512, Quota = 50000, Period = 100000, Cpus = "0" },
            Memory = new LinuxMemory { Limit = 100, Swap = 200 },
            Pids = new LinuxPids { Limit = 10 },
            Devices = [new LinuxDeviceCgroup { Allow = false, Access = "rwm" }],
        };
        var merged = ResourceMerge.Merge(current, new LinuxResources { Cpu = new LinuxCpu { Quota = 20000 }, Memory = new LinuxMemory { Limit = -1 } });
        merged.Cpu!.Quota.Should().Be(20000);
        merged.Cpu.Period.Should().Be(100000);
        merged.Cpu.Shares.Should().Be(512);
        merged.Cpu.Cpus.Should().Be("0");
        merged.Memory!.Limit.Should().Be(-1);
        merged.Memory.Swap.Should().Be(-1, "unlimited memory without a swap value lifts swap too, as runc update");
        merged.Pids!.Limit.Should().Be(10);
        merged.Devices.Should().HaveCount(1);
        current.Cpu.Quota.Should().Be(50000, "the input is not modified");
        // The whole block as containerd's CRI plugin sends it: its devices are ignored (runc 1.1 keeps create's rules).
        var withDevices = ResourceMerge.Merge(current, new LinuxResources
        {
            Devices = [new LinuxDeviceCgroup { Allow = true, Access = "rwm" }, new LinuxDeviceCgroup { Allow = true, Type = "c", Access = "bogus" }],
            Pids = new LinuxPids { Limit = 30 },
        });
        withDevices.Devices.Should().ContainSingle().Which.Allow.Should().BeFalse("create's device rules stay");
        withDevices.Pids!.Limit.Should().Be(30);
    }

    [Fact]
    public void Host_detection_parses_mountinfo_and_proc_cgroup()
    {
        var own = CgroupHost.ParseProcCgroup(["4:memory:/a", "3:cpu,cpuacct:/", "1:name=systemd:/user", "0::/x"]);
        var hierarchies = CgroupHost.V1Hierarchies("/sys/fs/cgroup",
        [
            "30 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid - cgroup cgroup rw,cpu,cpuacct",
            "31 25 0:27 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory",
            "32 25 0:28 / /sys/fs/cgroup/systemd rw,nosuid - cgroup cgroup rw,xattr,name=systemd",
            "33 25 0:29 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw",
            "34 25 0:30 / /mnt/other rw - cgroup cgroup rw,pids",
        ], own);
        hierarchies.Select(h => h.Name).Should().Equal("cpu,cpuacct", "memory", "systemd");
        hierarchies[0].Controllers.Should().Equal("cpu", "cpuacct");
        hierarchies[2].Has("name=systemd").Should().BeTrue();
    }
}
