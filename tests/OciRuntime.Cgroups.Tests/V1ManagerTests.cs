using OciRuntime.Spec;

namespace OciRuntime.Cgroups.Tests;

/// <summary>The v1 manager (and hybrid mode) against a fake v1 tree: exact files and values (cgroup-v1 docs, runc fs).</summary>
public sealed class V1ManagerTests : IDisposable
{
    private FakeCgroupTree _tree = FakeCgroupTree.V1();

    public void Dispose() => _tree.Dispose();

    private V1CgroupManager Create(string? cgroupsPath = "/ocirun/c1")
    {
        var m = (V1CgroupManager)CgroupManagerFactory.Create("c1", cgroupsPath, _tree.Host);
        m.Create();
        return m;
    }

    [Fact]
    public void Every_hierarchy_gets_a_directory_and_a_relative_path_follows_the_callers_cgroup()
    {
        var m = (V1CgroupManager)CgroupManagerFactory.Create("c1", null, _tree.Host);
        m.Paths["memory"].Should().Be(_tree.Root + "/memory/ocirun-test/c1", "the caller is in memory:/ocirun-test");
        m.Paths["cpu"].Should().Be(_tree.Root + "/cpu/c1");
        m.Paths["systemd"].Should().Be(_tree.Root + "/systemd/c1");
        m.Paths.Should().HaveCount(12);
        m.Create();
        _tree.DirExists("freezer/c1").Should().BeTrue();
    }

    [Fact]
    public void A_new_cpuset_gets_its_parents_cpus_and_mems()
    {
        Create("/a/b");
        _tree.Read("cpuset/a/cpuset.cpus").Should().Be("0-3");
        _tree.Read("cpuset/a/b/cpuset.cpus").Should().Be("0-3");
        _tree.Read("cpuset/a/b/cpuset.mems").Should().Be("0");
    }

    [Fact]
    public void A_new_cpuset_under_pre_existing_empty_parents_gets_the_nearest_ancestors_values_at_every_level()
    {
        // A Kubernetes pod cgroup made by another manager: kubepods has its own cpus, the pod cgroup has none yet.
        _tree.Put("cpuset/kubepods/cpuset.cpus", "1-2\n");
        _tree.Put("cpuset/kubepods/cpuset.mems", "\n");
        _tree.Put("cpuset/kubepods/pod1/cpuset.cpus", "\n");
        _tree.Put("cpuset/kubepods/pod1/cpuset.mems", "\n");
        Create("/kubepods/pod1/c1");
        _tree.Read("cpuset/kubepods/pod1/c1/cpuset.cpus").Should().Be("1-2", "kubepods is the nearest ancestor with cpus");
        _tree.Read("cpuset/kubepods/pod1/cpuset.cpus").Should().Be("1-2", "the empty pod cgroup is filled too, or its child could not be set");
        _tree.Read("cpuset/kubepods/cpuset.cpus").Should().Be("1-2", "a level that has cpus keeps them");
        _tree.Read("cpuset/kubepods/pod1/c1/cpuset.mems").Should().Be("0", "mems come from the root, two levels up");
        _tree.Read("cpuset/kubepods/cpuset.mems").Should().Be("0");
        _tree.Read("cpuset/kubepods/pod1/cpuset.mems").Should().Be("0");
    }

    [Fact]
    public void Memory_files()
    {
        var m = Create();
        _tree.Put("memory/ocirun/c1/memory.memsw.limit_in_bytes", "9223372036854771712\n");
        _tree.Put("memory/ocirun/c1/memory.limit_in_bytes", "9223372036854771712\n");
        _tree.Put("memory/ocirun/c1/memory.kmem.limit_in_bytes", "9223372036854771712\n");
        m.ApplyResources(new LinuxResources
        {
            Memory = new LinuxMemory
            {
                Limit = 64 << 20, Swap = 128 << 20, Reservation = 32 << 20, Kernel = 16 << 20, KernelTcp = 8 << 20,
                Swappiness = 10, DisableOomKiller = true, UseHierarchy = true,
            },
        });
        var d = "memory/ocirun/c1/";
        _tree.Read(d + "memory.limit_in_bytes").Should().Be((64 << 20).ToString());
        _tree.Read(d + "memory.memsw.limit_in_bytes").Should().Be((128 << 20).ToString());
        _tree.Read(d + "memory.soft_limit_in_bytes").Should().Be((32 << 20).ToString());
        _tree.Read(d + "memory.kmem.limit_in_bytes").Should().Be((16 << 20).ToString());
        _tree.Read(d + "memory.kmem.tcp.limit_in_bytes").Should().Be((8 << 20).ToString());
        _tree.Read(d + "memory.swappiness").Should().Be("10");
        _tree.Read(d + "memory.oom_control").Should().Be("1");
        _tree.Read(d + "memory.use_hierarchy").Should().Be("1");
    }

