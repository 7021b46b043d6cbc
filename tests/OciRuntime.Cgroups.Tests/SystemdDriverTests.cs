using OciRuntime.Cgroups.Systemd;
using OciRuntime.Spec;
using Tmds.DBus.Protocol;

namespace OciRuntime.Cgroups.Tests;

/// <summary>
/// The systemd driver's pure parts: cgroupsPath → slice and unit (runc's specconv, getUnitName and ExpandSlice),
/// linux.resources → unit properties (runc's genV2ResourcesProperties). The D-Bus side runs for real in the VM stage
/// (conformance/vm), and against a fake systemd on a private bus below (<see cref="SystemdJobTests"/>).
/// </summary>
public sealed class SystemdDriverTests
{
    [Theory]
    [InlineData("system.slice:docker:abc", false, "system.slice", "docker-abc.scope", "abc")]
    [InlineData(":crio:abc", false, "system.slice", "crio-abc.scope", "abc")]
    [InlineData(":crio:abc", true, "user.slice", "crio-abc.scope", "abc")]
    [InlineData("kubepods-besteffort.slice:cri-containerd:1", false, "kubepods-besteffort.slice", "cri-containerd-1.scope", "1")]
    public void CgroupsPath_names_the_slice_and_the_scope(string path, bool rootless, string slice, string unit, string name) =>
        SystemdUnitPath.Parse("id", path, rootless).Should().Be(new SystemdUnitPath(slice, unit, name));

    [Fact]
    public void No_cgroupsPath_is_runc_ID_scope_in_system_slice()
    {
        SystemdUnitPath.Parse("c1", null, rootless: false).Should().Be(new SystemdUnitPath("system.slice", "runc-c1.scope", "c1"));
        SystemdUnitPath.Parse("c1", "", rootless: true).Should().Be(new SystemdUnitPath("user.slice", "runc-c1.scope", "c1"));
    }

    [Theory]
    [InlineData("system.slice:vmtest:system-app.slice", "system.slice", "/sys/fs/cgroup/system.slice/system-app.slice")]
    [InlineData(":runc:app.slice", "system.slice", "/sys/fs/cgroup/system.slice/app.slice")]
    [InlineData("machine.slice::machine-x.slice", "machine.slice", "/sys/fs/cgroup/machine.slice/machine-x.slice")]
    public void A_name_ending_in_slice_is_the_unit_itself_a_slice(string path, string parent, string dir)
    {
        var u = SystemdUnitPath.Parse("c", path, rootless: false);
        var name = path.Split(':')[2];
        u.Should().Be(new SystemdUnitPath(parent, name, name), "runc's getUnitName: no prefix, no .scope");
        u.IsSlice.Should().BeTrue();
        u.Directory("/sys/fs/cgroup", "/").Should().Be(dir, "runc's path: the expanded parent + the unit");
    }

    [Theory]
    [InlineData("/sys/fs/cgroup/x")]
    [InlineData("a:b")]
    [InlineData("a:b:c:d")]
    [InlineData("system:runc:c")]
    [InlineData("a--b.slice:runc:c")]
    [InlineData("system.slice:runc:")]
    public void Bad_cgroupsPaths_name_the_field(string path) =>
        ((Action)(() => SystemdUnitPath.Parse("c", path, false))).Should().Throw<CgroupException>().WithMessage("linux.cgroupsPath: *");

    [Theory]
    [InlineData("system.slice", "/system.slice")]
    [InlineData("-.slice", "/")]
    [InlineData("a-b-c.slice", "/a.slice/a-b.slice/a-b-c.slice")]
    public void Slices_nest_by_their_dashes(string slice, string path) => SystemdUnitPath.ExpandSlice(slice).Should().Be(path);

    [Fact]
    public void The_scope_directory_is_under_the_managers_cgroup()
    {
        var u = new SystemdUnitPath("user.slice", "runc-c.scope");
        u.Directory("/sys/fs/cgroup", "/").Should().Be("/sys/fs/cgroup/user.slice/runc-c.scope");
        u.Directory("/sys/fs/cgroup", "/user.slice/user-1000.slice/user@1000.service")
            .Should().Be("/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/user.slice/runc-c.scope");
    }

    [Fact]
    public void A_new_scope_is_delegated_and_holds_the_init()
    {
        var list = SystemdProperties.ForUnit(SystemdUnitPath.Parse("c1", "system.slice:docker:abc", false), "abc", 4242);
        list.Select(kv => kv.Key).Should().Equal(["Description", "Slice", "PIDs", "Delegate", "MemoryAccounting", "CPUAccounting",
            "IOAccounting", "TasksAccounting", "DefaultDependencies"], "runc's Apply, in its order");
        var p = Props(list);
        p["Description"].GetString().Should().Be("libcontainer container abc", "runc names the cgroupsPath's name, not the id");
        p["Slice"].GetString().Should().Be("system.slice");
        p["Delegate"].GetBool().Should().BeTrue();
        p["PIDs"].GetArray<uint>().Should().Equal(4242u);
        p["DefaultDependencies"].GetBool().Should().BeFalse();
        p["MemoryAccounting"].GetBool().Should().BeTrue();
    }

