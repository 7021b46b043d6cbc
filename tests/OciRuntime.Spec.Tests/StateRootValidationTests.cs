namespace OciRuntime.Spec.Tests;

/// <summary>Validation that keeps bad input away from the state root and the cgroup tree (issue #18).</summary>
public sealed class StateRootValidationTests
{
    [Theory]
    [InlineData("/ocitest/a\0b")]
    [InlineData("a\nb")]
    [InlineData("/x/\u0001")]
    [InlineData("/x/\u007f")]
    public void A_cgroupsPath_with_a_NUL_or_another_invalid_character_is_refused(string path)
    {
        var spec = DefaultSpec.Create();
        spec.Linux!.CgroupsPath = path;

        SpecValidator.Check(spec).Should().ContainSingle().Which.JsonPath.Should().Be("linux.cgroupsPath");
    }

    [Fact]
    public void A_cgroupsPath_with_an_unpaired_surrogate_is_refused()
    {
        var spec = DefaultSpec.Create();
        spec.Linux!.CgroupsPath = "/x/" + (char)0xD800 + "y";

        SpecValidator.Check(spec).Should().ContainSingle().Which.JsonPath.Should().Be("linux.cgroupsPath");
    }

    [Theory]
    [InlineData("/ocitest/a")]
    [InlineData("machine.slice/x-é-\U0001F600")]
    public void Ordinary_cgroupsPaths_are_accepted(string path)
    {
        var spec = DefaultSpec.Create();
        spec.Linux!.CgroupsPath = path;

        SpecValidator.Check(spec).Should().BeEmpty();
    }

    [Theory]
    [InlineData("bind", null)]
    [InlineData(null, "rbind")]
    [InlineData("none", "bind")]
    public void A_bind_mount_without_source_is_refused_naming_the_mount(string? type, string? option)
    {
        var spec = DefaultSpec.Create();
        spec.Mounts!.Add(new Mount { Destination = "/mnt", Type = type, Options = option is null ? null : [option, "ro"] });

        var error = SpecValidator.Check(spec).Should().ContainSingle().Which;
        error.JsonPath.Should().Be($"mounts[{spec.Mounts.Count - 1}].source");
    }
}
