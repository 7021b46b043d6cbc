using OciRuntime.Runtime.Init;
using OciRuntime.Runtime.Tests.Harness;

namespace OciRuntime.Runtime.Tests;

/// <summary>AppArmor and SELinux labels: applied when the LSM runs, refused by name when it does not.</summary>
public sealed class SecurityLsmTests
{
    [Fact]
    public void AppArmor_profile_on_a_host_without_AppArmor_is_refused()
    {
        if (Lsm.AppArmorEnabled()) return; // the refusal is for hosts without AppArmor
        using var bundle = SecurityTestBundle.Create("echo started");
        bundle.Spec.Process!.ApparmorProfile = "docker-default";
        var r = bundle.Run();
        r.ExitCode.Should().NotBe(0);
        r.Stdout.Should().NotContain("started");
        r.Stderr.Should().Contain("config.json: process.apparmorProfile: AppArmor is not enabled on this host");
    }

    [Fact]
    public void SELinux_label_on_a_host_without_SELinux_is_refused()
    {
        if (Lsm.SelinuxEnabled()) return;
        using var bundle = SecurityTestBundle.Create("echo started");
        bundle.Spec.Process!.SelinuxLabel = "system_u:system_r:container_t:s0:c1,c2";
        var r = bundle.Run();
        r.ExitCode.Should().NotBe(0);
        r.Stderr.Should().Contain("config.json: process.selinuxLabel: SELinux is not enabled on this host");
    }

    [Fact]
    public void Mount_label_on_a_host_without_SELinux_is_refused()
    {
        if (Lsm.SelinuxEnabled()) return;
        using var bundle = SecurityTestBundle.Create("echo started");
        bundle.Spec.Linux!.MountLabel = "system_u:object_r:container_file_t:s0:c1,c2";
        var r = bundle.Run();
        r.ExitCode.Should().NotBe(0);
        r.Stderr.Should().Contain("config.json: linux.mountLabel: SELinux is not enabled on this host");
    }

    [Fact]
    public void No_label_asked_means_no_LSM_needed()
    {
        using var bundle = SecurityTestBundle.Create("echo started");
        bundle.Run().Stdout.Should().Contain("started");
    }

    [Theory]
    [InlineData(null, "tmpfs", false, "l", "context=\"l\"")]
    [InlineData("mode=755", "tmpfs", false, "l", "mode=755,context=\"l\"")]
    [InlineData("mode=755", "tmpfs", true, "l", "mode=755")]
    [InlineData(null, "proc", false, "l", null)]
    [InlineData(null, "sysfs", false, "l", null)]
    [InlineData(null, "mqueue", false, "l", null)]
    [InlineData("x", "tmpfs", false, null, "x")]
    public void Mount_label_becomes_a_context_option_like_runc(string? data, string type, bool bind, string? label, string? expected) =>
        Lsm.WithMountLabel(data, type, bind, label).Should().Be(expected);
}