    [Fact]
    public void A_new_slice_wants_its_parent_and_is_not_delegated()
    {
        var list = SystemdProperties.ForUnit(SystemdUnitPath.Parse("c1", "system.slice:x:system-app.slice", false), "system-app.slice", 4242);
        list.Select(kv => kv.Key).Should().Equal(["Description", "Wants", "PIDs", "MemoryAccounting", "CPUAccounting",
            "IOAccounting", "TasksAccounting", "DefaultDependencies"], "runc's Apply for a slice: Wants= instead of Slice=, no Delegate");
        var p = Props(list);
        p["Wants"].GetArray<string>().Should().Equal("system.slice");
        p["PIDs"].GetArray<uint>().Should().Equal(new[] { 4242u }, "runc sends it for a slice too (systemd refuses it)");
    }

    [Fact]
    public void Resources_become_unit_properties()
    {
        var r = new LinuxResources
        {
            Memory = new LinuxMemory { Limit = 64 << 20, Reservation = 16 << 20, Swap = 96 << 20 },
            Cpu = new LinuxCpu { Shares = 1024, Quota = 50_000, Period = 100_000, Cpus = "0-2,9", Mems = "0" },
            Pids = new LinuxPids { Limit = 40 },
            BlockIO = new LinuxBlockIo { Weight = 500 },
        };
        var p = Props(SystemdProperties.ForResources(r, null, withDevices: false, 252, NoName));
        p["MemoryMax"].GetUInt64().Should().Be(64UL << 20);
        p["MemoryLow"].GetUInt64().Should().Be(16UL << 20);
        p["MemorySwapMax"].GetUInt64().Should().Be(32UL << 20, "systemd takes swap alone: memory+swap - memory");
        p["CPUWeight"].GetUInt64().Should().Be(39);
        p["CPUQuotaPerSecUSec"].GetUInt64().Should().Be(500_000);
        p["CPUQuotaPeriodUSec"].GetUInt64().Should().Be(100_000);
        p["AllowedCPUs"].GetArray<byte>().Should().Equal((byte)0b0000_0111, (byte)0b0000_0010);
        p["AllowedMemoryNodes"].GetArray<byte>().Should().Equal((byte)1);
        p["TasksMax"].GetUInt64().Should().Be(40);
        p["IOWeight"].GetUInt64().Should().Be(4950);
        p.Should().NotContainKey("DevicePolicy");
    }

    [Fact]
    public void Unlimited_values_are_uint64_max_and_quotas_round_up_to_10ms()
    {
        var r = new LinuxResources
        {
            Memory = new LinuxMemory { Limit = -1 },
            Cpu = new LinuxCpu { Quota = 12_345 },
            Pids = new LinuxPids { Limit = -1 },
        };
        var p = Props(SystemdProperties.ForResources(r, null, false, 252, NoName));
        p["MemoryMax"].GetUInt64().Should().Be(ulong.MaxValue);
        p["TasksMax"].GetUInt64().Should().Be(ulong.MaxValue);
        p["CPUQuotaPerSecUSec"].GetUInt64().Should().Be(130_000, "123450 µs/s rounded up to systemd's 10 ms");
    }

    [Fact]
    public void Old_systemd_gets_no_period_and_no_cpuset_properties()
    {
        var r = new LinuxResources { Cpu = new LinuxCpu { Quota = 50_000, Period = 50_000, Cpus = "1" } };
        var p = Props(SystemdProperties.ForResources(r, null, false, 241, NoName));
        p.Should().ContainKey("CPUQuotaPerSecUSec").And.NotContainKeys("CPUQuotaPeriodUSec", "AllowedCPUs");
    }

    [Fact]
    public void Unified_keys_systemd_knows_become_properties_too()
    {
        var r = new LinuxResources { Unified = new() { ["memory.high"] = "50003968", ["pids.max"] = "max", ["cpu.max"] = "20000 100000", ["io.max"] = "8:0 rbps=1" } };
        var p = Props(SystemdProperties.ForResources(r, null, false, 252, NoName));
        p["MemoryHigh"].GetUInt64().Should().Be(50003968);
        p["TasksMax"].GetUInt64().Should().Be(ulong.MaxValue);
        p["CPUQuotaPerSecUSec"].GetUInt64().Should().Be(200_000);
        p.Keys.Should().HaveCount(4, "io.max has no property: cgroupfs only");
    }

