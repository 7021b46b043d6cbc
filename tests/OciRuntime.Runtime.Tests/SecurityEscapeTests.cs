using OciRuntime.Interop;
using OciRuntime.Runtime.Tests.Harness;
using OciRuntime.Spec;

namespace OciRuntime.Runtime.Tests;

/// <summary>The known runc escapes, each attempted for real against ocirun.</summary>
public sealed class SecurityEscapeTests
{
    /// <summary>Runs <c>ocirun create</c> with the init's stdio going to files (so the test does not wait on its pipes).</summary>
    private static (CommandResult Result, int Pid) CreateDetached(SecurityTestBundle bundle, string id)
    {
        bundle.Save();
        var outFile = Path.Combine(bundle.Dir, id + ".out");
        var script = $"exec {Harness.Ocirun.DefaultBinary} --root {bundle.Ocirun.StateRoot} create --bundle {bundle.Dir} {id} </dev/null >{outFile} 2>&1";
        var r = Harness.Ocirun.Exec("sh", ["-c", script]);
        var pid = 0;
        if (r.ExitCode == 0)
        {
            var state = bundle.Command("state", id);
            pid = System.Text.Json.JsonDocument.Parse(state.Stdout).RootElement.GetProperty("pid").GetInt32();
        }
        return (r with { Stderr = r.Stderr + File.ReadAllText(outFile) }, pid);
    }

    private static string Output(SecurityTestBundle bundle, string id) => File.ReadAllText(Path.Combine(bundle.Dir, id + ".out"));

    private static void WaitFor(Func<bool> condition, string what, int timeoutMs = 20_000)
    {
        var until = Environment.TickCount64 + timeoutMs;
        while (!condition())
        {
            if (Environment.TickCount64 > until) throw new TimeoutException($"timed out waiting for {what}");
            Thread.Sleep(20);
        }
    }

    /// <summary>The pid of host process <paramref name="hostPid"/> in its innermost pid namespace (NSpid).</summary>
    private static string InnermostPid(int hostPid) =>
        File.ReadAllLines($"/proc/{hostPid}/status").First(l => l.StartsWith("NSpid:", StringComparison.Ordinal)).Split('\t', StringSplitOptions.RemoveEmptyEntries)[^1];