    [Fact]
    public void Memory_and_swap_are_ordered_so_memsw_never_drops_below_the_limit()
    {
        var m = Create();
        var d = "memory/ocirun/c1/";
        _tree.Put(d + "memory.limit_in_bytes", (256 << 20).ToString());
        m.ApplyResources(new LinuxResources { Memory = new LinuxMemory { Limit = 64 << 20, Swap = 128 << 20 } });
        _tree.Writes.Where(w => w.Path.StartsWith(d + "memory.", StringComparison.Ordinal)).Select(w => w.Path[d.Length..])
            .Should().Equal("memory.limit_in_bytes", "memory.memsw.limit_in_bytes"); // shrinking: limit first

        _tree.Fs.Journal!.Clear();
        _tree.Put(d + "memory.limit_in_bytes", (64 << 20).ToString());
        m.ApplyResources(new LinuxResources { Memory = new LinuxMemory { Limit = 512 << 20, Swap = 1024 << 20 } });
        _tree.Writes.Where(w => w.Path.StartsWith(d + "memory.", StringComparison.Ordinal)).Select(w => w.Path[d.Length..])
            .Should().Equal("memory.memsw.limit_in_bytes", "memory.limit_in_bytes"); // growing: swap first
    }

    [Fact]
    public void Unlimited_memory_lifts_swap_when_memsw_exists()
    {
        var m = Create();
        _tree.Put("memory/ocirun/c1/memory.memsw.limit_in_bytes", "1\n");
        m.ApplyResources(new LinuxResources { Memory = new LinuxMemory { Limit = -1 } });
        _tree.Read("memory/ocirun/c1/memory.memsw.limit_in_bytes").Should().Be("-1");
        _tree.Read("memory/ocirun/c1/memory.limit_in_bytes").Should().Be("-1");
    }

    [Fact]
    public void Swappiness_above_100_is_refused()
    {
        var m = Create();
        var act = () => m.ApplyResources(new LinuxResources { Memory = new LinuxMemory { Swappiness = 101 } });
        act.Should().Throw<CgroupException>().WithMessage("linux.resources.memory.swappiness: must be 0..100, got 101");
    }

    [Fact]
    public void Cpu_files()
    {
        var m = Create();
        m.ApplyResources(new LinuxResources
        {
            Cpu = new LinuxCpu { Shares = 512, Quota = 50000, Period = 100000, Burst = 10000, RealtimeRuntime = 95000, RealtimePeriod = 1000000, Idle = 0, Cpus = "1", Mems = "0" },
        });
        _tree.Read("cpu/ocirun/c1/cpu.shares").Should().Be("512");
        _tree.Read("cpu/ocirun/c1/cpu.cfs_quota_us").Should().Be("50000");
        _tree.Read("cpu/ocirun/c1/cpu.cfs_period_us").Should().Be("100000");
        _tree.Read("cpu/ocirun/c1/cpu.cfs_burst_us").Should().Be("10000");
        _tree.Read("cpu/ocirun/c1/cpu.rt_runtime_us").Should().Be("95000");
        _tree.Read("cpu/ocirun/c1/cpu.rt_period_us").Should().Be("1000000");
        _tree.Read("cpu/ocirun/c1/cpu.idle").Should().Be("0");
        _tree.Read("cpuset/ocirun/c1/cpuset.cpus").Should().Be("1");
        _tree.Read("cpuset/ocirun/c1/cpuset.mems").Should().Be("0");
        var order = _tree.Writes.Select(w => w.Path).Where(p => p.StartsWith("cpu/ocirun/c1/", StringComparison.Ordinal)).Select(Path.GetFileName).ToList();
        order.IndexOf("cpu.rt_period_us").Should().BeLessThan(order.IndexOf("cpu.shares"), "realtime bandwidth comes first");
    }

