using OciRuntime.Interop;
using OciRuntime.Runtime.Tests.Harness;
using OciRuntime.Spec;

namespace OciRuntime.Runtime.Tests;

/// <summary>The known runc escapes, each attempted for real against ocirun.</summary>
public sealed class SecurityEscapeTests
{
    private static (CommandResult Result, int Pid) CreateDetached(SecurityTestBundle bundle, string id) => bundle.CreateDetached(id);

    private static string Output(SecurityTestBundle bundle, string id) => File.ReadAllText(bundle.OutputFile(id));

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

    /// <summary>
    /// The attacker of CVE-2019-5736, in its own container: waits for a pid in /tmp/target, opens that process's
    /// /proc/PID/exe (read-only, keeping the fd), tries to write through it, and once told the process is gone
    /// (/tmp/victim-done), reopens the kept fd for writing through /proc/self/fd/3, as the published exploit does.
    /// </summary>
    private const string Attacker = """
        while [ ! -e /tmp/target ]; do sleep 0.02; done
        p=$(cat /tmp/target)
        echo "cmdline: $(tr '\0' ' ' < /proc/$p/cmdline)"
        echo "exe-link: $(readlink -v /proc/$p/exe 2>&1)"
        (echo pwned > /proc/$p/exe) 2>/dev/null && echo write-direct=ok || echo write-direct=failed
        # (a failed redirection on the special builtin exec would end the shell: try it in a subshell first)
        if (exec 4</proc/$p/exe) 2>/dev/null; then exec 3</proc/$p/exe; echo held=yes; else echo held=no; fi
        touch /tmp/attacked
        while [ ! -e /tmp/victim-done ]; do sleep 0.02; done
        (echo pwned > /proc/self/fd/3) 2>/dev/null && echo write-after=ok || echo write-after=failed
        (printf '\177ELF-pwned' | dd of=/proc/self/fd/3 conv=notrunc 2>/dev/null) && echo dd-after=ok || echo dd-after=failed
        echo attack-done
        """;

    /// <summary>What /proc/PID/exe of a created init or of a process it exec'd may name: never the host's ocirun.</summary>
    private static readonly string[] SealedExes = ["/", "/memfd:ocirun (deleted)", "/memfd:ocirun-exec (deleted)"];

    private static string ExeLink(string log) => log.Split('\n').First(l => l.StartsWith("exe-link: ", StringComparison.Ordinal))["exe-link: ".Length..];

    private static (SecurityTestBundle Bundle, string Id, int Pid) StartAttacker(bool withPtrace)
    {
        var attacker = SecurityTestBundle.Create(Attacker);
        if (withPtrace)
        {
            foreach (var set in new[] { attacker.Spec.Process!.Capabilities!.Bounding!, attacker.Spec.Process.Capabilities.Effective!, attacker.Spec.Process.Capabilities.Permitted! })
                set.Add("CAP_SYS_PTRACE");
        }
        var id = SecurityTestBundle.NewId();
        var (created, pid) = attacker.CreateDetached(id);
        created.ExitCode.Should().Be(0, created.ToString());
        attacker.Command("start", id).ExitCode.Should().Be(0);
        return (attacker, id, pid);
    }

    /// <summary>A victim container joining the attacker's pid namespace.</summary>
    private static SecurityTestBundle Victim(int attackerPid)
    {
        var victim = SecurityTestBundle.Create();
        var ns = victim.Spec.Linux!.Namespaces!;
        ns.RemoveAll(n => n.Type == NamespaceType.Pid);
        ns.Add(new LinuxNamespace { Type = NamespaceType.Pid, Path = $"/proc/{attackerPid}/ns/pid" });
        return victim;
    }

