using OciRuntime.Runtime.Tests.Harness;
using OciRuntime.Spec;

namespace OciRuntime.Runtime.Tests;

/// <summary>linux.seccomp end to end: every action, the argument operators, flags, and the profile Docker sends.</summary>
public sealed class SecuritySeccompTests
{
    private static LinuxSeccomp Deny(string action, params string[] names) => new()
    {
        DefaultAction = SeccompActions.Allow,
        Syscalls = [new LinuxSyscall { Names = [.. names], Action = action }],
    };

    [Fact]
    public void Errno_action_fails_mkdir_with_the_errno_and_status_shows_one_filter()
    {
        using var bundle = SecurityTestBundle.Create("grep Seccomp /proc/self/status; mkdir /tmp/x; echo mkdir=$?; test -d /tmp/x || echo absent");
        bundle.Spec.Linux!.Seccomp = Deny(SeccompActions.Errno, "mkdir");
        bundle.Spec.Linux.Seccomp.Syscalls![0].ErrnoRet = 1;
        var r = bundle.Run();
        r.ExitCode.Should().Be(0, r.ToString());
        r.Stderr.Should().Contain("Operation not permitted");
        r.Stdout.Should().Contain("mkdir=1").And.Contain("absent");
        SecurityTestBundle.StatusField(r.Stdout, "Seccomp").Should().Be("2");
        SecurityTestBundle.StatusField(r.Stdout, "Seccomp_filters").Should().Be("1");
    }

    [Fact]
    public void Errno_action_uses_errnoRet_and_defaultErrnoRet()
    {
        using var bundle = SecurityTestBundle.Create("mkdir /tmp/x; rmdir /tmp; true");
        bundle.Spec.Linux!.Seccomp = new LinuxSeccomp
        {
            DefaultAction = SeccompActions.Allow,
            Syscalls =
            [
                new LinuxSyscall { Names = ["mkdir"], Action = SeccompActions.Errno, ErrnoRet = 13 },
                new LinuxSyscall { Names = ["rmdir"], Action = SeccompActions.Errno }, // default EPERM
            ],
        };
        var r = bundle.Run();
        r.Stderr.Should().Contain("can't create directory '/tmp/x': Permission denied");
        r.Stderr.Should().Contain("Operation not permitted");
    }

    [Theory]
    [InlineData(SeccompActions.Kill)]
    [InlineData(SeccompActions.KillThread)]
    [InlineData(SeccompActions.KillProcess)]
    public void Kill_actions_kill_the_process_with_SIGSYS(string action)
    {
        using var bundle = SecurityTestBundle.Create();
        bundle.Spec.Process!.Args = ["mkdir", "/tmp/killed"];
        bundle.Spec.Linux!.Seccomp = Deny(action, "mkdir");
        var r = bundle.Run();
        r.ExitCode.Should().Be(128 + 31, r.ToString()); // 159: killed by SIGSYS
        Directory.Exists(Path.Combine(bundle.Rootfs, "tmp/killed")).Should().BeFalse();
    }

    [Fact]
    public void Trap_action_sends_a_catchable_SIGSYS()
    {
        using var bundle = SecurityTestBundle.Create("trap 'echo caught-SIGSYS' SYS; cd /tmp; echo after-trap");
        bundle.Spec.Linux!.Seccomp = Deny(SeccompActions.Trap, "chdir");
        var r = bundle.Run();
        r.Stdout.Should().Contain("caught-SIGSYS").And.Contain("after-trap");
        // Uncaught, the same SIGSYS kills: 159.
        bundle.Spec.Process!.Args = ["mkdir", "/tmp/t"];
        bundle.Spec.Linux.Seccomp = Deny(SeccompActions.Trap, "mkdir");
        bundle.Run().ExitCode.Should().Be(159);
    }

    [Fact]
    public void Trace_action_without_a_tracer_fails_with_ENOSYS()
    {
        using var bundle = SecurityTestBundle.Create("mkdir /tmp/traced; echo status=$?");
        bundle.Spec.Linux!.Seccomp = Deny(SeccompActions.Trace, "mkdir");
        var r = bundle.Run();
        r.Stderr.Should().Contain("Function not implemented");
        r.Stdout.Should().Contain("status=1");
    }