    private const string Attacker = """
        while [ ! -e /tmp/target ]; do sleep 0.02; done
        p=$(cat /tmp/target)
        echo "cmdline: $(tr '\0' ' ' < /proc/$p/cmdline)"
        echo "exe-link: $(readlink -v /proc/$p/exe 2>&1)"
        (exec 4</proc/$p/exe) 2>/dev/null && echo open-ro=ok || echo open-ro=failed
        (echo pwned > /proc/$p/exe) 2>/dev/null && echo write-direct=ok || echo write-direct=failed
        # (a failed redirection on the special builtin exec would end the shell: try it in a subshell first)
        if (exec 4</proc/$p/exe) 2>/dev/null; then exec 3</proc/$p/exe; echo held=yes; else echo held=no; fi
        touch /tmp/attacked
        while [ ! -e /tmp/victim-done ]; do sleep 0.02; done
        (echo pwned > /proc/self/fd/3) 2>/dev/null && echo write-after=ok || echo write-after=failed
        (printf '\177ELF-pwned' | dd of=/proc/self/fd/3 conv=notrunc 2>/dev/null) && echo dd-after=ok || echo dd-after=failed
        echo attack-done
        """;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void CVE_2019_5736_a_container_cannot_overwrite_the_host_binary_through_proc_pid_exe(bool attackerHasPtrace)
    {
        var host = Harness.Ocirun.DefaultBinary;
        var before = SecurityTestBundle.Sha256(host);

        // The attacker waits in its pid namespace for the victim's init; the victim joins that pid namespace.
        using var attacker = SecurityTestBundle.Create(Attacker);
        if (attackerHasPtrace)
        {
            foreach (var set in new[] { attacker.Spec.Process!.Capabilities!.Bounding!, attacker.Spec.Process.Capabilities.Effective!, attacker.Spec.Process.Capabilities.Permitted! })
                set.Add("CAP_SYS_PTRACE");
        }
        var attackerId = SecurityTestBundle.NewId();
        var (created, attackerPid) = CreateDetached(attacker, attackerId);
        created.ExitCode.Should().Be(0, created.ToString());
        attacker.Command("start", attackerId).ExitCode.Should().Be(0);

        // The classic: the victim's entrypoint is a script whose interpreter is /proc/self/exe.
        using var victim = SecurityTestBundle.Create();
        File.WriteAllText(Path.Combine(victim.Rootfs, "evil"), "#!/proc/self/exe\n");
        File.SetUnixFileMode(Path.Combine(victim.Rootfs, "evil"), (UnixFileMode)0x1ed); // 0755
        victim.Spec.Process!.Args = ["/evil"];
        var ns = victim.Spec.Linux!.Namespaces!;
        ns.RemoveAll(n => n.Type == NamespaceType.Pid);
        ns.Add(new LinuxNamespace { Type = NamespaceType.Pid, Path = $"/proc/{attackerPid}/ns/pid" });
        var victimId = SecurityTestBundle.NewId();
        var (victimCreated, victimPid) = CreateDetached(victim, victimId);
        victimCreated.ExitCode.Should().Be(0, victimCreated.ToString());

        try
        {
            // The victim's init now waits on its exec fifo, visible to the attacker: attack it.
            File.WriteAllText(Path.Combine(attacker.Rootfs, "tmp/target"), InnermostPid(victimPid));
            WaitFor(() => File.Exists(Path.Combine(attacker.Rootfs, "tmp/attacked")), "the attacker");
            var started = victim.Command("start", victimId);
            started.ExitCode.Should().Be(0, started.ToString() + Output(victim, victimId));
            WaitFor(() => !Directory.Exists($"/proc/{victimPid}") || File.ReadAllText($"/proc/{victimPid}/stat").Contains(") Z ", StringComparison.Ordinal), "the victim to exit");
            File.WriteAllText(Path.Combine(attacker.Rootfs, "tmp/victim-done"), "");
            WaitFor(() => Output(attacker, attackerId).Contains("attack-done", StringComparison.Ordinal), "the attacker to finish");
        }
        finally
        {
            victim.Command("delete", "--force", victimId);
            attacker.Command("delete", "--force", attackerId);
        }

        var log = Output(attacker, attackerId);
        log.Should().Contain("cmdline: ocirun init", "the attacker must have found the victim's init");
        if (attackerHasPtrace)
        {
            // It can reach the init's exe, but that is a sealed in-memory copy: no write lands anywhere.
            log.Should().Contain("exe-link: /memfd:ocirun (deleted)");
            log.Should().Contain("held=yes");
        }
        else
        {
            // CVE-2016-9962: the init is not dumpable, so without CAP_SYS_PTRACE its /proc/PID/exe is out of reach.
            log.Should().Contain("exe-link: readlink: /proc/").And.Contain("Permission denied");
            log.Should().Contain("open-ro=failed").And.Contain("held=no");
        }
        log.Should().Contain("write-direct=failed").And.Contain("write-after=failed").And.Contain("dd-after=failed");
        // The victim's pid 1 really ran ocirun's copy (#!/proc/self/exe), which printed its usage error.
        Output(victim, victimId).Should().NotBeEmpty();
        SecurityTestBundle.Sha256(host).Should().Be(before, "the host ocirun binary must be unchanged");
    }

    [Fact]
    public void CVE_2019_5736_the_init_runs_from_a_sealed_memfd()
    {
        using var bundle = SecurityTestBundle.Create("true");
        var id = SecurityTestBundle.NewId();
        var (created, pid) = CreateDetached(bundle, id);
        created.ExitCode.Should().Be(0, created.ToString());
        try
        {
            new FileInfo($"/proc/{pid}/exe").LinkTarget.Should().Be("/memfd:ocirun (deleted)");
            using var ro = new SafeFd(Libc.open($"/proc/{pid}/exe", OpenFlags.O_RDONLY | OpenFlags.O_CLOEXEC));
            ro.IsInvalid.Should().BeFalse();
            var seals = Libc.fcntl(ro.Fd, MemfdFlags.F_GET_SEALS, 0);
            seals.Should().Be(MemfdFlags.F_SEAL_SEAL | MemfdFlags.F_SEAL_SHRINK | MemfdFlags.F_SEAL_GROW | MemfdFlags.F_SEAL_WRITE);
            // Even host root cannot change it: open for writing may succeed, every write fails.
            var rw = Libc.open($"/proc/{pid}/exe", OpenFlags.O_WRONLY | OpenFlags.O_CLOEXEC);
            if (rw >= 0)
            {
                using var w = new SafeFd(rw);
                var act = () => Libc.WriteAll(w.Fd, "pwned"u8, "exe");
                act.Should().Throw<SyscallException>().Which.Errno.Should().Be(Errno.EPERM);
            }
            File.ReadAllText($"/proc/{pid}/status").Should().Contain("Seccomp:\t0");
        }
        finally
        {
            bundle.Command("delete", "--force", id);
        }
    }

