using OciRuntime.Runtime.Tests.Harness;
using OciRuntime.Spec;

namespace OciRuntime.Runtime.Tests.Integration;

/// <summary>
/// create's direct path (DirectCreate: the runtime builds the rootfs from a thread inside the child's namespaces, the
/// child finishes with raw syscalls and execs through the exec trampoline) against the path through <c>ocirun init</c>
/// (forced with OCIRUN_INIT=1): the same bundle and container id must give the same container and the same errors, and
/// a failed create must leave nothing behind on either path.
/// </summary>
public sealed class CreateDirectPathTests : IDisposable
{
    private readonly TestContainer _c = new("cdirect");

    public void Dispose() => _c.Dispose();

    /// <summary>`ocirun [--debug --log L] run -b BUNDLE ID` by one path; the log must name that path.</summary>
    private (CommandResult Result, string Log) RunBy(bool init, params string[] runOptions)
    {
        _c.Bundle.Write();
        var log = Path.Combine(_c.Bundle.Dir, $"run-{Guid.NewGuid():N}.log");
        string[] args = [_c.Runtime.Binary, "--root", _c.Runtime.StateRoot, "--debug", "--log", log, "run", "-b", _c.Bundle.Dir, .. runOptions, _c.Id];
        // The path is this test's choice, not the suite's (OCIRUN_INIT / OCIRUN_DIRECT in the environment).
        var r = Harness.Ocirun.Exec("/usr/bin/env", ["-u", "OCIRUN_INIT", "-u", "OCIRUN_DIRECT", .. init ? ["OCIRUN_INIT=1", .. args] : args]);
        var text = File.Exists(log) ? File.ReadAllText(log) : "";
        text.Should().Contain(init ? $"create {_c.Id}: through ocirun init (OCIRUN_INIT=1)" : $"create {_c.Id}: direct path", "the test must exercise the path it names");
        return (r, text);
    }

    /// <summary>A command forced onto the direct path (OCIRUN_DIRECT=1), detached (stdio on the output file) or not.</summary>
    private CommandResult Direct(bool detached, params string[] args)
    {
        string[] argv = ["-u", "OCIRUN_INIT", "OCIRUN_DIRECT=1", _c.Runtime.Binary, "--root", _c.Runtime.StateRoot, .. args];
        return detached ? Harness.Ocirun.ExecWithFileStdio("/usr/bin/env", argv, _c.OutputFile) : Harness.Ocirun.Exec("/usr/bin/env", argv);
    }