    [Fact]
    public void A_default_deny_device_list_is_a_strict_policy_with_the_allowed_devices()
    {
        var r = new LinuxResources
        {
            Devices = [new LinuxDeviceCgroup { Allow = false, Access = "rwm" }, new LinuxDeviceCgroup { Allow = true, Type = "c", Major = 10, Minor = 200, Access = "rw" }],
        };
        var p = Props(SystemdProperties.ForResources(r, null, withDevices: true, 252, FakeHost));
        p["DevicePolicy"].GetString().Should().Be("strict");
        var allowed = "";
        for (var i = 0; i < p["DeviceAllow"].Count; i++)
        {
            var entry = p["DeviceAllow"].GetItem(i);
            allowed += entry.GetItem(0).GetString() + " " + entry.GetItem(1).GetString() + "\n";
        }
        allowed.Should().Contain("/dev/char/10:200").And.Contain("/dev/char/1:3", "runc's default devices (null) are allowed")
            .And.Contain("char-pts", "136:* by its /proc/devices name");
    }

    [Fact]
    public void An_allow_all_device_list_is_the_auto_policy()
    {
        var r = new LinuxResources { Devices = [new LinuxDeviceCgroup { Allow = true, Access = "rwm" }] };
        var p = Props(SystemdProperties.ForResources(r, null, withDevices: true, 252, NoName));
        p["DevicePolicy"].GetString().Should().Be("auto");
    }

    [Fact]
    public void Host_device_nodes_are_the_ones_sysfs_knows()
    {
        SystemdProperties.HostDeviceNode('c', 1, 3).Should().Be("/dev/char/1:3", "/sys/dev/char/1:3 is /dev/null");
        SystemdProperties.HostDeviceNode('c', 4000, 4000).Should().BeNull("no such device: runc skips it for systemd");
        SystemdProperties.HostDeviceNode('b', -1, -1).Should().Be("block-*");
        SystemdProperties.HostDeviceNode('c', 1, -1).Should().Be("char-mem", "major 1 is \"mem\" in /proc/devices");
    }

    [Theory]
    [InlineData("0", new byte[] { 1 })]
    [InlineData("8", new byte[] { 0, 1 })]
    [InlineData("0-3, 7", new byte[] { 0x8f })]
    [InlineData("", new byte[] { 0 })]
    public void Cpu_lists_become_little_endian_bitmasks(string list, byte[] bits) => SystemdProperties.RangeToBits(list, "f").Should().Equal(bits);

    [Theory]
    [InlineData("x")]
    [InlineData("3-1")]
    [InlineData("-1")]
    public void Bad_cpu_lists_name_the_field(string list) =>
        ((Action)(() => SystemdProperties.RangeToBits(list, "linux.resources.cpu.cpus"))).Should().Throw<CgroupException>().WithMessage("linux.resources.cpu.cpus: *");

    private static string? NoName(char type, long major, long minor) => null;

    // As on a host where /sys/dev/char/M:m exists for every device and 136 is "pts" in /proc/devices.
    private static string? FakeHost(char type, long major, long minor) =>
        minor >= 0 ? $"/dev/char/{major}:{minor}" : major == 136 ? "char-pts" : null;

    private static Dictionary<string, VariantValue> Props(List<KeyValuePair<string, VariantValue>> list)
    {
        var d = new Dictionary<string, VariantValue>(StringComparer.Ordinal);
        foreach (var (k, v) in list) d[k] = v;
        return d;
    }
}

/// <summary>
/// The driver's D-Bus messages against a real bus (a private dbus-daemon, no systemd on it): a well-formed call to a
/// name nobody runs gets an org.freedesktop.DBus.Error reply (ServiceUnknown, or a failed activation); a malformed one
/// makes the daemon drop the connection instead ("Connection closed by peer": what a copied MessageWriter produced).
/// </summary>
public sealed class SystemdBusTests
{
    [Fact]
    public void StartTransientUnit_and_SetUnitProperties_are_well_formed_messages()
    {
        using var bus = PrivateBus.Start();
        if (bus is null) return; // the VM stage covers it for real
        using var client = SystemdManagerClient.Connect(bus.Address, user: true);
        var resources = new LinuxResources
        {
            Memory = new LinuxMemory { Limit = 1 << 26 },
            Cpu = new LinuxCpu { Shares = 512, Quota = 10_000, Cpus = "0" },
            Pids = new LinuxPids { Limit = 10 },
            Devices = [new LinuxDeviceCgroup { Allow = false, Access = "rwm" }],
        };
        var start = () => client.StartTransientUnit("t-1.scope", SystemdProperties.ForUnit(new SystemdUnitPath("system.slice", "t-1.scope"), "1", Environment.ProcessId));
        start.Should().Throw<CgroupException>().WithMessage("*: org.freedesktop.DBus.Error.*");
        var set = () => client.SetUnitProperties("t-1.scope", SystemdProperties.ForResources(resources, null, true, 252, (t, ma, mi) => "/dev/char/1:3"));
        set.Should().Throw<CgroupException>().WithMessage("*: org.freedesktop.DBus.Error.*");
        ((Action)(() => client.ActiveState("t-1.scope"))).Should().Throw<CgroupException>().WithMessage("*get unit t-1.scope: org.freedesktop.DBus.Error.*");
    }
}