    private static string Attack(SecurityTestBundle attacker, string attackerId, int targetHostPid, Action killTarget)
    {
        // Written then renamed: the attacker must never see the file before its content.
        File.WriteAllText(Path.Combine(attacker.Rootfs, "tmp/target.new"), InnermostPid(targetHostPid));
        File.Move(Path.Combine(attacker.Rootfs, "tmp/target.new"), Path.Combine(attacker.Rootfs, "tmp/target"));
        WaitFor(() => File.Exists(Path.Combine(attacker.Rootfs, "tmp/attacked")), "the attacker");
        killTarget();
        WaitFor(() => !Directory.Exists($"/proc/{targetHostPid}") || File.ReadAllText($"/proc/{targetHostPid}/stat").Contains(") Z ", StringComparison.Ordinal), "the target to exit");
        File.WriteAllText(Path.Combine(attacker.Rootfs, "tmp/victim-done"), "");
        WaitFor(() => Output(attacker, attackerId).Contains("attack-done", StringComparison.Ordinal), "the attacker to finish");
        return Output(attacker, attackerId);
    }

    [Fact]
    public void CVE_2019_5736_a_hashbang_proc_self_exe_entrypoint_cannot_be_used_to_overwrite_the_host_binary()
    {
        var host = Harness.Ocirun.DefaultBinary;
        var before = SecurityTestBundle.Sha256(host);
        var (attacker, attackerId, attackerPid) = StartAttacker(withPtrace: false);
        using var attackerBundle = attacker;

        // The classic: the entrypoint is a script whose interpreter is /proc/self/exe, so the container's pid 1 execs
        // the runtime's own binary (the rootfs has the loader and libc so it can run at all). That copy of ocirun
        // prints a usage error at once; its stdout is a fifo whose buffer is full, so it stays blocked in that write.
        using var victim = Victim(attackerPid);
        victim.AddHostLibraries();
        File.WriteAllText(Path.Combine(victim.Rootfs, "evil"), "#!/proc/self/exe\n");
        File.SetUnixFileMode(Path.Combine(victim.Rootfs, "evil"), (UnixFileMode)0x1ed); // 0755
        victim.Spec.Process!.Args = ["/evil"];
        var victimId = SecurityTestBundle.NewId();
        try
        {
            var (created, victimPid) = victim.CreateDetached(victimId, outputFifo: "out.fifo");
            created.ExitCode.Should().Be(0, created.ToString());
            victim.FillFifo("out.fifo");
            victim.Command("start", victimId).ExitCode.Should().Be(0);
            WaitFor(() => File.ReadAllText($"/proc/{victimPid}/cmdline").StartsWith("/proc/self/exe\0/evil", StringComparison.Ordinal)
                          && File.ReadAllText($"/proc/{victimPid}/wchan").Contains("pipe_write", StringComparison.Ordinal), "the container's pid 1 to run ocirun and block");

            var log = Attack(attacker, attackerId, victimPid, () => victim.Command("kill", victimId, "KILL"));
            log.Should().Contain("cmdline: /proc/self/exe /evil", "the attacker must have found the container process running ocirun");
            // The process is dumpable again after execve: the attacker gets its exe, which is the read-only bind
            // (a detached mount, shown as "/"), the sealed in-memory copy, or on the direct path the sealed exec
            // trampoline (whose usage error blocks the same way), never the host file.
            ExeLink(log).Should().BeOneOf(SealedExes);
            log.Should().Contain("held=yes");
            log.Should().Contain("write-direct=failed").And.Contain("write-after=failed").And.Contain("dd-after=failed");
        }
        finally
        {
            victim.Command("delete", "--force", victimId);
            attacker.Command("delete", "--force", attackerId);
        }
        SecurityTestBundle.Sha256(host).Should().Be(before, "the host ocirun binary must be unchanged");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void CVE_2016_9962_and_2019_5736_a_created_init_is_out_of_reach(bool attackerHasPtrace)
    {
        var host = Harness.Ocirun.DefaultBinary;
        var before = SecurityTestBundle.Sha256(host);
        var (attacker, attackerId, attackerPid) = StartAttacker(attackerHasPtrace);
        using var attackerBundle = attacker;
        using var victim = Victim(attackerPid);
        var victimId = SecurityTestBundle.NewId();
        try
        {
            // The victim's init waits on its exec fifo, visible in the attacker's pid namespace.
            var (created, victimPid) = victim.CreateDetached(victimId);
            created.ExitCode.Should().Be(0, created.ToString());
            var log = Attack(attacker, attackerId, victimPid, () => victim.Command("delete", "--force", victimId));
            // ocirun init, or on create's direct path the exec trampoline, which waits for start in its place.
            log.Should().ContainAny(["cmdline: ocirun init", "cmdline: ocirun-exec"], "the attacker must have found the victim's init");
            if (attackerHasPtrace)
            {
                ExeLink(log).Should().BeOneOf(SealedExes);
                log.Should().Contain("held=yes");
            }
            else
            {
                // The init is not dumpable: without CAP_SYS_PTRACE its /proc/PID/exe is out of reach.
                log.Should().Contain("exe-link: readlink: /proc/").And.Contain("Permission denied").And.Contain("held=no");
            }
            log.Should().Contain("write-direct=failed").And.Contain("write-after=failed").And.Contain("dd-after=failed");
        }
        finally
        {
            victim.Command("delete", "--force", victimId);
            attacker.Command("delete", "--force", attackerId);
        }
        SecurityTestBundle.Sha256(host).Should().Be(before, "the host ocirun binary must be unchanged");
    }

    [Fact]
    public void CVE_2019_5736_the_init_runs_from_a_handle_nobody_can_write()
    {
        using var bundle = SecurityTestBundle.Create("true");
        var id = SecurityTestBundle.NewId();
        var (created, pid) = CreateDetached(bundle, id);
        created.ExitCode.Should().Be(0, created.ToString());
        try
        {
            // As root the init runs from a detached read-only bind of ocirun (its exe reads "/"), else from a sealed memfd;
            // on create's direct path the created init is the exec trampoline, from a sealed memfd.
            var link = new FileInfo($"/proc/{pid}/exe").LinkTarget;
            link.Should().BeOneOf(SealedExes);
            using var ro = new SafeFd(Libc.open($"/proc/{pid}/exe", OpenFlags.O_RDONLY | OpenFlags.O_CLOEXEC));
            ro.IsInvalid.Should().BeFalse();
            if (link == "/") (Libc.MountFlagsOfFd(ro.Fd) & MountFlags.ReadOnly).Should().Be(MountFlags.ReadOnly);
            else Libc.fcntl(ro.Fd, MemfdFlags.F_GET_SEALS, 0).Should().Be(MemfdFlags.F_SEAL_SEAL | MemfdFlags.F_SEAL_SHRINK | MemfdFlags.F_SEAL_GROW | MemfdFlags.F_SEAL_WRITE);
            // Even host root cannot write through it.
            var rw = Libc.open($"/proc/{pid}/exe", OpenFlags.O_WRONLY | OpenFlags.O_CLOEXEC);
            if (rw >= 0)
            {
                using var w = new SafeFd(rw);
                var act = () => Libc.WriteAll(w.Fd, "pwned"u8, "exe");
                act.Should().Throw<SyscallException>();
            }
        }
        finally
        {
            bundle.Command("delete", "--force", id);
        }
    }

    [Fact]
    public void Read_only_bind_and_sealed_memfd_both_refuse_writes()
    {
        // A copy nobody executes (a running binary would answer ETXTBSY before EROFS).
        var binary = Path.Combine(Path.GetTempPath(), "ocirun-copy-" + Guid.NewGuid().ToString("N")[..8]);
        File.Copy(Harness.Ocirun.DefaultBinary, binary);
        using var cleanup = new TempFile(binary);
        using (var bind = Runtime.ProcessModel.SealedExecutable.TryReadOnlyBind(binary))
        {
            bind.Should().NotBeNull("the tests run as root on Linux >= 5.12");
            Libc.open($"/proc/self/fd/{bind!.Fd.Fd}", OpenFlags.O_WRONLY | OpenFlags.O_CLOEXEC).Should().Be(-1);
            System.Runtime.InteropServices.Marshal.GetLastPInvokeError().Should().Be(30); // EROFS
        }
        using var copy = Runtime.ProcessModel.SealedExecutable.CreateMemfdCopy(binary);
        copy.Size.Should().Be(new FileInfo(binary).Length);
        var fd = Libc.open($"/proc/self/fd/{copy.Fd.Fd}", OpenFlags.O_WRONLY | OpenFlags.O_CLOEXEC);
        fd.Should().BeGreaterThanOrEqualTo(0);
        using var w = new SafeFd(fd);
        var act = () => Libc.WriteAll(w.Fd, "pwned"u8, "memfd");
        act.Should().Throw<SyscallException>().Which.Errno.Should().Be(Errno.EPERM);
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
            // (start's own status is not checked: on this base, start may report a container that exits at once as
            // stopped; the lifecycle branch takes the pidfd before releasing the fifo)
            bundle.Command("start", id);
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

    /// <summary>
    /// CVE-2021-30465, the race: while ocirun sets up the mounts, a process sharing the rootfs keeps exchanging a directory
    /// of a mount destination with a symlink to a host directory (renameat2 RENAME_EXCHANGE, as the published exploit's
    /// second container does). A runtime that checks the destination by path and then mounts by path lands some mounts on
    /// the host directory. A createRuntime hook (host side, after the mounts, before pivot_root) records where the
    /// marked tmpfs was mounted in the container's mount namespace: it must always be inside the rootfs.
    /// </summary>
    [Fact]
    public void CVE_2021_30465_a_destination_swapped_for_a_symlink_during_create_never_mounts_outside_the_rootfs()
    {
        var hostTarget = Path.Combine(Path.GetTempPath(), "ocirun-race-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(Path.Combine(hostTarget, "sub"));
        using var bundle = SecurityTestBundle.Create("true");
        var race = Path.Combine(bundle.Rootfs, "race");
        Directory.CreateDirectory(Path.Combine(race, "a", "sub"));
        File.CreateSymbolicLink(Path.Combine(race, "b"), hostTarget);
        var marker = "race-" + Guid.NewGuid().ToString("N")[..8];
        bundle.Spec.Mounts!.Add(new Mount { Destination = "/race/a/sub", Type = "tmpfs", Source = marker });
        var record = Path.Combine(bundle.Dir, "mountinfo");
        bundle.Spec.Hooks = new Hooks
        {
            CreateRuntime =
            [
                new Hook { Path = "/bin/sh", Args = ["sh", "-c", $"pid=$(sed -n 's/.*\"pid\": *\\([0-9]*\\).*/\\1/p'); cat /proc/$pid/mountinfo > {record}"] },
            ],
        };
        using var stop = new CancellationTokenSource();
        long swaps = 0;
        var swapper = new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                if (Libc.renameat2(OpenFlags.AT_FDCWD, race + "/a", OpenFlags.AT_FDCWD, race + "/b", Libc.RENAME_EXCHANGE) == 0) swaps++;
            }
        }) { IsBackground = true };
        swapper.Start();
        var placements = new Dictionary<string, int>();
        try
        {
            for (var i = 0; i < 60; i++)
            {
                File.Delete(record);
                var r = bundle.Run();
                r.ExitCode.Should().Be(0, $"run {i}: {r}");
                var line = File.ReadAllLines(record).Single(l => l.Contains(" - tmpfs " + marker + " ", StringComparison.Ordinal));
                var mountPoint = line.Split(' ')[4];
                placements[mountPoint] = placements.GetValueOrDefault(mountPoint) + 1;
                mountPoint.Should().StartWith(bundle.Rootfs + "/", $"run {i} mounted the tmpfs at {mountPoint} (outside the rootfs; {swaps} swaps so far)");
            }
        }
        finally
        {
            stop.Cancel();
            swapper.Join();
            Directory.Delete(hostTarget, recursive: true);
        }
        swaps.Should().BeGreaterThan(1000, "the swapper must have raced the runtime");
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

    private sealed class TempFile(string path) : IDisposable
    {
        public void Dispose() => File.Delete(path);
    }
}