    [Fact]
    public void Log_action_allows_the_call_and_the_kernel_logs_it()
    {
        using var bundle = SecurityTestBundle.Create("mkdir /tmp/logged && echo made");
        bundle.Spec.Linux!.Seccomp = Deny(SeccompActions.Log, "mkdir");
        var start = DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 1;
        var r = bundle.Run();
        r.Stdout.Should().Contain("made", r.ToString());
        // audit type 1326 (AUDIT_SECCOMP): syscall 83 (mkdir on x86-64) with action SECCOMP_RET_LOG, stamped after the start.
        var lines = Harness.Ocirun.Exec("dmesg", []).Stdout.Split('\n');
        lines.Should().Contain(l => l.Contains("type=1326") && l.Contains("syscall=83") && l.Contains("code=0x7ffc0000") && AuditSeconds(l) >= start);
    }

    private static long AuditSeconds(string line)
    {
        var at = line.IndexOf("audit(", StringComparison.Ordinal);
        if (at < 0) return 0;
        var end = line.IndexOf('.', at);
        return end > at && long.TryParse(line.AsSpan(at + 6, end - at - 6), out var seconds) ? seconds : 0;
    }

    [Fact]
    public void Allow_list_with_a_default_errno_runs_a_shell()
    {
        using var bundle = SecurityTestBundle.Create("echo hello; grep Seccomp: /proc/self/status; mkdir /tmp/x; echo mkdir=$?");
        bundle.Spec.Linux!.Seccomp = new LinuxSeccomp
        {
            DefaultAction = SeccompActions.Errno,
            DefaultErrnoRet = 38,
            Syscalls = [new LinuxSyscall
            {
                Action = SeccompActions.Allow,
                Names = ["execve", "brk", "arch_prctl", "set_tid_address", "set_robust_list", "rseq", "prlimit64", "mprotect", "readlink",
                         "getuid", "geteuid", "getpid", "getppid", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "write", "read", "openat",
                         "open", "close", "fstat", "newfstatat", "stat", "lstat", "ioctl", "fcntl", "dup2", "wait4", "clone", "vfork", "fork",
                         "exit", "exit_group", "getcwd", "uname", "mmap", "munmap", "lseek", "getrandom", "getdents64", "pipe", "pipe2"],
            }],
        };
        var r = bundle.Run();
        r.ExitCode.Should().Be(0, r.ToString());
        r.Stdout.Should().Contain("hello").And.Contain("mkdir=1");
        r.Stderr.Should().Contain("Function not implemented");
    }

    [Fact]
    public void Unknown_syscall_names_are_skipped()
    {
        using var bundle = SecurityTestBundle.Create("mkdir /tmp/x; echo status=$?");
        bundle.Spec.Linux!.Seccomp = Deny(SeccompActions.Errno, "no_such_syscall_at_all", "mkdir", "another_made_up_one");
        var r = bundle.Run();
        r.ExitCode.Should().Be(0, r.ToString());
        r.Stdout.Should().Contain("status=1");
    }

    // busybox's linux32 calls personality(PER_LINUX32 = 8), linux64 personality(PER_LINUX = 0).
    public static TheoryData<string, ulong, ulong?, bool, bool> Operators => new()
    {
        { SeccompOperators.EqualTo, 8, null, true, false },
        { SeccompOperators.NotEqual, 8, null, false, true },
        { SeccompOperators.LessThan, 8, null, false, true },
        { SeccompOperators.LessOrEqual, 8, null, true, true },
        { SeccompOperators.GreaterThan, 0, null, true, false },
        { SeccompOperators.GreaterOrEqual, 0, null, true, true },
        { SeccompOperators.MaskedEqual, 0xff, 8, true, false },
        { SeccompOperators.MaskedEqual, 0xff, 0, false, true },
        { SeccompOperators.EqualTo, 0xffffffff, null, false, false },
    };

    [Theory]
    [MemberData(nameof(Operators))]
    public void Argument_operators_select_the_personality_calls_to_deny(string op, ulong value, ulong? valueTwo, bool linux32Denied, bool linux64Denied)
    {
        using var bundle = SecurityTestBundle.Create("linux32 true && echo l32=ok || echo l32=denied; linux64 true && echo l64=ok || echo l64=denied");
        bundle.Spec.Linux!.Seccomp = new LinuxSeccomp
        {
            DefaultAction = SeccompActions.Allow,
            Syscalls = [new LinuxSyscall { Names = ["personality"], Action = SeccompActions.Errno, Args = [new LinuxSeccompArg { Index = 0, Op = op, Value = value, ValueTwo = valueTwo }] }],
        };
        var r = bundle.Run();
        r.ExitCode.Should().Be(0, r.ToString());
        r.Stdout.Should().Contain(linux32Denied ? "l32=denied" : "l32=ok", r.ToString());
        r.Stdout.Should().Contain(linux64Denied ? "l64=denied" : "l64=ok", r.ToString());
    }

