using OciRuntime.Spec;

namespace OciRuntime.Cgroups.Tests;

/// <summary>The v2 manager against a fake cgroup2 tree: exact files and values (kernel cgroup-v2.rst, runc fs2).</summary>
public sealed class V2ManagerTests : IDisposable
{
    private readonly FakeCgroupTree _tree = FakeCgroupTree.V2();

    public void Dispose() => _tree.Dispose();

    private V2CgroupManager Create(string? cgroupsPath = "/ocirun/c1")
    {
        var m = (V2CgroupManager)CgroupManagerFactory.Create("c1", cgroupsPath, _tree.Host);
        m.Create();
        return m;
    }

    [Fact]
    public void Absolute_path_is_under_the_mount_and_ancestors_get_the_controllers()
    {
        var m = Create();
        m.Dir.Should().Be(_tree.Root + "/ocirun/c1");
        _tree.DirExists("ocirun/c1").Should().BeTrue();
        var line = "+cpuset +cpu +io +memory +hugetlb +pids +rdma +misc";
        _tree.WritesTo("cgroup.subtree_control").Should().Equal(line);
        _tree.WritesTo("ocirun/cgroup.subtree_control").Should().Equal(line);
        _tree.WritesTo("ocirun/c1/cgroup.subtree_control").Should().BeEmpty("the leaf keeps its processes");
        m.State.Created.Should().Equal(_tree.Root + "/ocirun", _tree.Root + "/ocirun/c1");
    }

    [Fact]
    public void Relative_and_default_paths_go_under_the_parent_of_the_callers_cgroup_as_runc_fs2()
    {
        ((V2CgroupManager)CgroupManagerFactory.Create("c1", "pods/c1", _tree.Host)).Dir.Should().Be(_tree.Root + "/user.slice/pods/c1");
        ((V2CgroupManager)CgroupManagerFactory.Create("c1", null, _tree.Host)).Dir.Should().Be(_tree.Root + "/user.slice/c1");
        ((V2CgroupManager)CgroupManagerFactory.Create("c1", "../../../etc", _tree.Host)).Dir.Should().Be(_tree.Root + "/user.slice/etc");
    }

    [Fact]
    public void Cpu_shares_become_cpu_weight_by_runcs_formula_and_quota_period_cpu_max()
    {
        var m = Create();
        m.ApplyResources(new LinuxResources { Cpu = new LinuxCpu { Shares = 1024, Quota = 50000, Period = 200000, Burst = 1000, Idle = 1 } });
        _tree.Read("ocirun/c1/cpu.weight").Should().Be("39"); // 1 + ((1024 - 2) * 9999) / 262142
        _tree.Read("ocirun/c1/cpu.max").Should().Be("50000 200000");
        _tree.Read("ocirun/c1/cpu.max.burst").Should().Be("1000");
        _tree.Read("ocirun/c1/cpu.idle").Should().Be("1");
    }

    [Theory]
    [InlineData(-1L, null, "max 100000")]
    [InlineData(0L, 50000UL, "max 50000")]
    [InlineData(25000L, null, "25000 100000")]
    public void Cpu_max_defaults(long quota, ulong? period, string expected)
    {
        var m = Create();
        m.ApplyResources(new LinuxResources { Cpu = new LinuxCpu { Quota = quota, Period = period } });
        _tree.Read("ocirun/c1/cpu.max").Should().Be(expected);
    }

    [Fact]
    public void Memory_swap_max_is_swap_minus_limit()
    {
        var m = Create();
        _tree.Put("ocirun/c1/memory.swap.max", "max\n");
        m.ApplyResources(new LinuxResources { Memory = new LinuxMemory { Limit = 100 << 20, Swap = 150 << 20, Reservation = 50 << 20 } });
        _tree.Read("ocirun/c1/memory.max").Should().Be((100 << 20).ToString());
        _tree.Read("ocirun/c1/memory.swap.max").Should().Be((50 << 20).ToString());
        _tree.Read("ocirun/c1/memory.low").Should().Be((50 << 20).ToString());
        _tree.WritesTo("ocirun/c1/memory.swap.max").Should().HaveCount(1);
    }

    [Fact]
    public void Memory_unlimited_and_equal_swap()
    {
        var m = Create();
        _tree.Put("ocirun/c1/memory.swap.max", "max\n");
        m.ApplyResources(new LinuxResources { Memory = new LinuxMemory { Limit = -1 } });
        _tree.Read("ocirun/c1/memory.max").Should().Be("max");
        _tree.Read("ocirun/c1/memory.swap.max").Should().Be("max");
        m.ApplyResources(new LinuxResources { Memory = new LinuxMemory { Limit = 1 << 20, Swap = 1 << 20 } });
        _tree.Read("ocirun/c1/memory.swap.max").Should().Be("0", "swap == limit means no swap");
    }

    [Fact]
    public void Swap_below_limit_is_refused_naming_the_field()
    {
        var m = Create();
        var act = () => m.ApplyResources(new LinuxResources { Memory = new LinuxMemory { Limit = 100, Swap = 50 } });
        act.Should().Throw<CgroupException>().WithMessage("linux.resources.memory.swap: *at least the memory limit*");
    }

