using OciRuntime.Runtime.Tests.Harness;
using OciRuntime.Spec;

namespace OciRuntime.Runtime.Tests;

/// <summary>
/// Capability sets, users and no_new_privs as the container process sees them in /proc/self/status, for several
/// configurations, and against runc as the oracle.
/// </summary>
public sealed class SecurityCapabilityTests
{
    private const string StatusScript = "grep -E '^(Cap|NoNewPrivs|Seccomp|Uid|Gid)' /proc/self/status";

    // CAP_KILL (5), CAP_NET_BIND_SERVICE (10), CAP_AUDIT_WRITE (29): the default spec's sets.
    private const ulong DefaultCaps = (1UL << 5) | (1UL << 10) | (1UL << 29);

    // What this host lets a root process have (a VM may withhold some, e.g. CAP_SYS_RESOURCE): the test process's bounding set.
    private static ulong HostCaps => SecurityTestBundle.CapField(File.ReadAllText("/proc/self/status"), "CapBnd");

    private static List<string> HostCapNames() => [.. CapabilityNames.All.Where((_, i) => (HostCaps & (1UL << i)) != 0)];

    [Fact]
    public void Default_spec_as_root_has_the_three_default_capabilities_and_no_new_privs()
    {
        using var bundle = SecurityTestBundle.Create(StatusScript);
        var r = bundle.Run();
        r.ExitCode.Should().Be(0, r.ToString());
        SecurityTestBundle.CapField(r.Stdout, "CapEff").Should().Be(DefaultCaps);
        SecurityTestBundle.CapField(r.Stdout, "CapPrm").Should().Be(DefaultCaps);
        SecurityTestBundle.CapField(r.Stdout, "CapBnd").Should().Be(DefaultCaps);
        SecurityTestBundle.CapField(r.Stdout, "CapInh").Should().Be(0);
        // Root's execve clears the ambient set (the kernel treats root as having file capabilities).
        SecurityTestBundle.CapField(r.Stdout, "CapAmb").Should().Be(0);
        SecurityTestBundle.StatusField(r.Stdout, "NoNewPrivs").Should().Be("1");
        SecurityTestBundle.StatusField(r.Stdout, "Seccomp").Should().Be("0");
    }

    [Fact]
    public void Non_root_user_gets_ambient_capabilities_raised_through_execve()
    {
        using var bundle = SecurityTestBundle.Create(StatusScript);
        bundle.Spec.Process!.User = new User { Uid = 1000, Gid = 1000, AdditionalGids = [1000, 20] };
        bundle.Spec.Process.Capabilities = new LinuxCapabilities
        {
            Bounding = ["CAP_NET_BIND_SERVICE", "CAP_KILL", "CAP_CHOWN"],
            Effective = ["CAP_NET_BIND_SERVICE"],
            Permitted = ["CAP_NET_BIND_SERVICE"],
            Inheritable = ["CAP_NET_BIND_SERVICE"],
            Ambient = ["CAP_NET_BIND_SERVICE"],
        };
        var r = bundle.Run();
        r.ExitCode.Should().Be(0, r.ToString());
        const ulong netBind = 1UL << 10;
        SecurityTestBundle.CapField(r.Stdout, "CapAmb").Should().Be(netBind);
        SecurityTestBundle.CapField(r.Stdout, "CapEff").Should().Be(netBind);
        SecurityTestBundle.CapField(r.Stdout, "CapPrm").Should().Be(netBind);
        SecurityTestBundle.CapField(r.Stdout, "CapInh").Should().Be(netBind);
        SecurityTestBundle.CapField(r.Stdout, "CapBnd").Should().Be(netBind | (1UL << 5) | (1UL << 0));
        SecurityTestBundle.StatusField(r.Stdout, "Uid").Should().StartWith("1000\t1000\t1000\t1000");
        SecurityTestBundle.StatusField(r.Stdout, "Gid").Should().StartWith("1000\t1000\t1000\t1000");
    }

    [Fact]
    public void Non_root_user_without_ambient_capabilities_ends_with_none()
    {
        using var bundle = SecurityTestBundle.Create(StatusScript);
        bundle.Spec.Process!.User = new User { Uid = 1000, Gid = 1000 };
        var r = bundle.Run();
        r.ExitCode.Should().Be(0, r.ToString());
        SecurityTestBundle.CapField(r.Stdout, "CapEff").Should().Be(0);
        SecurityTestBundle.CapField(r.Stdout, "CapPrm").Should().Be(0);
        SecurityTestBundle.CapField(r.Stdout, "CapBnd").Should().Be(DefaultCaps);
    }

    [Fact]
    public void Ambient_capability_missing_from_inheritable_is_not_raised_and_not_an_error()
    {
        using var bundle = SecurityTestBundle.Create(StatusScript);
        bundle.Spec.Process!.User = new User { Uid = 1000, Gid = 1000 };
        bundle.Spec.Process.Capabilities!.Inheritable = null;
        var r = bundle.Run();
        r.ExitCode.Should().Be(0, r.ToString());
        SecurityTestBundle.CapField(r.Stdout, "CapAmb").Should().Be(0);
        SecurityTestBundle.CapField(r.Stdout, "CapEff").Should().Be(0);
    }