    [Fact]
    public void CVE_2024_21626_no_runtime_fd_reaches_the_container()
    {
        using var bundle = SecurityTestBundle.Create("ls /proc/$$/fd; for f in /proc/$$/fd/*; do echo \"$f -> $(readlink $f)\"; done");
        var r = bundle.Run();
        r.ExitCode.Should().Be(0, r.ToString());
        var fds = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).TakeWhile(l => !l.Contains("->", StringComparison.Ordinal)).ToList();
        fds.Should().BeEquivalentTo(["0", "1", "2"], r.Stdout);
    }

    [Fact]
    public void CVE_2024_21626_a_cwd_through_proc_self_fd_never_starts_the_process()
    {
        // Whatever the init holds open at chdir time (runtime fds, the procfs handle, the exec fifo), a cwd of
        // /proc/self/fd/N must not put the process outside the container's root.
        using var bundle = SecurityTestBundle.Create("echo started-in-$(pwd)");
        for (var n = 3; n <= 16; n++)
        {
            bundle.Spec.Process!.Cwd = $"/proc/self/fd/{n}";
            var r = bundle.Run();
            r.Stdout.Should().NotContain("started-in", $"cwd /proc/self/fd/{n}");
            r.ExitCode.Should().NotBe(0);
            r.Stderr.Should().Contain("process.cwd");
        }
    }

    [Theory]
    [InlineData("proc", "proc")]
    [InlineData("sys", "sysfs")]
    public void CVE_2019_16884_a_symlinked_proc_or_sys_in_the_rootfs_is_refused(string dir, string fsType)
    {
        using var bundle = SecurityTestBundle.Create("echo started");
        var path = Path.Combine(bundle.Rootfs, dir);
        Directory.Delete(path);
        Directory.CreateDirectory(Path.Combine(bundle.Rootfs, "tmp/fake" + dir));
        File.CreateSymbolicLink(path, "/tmp/fake" + dir);
        var r = bundle.Run();
        r.ExitCode.Should().NotBe(0);
        r.Stdout.Should().NotContain("started");
        r.Stderr.Should().Contain($"/{dir} is a symlink in the rootfs; {fsType} must be mounted on a real directory");
    }

    [Fact]
    public void Sysctl_writes_go_to_the_real_procfs_even_when_proc_sys_is_overmounted()
    {
        // A bind mount over the sysctl file: a path-based write would land in the bound host file.
        using var bundle = SecurityTestBundle.Create("cat /proc/sys/net/ipv4/ip_forward; cat /proc/sys/net/ipv4/ip_default_ttl");
        var decoy = Path.Combine(bundle.Dir, "decoy");
        File.WriteAllText(decoy, "decoy\n");
        bundle.Spec.Mounts!.Add(new Mount { Destination = "/proc/sys/net/ipv4/ip_forward", Type = "bind", Source = decoy, Options = ["bind"] });
        bundle.Spec.Linux!.Sysctl = new Dictionary<string, string> { ["net.ipv4.ip_forward"] = "1", ["net.ipv4.ip_default_ttl"] = "42" };
        var r = bundle.Run();
        r.ExitCode.Should().Be(0, r.ToString());
        File.ReadAllText(decoy).Should().Be("decoy\n");
        r.Stdout.Should().Be("decoy\n42\n");
    }

    [Theory]
    [InlineData("net.ipv4..ip_forward")]
    [InlineData("net.ipv4.conf.all/forwarding")]
    public void Sysctl_names_with_empty_components_or_slashes_are_refused(string key)
    {
        using var bundle = SecurityTestBundle.Create();
        bundle.Spec.Linux!.Sysctl = new Dictionary<string, string> { [key] = "1" };
        var r = bundle.Run();
        r.ExitCode.Should().NotBe(0);
        r.Stderr.Should().Contain("linux.sysctl");
    }

    [Fact]
    public void A_tmpfs_over_proc_does_not_stop_the_init_from_using_procfs()
    {
        // The exec fifo and oom_score_adj are reached through the init's own procfs handle, not the container's /proc.
        using var bundle = SecurityTestBundle.Create("ls /proc | wc -l");
        bundle.Spec.Mounts!.Insert(1, new Mount { Destination = "/proc", Type = "tmpfs", Source = "tmpfs" });
        bundle.Spec.Linux!.MaskedPaths = null;
        bundle.Spec.Linux.ReadonlyPaths = null;
        bundle.Spec.Process!.OomScoreAdj = 123;
        var id = SecurityTestBundle.NewId();
        var (created, pid) = CreateDetached(bundle, id);
        created.ExitCode.Should().Be(0, created.ToString());
        try
        {
            File.ReadAllText($"/proc/{pid}/oom_score_adj").Trim().Should().Be("123");
            bundle.Command("start", id).ExitCode.Should().Be(0);
            WaitFor(() => Output(bundle, id).Length > 0, "the container's output");
            Output(bundle, id).Trim().Should().Be("0");
        }
        finally
        {
            bundle.Command("delete", "--force", id);
        }
    }

    [Fact]
    public void CVE_2019_19921_a_rootfs_symlink_to_a_host_path_cannot_redirect_a_mount()
    {
        var hostTarget = Path.Combine(Path.GetTempPath(), "ocirun-host-target-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(hostTarget);
        try
        {
            using var bundle = SecurityTestBundle.Create($"stat -f -c %T /mnt/abs/sub /mnt/rel/sub2; ls -d {hostTarget}/sub");
            // An absolute symlink to the host directory and a relative one that climbs out of the rootfs.
            File.CreateSymbolicLink(Path.Combine(bundle.Rootfs, "mnt/abs"), hostTarget);
            File.CreateSymbolicLink(Path.Combine(bundle.Rootfs, "mnt/rel"), "../../../../../../.." + hostTarget);
            bundle.Spec.Mounts!.Add(new Mount { Destination = "/mnt/abs/sub", Type = "tmpfs", Source = "tmpfs" });
            bundle.Spec.Mounts.Add(new Mount { Destination = "/mnt/rel/sub2", Type = "tmpfs", Source = "tmpfs" });
            var r = bundle.Run();
            r.ExitCode.Should().Be(0, r.ToString());
            r.Stdout.Should().Contain("tmpfs\ntmpfs\n");
            // The mounts landed inside the rootfs (the symlinks resolved against it), never on the host directory.
            Directory.EnumerateFileSystemEntries(hostTarget).Should().BeEmpty();
            Directory.Exists(bundle.Rootfs + hostTarget + "/sub").Should().BeTrue();
            File.ReadAllText("/proc/self/mountinfo").Should().NotContain(hostTarget);
        }
        finally
        {
            Directory.Delete(hostTarget, recursive: true);
        }
    }

    [Fact]
    public void CVE_2025_31133_masking_refuses_a_dev_null_that_is_not_the_null_device()
    {
        using var bundle = SecurityTestBundle.Create("echo started");
        var fakeDev = Path.Combine(bundle.Dir, "fakedev");
        Directory.CreateDirectory(fakeDev);
        File.CreateSymbolicLink(Path.Combine(fakeDev, "null"), "/proc/sys/kernel/core_pattern");
        bundle.Spec.Mounts!.RemoveAll(m => m.Destination.StartsWith("/dev", StringComparison.Ordinal));
        bundle.Spec.Mounts.Add(new Mount { Destination = "/dev", Type = "bind", Source = fakeDev, Options = ["rbind"] });
        bundle.Spec.Linux!.MaskedPaths = ["/proc/timer_list"];
        var r = bundle.Run();
        r.ExitCode.Should().NotBe(0);
        r.Stdout.Should().NotContain("started");
        r.Stderr.Should().Contain("linux.maskedPaths").And.Contain("/dev/null in the container is not the null device").And.Contain("CVE-2025-31133");
    }

    [Fact]
    public void Masked_paths_hide_files_and_directories()
    {
        using var bundle = SecurityTestBundle.Create("stat -c '%t:%T' /proc/timer_list; wc -c < /proc/timer_list; ls -A /proc/acpi | wc -l; stat -f -c %T /proc/acpi");
        bundle.Spec.Linux!.MaskedPaths = ["/proc/timer_list", "/proc/acpi", "/proc/does-not-exist"];
        var r = bundle.Run();
        r.ExitCode.Should().Be(0, r.ToString());
        var lines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Trim()).ToList();
        lines.Should().Equal("1:3", "0", "0", "tmpfs");
    }
}