    [Fact]
    public void Pids_max()
    {
        var m = Create();
        m.ApplyResources(new LinuxResources { Pids = new LinuxPids { Limit = 42 } });
        _tree.Read("ocirun/c1/pids.max").Should().Be("42");
        m.ApplyResources(new LinuxResources { Pids = new LinuxPids { Limit = 0 } });
        _tree.Read("ocirun/c1/pids.max").Should().Be("max");
    }

    [Fact]
    public void Block_io_weight_is_converted_for_io_weight_and_throttles_are_io_max_lines()
    {
        var m = Create();
        m.ApplyResources(new LinuxResources
        {
            BlockIO = new LinuxBlockIo
            {
                Weight = 500,
                WeightDevice = [new LinuxWeightDevice { Major = 8, Minor = 0, Weight = 100 }],
                ThrottleReadBpsDevice = [new LinuxThrottleDevice { Major = 8, Minor = 0, Rate = 1048576 }],
                ThrottleWriteBpsDevice = [new LinuxThrottleDevice { Major = 8, Minor = 0, Rate = 2097152 }],
                ThrottleReadIopsDevice = [new LinuxThrottleDevice { Major = 8, Minor = 16, Rate = 100 }],
                ThrottleWriteIopsDevice = [new LinuxThrottleDevice { Major = 8, Minor = 16, Rate = 200 }],
            },
        });
        _tree.WritesTo("ocirun/c1/io.weight").Should().Equal("4950", "8:0 910"); // 1 + (w - 10) * 9999 / 990
        _tree.WritesTo("ocirun/c1/io.max").Should().Equal("8:0 rbps=1048576", "8:0 wbps=2097152", "8:16 riops=100", "8:16 wiops=200");
    }

    [Fact]
    public void Block_io_weight_goes_raw_to_io_bfq_weight_when_bfq_is_there()
    {
        var m = Create();
        _tree.Put("ocirun/c1/io.bfq.weight", "default 100\n");
        m.ApplyResources(new LinuxResources { BlockIO = new LinuxBlockIo { Weight = 500, WeightDevice = [new LinuxWeightDevice { Major = 8, Minor = 0, Weight = 100 }] } });
        _tree.WritesTo("ocirun/c1/io.bfq.weight").Should().Equal("500", "8:0 100");
    }

    [Fact]
    public void Cpuset_hugetlb_rdma()
    {
        var m = Create();
        _tree.Put("ocirun/c1/hugetlb.2MB.max", "max\n");
        _tree.Put("ocirun/c1/hugetlb.2MB.rsvd.max", "max\n");
        m.ApplyResources(new LinuxResources
        {
            Cpu = new LinuxCpu { Cpus = "0-1", Mems = "0" },
            HugepageLimits = [new LinuxHugepageLimit { PageSize = "2MB", Limit = 4194304 }],
            Rdma = new Dictionary<string, LinuxRdma> { ["mlx5_1"] = new() { HcaHandles = 3, HcaObjects = 10000 } },
        });
        _tree.Read("ocirun/c1/cpuset.cpus").Should().Be("0-1");
        _tree.Read("ocirun/c1/cpuset.mems").Should().Be("0");
        _tree.Read("ocirun/c1/hugetlb.2MB.max").Should().Be("4194304");
        _tree.Read("ocirun/c1/hugetlb.2MB.rsvd.max").Should().Be("4194304");
        _tree.Read("ocirun/c1/rdma.max").Should().Be("mlx5_1 hca_handle=3 hca_object=10000");
    }

    [Fact]
    public void Unknown_hugepage_size_is_refused()
    {
        var m = Create();
        var act = () => m.ApplyResources(new LinuxResources { HugepageLimits = [new LinuxHugepageLimit { PageSize = "3MB", Limit = 1 }] });
        act.Should().Throw<CgroupException>().WithMessage("linux.resources.hugepageLimits[0].pageSize: no hugetlb page size \"3MB\"*");
    }

    [Fact]
    public void Unified_keys_are_validated_and_written()
    {
        var m = Create();
        _tree.Put("ocirun/c1/memory.high", "max\n");
        _tree.Put("ocirun/c1/cgroup.controllers", "memory pids\n");
        m.ApplyResources(new LinuxResources { Unified = new Dictionary<string, string> { ["memory.high"] = "1073741824" } });
        _tree.Read("ocirun/c1/memory.high").Should().Be("1073741824");

        foreach (var (key, message) in new[]
                 {
                     ("../memory.high", "*must be a file name*"),
                     ("a/b", "*must be a file name*"),
                     ("..", "*must be a file name*"),
                     ("memory.nosuch", "*memory.nosuch does not exist"),
                     ("io.max", "*the io controller is not available*"),
                     ("nodot", "*CONTROLLER.PARAMETER"),
                 })
        {
            var act = () => m.ApplyResources(new LinuxResources { Unified = new Dictionary<string, string> { [key] = "1" } });
            act.Should().Throw<CgroupException>().WithMessage($"linux.resources.unified.{key}: {message}");
        }
    }