    [Fact]
    public void Two_conditions_on_the_same_argument_are_ORed_as_in_runc()
    {
        using var bundle = SecurityTestBundle.Create("linux32 true && echo l32=ok || echo l32=denied; linux64 true && echo l64=ok || echo l64=denied");
        bundle.Spec.Linux!.Seccomp = new LinuxSeccomp
        {
            DefaultAction = SeccompActions.Allow,
            Syscalls = [new LinuxSyscall
            {
                Names = ["personality"],
                Action = SeccompActions.Errno,
                Args = [new LinuxSeccompArg { Index = 0, Op = SeccompOperators.EqualTo, Value = 8 }, new LinuxSeccompArg { Index = 0, Op = SeccompOperators.EqualTo, Value = 0 }],
            }],
        };
        var r = bundle.Run();
        r.Stdout.Should().Contain("l32=denied").And.Contain("l64=denied");
    }

    [Fact]
    public void Conditions_on_different_arguments_are_ANDed()
    {
        // chmod(path, mode): arg0 is a pointer, never 0, so {arg0 == 0 AND arg1 == 0600} never matches;
        // {arg0 != 0 AND arg1 == 0600} matches exactly chmod 600.
        using var bundle = SecurityTestBundle.Create("touch /tmp/f; chmod 600 /tmp/f && echo c600=ok || echo c600=denied; chmod 644 /tmp/f && echo c644=ok || echo c644=denied");
        LinuxSyscall Rule(string op0) => new()
        {
            Names = ["chmod"],
            Action = SeccompActions.Errno,
            Args = [new LinuxSeccompArg { Index = 0, Op = op0, Value = 0 }, new LinuxSeccompArg { Index = 1, Op = SeccompOperators.EqualTo, Value = 0x180 }],
        };
        bundle.Spec.Linux!.Seccomp = new LinuxSeccomp { DefaultAction = SeccompActions.Allow, Syscalls = [Rule(SeccompOperators.EqualTo)] };
        bundle.Run().Stdout.Should().Contain("c600=ok").And.Contain("c644=ok");
        bundle.Spec.Linux.Seccomp = new LinuxSeccomp { DefaultAction = SeccompActions.Allow, Syscalls = [Rule(SeccompOperators.NotEqual)] };
        bundle.Run().Stdout.Should().Contain("c600=denied").And.Contain("c644=ok");
    }

    [Theory]
    [InlineData(SeccompFlags.Log)]
    [InlineData(SeccompFlags.SpecAllow)]
    [InlineData(SeccompFlags.Tsync)]
    [InlineData(SeccompFlags.WaitKillableRecv)]
    public void Filter_flags_are_accepted_and_the_filter_still_works(string flag)
    {
        using var bundle = SecurityTestBundle.Create("mkdir /tmp/x; echo status=$?; grep Seccomp_filters /proc/self/status");
        bundle.Spec.Linux!.Seccomp = Deny(SeccompActions.Errno, "mkdir");
        bundle.Spec.Linux.Seccomp.Flags = [flag];
        var r = bundle.Run();
        r.ExitCode.Should().Be(0, r.ToString());
        r.Stdout.Should().Contain("status=1").And.Contain("Seccomp_filters:\t1");
    }

    [Fact]
    public void Architectures_are_added_and_an_unsupported_one_is_refused_by_name()
    {
        using var bundle = SecurityTestBundle.Create("mkdir /tmp/x; echo status=$?");
        bundle.Spec.Linux!.Seccomp = Deny(SeccompActions.Errno, "mkdir");
        bundle.Spec.Linux.Seccomp.Architectures = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"];
        bundle.Run().Stdout.Should().Contain("status=1");

        bundle.Spec.Linux.Seccomp.Architectures = ["SCMP_ARCH_X86_64", "SCMP_ARCH_LOONGARCH64"];
        var r = bundle.Run();
        r.ExitCode.Should().NotBe(0);
        r.Stderr.Should().Contain("linux.seccomp.architectures[1]").And.Contain("SCMP_ARCH_LOONGARCH64");
    }