    [Fact]
    public void Pids_blkio_net_rdma_hugetlb()
    {
        var m = Create();
        _tree.Put("hugetlb/ocirun/c1/hugetlb.2MB.limit_in_bytes", "0\n");
        _tree.Put("blkio/ocirun/c1/blkio.bfq.weight", "100\n");
        m.ApplyResources(new LinuxResources
        {
            Pids = new LinuxPids { Limit = -1 },
            BlockIO = new LinuxBlockIo
            {
                Weight = 300,
                WeightDevice = [new LinuxWeightDevice { Major = 8, Minor = 0, Weight = 200 }],
                ThrottleReadBpsDevice = [new LinuxThrottleDevice { Major = 8, Minor = 0, Rate = 100 }],
                ThrottleWriteIopsDevice = [new LinuxThrottleDevice { Major = 8, Minor = 0, Rate = 7 }],
            },
            HugepageLimits = [new LinuxHugepageLimit { PageSize = "2MB", Limit = 2097152 }],
            Network = new LinuxNetwork { ClassId = 1048577, Priorities = [new LinuxInterfacePriority { Name = "eth0", Priority = 5 }, new LinuxInterfacePriority { Name = "lo", Priority = 1 }] },
        });
        _tree.Read("pids/ocirun/c1/pids.max").Should().Be("max");
        _tree.Read("blkio/ocirun/c1/blkio.bfq.weight").Should().Be("300");
        _tree.Read("blkio/ocirun/c1/blkio.bfq.weight_device").Should().Be("8:0 200");
        _tree.Read("blkio/ocirun/c1/blkio.throttle.read_bps_device").Should().Be("8:0 100");
        _tree.Read("blkio/ocirun/c1/blkio.throttle.write_iops_device").Should().Be("8:0 7");
        _tree.Read("hugetlb/ocirun/c1/hugetlb.2MB.limit_in_bytes").Should().Be("2097152");
        _tree.Read("net_cls/ocirun/c1/net_cls.classid").Should().Be("1048577");
        _tree.WritesTo("net_prio/ocirun/c1/net_prio.ifpriomap").Should().Equal("eth0 5", "lo 1");
    }

    [Fact]
    public void Cfq_weight_files_without_bfq()
    {
        var m = Create();
        m.ApplyResources(new LinuxResources { BlockIO = new LinuxBlockIo { Weight = 300, LeafWeight = 400, WeightDevice = [new LinuxWeightDevice { Major = 8, Minor = 0, Weight = 200, LeafWeight = 250 }] } });
        _tree.Read("blkio/ocirun/c1/blkio.weight").Should().Be("300");
        _tree.Read("blkio/ocirun/c1/blkio.leaf_weight").Should().Be("400");
        _tree.Read("blkio/ocirun/c1/blkio.weight_device").Should().Be("8:0 200");
        _tree.Read("blkio/ocirun/c1/blkio.leaf_weight_device").Should().Be("8:0 250");
    }

    [Fact]
    public void Devices_are_written_as_the_evaluated_rule_list()
    {
        var m = Create();
        m.ApplyResources(new LinuxResources
        {
            Devices =
            [
                new LinuxDeviceCgroup { Allow = false, Access = "rwm" },
                new LinuxDeviceCgroup { Allow = true, Type = "c", Major = 10, Minor = 229, Access = "rw" },
            ],
        });
        _tree.WritesTo("devices/ocirun/c1/devices.deny").Should().Equal("a");
        _tree.WritesTo("devices/ocirun/c1/devices.allow").Should().Equal(
            "c 10:229 rw", "c *:* m", "b *:* m", "c 1:3 rwm", "c 1:8 rwm", "c 1:7 rwm", "c 5:0 rwm", "c 1:5 rwm", "c 1:9 rwm",
            "c 136:* rwm", "c 5:2 rwm", "c 10:200 rwm");
    }

    [Fact]
    public void A_missing_controller_is_named_in_the_error()
    {
        _tree.Dispose();
        _tree = FakeCgroupTree.V1(hybrid: false, hugetlbOnUnified: true); // no hugetlb anywhere
        var m = Create();
        var act = () => m.ApplyResources(new LinuxResources { HugepageLimits = [new LinuxHugepageLimit { PageSize = "2MB", Limit = 1 }] });
        act.Should().Throw<CgroupException>().WithMessage("linux.resources.hugepageLimits: the hugetlb controller is not mounted on this host");
        var unified = () => m.ApplyResources(new LinuxResources { Unified = new Dictionary<string, string> { ["memory.high"] = "1" } });
        unified.Should().Throw<CgroupException>().WithMessage("linux.resources.unified: cannot use unified on cgroup v1*");
    }

