using System.Diagnostics;
using OciRuntime.Runtime.Tests.Harness;
using OciRuntime.Spec;

namespace OciRuntime.Runtime.Tests.Integration;

/// <summary>
/// The state root under hostile conditions (issue #18): a runtime killed half-way, a damaged state.json, a cgroup that
/// will not go, bad command-line input, the caller's umask. After each, `delete --force` leaves nothing: no state
/// directory, no cgroup directory named after the id, no process, no mount, and the id can be used again. Serial: the
/// probes look at the whole test process's descendants.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class StateRootTests : IDisposable
{
    private readonly TestContainer _c = new("state");

    public StateRootTests()
    {
        _c.Bundle.Args("sleep", "1000");
        TestEnv.WaitForNoDescendants().Should().BeEmpty("no earlier test may leave a process");
    }

    public void Dispose() => _c.Dispose();

    private string StateFile => Path.Combine(_c.StateDir, "state.json");

    /// <summary>Nothing of the container is left, and its id can be created again.</summary>
    private void NothingLeft()
    {
        Directory.Exists(_c.StateDir).Should().BeFalse("delete --force removes the state directory");
        TestEnv.CgroupDirsOf(new HashSet<string> { _c.Id }).Should().BeEmpty("delete --force removes the cgroups on every hierarchy");
        TestEnv.WaitForNoDescendants().Should().BeEmpty("delete --force kills the container's processes");
        TestEnv.MountsUnder(_c.Bundle.Dir).Should().BeEmpty();
        _c.Create().ExitCode.Should().Be(0, "the id is reusable");
        _c.Delete(force: true).ExitCode.Should().Be(0);
        Directory.Exists(_c.StateDir).Should().BeFalse();
    }

    [Theory]
    [InlineData("truncated", "{\"id\":")]
    [InlineData("empty", "")]
    [InlineData("null", "null")]
    [InlineData("array", "[]")]
    [InlineData("wrong type", "{\"id\":\"ID\",\"initPid\":\"x\"}")]
    [InlineData("not a record", "{\"id\":\"ID\"}")]
    public void A_damaged_state_json_is_one_line_for_state_and_list_and_delete_force_still_removes_the_container(string what, string content)
    {
        _c.CreateOk();
        File.WriteAllText(StateFile, content.Replace("ID", _c.Id, StringComparison.Ordinal));

        var state = _c.Runtime.Run("state", _c.Id);
        state.ExitCode.Should().NotBe(0, what);
        state.StderrLines.Should().ContainSingle($"state of a {what} state.json is one line: {state}").Which.Should().Contain(_c.Id).And.Contain("state.json");

        var list = _c.Runtime.Run("list");
        list.ExitCode.Should().Be(0, $"list goes on past a container it cannot load: {list}");
        list.StderrLines.Should().ContainSingle($"one line for the damaged container: {list}").Which.Should().Contain(_c.Id);

        var delete = _c.Delete(force: true);
        delete.ExitCode.Should().Be(0, delete.ToString());
        delete.StderrLines.Length.Should().BeLessThanOrEqualTo(1, delete.ToString());
        delete.Stderr.Should().NotContain("   at ", "never a stack trace");
        NothingLeft();
    }

    /// <summary>
    /// A root container whose cgroups cannot be found: state.json damaged, the config.json copy gone, and a cgroupsPath
    /// that is not the id's default. delete --force finds the init through the init mark and kills it (with a pid
    /// namespace of its own that ends the rest; without, its descendants are found through it) and names the cgroups it
    /// leaves; before the mark the container ran on.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Delete_force_kills_a_damaged_container_whose_cgroups_cannot_be_found(bool ownPidNamespace)
    {
        var leaf = _c.Id + "-lost";
        _c.Bundle.Spec.Linux!.CgroupsPath = "/" + leaf;
        if (!ownPidNamespace) _c.Bundle.WithoutNamespace(NamespaceType.Pid);
        _c.Bundle.Sh("sleep 1000 & exec sleep 1000");
        try
        {
            _c.RunDetached().ExitCode.Should().Be(0);
            TestEnv.Eventually(() => TestEnv.Descendants().Count == 2).Should().BeTrue("the init and its child run");
            File.WriteAllText(StateFile, "null");
            File.Delete(Path.Combine(_c.StateDir, "config.json"));

            var delete = _c.Delete(force: true);

            delete.ExitCode.Should().Be(0, delete.ToString());
            TestEnv.WaitForNoDescendants(10_000).Should().BeEmpty("delete --force kills the init, and so its child");
            delete.StderrLines.Should().HaveCount(2, delete.ToString());
            delete.StderrLines[1].Should().Contain("cgroups were not found").And.Contain("/" + leaf);
            Directory.Exists(_c.StateDir).Should().BeFalse();
        }
        finally
        {
            TestEnv.WaitForNoDescendants(10_000);
            var dirs = TestEnv.CgroupDirsOf(new HashSet<string> { leaf });
            if (dirs.Count > 0) Ocirun.Exec("rmdir", dirs);
        }
        NothingLeft();
    }

    /// <summary>
    /// create SIGKILLed at each of its renames (every state.json write and the config.json copy; on the current main the
    /// first is the only state.json write, after the init and its cgroups exist): `list` shows the container whenever
    /// it has a state.json, and `delete --force` removes everything.
    /// </summary>
    [Fact]
    public void A_create_killed_at_any_state_write_is_removed_by_delete_force()
    {
        _c.Bundle.Write();
        for (var n = 1; n <= 4; n++)
        {
            StraceRun(["-e", "trace=rename,renameat,renameat2", "-e", $"inject=rename,renameat,renameat2:signal=SIGKILL:when={n}"],
                ["--root", _c.Runtime.StateRoot, "create", "-b", _c.Bundle.Dir, _c.Id]);
            if (File.Exists(StateFile))
            {
                var list = _c.Runtime.Run("list");
                list.ExitCode.Should().Be(0, list.ToString());
                list.Stdout.Should().Contain(_c.Id, $"list shows the container left by a create killed at rename {n}");
            }
            var delete = _c.Delete(force: true);
            delete.ExitCode.Should().Be(0, $"rename {n}: {delete}");
            NothingLeft();
        }
    }

    [Fact]
    public void Delete_removes_every_other_hierarchy_when_one_cannot_be_removed_and_names_what_is_left()
    {
        _c.CreateOk();
        var dirs = TestEnv.CgroupDirsOf(new HashSet<string> { _c.Id });
        dirs.Count.Should().BeGreaterThan(1, "a v1 or hybrid host has a directory per hierarchy");
        // A child cgroup with a mount on it cannot be removed (EBUSY), so neither can its parent, the container's.
        var pinned = Path.Combine(dirs[0], "pinned");
        Directory.CreateDirectory(pinned);
        Ocirun.Exec("mount", ["-t", "tmpfs", "pin", pinned]).ExitCode.Should().Be(0);
        try
        {
            var delete = _c.Delete(force: true);
            delete.ExitCode.Should().NotBe(0, $"delete must say that a cgroup is left: {delete}");
            delete.StderrLines.Should().ContainSingle(delete.ToString()).Which.Should().Contain(dirs[0]);
            TestEnv.CgroupDirsOf(new HashSet<string> { _c.Id }).Should().BeEquivalentTo([dirs[0]], "every other hierarchy is removed");
            Directory.Exists(_c.StateDir).Should().BeTrue("the state stays for another delete to finish the job");
        }
        finally
        {
            Ocirun.Exec("umount", [pinned]);
        }
        _c.Delete(force: true).ExitCode.Should().Be(0);
        NothingLeft();
    }

    /// <summary>
    /// A create whose cgroup set-up fails after the mkdirs (strace -P: only the calls on that file fail, with EIO): cpuset's
    /// copy of its parent's cpus, the devices controller's first rule. On a hybrid host the cgroup2 directory the init is
    /// to be born in (unified/ID) is made before either, so both also check that it goes. Once cpuset/ID and unified/ID
    /// were left (then the failing cgroup2 step was a read of the root's cgroup.controllers, which a hybrid create makes
    /// no more unless a field needs a cgroup2 controller).
    /// </summary>
    [Theory]
    [InlineData("cpuset/ID/cpuset.cpus")]
    [InlineData("devices/ID/devices.deny")]
    public void A_create_whose_cgroup_setup_fails_removes_the_cgroups_it_made_on_every_hierarchy(string file)
    {
        var hierarchy = "/sys/fs/cgroup/" + file[..file.IndexOf('/', StringComparison.Ordinal)];
        if (!Directory.Exists(hierarchy)) return; // not this host's layout (pure cgroup v2: the VM stage covers it)
        _c.Bundle.Spec.Linux!.CgroupsPath = "/" + _c.Id;
        _c.Bundle.Write();

        StraceRun(["-P", "/sys/fs/cgroup/" + file.Replace("ID", _c.Id, StringComparison.Ordinal), "-e", "trace=openat,write,read", "-e", "inject=openat,write,read:error=EIO"],
            ["--root", _c.Runtime.StateRoot, "create", "-b", _c.Bundle.Dir, _c.Id]);

        Directory.Exists(_c.StateDir).Should().BeFalse("the create failed");
        TestEnv.CgroupDirsOf(new HashSet<string> { _c.Id }).Should().BeEmpty("a failed create removes the cgroups it made, on every hierarchy");
        NothingLeft();
    }

    [Fact]
    public void A_config_json_that_is_a_fifo_or_a_device_is_refused_without_blocking()
    {
        _c.Bundle.Write();
        var config = Path.Combine(_c.Bundle.Dir, "config.json");
        foreach (var (what, make) in new (string, string[])[] { ("a FIFO", ["mkfifo", config]), ("a character device", ["mknod", config, "c", "1", "5"]) })
        {
            File.Delete(config);
            Ocirun.Exec(make[0], make[1..]).ExitCode.Should().Be(0);
            var r = Ocirun.Exec(_c.Runtime.Binary, ["--root", _c.Runtime.StateRoot, "create", "-b", _c.Bundle.Dir, _c.Id], timeoutMs: 20_000);
            r.ExitCode.Should().NotBe(0);
            r.StderrLines.Should().ContainSingle(r.ToString()).Which.Should().Contain("config.json").And.Contain(what);
            Directory.Exists(_c.StateDir).Should().BeFalse();
        }
    }

    [Theory]
    [InlineData("create")]
    [InlineData("run")]
    public void A_negative_preserve_fds_is_refused(string command)
    {
        _c.Bundle.Write();
        var r = _c.Runtime.Run(command, "--preserve-fds", "-1", "-b", _c.Bundle.Dir, _c.Id);
        r.ExitCode.Should().NotBe(0, r.ToString());
        r.StderrLines.Should().ContainSingle(r.ToString()).Which.Should().Contain("--preserve-fds");
        Directory.Exists(_c.StateDir).Should().BeFalse();
        TestEnv.WaitForNoDescendants().Should().BeEmpty();
    }

    [Fact]
    public void A_negative_preserve_fds_is_refused_by_exec()
    {
        _c.CreateOk();
        var r = _c.Runtime.Run("exec", "--preserve-fds", "-1", _c.Id, "true");
        r.ExitCode.Should().NotBe(0, r.ToString());
        r.StderrLines.Should().ContainSingle(r.ToString()).Which.Should().Contain("--preserve-fds");
    }

    [Fact]
    public void File_modes_do_not_follow_the_umask()
    {
        _c.Bundle.Write();
        var pidFile = Path.Combine(_c.Bundle.Dir, "init.pid");
        var r = Ocirun.ExecWithFileStdio("/bin/sh", ["-c", "umask 000; exec \"$@\"", "sh", _c.Runtime.Binary, "--root", _c.Runtime.StateRoot,
            "create", "--pid-file", pidFile, "-b", _c.Bundle.Dir, _c.Id], _c.OutputFile);
        r.ExitCode.Should().Be(0, r.ToString());

        File.GetUnixFileMode(_c.StateDir).Should().Be((UnixFileMode)0x1c0, "the state directory is 0700");
        File.GetUnixFileMode(StateFile).Should().Be((UnixFileMode)0x180, "state.json is 0600, as runc's");
        File.GetUnixFileMode(Path.Combine(_c.StateDir, "config.json")).Should().Be((UnixFileMode)0x180, "the config.json copy is 0600");
        File.GetUnixFileMode(pidFile).Should().Be((UnixFileMode)0x1a4, "the pid file is 0644");
        Directory.EnumerateFileSystemEntries(_c.StateDir).Select(Path.GetFileName).Should().BeEquivalentTo(["state.json", "config.json", "exec.fifo", "init"]);
    }

    [Theory]
    [InlineData("proc", "symlink")]
    [InlineData("proc", "file")]
    [InlineData("sys", "symlink")]
    [InlineData("sys", "file")]
    public void A_rootfs_whose_proc_or_sys_is_not_a_directory_fails_in_one_line(string dir, string kind)
    {
        var path = Path.Combine(_c.Bundle.Rootfs, dir);
        if (Directory.Exists(path)) Directory.Delete(path);
        if (kind == "symlink") File.CreateSymbolicLink(path, "/tmp");
        else File.WriteAllText(path, "");

        foreach (var init in new[] { false, true })
        {
            var r = init
                ? Ocirun.ExecWithFileStdio("/usr/bin/env", ["OCIRUN_INIT=1", _c.Runtime.Binary, "--root", _c.Runtime.StateRoot, "create", "-b", _c.Bundle.Write(), _c.Id], _c.OutputFile)
                : _c.Create();
            r.ExitCode.Should().NotBe(0, r.ToString());
            r.StderrLines.Should().ContainSingle($"one line ({(init ? "ocirun init" : "direct")} path): {r}").Which.Should().Contain("/" + dir);
            r.Stderr.Should().NotContain("   at ");
            Directory.Exists(_c.StateDir).Should().BeFalse();
            TestEnv.CgroupDirsOf(new HashSet<string> { _c.Id }).Should().BeEmpty();
            TestEnv.WaitForNoDescendants().Should().BeEmpty();
        }
    }

    [Fact]
    public void A_bind_mount_without_source_fails_in_one_line_naming_it()
    {
        _c.Bundle.Spec.Mounts!.Add(new Mount { Destination = "/mnt", Type = "bind", Options = ["rbind"] });
        var r = _c.Create();
        r.ExitCode.Should().NotBe(0, r.ToString());
        r.StderrLines.Should().ContainSingle(r.ToString()).Which.Should().Contain("source");
        Directory.Exists(_c.StateDir).Should().BeFalse();
    }

    [Fact]
    public void The_seccomp_program_cache_is_not_kept_in_the_state_root()
    {
        _c.Bundle.Args("true");
        _c.Bundle.Spec.Linux!.Seccomp = new LinuxSeccomp
        {
            DefaultAction = "SCMP_ACT_ALLOW",
            Syscalls = [new LinuxSyscall { Names = ["mkdirat"], Action = "SCMP_ACT_ERRNO" }],
        };
        var r = _c.Run();
        r.ExitCode.Should().Be(0, r.ToString());
        Directory.EnumerateFileSystemEntries(_c.Runtime.StateRoot).Should().BeEmpty("the client's --root holds containers only");
    }

    /// <summary>
    /// The fault-injection run (tests/fault/fault-inject.sh): create, run -d, exec and delete SIGKILLed after a random
    /// delay or at a random call of a random syscall, or with that call failing (ENOSPC, EIO, EINTR); after each,
    /// delete --force must leave nothing. $OCIRUN_FAULT_TRIALS trials (default 200).
    /// </summary>
    [Fact]
    public void Fault_injection_leaves_nothing_after_delete_force()
    {
        var script = Path.Combine(Ocirun.RepoRoot, "tests", "fault", "fault-inject.sh");
        var r = Ocirun.Exec("/bin/bash", [script, _c.Runtime.Binary], timeoutMs: 15 * 60_000);
        r.ExitCode.Should().Be(0, r.ToString());
        r.Stdout.Should().Contain("leaks=0");
    }

    // Runs `strace -f STRACEARGS ocirun ARGS` until the runtime's own process is gone, calls whenGone, then makes strace
    // detach from what it still traces (the container's init outlives a create) with SIGTERM.
    internal static void StraceRun(string[] straceArgs, string[] args, Action? whenGone = null)
    {
        var dir = TestEnv.NewDir("strace");
        var pidFile = Path.Combine(dir, "pid");
        var start = new ProcessStartInfo("strace") { UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in (string[])["-I1", "-f", "-qq", "-o", "/dev/null", .. straceArgs, "/bin/sh", "-c", "echo $$ > \"$0\"; exec \"$@\" </dev/null >/dev/null 2>&1",
                     pidFile, Ocirun.DefaultBinary, .. args]) start.ArgumentList.Add(a);
        using var strace = Reaper.Spawn(start);
        try
        {
            strace.StandardInput.Close();
            TestEnv.Eventually(() => File.Exists(pidFile) && new FileInfo(pidFile).Length > 0 || strace.HasExited).Should().BeTrue();
            if (File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile).Trim(), out var pid))
            {
                TestEnv.Eventually(() => !File.Exists($"/proc/{pid}/stat") || File.ReadAllText($"/proc/{pid}/stat").Split(") ")[1].StartsWith('Z')).Should().BeTrue();
            }
            whenGone?.Invoke();
            if (!strace.HasExited) TestEnv.Kill(strace.Id, TestEnv.SIGTERM);
            strace.WaitForExit(60_000).Should().BeTrue("strace detaches on SIGTERM");
        }
        finally
        {
            Reaper.Forget(strace.Id);
            TestEnv.RemoveTree(dir);
        }
    }
}