    [Fact]
    public void Without_no_new_privs_the_filter_is_loaded_before_the_capabilities_are_dropped()
    {
        // The default capabilities have no CAP_SYS_ADMIN and no_new_privs is off: seccomp(2) would refuse the filter
        // after the drop. The process must end with the filter AND without CAP_SYS_ADMIN.
        using var bundle = SecurityTestBundle.Create("grep -E '^(CapEff|CapPrm|NoNewPrivs|Seccomp)' /proc/self/status; mkdir /tmp/x; echo status=$?");
        bundle.Spec.Process!.NoNewPrivileges = false;
        bundle.Spec.Linux!.Seccomp = Deny(SeccompActions.Errno, "mkdir");
        var r = bundle.Run();
        r.ExitCode.Should().Be(0, r.ToString());
        SecurityTestBundle.StatusField(r.Stdout, "NoNewPrivs").Should().Be("0");
        SecurityTestBundle.StatusField(r.Stdout, "Seccomp").Should().Be("2");
        SecurityTestBundle.CapField(r.Stdout, "CapEff").Should().Be((1UL << 5) | (1UL << 10) | (1UL << 29));
        SecurityTestBundle.CapField(r.Stdout, "CapPrm").Should().Be((1UL << 5) | (1UL << 10) | (1UL << 29));
        r.Stdout.Should().Contain("status=1");

        // The same for a non-root user.
        bundle.Spec.Process.User = new User { Uid = 1000, Gid = 1000 };
        var user = bundle.Run();
        user.ExitCode.Should().Be(0, user.ToString());
        SecurityTestBundle.CapField(user.Stdout, "CapEff").Should().Be(0);
        SecurityTestBundle.StatusField(user.Stdout, "Seccomp").Should().Be("2");
    }

    [Fact]
    public void Docker_default_profile_runs_a_shell_like_runc()
    {
        var fixture = Path.Combine(Harness.Ocirun.RepoRoot, "benchmarks/Seccomp/fixtures/docker-default.json");
        using var bundle = SecurityTestBundle.Create("grep Seccomp_filters /proc/self/status; linux32 uname -m; rm -rf /tmp/d; mkdir /tmp/d && echo mkdir-ok; hostname changed && echo hostname-changed || echo hostname-denied");
        bundle.Spec.Linux!.Seccomp = System.Text.Json.JsonSerializer.Deserialize(File.ReadAllBytes(fixture), SpecJsonContext.Default.LinuxSeccomp);
        foreach (var set in new[] { bundle.Spec.Process!.Capabilities!.Bounding!, bundle.Spec.Process.Capabilities.Effective!, bundle.Spec.Process.Capabilities.Permitted! })
            set.Add("CAP_SYS_ADMIN");
        var r = bundle.Run();
        r.ExitCode.Should().Be(0, r.ToString());
        r.Stdout.Should().Contain("Seccomp_filters:\t1").And.Contain("i686").And.Contain("mkdir-ok");
        // The profile was made for Docker's capabilities (no CAP_SYS_ADMIN) and denies sethostname; the process has
        // CAP_SYS_ADMIN here, so only the filter can refuse it.
        r.Stdout.Should().Contain("hostname-denied");
        if (!File.Exists("/usr/sbin/runc")) return;
        var runc = Harness.Ocirun.Exec("/usr/sbin/runc", ["--root", Path.Combine(bundle.Dir, "runc-state"), "run", "--bundle", bundle.Dir, SecurityTestBundle.NewId()]);
        runc.Stdout.Should().Be(r.Stdout);
    }

    [Fact]
    public void Missing_libseccomp_is_a_clear_create_error()
    {
        using var bundle = SecurityTestBundle.Create();
        bundle.Spec.Linux!.Seccomp = Deny(SeccompActions.Errno, "mkdir");
        bundle.Save();
        var lib = new FileInfo("/usr/lib/x86_64-linux-gnu/libseccomp.so.2").ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? "/usr/lib/x86_64-linux-gnu/libseccomp.so.2";
        // In a private mount namespace the library is covered by an empty file: dlopen fails there only.
        var script = $"mount --bind /dev/null {lib} && exec {Harness.Ocirun.DefaultBinary} --root {bundle.Dir}/state run --bundle {bundle.Dir} {SecurityTestBundle.NewId()}";
        var r = Harness.Ocirun.Exec("unshare", ["-m", "--propagation", "private", "sh", "-c", script]);
        r.ExitCode.Should().NotBe(0);
        r.Stderr.Should().Contain("config.json: linux.seccomp: libseccomp is required for seccomp but cannot be loaded").And.Contain("install libseccomp2");
    }

