using System.Text;
using static OciRuntime.Spec.Tests.TestSupport;

namespace OciRuntime.Spec.Tests;

public class DefaultSpecTests
{
    [Fact]
    public void Create_serializes_to_exactly_the_bytes_runc_spec_writes()
    {
        byte[] expected = FixtureBytes("runc-spec.json");

        byte[] actual = SpecSerializer.SerializeToUtf8(DefaultSpec.Create());

        Encoding.UTF8.GetString(actual).Should().Be(Encoding.UTF8.GetString(expected));
        actual.Should().Equal(expected);
    }

    [Fact]
    public void Serialize_string_matches_the_utf8_bytes()
    {
        SpecSerializer.Serialize(DefaultSpec.Create()).Should().Be(FixtureText("runc-spec.json"));
    }

    [Fact]
    public void CreateRootless_for_root_serializes_to_exactly_runc_spec_rootless()
    {
        byte[] expected = FixtureBytes("runc-spec-rootless.json");

        byte[] actual = SpecSerializer.SerializeToUtf8(DefaultSpec.CreateRootless(0, 0));

        actual.Should().Equal(expected);
    }

    [Fact]
    public void CreateRootless_for_uid_1000_serializes_to_exactly_runc_spec_rootless_run_as_uid_1000()
    {
        byte[] expected = FixtureBytes("runc-spec-rootless-1000.json");

        byte[] actual = SpecSerializer.SerializeToUtf8(DefaultSpec.CreateRootless(1000, 1000));

        actual.Should().Equal(expected);
    }

    [Fact]
    public void Default_specs_are_valid()
    {
        SpecValidator.Check(DefaultSpec.Create()).Should().BeEmpty();
        SpecValidator.Check(DefaultSpec.CreateRootless(1000, 1000)).Should().BeEmpty();
    }

    [Fact]
    public void Default_spec_parses_back_to_the_same_json()
    {
        string json = SpecSerializer.Serialize(DefaultSpec.Create());
        SpecSerializer.Serialize(SpecSerializer.Parse(json)).Should().Be(json);
    }

    [Fact]
    public void Create_returns_independent_instances()
    {
        Spec a = DefaultSpec.Create();
        Spec b = DefaultSpec.Create();
        a.Process!.Capabilities!.Bounding!.Add("CAP_SYS_ADMIN");
        b.Process!.Capabilities!.Bounding.Should().HaveCount(3);
        b.Process.Capabilities.Effective.Should().HaveCount(3);
    }

    [Fact]
    public void Create_with_hostname_and_version()
    {
        Spec spec = DefaultSpec.Create("ocirun", SpecVersion.Current);
        spec.Hostname.Should().Be("ocirun");
        spec.OciVersion.Should().Be("1.2.1");
        SpecValidator.Check(spec).Should().BeEmpty();
    }

    [Fact]
    public void ToRootless_removes_network_and_resources_and_maps_the_user()
    {
        Spec spec = DefaultSpec.CreateRootless(1234, 5678);
        spec.Linux!.Namespaces!.Select(n => n.Type).Should().Equal("pid", "ipc", "uts", "mount", "user");
        spec.Linux.Resources.Should().BeNull();
        spec.Linux.UidMappings.Should().ContainSingle().Which.HostId.Should().Be(1234);
        spec.Linux.GidMappings.Should().ContainSingle().Which.HostId.Should().Be(5678);
        spec.Mounts!.Single(m => m.Destination == "/sys").Options.Should().Equal("rbind", "nosuid", "noexec", "nodev", "ro");
        spec.Mounts!.Single(m => m.Destination == "/dev/pts").Options.Should().NotContain(o => o.StartsWith("gid=", StringComparison.Ordinal));
    }
}