    private const string Probe =
        "echo pid=$$; id; ulimit -n; ulimit -Hn; umask; pwd; hostname; " +
        "grep -E '^(Cap|NoNewPrivs|Seccomp|SigIgn|SigBlk)' /proc/self/status; ls /proc/self/fd; env | sort; " +
        "cat /proc/sys/kernel/shmmni /proc/sys/net/ipv4/ip_forward /proc/self/oom_score_adj; " +
        "chroot / true 2>&1; echo chroot=$?; touch /x 2>&1; echo rootfs-write=$?; touch /tmp/x && echo tmp-write=ok; " +
        "wc -c < /proc/kcore; stat -f -c %T /proc/acpi; echo > /proc/sys/kernel/domainname 2>&1; echo proc-sys-write=$?; " +
        "sed -E 's/^[0-9]+ [0-9]+ [0-9]+:[0-9]+ //; s/ (shared|master):[0-9]+//g' /proc/self/mountinfo; cat /proc/self/cgroup; " +
        "echo end";

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Duplicate_additional_gids_are_set_once_as_runc_does(bool init)
    {
        // Docker sends the image user's groups and --group-add's together: [1000,50,4242,50]. runc sets each once
        // (its GetAdditionalGroups keeps a set); setgroups(2) itself would keep the duplicate.
        _c.Bundle.Sh("grep '^Groups:' /proc/self/status").Process.User = new User { Uid = 1000, Gid = 1000, AdditionalGids = [1000, 50, 4242, 50] };

        var (r, _) = RunBy(init);

        r.ExitCode.Should().Be(0, r.ToString());
        r.Stdout.Split((char[])[' ', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries).Should().Equal("Groups:", "50", "1000", "4242");
    }

    [Fact]
    public void A_container_with_users_limits_capabilities_seccomp_sysctl_and_read_only_paths_is_the_same_by_both_paths()
    {
        var spec = _c.Bundle.Spec;
        var p = _c.Bundle.Sh(Probe).Process;
        p.User = new User { Uid = 1000, Gid = 1000, AdditionalGids = [10, 20], Umask = 63 };
        p.Cwd = "/work/dir"; // missing: made (0755) on both paths
        p.Env = ["PATH=/bin:/usr/bin", "A=1"];
        p.Rlimits = [new PosixRlimit { Type = "RLIMIT_NOFILE", Soft = 123, Hard = 456 }];
        p.Capabilities = new LinuxCapabilities
        {
            Bounding = ["CAP_NET_RAW", "CAP_CHOWN", "CAP_KILL"], Effective = ["CAP_NET_RAW", "CAP_CHOWN"],
            Permitted = ["CAP_NET_RAW", "CAP_CHOWN", "CAP_KILL"], Inheritable = ["CAP_NET_RAW"], Ambient = ["CAP_NET_RAW"],
        };
        p.NoNewPrivileges = true; // the seccomp filter is then loaded by the exec trampoline, after the exec fifo
        p.OomScoreAdj = 100;
        spec.Hostname = "direct-or-not";
        spec.Root!.Readonly = true;
        spec.Mounts!.Add(new Mount { Destination = "/tmp", Type = "tmpfs", Source = "tmpfs", Options = ["nosuid", "nodev"] });
        spec.Linux!.Sysctl = new Dictionary<string, string> { ["kernel.shmmni"] = "4000", ["net.ipv4.ip_forward"] = "1" };
        spec.Linux.Seccomp = new LinuxSeccomp
        {
            DefaultAction = "SCMP_ACT_ALLOW",
            Syscalls = [new LinuxSyscall { Names = ["chroot"], Action = "SCMP_ACT_ERRNO" }],
        };

        var (direct, _) = RunBy(init: false);
        var (init, _) = RunBy(init: true);
        direct.ExitCode.Should().Be(0, direct.ToString());
        init.ExitCode.Should().Be(0, init.ToString());
        direct.Stdout.Should().Be(init.Stdout, "the direct path must build the same container as ocirun init");
        var lines = direct.Stdout.Split('\n');
        lines.Should().Contain("pid=1").And.Contain("/work/dir").And.Contain("direct-or-not").And.Contain("0077").And.Contain("123");
        lines[1].Should().StartWith("uid=1000 gid=1000 groups=10");
        lines.Should().Contain("NoNewPrivs:\t1").And.Contain("Seccomp:\t2").And.Contain("CapAmb:\t0000000000002000");
        lines.Should().Contain("SigIgn:\t0000000000000000").And.Contain("4000").And.Contain("100");
        lines.Should().Contain("chroot=1", "the filter refuses chroot").And.Contain("tmp-write=ok").And.Contain("0", "/proc/kcore is masked");
        lines.Should().Contain("tmpfs", "/proc/acpi is masked with a tmpfs").And.Contain("proc-sys-write=1");
        lines.Should().NotContain("rootfs-write=0", "root.readonly");
        lines.Should().Contain(l => l.Contains(" / ro,", StringComparison.Ordinal), "the rootfs is mounted read-only");
        lines.Should().Contain("end");
    }

    [Fact]
    public void Prestart_hooks_run_between_the_mounts_and_pivot_root_by_both_paths()
    {
        // The hook sees the container's rootfs with its mounts in place (through the init's root, still the host's before
        // pivot_root): it leaves a file in the tmpfs on /tmp, which only the container's mount namespace has.
        var hookOut = Path.Combine(_c.Bundle.Dir, "hook.out");
        _c.Bundle.Spec.Mounts!.Add(new Mount { Destination = "/tmp", Type = "tmpfs", Source = "tmpfs" });
        _c.Bundle.Spec.Hooks = new Hooks
        {
            Prestart = [new Hook { Path = "/bin/sh", Args = ["sh", "-c", $"cat > {hookOut}; echo from-hook > /proc/$(sed -E 's/.*\"pid\":([0-9]+).*/\\1/' {hookOut})/root{_c.Bundle.Rootfs}/tmp/hook"] }],
        };
        _c.Bundle.Sh("cat /tmp/hook; hostname");
        _c.Bundle.Spec.Hostname = "hooked";
        var (direct, _) = RunBy(init: false);
        var (init, _) = RunBy(init: true);
        direct.ExitCode.Should().Be(0, direct.ToString());
        direct.Stdout.Should().Be("from-hook\nhooked\n").And.Be(init.Stdout);
    }

    public static TheoryData<string, string> Failures => new()
    {
        { "bind-source", "config.json: mounts[" },
        { "not-found", "exec: \\\"no-such-binary\\\": executable file not found in $PATH" },
        { "rlimit", "config.json: process.rlimits[0] (RLIMIT_NOFILE): setrlimit: operation not permitted" },
        { "sysctl", "config.json: linux.sysctl.net.ipv4.no_such_key: " },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public void A_failing_create_fails_the_same_way_by_both_paths_and_leaves_nothing(string kind, string message)
    {
        var spec = _c.Bundle.Spec;
        switch (kind)
        {
            case "bind-source": spec.Mounts!.Add(new Mount { Destination = "/data", Type = "bind", Source = "/no/such/dir", Options = ["rbind"] }); break;
            case "not-found": _c.Bundle.Args("no-such-binary"); break;
            case "rlimit": spec.Process!.Rlimits = [new PosixRlimit { Type = "RLIMIT_NOFILE", Soft = 1UL << 40, Hard = 1UL << 40 }]; break; // above fs.nr_open
            case "sysctl": spec.Linux!.Sysctl = new Dictionary<string, string> { ["net.ipv4.no_such_key"] = "1" }; break;
        }
        var (direct, directLog) = RunBy(init: false);
        AssertNothingLeft("direct");
        var (init, initLog) = RunBy(init: true);
        AssertNothingLeft("init");
        direct.ExitCode.Should().NotBe(0, direct.ToString());
        init.ExitCode.Should().NotBe(0, init.ToString());
        ErrorLine(directLog).Should().Contain(message).And.Be(ErrorLine(initLog), "both paths must give the same error");
    }

    // The message of the last error line (runc's log format: time=… level=error msg="…").
    private static string ErrorLine(string log)
    {
        var line = log.Split('\n').LastOrDefault(l => l.Contains("level=error", StringComparison.Ordinal)) ?? "";
        return line[(line.IndexOf("level=error", StringComparison.Ordinal) + 1)..];
    }

    private void AssertNothingLeft(string path)
    {
        Directory.Exists(_c.StateDir).Should().BeFalse($"a failed create ({path}) removes its state directory");
        TestEnv.CgroupDirsOf(new HashSet<string> { _c.Id }).Should().BeEmpty($"a failed create ({path}) removes its cgroups");
        TestEnv.MountsUnder(_c.Bundle.Rootfs).Should().BeEmpty($"a failed create ({path}) leaves no mount on the host");
    }

    [Fact]
    public void A_created_container_waits_in_the_sealed_trampoline_and_sigterm_stops_it()
    {
        _c.Bundle.Args("true");
        _c.Bundle.Write();
        var created = Direct(true, "create", "-b", _c.Bundle.Dir, _c.Id);
        created.ExitCode.Should().Be(0, created.ToString());
        var pid = _c.Pid();
        new FileInfo($"/proc/{pid}/exe").LinkTarget.Should().Be("/memfd:ocirun-exec (deleted)", "the created init is the exec trampoline, never the host binary");
        File.ReadAllText($"/proc/{pid}/status").Should().Contain("State:\tS", "it waits on the exec fifo");
        _c.Status().Should().Be("created");
        _c.Kill("TERM").ExitCode.Should().Be(0);
        _c.WaitForStatus("stopped");
    }

    [Fact]
    public void The_init_binds_libm_from_the_host_before_it_enters_the_container()
    {
        // ocirun binds libm on first use (src/Cli/native/lazy-libm.c); `ocirun init` must do so while its root is the
        // host's, or a later first use would load the container's libm.so.6 into a privileged process.
        _c.Bundle.Args("true");
        _c.Bundle.Write();
        var r = Harness.Ocirun.ExecWithFileStdio("/usr/bin/env", ["-u", "OCIRUN_DIRECT", "OCIRUN_INIT=1", _c.Runtime.Binary, "--root", _c.Runtime.StateRoot, "create", "-b", _c.Bundle.Dir, _c.Id], _c.OutputFile);
        r.ExitCode.Should().Be(0, r.Stderr);
        var pid = _c.Pid();
        File.ReadAllText($"/proc/{pid}/cmdline").Should().StartWith("ocirun\0init", "the created init is `ocirun init` on this path");
        var hostLibm = Harness.Ocirun.Exec("stat", ["-L", "-c", "%i", "/lib/x86_64-linux-gnu/libm.so.6"]).Stdout.Trim();
        var mapped = File.ReadAllLines($"/proc/{pid}/maps").Where(l => l.EndsWith("/libm.so.6", StringComparison.Ordinal)).ToList();
        mapped.Should().NotBeEmpty("the init bound libm before anything else");
        mapped.Should().OnlyContain(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[4] == hostLibm, "the host's libm, by inode");
        _c.Kill("KILL");
        _c.WaitForStatus("stopped");
    }

    [Fact]
    public void CVE_2019_5736_an_exec_of_a_hashbang_proc_self_exe_program_runs_the_trampoline_not_the_host_binary()
    {
        var before = SecurityTestBundle.Sha256(Harness.Ocirun.DefaultBinary);
        File.WriteAllText(Path.Combine(_c.Bundle.Rootfs, "evil"), "#!/proc/self/exe\n");
        File.SetUnixFileMode(Path.Combine(_c.Bundle.Rootfs, "evil"), (UnixFileMode)0x1ed);
        _c.Bundle.Args("sleep", "1000");
        _c.Bundle.Write();
        Direct(true, "run", "-d", "-b", _c.Bundle.Dir, _c.Id).ExitCode.Should().Be(0);
        // Both direct paths exec the program through the sealed trampoline; the interpreter /proc/self/exe is then that
        // memfd, which refuses the script's arguments. Before the trampoline it was the host's ocirun.
        var r = Direct(false, "exec", _c.Id, "/evil");
        r.ExitCode.Should().Be(1, r.ToString());
        r.Stderr.Should().Contain("ocirun: exec trampoline: invalid argument");
        SecurityTestBundle.Sha256(Harness.Ocirun.DefaultBinary).Should().Be(before);
    }
}