    [Fact]
    public void Hybrid_joins_the_unified_hierarchy_and_enables_nothing_there_unless_asked()
    {
        // runc 1.1.5 on a hybrid host whose cgroup2 hierarchy holds hugetlb (measured in a hybrid VM): a cgroup2
        // directory per container, joined, relative paths under the cgroup2 root whatever the caller's cgroup2
        // cgroup, and not one write to cgroup.subtree_control. ocirun did "+hugetlb" in every ancestor.
        _tree.Dispose();
        _tree = FakeCgroupTree.V1(hybrid: true, hugetlbOnUnified: true, unifiedOwn: "/system.slice/tests.service");
        var m = (V1CgroupManager)CgroupManagerFactory.Create("c1", "exp/rel", _tree.Host);
        m.Paths[""].Should().Be(_tree.Root + "/unified/exp/rel", "runc's GetOwnCgroupPath(\"\") is the hybrid mount point");
        m.Paths["memory"].Should().Be(_tree.Root + "/memory/ocirun-test/exp/rel", "v1 hierarchies follow the caller's cgroup");
        m.Create();
        m.CreateBirthCgroup()?.Dispose();
        m.ApplyResources(new LinuxResources { Pids = new LinuxPids { Limit = 3 }, Memory = new LinuxMemory { Limit = 1 << 30 } });
        _tree.DirExists("unified/exp/rel").Should().BeTrue();
        _tree.Writes.Should().NotContain(w => w.Path.EndsWith("cgroup.subtree_control", StringComparison.Ordinal));
        m.Mode.Should().Be(CgroupMode.Hybrid);
    }

    [Fact]
    public void Hybrid_enables_a_cgroup2_controller_in_the_ancestors_only_for_the_fields_that_need_it()
    {
        _tree.Dispose();
        _tree = FakeCgroupTree.V1(hybrid: true, hugetlbOnUnified: true);
        var m = Create();
        m.Mode.Should().Be(CgroupMode.Hybrid);
        m.Paths[""].Should().Be(_tree.Root + "/unified/ocirun/c1");
        _tree.Writes.Should().NotContain(w => w.Path.EndsWith("cgroup.subtree_control", StringComparison.Ordinal));
        _tree.Put("unified/ocirun/c1/hugetlb.2MB.max", "max\n");
        _tree.Put("unified/ocirun/c1/hugetlb.2MB.rsvd.max", "max\n");
        m.ApplyResources(new LinuxResources
        {
            HugepageLimits = [new LinuxHugepageLimit { PageSize = "2MB", Limit = 2097152 }],
            Unified = new Dictionary<string, string> { ["hugetlb.2MB.rsvd.max"] = "4194304" },
            Pids = new LinuxPids { Limit = 3 },
        });
        _tree.WritesTo("unified/cgroup.subtree_control").Should().Equal("+hugetlb");
        _tree.WritesTo("unified/ocirun/cgroup.subtree_control").Should().Equal("+hugetlb");
        _tree.WritesTo("unified/ocirun/c1/cgroup.subtree_control").Should().BeEmpty("the container's own directory enables nothing");
        _tree.Read("unified/ocirun/c1/hugetlb.2MB.max").Should().Be("2097152");
        _tree.Read("unified/ocirun/c1/hugetlb.2MB.rsvd.max").Should().Be("4194304");
        _tree.Read("pids/ocirun/c1/pids.max").Should().Be("3");
        _tree.DirExists("unified/ocirun/c1/pids.max").Should().BeFalse();
        var act = () => m.ApplyResources(new LinuxResources { Unified = new Dictionary<string, string> { ["memory.high"] = "1" } });
        act.Should().Throw<CgroupException>().WithMessage("linux.resources.unified.memory.high: the memory controller is not on the cgroup v2 hierarchy*");
        _tree.Attacher.Attached.Should().BeEmpty("devices are the v1 controller's job in hybrid mode");
    }

    [Fact]
    public void Hybrid_delete_disables_hugetlb_again_where_no_other_cgroup_keeps_a_limit()
    {
        // After delete the host must be as runc leaves it: a cgroup2 root with hugetlb enabled and children holding
        // its state keeps hugetlb from being mounted as v1 (EBUSY), which crun on this host depends on.
        _tree.Dispose();
        _tree = FakeCgroupTree.V1(hybrid: true, hugetlbOnUnified: true);
        var m = Create("/default/c1");
        _tree.Put("unified/default/c1/hugetlb.2MB.max", "max\n");
        m.ApplyResources(new LinuxResources { HugepageLimits = [new LinuxHugepageLimit { PageSize = "2MB", Limit = 2097152 }] });
        // As the kernel shows it then: enabled in the root and in default; an empty parent and a runc-like sibling.
        _tree.Put("unified/cgroup.subtree_control", "hugetlb\n");
        _tree.Put("unified/default/cgroup.subtree_control", "hugetlb\n");
        _tree.Put("unified/default/hugetlb.2MB.max", "max\n");
        _tree.Put("unified/default/hugetlb.2MB.rsvd.max", "max\n");
        _tree.Put("unified/other/cgroup.subtree_control", "\n");
        _tree.Put("unified/other/hugetlb.2MB.max", "max\n");
        m.Destroy();
        _tree.DirExists("unified/default").Should().BeFalse("created for the container and empty");
        _tree.WritesTo("unified/cgroup.subtree_control").Should().EndWith("-hugetlb");
    }