    [Fact]
    public void No_capabilities_field_means_no_capabilities_even_for_root()
    {
        using var bundle = SecurityTestBundle.Create(StatusScript);
        bundle.Spec.Process!.Capabilities = null;
        var r = bundle.Run();
        r.ExitCode.Should().Be(0, r.ToString());
        SecurityTestBundle.CapField(r.Stdout, "CapEff").Should().Be(0);
        SecurityTestBundle.CapField(r.Stdout, "CapPrm").Should().Be(0);
        SecurityTestBundle.CapField(r.Stdout, "CapBnd").Should().Be(0);
    }

    [Fact]
    public void Every_capability_as_root_without_no_new_privs()
    {
        using var bundle = SecurityTestBundle.Create(StatusScript);
        List<string> all() => HostCapNames();
        bundle.Spec.Process!.Capabilities = new LinuxCapabilities { Bounding = all(), Effective = all(), Permitted = all(), Inheritable = all(), Ambient = all() };
        bundle.Spec.Process.NoNewPrivileges = false;
        var r = bundle.Run();
        r.ExitCode.Should().Be(0, r.ToString());
        SecurityTestBundle.CapField(r.Stdout, "CapEff").Should().Be(HostCaps);
        SecurityTestBundle.CapField(r.Stdout, "CapBnd").Should().Be(HostCaps);
        SecurityTestBundle.CapField(r.Stdout, "CapInh").Should().Be(HostCaps);
        SecurityTestBundle.StatusField(r.Stdout, "NoNewPrivs").Should().Be("0");
    }

    [Fact]
    public void Unknown_capability_is_a_warning_and_grants_nothing()
    {
        // config.md#linux-process: runtimes SHOULD NOT fail on an unknown capability; runc 1.1 warns and skips it.
        using var bundle = SecurityTestBundle.Create("grep CapBnd /proc/self/status");
        bundle.Spec.Process!.Capabilities!.Bounding!.Add("CAP_NOT_A_CAP");
        var r = bundle.Run();
        r.ExitCode.Should().Be(0, r.ToString());
        r.Stderr.Should().Contain("ignoring unknown or unavailable capabilities: [CAP_NOT_A_CAP]");
        r.Stdout.Should().Be("CapBnd:\t0000000020000420\n", "the bounding set is runc's default three, nothing more");
    }

    [Fact]
    public void Capability_dropped_from_the_bounding_set_really_is_gone()
    {
        // chown needs CAP_CHOWN: with it the call works, without it the kernel refuses.
        using var bundle = SecurityTestBundle.Create("touch /tmp/f && chown 1000 /tmp/f && echo chown-ok");
        var r = bundle.Run();
        r.Stderr.Should().Contain("Operation not permitted");
        r.Stdout.Should().NotContain("chown-ok");
        List<string> withChown() => ["CAP_CHOWN", "CAP_KILL"];
        bundle.Spec.Process!.Capabilities = new LinuxCapabilities { Bounding = withChown(), Effective = withChown(), Permitted = withChown() };
        var ok = bundle.Run();
        ok.Stdout.Should().Contain("chown-ok", ok.ToString());
    }

    public static TheoryData<string> OracleCases => ["root-default", "root-all-no-nnp", "user-ambient", "user-plain", "no-caps"];

    [Theory]
    [MemberData(nameof(OracleCases))]
    public void Status_lines_match_runc(string name)
    {
        if (!File.Exists("/usr/sbin/runc")) return;
        using var bundle = SecurityTestBundle.Create(StatusScript);
        var p = bundle.Spec.Process!;
        switch (name)
        {
            case "root-all-no-nnp":
                List<string> all() => HostCapNames();
                p.Capabilities = new LinuxCapabilities { Bounding = all(), Effective = all(), Permitted = all(), Inheritable = all(), Ambient = all() };
                p.NoNewPrivileges = false;
                break;
            case "user-ambient":
                p.User = new User { Uid = 1000, Gid = 1000 };
                List<string> net() => ["CAP_NET_BIND_SERVICE", "CAP_NET_RAW"];
                p.Capabilities = new LinuxCapabilities { Bounding = net(), Effective = net(), Permitted = net(), Inheritable = net(), Ambient = ["CAP_NET_RAW"] };
                break;
            case "user-plain":
                p.User = new User { Uid = 1000, Gid = 1000 };
                break;
            case "no-caps":
                p.Capabilities = null;
                break;
        }
        var ours = bundle.Run();
        var runc = Harness.Ocirun.Exec("/usr/sbin/runc", ["--root", Path.Combine(bundle.Dir, "runc-state"), "run", "--bundle", bundle.Dir, SecurityTestBundle.NewId()]);
        ours.ExitCode.Should().Be(0, ours.ToString());
        runc.ExitCode.Should().Be(0, runc.ToString());
        foreach (var key in new[] { "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Uid", "Gid" })
        {
            SecurityTestBundle.StatusField(ours.Stdout, key).Should().Be(SecurityTestBundle.StatusField(runc.Stdout, key), $"{key} in {name}");
        }
    }
}
