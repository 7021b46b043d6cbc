using static OciRuntime.Spec.Tests.TestSupport;

namespace OciRuntime.Spec.Tests;

public sealed class ValidatorTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ocirun-validator-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Spec Default() => DefaultSpec.Create();

    [Theory]
    [InlineData("1.0.0")]
    [InlineData("1.0.1")]
    [InlineData("1.0.2")]
    [InlineData("1.0.2-dev")]
    [InlineData("1.0.0-rc5")]
    [InlineData("1.0.0-rc.92")]
    [InlineData("1.1.0")]
    [InlineData("1.1.0-rc.1")]
    [InlineData("1.2.0")]
    [InlineData("1.2.1")]
    [InlineData("1.2.9+build.7")]
    public void Supported_versions(string version)
    {
        Spec spec = Default();
        spec.OciVersion = version;
        SpecValidator.Check(spec).Should().BeEmpty();
    }

    [Theory]
    [InlineData("1")]
    [InlineData("1.0")]
    [InlineData("v1.0.0")]
    [InlineData("1.0.0-")]
    [InlineData("1.0.0-rc.01")]
    [InlineData("01.0.0")]
    [InlineData("1.0.0+")]
    [InlineData("1.0.0 ")]
    [InlineData("1..0")]
    public void Invalid_semver(string version)
    {
        SpecVersion.TryParse(version, out _, out _, out _).Should().BeFalse();
        Spec spec = Default();
        spec.OciVersion = version;
        SpecValidator.Check(spec).Should().ContainSingle().Which.JsonPath.Should().Be("ociVersion");
    }

    [Fact]
    public void Newer_minor_versions_can_be_allowed()
    {
        Spec spec = Default();
        spec.OciVersion = "1.3.0";
        SpecValidator.Check(spec).Should().ContainSingle();
        SpecValidator.Check(spec, new ValidationOptions { AllowNewerMinorVersion = true }).Should().BeEmpty();
        spec.OciVersion = "2.0.0";
        SpecValidator.Check(spec, new ValidationOptions { AllowNewerMinorVersion = true }).Should().ContainSingle();
    }

    [Fact]
    public void Validate_throws_the_first_error_and_keeps_all_of_them()
    {
        Spec spec = Default();
        spec.OciVersion = "";
        spec.Process!.Cwd = "relative";
        spec.Linux!.MaskedPaths![0] = "x";

        SpecException ex = Assert.Throws<SpecException>(() => SpecValidator.Validate(spec));

        ex.Message.Should().Be("config.json: ociVersion: is required");
        ex.Errors.Select(e => e.JsonPath).Should().Equal("ociVersion", "process.cwd", "linux.maskedPaths[0]");
        ex.Errors[1].ToString().Should().Be("process.cwd: must be an absolute path, got \"relative\"");
    }

    [Fact]
    public void File_name_option_is_used_in_the_message()
    {
        Spec spec = Default();
        spec.Process!.Args = [];
        SpecException ex = Assert.Throws<SpecException>(() => SpecValidator.Validate(spec, new ValidationOptions { FileName = "/bundle/config.json" }));
        ex.Message.Should().Be("/bundle/config.json: process.args: must contain at least one entry");
    }

    [Fact]
    public void Process_is_optional_when_not_required()
    {
        Spec spec = Default();
        spec.Process = null;
        SpecValidator.Check(spec, new ValidationOptions { RequireProcess = false }).Should().BeEmpty();
        SpecValidator.Check(spec).Should().ContainSingle().Which.JsonPath.Should().Be("process");
    }

    [Fact]
    public void Root_path_is_checked_against_the_bundle()
    {
        Spec spec = Default();
        var options = new ValidationOptions { BundleDir = _dir };

        SpecException missing = Assert.Throws<SpecException>(() => SpecValidator.Validate(spec, options));
        missing.Message.Should().Be($"config.json: root.path: the root filesystem \"{_dir}/rootfs\" does not exist");

        File.WriteAllText(Path.Combine(_dir, "rootfs"), "");
        Assert.Throws<SpecException>(() => SpecValidator.Validate(spec, options)).Message.Should().EndWith("is not a directory");

        File.Delete(Path.Combine(_dir, "rootfs"));
        Directory.CreateDirectory(Path.Combine(_dir, "rootfs"));
        SpecValidator.Validate(spec, options);

        spec.Root!.Path = _dir; // absolute paths are used as they are
        SpecValidator.Validate(spec, options);
    }

    [Fact]
    public void Terminal_rules_follow_runc()
    {
        Spec spec = Default();
        SpecValidator.Check(spec, new ValidationOptions { Detached = false }).Should().BeEmpty();
        SpecValidator.Check(spec, new ValidationOptions { Detached = true, HasConsoleSocket = true }).Should().BeEmpty();
        SpecValidator.Check(spec, new ValidationOptions { Detached = true }).Should().ContainSingle().Which.JsonPath.Should().Be("process.terminal");
        SpecValidator.Check(spec, new ValidationOptions { Detached = false, HasConsoleSocket = true }).Should().ContainSingle()
            .Which.Message.Should().Contain("only be used when the container is detached");

        spec.Process!.Terminal = false;
        SpecValidator.Check(spec, new ValidationOptions { Detached = true }).Should().BeEmpty();
        SpecValidator.Check(spec, new ValidationOptions { Detached = true, HasConsoleSocket = true }).Should().ContainSingle();
    }

    [Fact]
    public void Unknown_capabilities_are_valid_the_runtime_warns_and_skips_them()
    {
        Spec spec = Default();
        spec.Process!.Capabilities!.Bounding!.Add("CAP_FUTURE");
        SpecValidator.Check(spec).Should().BeEmpty();
        SpecValidator.Check(spec, new ValidationOptions { AllowUnknownCapabilities = true }).Should().BeEmpty();
    }

    [Fact]
    public void All_41_capabilities_are_known_with_their_numbers()
    {
        CapabilityNames.All.Should().HaveCount(41).And.OnlyHaveUniqueItems();
        CapabilityNames.TryGetNumber("CAP_CHOWN", out int chown).Should().BeTrue();
        chown.Should().Be(0);
        CapabilityNames.TryGetNumber("CAP_SYS_ADMIN", out int admin).Should().BeTrue();
        admin.Should().Be(21);
        CapabilityNames.TryGetNumber("CAP_CHECKPOINT_RESTORE", out int last).Should().BeTrue();
        last.Should().Be(40);
        CapabilityNames.TryGetNumber("CAP_NOPE", out int none).Should().BeFalse();
        none.Should().Be(-1);

        Spec spec = Default();
        spec.Process!.Capabilities!.Bounding = [.. CapabilityNames.All];
        SpecValidator.Check(spec).Should().BeEmpty();
    }

    [Fact]
    public void Rlimit_numbers()
    {
        RlimitTypes.All.Should().HaveCount(16);
        RlimitTypes.TryGetResource("RLIMIT_NOFILE", out int nofile).Should().BeTrue();
        nofile.Should().Be(7);
        RlimitTypes.TryGetResource("RLIMIT_RTTIME", out int rttime).Should().BeTrue();
        rttime.Should().Be(15);
    }

    [Fact]
    public void Namespaces()
    {
        NamespaceType.All.Should().Equal("pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time");
        NamespaceType.IsKnown("net").Should().BeFalse();
        NamespaceType.IsKnown(NamespaceType.Cgroup).Should().BeTrue();
    }

    [Fact]
    public void Sysctls_allowed_in_their_namespaces()
    {
        Spec spec = Default();
        spec.Linux!.Sysctl = new()
        {
            ["net.ipv4.ip_forward"] = "1",
            ["net/core/somaxconn"] = "256",
            ["kernel.shmmax"] = "1",
            ["kernel.shm_rmid_forced"] = "1",
            ["kernel.msgmnb"] = "1",
            ["kernel.sem"] = "1 2 3 4",
            ["fs.mqueue.queues_max"] = "1",
            ["kernel.domainname"] = "x",
            ["kernel.hostname"] = "y",
        };
        spec.Hostname = null; // with hostname or domainname set they would conflict (below)
        SpecValidator.Check(spec).Should().BeEmpty();
    }

    [Fact]
    public void Sysctl_hostname_or_domainname_conflicting_with_the_fields_is_refused_naming_the_path()
    {
        Spec spec = Default();
        spec.Hostname = "box";
        spec.Domainname = "example.org";
        spec.Linux!.Sysctl = new() { ["kernel.hostname"] = "other", ["kernel.domainname"] = "other.org" };
        SpecValidator.Check(new Spec { Hostname = "box", Linux = new Linux { Sysctl = new() { ["kernel.hostname"] = "box" }, Namespaces = spec.Linux.Namespaces }, Root = spec.Root, Process = spec.Process, OciVersion = spec.OciVersion })
            .Should().BeEmpty("the same value twice is no conflict");
        SpecValidator.Check(spec).Select(e => e.ToString()).Should().BeEquivalentTo(
            "linux.sysctl['kernel.hostname']: sysctl \"kernel.hostname\" conflicts with hostname \"box\" (set one of them)",
            "linux.sysctl['kernel.domainname']: sysctl \"kernel.domainname\" conflicts with domainname \"example.org\" (set one of them)");
    }

    [Fact]
    public void Net_sysctls_are_allowed_in_a_joined_network_namespace()
    {
        Spec spec = Default();
        spec.Linux!.Namespaces!.Single(n => n.Type == "network").Path = "/var/run/netns/pod";
        spec.Linux.Sysctl = new() { ["net.ipv4.ip_forward"] = "1" };
        SpecValidator.Check(spec).Should().BeEmpty();
    }

    [Fact]
    public void Mappings_are_allowed_with_a_user_namespace()
    {
        Spec spec = DefaultSpec.CreateRootless(1000, 1000);
        spec.Linux!.UidMappings!.Add(new LinuxIdMapping { ContainerId = 1, HostId = 100000, Size = 65536 });
        SpecValidator.Check(spec).Should().BeEmpty();
    }

    [Fact]
    public void Swap_of_minus_one_or_zero_is_not_compared_with_the_limit()
    {
        Spec spec = Default();
        spec.Linux!.Resources!.Memory = new LinuxMemory { Limit = 1000, Swap = -1 };
        SpecValidator.Check(spec).Should().BeEmpty();
        spec.Linux.Resources.Memory = new LinuxMemory { Limit = -1, Swap = 10 };
        SpecValidator.Check(spec).Should().BeEmpty();
        spec.Linux.Resources.Memory = new LinuxMemory { Limit = 1000, Swap = 1000 };
        SpecValidator.Check(spec).Should().BeEmpty();
    }

    [Theory]
    [InlineData("0")]
    [InlineData("0-3")]
    [InlineData("0-3,5")]
    [InlineData("0,2,4-7,9")]
    [InlineData("0-15:2/4")]
    public void Valid_cpu_lists(string list)
    {
        CpuList.IsValid(list).Should().BeTrue();
    }

    [Theory]
    [InlineData("")]
    [InlineData("a")]
    [InlineData("0-")]
    [InlineData("-1")]
    [InlineData("3-1")]
    [InlineData("0,")]
    [InlineData(",0")]
    [InlineData("0 - 3")]
    [InlineData("0-3:0/4")]
    [InlineData("99999999999")]
    public void Invalid_cpu_lists(string list)
    {
        CpuList.IsValid(list).Should().BeFalse();
    }

    [Fact]
    public void CpuList_ranges()
    {
        CpuList.TryParse("0-3,7", out IReadOnlyList<(int First, int Last)> ranges).Should().BeTrue();
        ranges.Should().Equal((0, 3), (7, 7));
    }

    [Fact]
    public void Null_elements_built_in_code_are_reported_not_crashed_on()
    {
        Spec spec = Default();
        spec.Mounts![1] = null!;
        spec.Process!.User = null!;
        SpecValidator.Check(spec).Should().ContainSingle().Which.ToString().Should().Be("process.user: must not be null (expected an object)");

        spec.Process.User = new User();
        SpecValidator.Check(spec).Should().ContainSingle().Which.ToString().Should().Be("mounts[1]: must not be null (expected an object)");
    }

    [Fact]
    public void Empty_spec_reports_the_required_fields()
    {
        SpecValidator.Check(new Spec()).Select(e => e.JsonPath).Should().Equal("ociVersion", "process", "root");
    }

    [Fact]
    public void Full_config_is_valid_and_its_features_are_exercised()
    {
        Spec spec = SpecSerializer.Parse(FixtureBytes("full-config.json"));
        SpecValidator.Check(spec, new ValidationOptions { Detached = true, HasConsoleSocket = true }).Should().BeEmpty();
    }
}