    [Fact]
    public void Hybrid_delete_keeps_hugetlb_enabled_for_a_sibling_with_a_limit_or_its_own_children()
    {
        _tree.Dispose();
        _tree = FakeCgroupTree.V1(hybrid: true, hugetlbOnUnified: true);
        var hugepages = new LinuxResources { HugepageLimits = [new LinuxHugepageLimit { PageSize = "2MB", Limit = 2097152 }] };
        var m = Create("/shared/c1");
        _tree.Put("unified/shared/c1/hugetlb.2MB.max", "max\n");
        m.ApplyResources(hugepages);
        _tree.Put("unified/cgroup.subtree_control", "hugetlb\n");
        _tree.Put("unified/shared/cgroup.subtree_control", "hugetlb\n");
        _tree.Put("unified/shared/c2/hugetlb.2MB.max", "2097152\n"); // another container's limit
        _tree.Put("unified/shared/c2/hugetlb.2MB.rsvd.max", "max\n");
        _tree.Put("unified/shared/hugetlb.2MB.max", "max\n");
        m.Destroy();
        _tree.WritesTo("unified/shared/cgroup.subtree_control").Should().NotContain("-hugetlb", "c2 has a hugetlb limit");
        _tree.WritesTo("unified/cgroup.subtree_control").Should().NotContain("-hugetlb", "shared enables hugetlb for its children");

        // The last one out: nothing left that uses it, so both levels disable it.
        File.Delete(Path.Combine(_tree.Root, "unified/shared/c2/hugetlb.2MB.max"));
        _tree.Put("unified/shared/c2/hugetlb.2MB.max", "max\n");
        var m2 = (V1CgroupManager)CgroupManagerFactory.Create("c2", "/shared/c2", _tree.Host);
        m2.Resources = hugepages;
        m2.Destroy();
        _tree.WritesTo("unified/shared/cgroup.subtree_control").Should().EndWith("-hugetlb");
        _tree.Put("unified/shared/cgroup.subtree_control", "\n"); // as the kernel shows it after "-hugetlb"
        var m3 = (V1CgroupManager)CgroupManagerFactory.Create("c3", "/shared/c3", _tree.Host);
        m3.Resources = hugepages;
        m3.Destroy();
        _tree.WritesTo("unified/cgroup.subtree_control").Should().EndWith("-hugetlb");
    }

    [Fact]
    public void Hybrid_delete_of_a_container_without_cgroup2_fields_writes_no_subtree_control()
    {
        _tree.Dispose();
        _tree = FakeCgroupTree.V1(hybrid: true, hugetlbOnUnified: true);
        _tree.Put("unified/cgroup.subtree_control", "hugetlb\n"); // someone else's
        var m = Create("/exp/c1");
        m.ApplyResources(new LinuxResources { Pids = new LinuxPids { Limit = 3 } });
        m.Destroy();
        _tree.Writes.Should().NotContain(w => w.Path.EndsWith("cgroup.subtree_control", StringComparison.Ordinal));
    }

    [Fact]
    public void Freeze_and_state()
    {
        var m = Create();
        m.Freeze(FreezerState.Frozen);
        _tree.Read("freezer/ocirun/c1/freezer.state").Should().Be("FROZEN");
        m.GetFreezerState().Should().Be(FreezerState.Frozen);
        m.Freeze(FreezerState.Thawed);
        m.GetFreezerState().Should().Be(FreezerState.Thawed);
    }

    [Fact]
    public void Destroy_removes_every_hierarchys_directory()
    {
        var m = Create();
        m.Destroy();
        foreach (var dir in m.Paths.Values) Directory.Exists(dir).Should().BeFalse(dir);
        _tree.DirExists("memory/ocirun").Should().BeFalse("the parent was created for it and is empty");
    }
}