    [Fact]
    public void Features_report_seccomp_and_the_LSMs_as_they_are_on_this_host()
    {
        var r = Harness.Ocirun.Exec(Harness.Ocirun.DefaultBinary, ["features"]);
        r.ExitCode.Should().Be(0, r.ToString());
        var features = SpecSerializer.ParseFeatures(System.Text.Encoding.UTF8.GetBytes(r.Stdout));
        var seccomp = features.Linux!.Seccomp!;
        seccomp.Enabled.Should().BeTrue();
        seccomp.Actions.Should().BeEquivalentTo(SeccompActions.All);
        seccomp.Operators.Should().BeEquivalentTo(SeccompOperators.All);
        seccomp.Archs.Should().Contain(["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64"]);
        seccomp.KnownFlags.Should().BeEquivalentTo(SeccompFlags.All);
        seccomp.SupportedFlags.Should().Contain([SeccompFlags.Tsync, SeccompFlags.Log, SeccompFlags.SpecAllow]);
        features.Linux.Apparmor!.Enabled.Should().Be(Init.Lsm.AppArmorEnabled());
        features.Linux.Selinux!.Enabled.Should().Be(Init.Lsm.SelinuxEnabled());
    }

    [Fact]
    public void The_docker_profile_compiles_to_a_tree_within_the_kernel_limit()
    {
        // Timings are in benchmarks/Seccomp; here only the shape of the result.
        var fixture = Path.Combine(Harness.Ocirun.RepoRoot, "benchmarks/Seccomp/fixtures/docker-default.json");
        var config = System.Text.Json.JsonSerializer.Deserialize(File.ReadAllBytes(fixture), SpecJsonContext.Default.LinuxSeccomp)!;
        using var filter = Init.SeccompFilter.Build(config);
        filter.Length.Should().BeInRange(100, 4096);
        filter.HasNotify.Should().BeFalse();
        filter.Flags.Should().Be(0);
    }
}

/// <summary>The compiled-profile cache (in a directory of its own, SeccompCache.DefaultDirectory).</summary>
public sealed class SecuritySeccompCacheTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "ocirun-seccomp-cache-" + Guid.NewGuid().ToString("N")[..8]);

    private static LinuxSeccomp Profile(string name) => new()
    {
        DefaultAction = SeccompActions.Allow,
        Syscalls = [new LinuxSyscall { Names = [name], Action = SeccompActions.Errno }],
    };

    [Fact]
    public void Second_build_of_a_profile_comes_from_the_cache_with_the_same_program()
    {
        using var first = Init.SeccompCache.GetOrBuild(Profile("mkdir"), _root, out var hit1);
        using var second = Init.SeccompCache.GetOrBuild(Profile("mkdir"), _root, out var hit2);
        hit1.Should().BeFalse();
        hit2.Should().BeTrue();
        second.ToBytes().Should().Equal(first.ToBytes());
        second.Flags.Should().Be(first.Flags);
        using var other = Init.SeccompCache.GetOrBuild(Profile("rmdir"), _root, out var hit3);
        hit3.Should().BeFalse();
        other.ToBytes().Should().NotEqual(first.ToBytes());
    }

    [Fact]
    public void A_cache_file_others_can_write_or_that_names_another_profile_is_not_used()
    {
        using (Init.SeccompCache.GetOrBuild(Profile("mkdir"), _root, out _)) { }
        var file = Directory.GetFiles(_root, ".seccomp-*.bpf").Single();
        File.SetUnixFileMode(file, (UnixFileMode)0x1b6); // 0666
        using (Init.SeccompCache.GetOrBuild(Profile("mkdir"), _root, out var hit)) hit.Should().BeFalse();

        // A file under the right name whose recorded profile differs (a forged or colliding entry) is a miss too.
        var bytes = File.ReadAllBytes(file);
        var index = bytes.AsSpan().IndexOf("mkdir"u8);
        "rmdir"u8.CopyTo(bytes.AsSpan(index));
        File.WriteAllBytes(file, bytes);
        File.SetUnixFileMode(file, (UnixFileMode)0x180);
        using (Init.SeccompCache.GetOrBuild(Profile("mkdir"), _root, out var hit)) hit.Should().BeFalse();
        File.WriteAllBytes(file, [1, 2, 3]);
        File.SetUnixFileMode(file, (UnixFileMode)0x180);
        using (Init.SeccompCache.GetOrBuild(Profile("mkdir"), _root, out var hit)) hit.Should().BeFalse();
    }

    public void Dispose()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }
}
