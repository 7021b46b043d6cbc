using System.Text.Json.Nodes;
using static OciRuntime.Spec.Tests.TestSupport;

namespace OciRuntime.Spec.Tests;

public class RoundTripTests
{
    public static TheoryData<string> Fixtures => new()
    {
        "runc-spec.json",
        "runc-spec-rootless.json",
        "runc-spec-rootless-1000.json",
        "crun-spec.json",
        "crun-spec-rootless.json",
        "full-config.json",
    };

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Fixture_parses_validates_and_serializes_back_to_structurally_equal_json(string fixture)
    {
        string original = FixtureText(fixture);

        Spec spec = SpecSerializer.Parse(FixtureBytes(fixture), fixture);
        SpecValidator.Check(spec).Should().BeEmpty();
        string indented = SpecSerializer.Serialize(spec);
        string compact = SpecSerializer.Serialize(spec, indented: false);

        JsonEquals(original, indented).Should().BeTrue($"round trip of {fixture} changed it:\n{indented}");
        JsonEquals(original, compact).Should().BeTrue();
        compact.Should().NotContain("\n");
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Serialization_is_stable(string fixture)
    {
        string once = SpecSerializer.Serialize(SpecSerializer.Parse(FixtureBytes(fixture)));
        string twice = SpecSerializer.Serialize(SpecSerializer.Parse(once));
        twice.Should().Be(once);
    }

    [Fact]
    public void Full_config_populates_every_model_property()
    {
        Spec spec = SpecSerializer.Parse(FixtureBytes("full-config.json"));

        spec.OciVersion.Should().Be("1.2.0");
        Process p = spec.Process!;
        p.Terminal.Should().BeTrue();
        p.ConsoleSize!.Height.Should().Be(25);
        p.ConsoleSize.Width.Should().Be(80);
        p.User.Uid.Should().Be(1000);
        p.User.Gid.Should().Be(1000);
        p.User.Umask.Should().Be(18);
        p.User.AdditionalGids.Should().Equal(5u, 6u);
        p.User.Username.Should().Be("alice");
        p.Args.Should().HaveCount(3);
        p.Args![2].Should().Contain("héllo <&> 'quoted' \"double\" + tab\there");
        p.CommandLine.Should().Be("sh -c true");
        p.Env.Should().Contain("UNICODE=日本語");
        p.Cwd.Should().Be("/home/alice");
        p.Capabilities!.Bounding.Should().Contain("CAP_CHECKPOINT_RESTORE");
        p.Capabilities.Inheritable.Should().BeEmpty();
        p.Capabilities.Ambient.Should().Equal("CAP_NET_BIND_SERVICE");
        p.Rlimits![1].Hard.Should().Be(ulong.MaxValue);
        p.NoNewPrivileges.Should().BeTrue();
        p.ApparmorProfile.Should().Be("acme_secure_profile");
        p.OomScoreAdj.Should().Be(-500);
        p.Scheduler!.Policy.Should().Be("SCHED_DEADLINE");
        p.Scheduler.Nice.Should().Be(-5);
        p.Scheduler.Flags.Should().HaveCount(2);
        p.Scheduler.Runtime.Should().Be(10000000);
        p.Scheduler.Deadline.Should().Be(20000000);
        p.Scheduler.Period.Should().Be(30000000);
        p.SelinuxLabel.Should().StartWith("system_u");
        p.IoPriority!.Class.Should().Be(IoPriorityClasses.BestEffort);
        p.IoPriority.Priority.Should().Be(4);
        p.ExecCpuAffinity!.Initial.Should().Be("0-3,7");
        p.ExecCpuAffinity.Final.Should().Be("4-7");

        spec.Root!.Path.Should().Be("rootfs");
        spec.Root.Readonly.Should().BeTrue();
        spec.Hostname.Should().Be("slartibartfast");
        spec.Domainname.Should().Be("magrathea.example");
        spec.Mounts![2].UidMappings![0].HostId.Should().Be(100000);
        spec.Mounts[2].GidMappings![0].Size.Should().Be(65536);
        spec.Hooks!.Prestart![0].Args.Should().HaveCount(3);
        spec.Hooks.CreateRuntime![0].Timeout.Should().Be(10);
        spec.Hooks.CreateContainer![0].Env.Should().Equal("key1=value1");
        spec.Hooks.StartContainer![0].Path.Should().Be("/usr/bin/refresh-ldcache");
        spec.Hooks.Poststart![0].Timeout.Should().Be(5);
        spec.Hooks.Poststop![0].Path.Should().Be("/usr/sbin/cleanup.sh");
        spec.Annotations!["com.example.key2"].Should().BeEmpty();

        Linux l = spec.Linux!;
        l.UidMappings![0].ContainerId.Should().Be(0);
        l.GidMappings![0].HostId.Should().Be(1000);
        l.Sysctl!["kernel.sem"].Should().Be("250 32000 100 128");
        l.CgroupsPath.Should().Be("/myRuntime/myContainer");
        l.Namespaces.Should().HaveCount(8);
        l.Namespaces![1].Path.Should().Be("/var/run/netns/neta");
        l.Devices![0].FileMode.Should().Be(438);
        l.Devices[1].Uid.Should().Be(0);
        l.Devices[2].Type.Should().Be("p");
        l.NetDevices!["eth1"].Name.Should().Be("ctr1");
        l.NetDevices["ens4"].Name.Should().BeNull();
        l.RootfsPropagation.Should().Be("rslave");
        l.MaskedPaths.Should().HaveCount(2);
        l.ReadonlyPaths.Should().HaveCount(2);
        l.MountLabel.Should().Contain("svirt_sandbox_file_t");
        l.IntelRdt!.ClosId.Should().Be("guaranteed_group");
        l.IntelRdt.Schemata.Should().Contain("\n");
        l.IntelRdt.L3CacheSchema.Should().StartWith("L3:");
        l.IntelRdt.MemBwSchema.Should().StartWith("MB:");
        l.IntelRdt.EnableCmt.Should().BeTrue();
        l.IntelRdt.EnableMbm.Should().BeFalse();
        l.IntelRdt.EnableMonitoring.Should().BeTrue();
        l.Personality!.Domain.Should().Be("LINUX32");
        l.TimeOffsets!["monotonic"].Secs.Should().Be(86400);
        l.TimeOffsets["monotonic"].Nanosecs.Should().Be(500);
        l.TimeOffsets["boottime"].Secs.Should().Be(-3600);
        l.MemoryPolicy!.Mode.Should().Be("MPOL_INTERLEAVE");
        l.MemoryPolicy.Nodes.Should().Be("0-3");
        l.MemoryPolicy.Flags.Should().Equal("MPOL_F_STATIC_NODES");

        LinuxResources r = l.Resources!;
        r.Devices.Should().HaveCount(4);
        r.Devices![0].Allow.Should().BeFalse();
        r.Devices[1].Major.Should().Be(10);
        r.Devices[3].Access.Should().BeNull();
        r.Memory!.Limit.Should().Be(536870912);
        r.Memory.Reservation.Should().Be(268435456);
        r.Memory.Swap.Should().Be(1073741824);
        r.Memory.Kernel.Should().Be(-1);
        r.Memory.KernelTcp.Should().Be(-1);
        r.Memory.Swappiness.Should().Be(0);
        r.Memory.DisableOomKiller.Should().BeFalse();
        r.Memory.UseHierarchy.Should().BeTrue();
        r.Memory.CheckBeforeUpdate.Should().BeTrue();
        r.Cpu!.Shares.Should().Be(1024);
        r.Cpu.Quota.Should().Be(1000000);
        r.Cpu.Burst.Should().Be(1000000);
        r.Cpu.Period.Should().Be(500000);
        r.Cpu.RealtimeRuntime.Should().Be(950000);
        r.Cpu.RealtimePeriod.Should().Be(1000000);
        r.Cpu.Cpus.Should().Be("2-3");
        r.Cpu.Mems.Should().Be("0-7");
        r.Cpu.Idle.Should().Be(0);
        r.Pids!.Limit.Should().Be(32771);
        r.BlockIO!.Weight.Should().Be(10);
        r.BlockIO.LeafWeight.Should().Be(10);
        r.BlockIO.WeightDevice![1].LeafWeight.Should().BeNull();
        r.BlockIO.ThrottleReadBpsDevice![0].Rate.Should().Be(600);
        r.BlockIO.ThrottleWriteBpsDevice![0].Rate.Should().Be(700);
        r.BlockIO.ThrottleReadIopsDevice![0].Rate.Should().Be(100);
        r.BlockIO.ThrottleWriteIopsDevice![0].Rate.Should().Be(300);
        r.HugepageLimits![1].PageSize.Should().Be("64KB");
        r.Network!.ClassId.Should().Be(1048577);
        r.Network.Priorities![1].Priority.Should().Be(1000);
        r.Rdma!["mlx4_0"].HcaHandles.Should().BeNull();
        r.Rdma["mlx5_1"].HcaObjects.Should().Be(10000);
        r.Unified!["io.max"].Should().Contain("\n");

        LinuxSeccomp s = l.Seccomp!;
        s.DefaultAction.Should().Be(SeccompActions.Errno);
        s.DefaultErrnoRet.Should().Be(1);
        s.Architectures.Should().HaveCount(3);
        s.Flags.Should().HaveCount(2);
        s.ListenerPath.Should().Be("/run/seccomp-agent.socket");
        s.ListenerMetadata.Should().StartWith("MKNOD");
        s.Syscalls![1].Args![0].Value.Should().Be(8);
        s.Syscalls[1].Args![0].ValueTwo.Should().BeNull();
        s.Syscalls[2].Args![0].ValueTwo.Should().Be(0);
        s.Syscalls[2].Args![0].Op.Should().Be(SeccompOperators.MaskedEqual);
        s.Syscalls[4].ErrnoRet.Should().Be(38);
    }

    [Fact]
    public void Absent_fields_stay_absent_and_present_ones_keep_their_values()
    {
        string json = """{"ociVersion":"1.0.0","process":{"user":{"uid":0,"gid":0},"cwd":"/","oomScoreAdj":0},"linux":{"resources":{"memory":{"swappiness":0}}}}""";

        string output = SpecSerializer.Serialize(SpecSerializer.Parse(json), indented: false);

        output.Should().Be(json);
    }

    [Fact]
    public void Required_values_are_written_even_when_zero_or_false()
    {
        var spec = new Spec
        {
            OciVersion = "1.0.0",
            Linux = new Linux
            {
                Resources = new LinuxResources
                {
                    Devices = [new LinuxDeviceCgroup { Allow = false }],
                    Pids = new LinuxPids { Limit = 0 },
                },
                Devices = [new LinuxDevice { Path = "/dev/x", Type = "p" }],
            },
        };

        JsonNode node = JsonNode.Parse(SpecSerializer.Serialize(spec))!;

        node["linux"]!["resources"]!["devices"]![0]!["allow"]!.GetValue<bool>().Should().BeFalse();
        node["linux"]!["resources"]!["pids"]!["limit"]!.GetValue<long>().Should().Be(0);
        node["linux"]!["devices"]![0]!["major"]!.GetValue<long>().Should().Be(0);
        node["linux"]!["devices"]![0]!.AsObject().ContainsKey("fileMode").Should().BeFalse();
        node.AsObject().ContainsKey("process").Should().BeFalse();
        node.AsObject().ContainsKey("hostname").Should().BeFalse();
    }

    [Fact]
    public void Omitempty_booleans_follow_runc_and_are_omitted_when_false()
    {
        var spec = new Spec { OciVersion = "1.0.0", Process = new Process { Cwd = "/" }, Root = new Root { Path = "r" } };

        string json = SpecSerializer.Serialize(spec, indented: false);

        json.Should().Be("""{"ociVersion":"1.0.0","process":{"user":{"uid":0,"gid":0},"cwd":"/"},"root":{"path":"r"}}""");
    }

    [Fact]
    public void Unknown_fields_are_ignored_like_runc()
    {
        string json = """{"ociVersion":"1.0.0","windows":{"layerFolders":["C:\\x"]},"vm":{"kernel":{"path":"/k"}},"linux":{"futureField":{"a":[1,2,3]}}}""";

        Spec spec = SpecSerializer.Parse(json);

        spec.Linux.Should().NotBeNull();
        SpecSerializer.Serialize(spec, false).Should().Be("""{"ociVersion":"1.0.0","linux":{}}""");
    }

    [Fact]
    public void Non_ascii_and_html_characters_are_written_unescaped()
    {
        var spec = new Spec { OciVersion = "1.0.0", Annotations = new() { ["k"] = "日本 <&> + 'x'" } };

        SpecSerializer.Serialize(spec, false).Should().Contain("\"日本 <&> + 'x'\"");
    }

    [Fact]
    public void Clone_is_deep()
    {
        Spec spec = SpecSerializer.Parse(FixtureBytes("full-config.json"));

        Spec clone = SpecSerializer.Clone(spec);
        clone.Process!.Args![0] = "changed";

        spec.Process!.Args![0].Should().Be("/bin/sh");
        SpecSerializer.Serialize(SpecSerializer.Clone(spec)).Should().Be(SpecSerializer.Serialize(spec));
    }

    [Fact]
    public void The_default_spec_is_written_byte_for_byte_as_runc_writes_it()
    {
        string json = SpecSerializer.Serialize(DefaultSpec.Create());
        json.Should().Be(FixtureText("runc-spec.json"));
    }
}