    [Theory]
    [InlineData("kernelTCP")]
    [InlineData("disableOOMKiller")]
    [InlineData("realtimeRuntime")]
    [InlineData("network")]
    public void Fields_v2_cannot_provide_are_refused(string field)
    {
        var m = Create();
        var r = field switch
        {
            "kernelTCP" => new LinuxResources { Memory = new LinuxMemory { KernelTcp = 1 << 20 } },
            "disableOOMKiller" => new LinuxResources { Memory = new LinuxMemory { DisableOomKiller = true } },
            "realtimeRuntime" => new LinuxResources { Cpu = new LinuxCpu { RealtimeRuntime = 1000 } },
            _ => new LinuxResources { Network = new LinuxNetwork { ClassId = 0x100001 } },
        };
        var act = () => m.ApplyResources(r);
        act.Should().Throw<CgroupException>().Where(e => e.Field != null && e.Field.EndsWith(field));
    }

    [Fact]
    public void Devices_become_one_ebpf_program_attached_to_the_directory()
    {
        var m = Create();
        m.ApplyResources(new LinuxResources { Devices = [new LinuxDeviceCgroup { Allow = false, Access = "rwm" }] });
        _tree.Attacher.Attached.Should().ContainSingle().Which.Dir.Should().Be(m.Dir);
        var program = _tree.Attacher.Attached[0].Program;
        DeviceFilter.Run(program, 2, 1, 3, DeviceRule.Read | DeviceRule.Write).Should().BeTrue("/dev/null is a default device");
        DeviceFilter.Run(program, 1, 8, 0, DeviceRule.Read).Should().BeFalse("block devices are denied");
        DeviceFilter.Run(program, 1, 8, 0, DeviceRule.Mknod).Should().BeTrue("mknod of anything is a default rule");
    }

    [Fact]
    public void Update_skips_devices_and_checks_usage_when_asked()
    {
        var m = Create();
        m.Update(new LinuxResources { Devices = null, Pids = new LinuxPids { Limit = 5 } });
        _tree.Attacher.Attached.Should().BeEmpty();
        _tree.Put("ocirun/c1/memory.current", "2097152\n");
        var act = () => m.Update(new LinuxResources { Memory = new LinuxMemory { Limit = 1048576, CheckBeforeUpdate = true } });
        act.Should().Throw<CgroupException>().WithMessage("linux.resources.memory.limit: *current usage is 2097152*");
        m.Update(new LinuxResources { Memory = new LinuxMemory { Limit = 1048576 } });
        _tree.Read("ocirun/c1/memory.max").Should().Be("1048576");
    }

    [Fact]
    public void Freeze_writes_cgroup_freeze_and_waits_for_cgroup_events()
    {
        var m = Create();
        _tree.Put("ocirun/c1/cgroup.freeze", "0\n");
        _tree.Put("ocirun/c1/cgroup.events", "populated 1\nfrozen 1\n");
        m.Freeze(FreezerState.Frozen);
        _tree.WritesTo("ocirun/c1/cgroup.freeze").Should().Equal("1");
        m.GetFreezerState().Should().Be(FreezerState.Frozen);
    }

    [Fact]
    public void Destroy_removes_what_it_created_and_keeps_a_parent_another_container_uses()
    {
        var a = Create("/ocirun/a");
        var b = Create("/ocirun/b");
        a.State.Created.Should().Equal(_tree.Root + "/ocirun", _tree.Root + "/ocirun/a");
        b.State.Created.Should().Equal(_tree.Root + "/ocirun/b");
        Directory.CreateDirectory(a.Dir + "/nested"); // a cgroup the container made below its own
        a.Destroy();
        _tree.DirExists("ocirun/a").Should().BeFalse();
        _tree.DirExists("ocirun").Should().BeTrue("b still lives there");
        b.Destroy();
        _tree.DirExists("ocirun/b").Should().BeFalse();
        _tree.DirExists("ocirun").Should().BeTrue("a created it, not b");
    }

    [Fact]
    public void Destroy_never_removes_a_directory_it_did_not_create()
    {
        Directory.CreateDirectory(_tree.Root + "/existing/c1");
        var m = Create("/existing/c1");
        m.State.Created.Should().BeEmpty();
        m.Destroy();
        _tree.DirExists("existing/c1").Should().BeTrue();
    }

    [Fact]
    public void State_round_trips_through_the_factory()
    {
        var m = Create();
        m.ApplyResources(new LinuxResources { Pids = new LinuxPids { Limit = 7 } });
        var loaded = (V2CgroupManager)CgroupManagerFactory.Load(m.State, _tree.Host);
        loaded.Dir.Should().Be(m.Dir);
        loaded.State.Created.Should().Equal(m.State.Created);
        loaded.State.Resources!.Pids!.Limit.Should().Be(7);
    }
}
