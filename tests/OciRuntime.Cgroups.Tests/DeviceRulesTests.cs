using OciRuntime.Spec;

namespace OciRuntime.Cgroups.Tests;

/// <summary>Device rule evaluation (kernel v1 semantics) and the eBPF program compiled from it.</summary>
public sealed class DeviceRulesTests
{
    private static DeviceRule R(bool allow, char type, long major, long minor, string access)
    {
        var a = 0;
        foreach (var c in access) a |= c switch { 'r' => DeviceRule.Read, 'w' => DeviceRule.Write, _ => DeviceRule.Mknod };
        return new DeviceRule(allow, type, major, minor, a);
    }

    [Fact]
    public void Defaults_are_runcs_allowed_devices_after_the_spec_rules()
    {
        var rules = DeviceRules.Effective([new LinuxDeviceCgroup { Allow = false, Access = "rwm" }], null);
        rules.Select(r => (r.Allow ? "allow " : "deny ") + r.CgroupString).Should().Equal(
            "deny a *:* rwm", "allow c *:* m", "allow b *:* m", "allow c 1:3 rwm", "allow c 1:8 rwm", "allow c 1:7 rwm",
            "allow c 5:0 rwm", "allow c 1:5 rwm", "allow c 1:9 rwm", "allow c 136:* rwm", "allow c 5:2 rwm", "allow c 10:200 rwm");
    }

    [Fact]
    public void A_linux_device_with_a_default_path_drops_that_default_as_runc_does()
    {
        var rules = DeviceRules.Effective([], [new LinuxDevice { Path = "/dev/null", Type = "c", Major = 1, Minor = 3 }]);
        rules.Should().NotContain(r => r.Major == 1 && r.Minor == 3);
        rules.Should().HaveCount(DeviceRules.AllowedDevices.Count - 1);
    }

    [Theory]
    [InlineData("x", null, "linux.resources.devices[0].type*")]
    [InlineData("c", "rwz", "linux.resources.devices[0].access*")]
    public void Bad_rules_name_the_field(string type, string? access, string message)
    {
        var act = () => DeviceRules.Effective([new LinuxDeviceCgroup { Allow = true, Type = type, Access = access }], null);
        act.Should().Throw<CgroupException>().WithMessage(message);
    }

    [Fact]
    public void Evaluation_follows_the_kernel()
    {
        // Deny all, allow c 1:3 rwm, then deny its w: the exception keeps rm.
        var s = DeviceRules.Evaluate([R(false, 'a', -1, -1, "rwm"), R(true, 'c', 1, 3, "rwm"), R(false, 'c', 1, 3, "w")]);
        s.DefaultAllow.Should().BeFalse();
        s.Exceptions.Should().ContainSingle().Which.CgroupString.Should().Be("c 1:3 rm");
        s.IsAllowed('c', 1, 3, DeviceRule.Read).Should().BeTrue();
        s.IsAllowed('c', 1, 3, DeviceRule.Read | DeviceRule.Write).Should().BeFalse();

        // Allow all, deny b 8:* w: blacklist; a read of 8:0 passes, a write does not.
        var b = DeviceRules.Evaluate([R(true, 'a', -1, -1, "rwm"), R(false, 'b', 8, -1, "w")]);
        b.DefaultAllow.Should().BeTrue();
        b.IsAllowed('b', 8, 0, DeviceRule.Read).Should().BeTrue();
        b.IsAllowed('b', 8, 0, DeviceRule.Read | DeviceRule.Write).Should().BeFalse();
        b.IsAllowed('b', 9, 0, DeviceRule.Write).Should().BeTrue();

        // A later "a" rule resets everything before it.
        DeviceRules.Evaluate([R(true, 'c', 1, 3, "rwm"), R(false, 'a', -1, -1, "rwm")]).Exceptions.Should().BeEmpty();
        // Wildcard exceptions match any number; same-device rules merge their bits.
        var w = DeviceRules.Evaluate([R(false, 'a', -1, -1, "rwm"), R(true, 'c', 136, -1, "r"), R(true, 'c', 136, -1, "w")]);
        w.Exceptions.Should().ContainSingle().Which.CgroupString.Should().Be("c 136:* rw");
        w.IsAllowed('c', 136, 42, DeviceRule.Read | DeviceRule.Write).Should().BeTrue();
        w.IsAllowed('c', 136, 42, DeviceRule.Mknod).Should().BeFalse();
    }

    public static IEnumerable<object[]> RuleSets()
    {
        yield return [new[] { R(false, 'a', -1, -1, "rwm") }];
        yield return [new[] { R(true, 'a', -1, -1, "rwm"), R(false, 'c', 1, 3, "w"), R(false, 'b', -1, -1, "m") }];
        yield return [new[] { R(false, 'a', -1, -1, "rwm"), R(true, 'c', 1, -1, "rw"), R(true, 'b', 8, 0, "r"), R(true, 'c', -1, 5, "m") }];
        yield return [DeviceRules.Effective([new LinuxDeviceCgroup { Allow = false, Access = "rwm" }], null).ToArray()];
        yield return [new[] { R(true, 'c', 4294967295, 4294967294, "rwm"), R(false, 'a', -1, -1, "r"), R(true, 'c', 4294967295, 4294967294, "w") }];
    }

    [Theory]
    [MemberData(nameof(RuleSets))]
    public void The_ebpf_program_agrees_with_the_evaluation_on_every_access(DeviceRule[] rules)
    {
        var state = DeviceRules.Evaluate(rules);
        var program = DeviceFilter.Compile(state);
        var numbers = new long[] { 0, 1, 3, 5, 8, 136, 4294967294, 4294967295 };
        foreach (var type in new[] { 'c', 'b' })
        foreach (var major in numbers)
        foreach (var minor in numbers)
        for (var access = 1; access <= 7; access++)
        {
            var expected = state.IsAllowed(type, major, minor, access);
            DeviceFilter.Run(program, type == 'b' ? 1 : 2, (uint)major, (uint)minor, access)
                .Should().Be(expected, $"{type} {major}:{minor} access {DeviceRule.AccessString(access)}");
        }
    }
}
