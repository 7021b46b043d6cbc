using System.Globalization;
using OciRuntime.Interop;
using OciRuntime.Runtime.Lifecycle;
using OciRuntime.Runtime.Tests.Harness;
using OciRuntime.Spec;

namespace OciRuntime.Runtime.Tests;

/// <summary>
/// An unprivileged user with /etc/subuid and /etc/subgid ranges (created once, by <see cref="RootlessUser"/>), for whom
/// the root test process starts ocirun through setpriv. Needs Debian's uidmap (newuidmap/newgidmap): scripts/install-deps.sh test.
/// </summary>
public sealed class RootlessUser
{
    /// <summary>The test user's name.</summary>
    public const string Name = "ocirootless";

    public RootlessUser()
    {
        if (Libc.geteuid() != 0) throw new InvalidOperationException("RootlessTests start as root: they create an unprivileged user and run ocirun as it");
        if (!File.Exists("/usr/bin/newuidmap") || !File.Exists("/usr/bin/newgidmap"))
            throw new InvalidOperationException("newuidmap/newgidmap are missing: install Debian's uidmap package (scripts/install-deps.sh test)");
        if (Ocirun.Exec("id", ["-u", Name]).ExitCode != 0)
        {
            var add = Ocirun.Exec("useradd", ["--no-create-home", "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", Name]);
            if (add.ExitCode != 0 && Ocirun.Exec("id", ["-u", Name]).ExitCode != 0) throw new InvalidOperationException($"useradd {Name}: {add}");
        }
        Uid = uint.Parse(Ocirun.Exec("id", ["-u", Name]).Stdout.Trim(), CultureInfo.InvariantCulture);
        Gid = uint.Parse(Ocirun.Exec("id", ["-g", Name]).Stdout.Trim(), CultureInfo.InvariantCulture);
        if (SubordinateStart("/etc/subuid") is null || SubordinateStart("/etc/subgid") is null)
        {
            // useradd allocates ranges only where login.defs says so: give the user 65536 ids at 300000.
            var mod = Ocirun.Exec("usermod", ["--add-subuids", "300000-365535", "--add-subgids", "300000-365535", Name]);
            if (mod.ExitCode != 0) throw new InvalidOperationException($"usermod --add-subuids: {mod}");
        }
        SubUidStart = SubordinateStart("/etc/subuid") ?? throw new InvalidOperationException($"no /etc/subuid range for {Name}");
        SubGidStart = SubordinateStart("/etc/subgid") ?? throw new InvalidOperationException($"no /etc/subgid range for {Name}");
    }

    /// <summary>The user's uid.</summary>
    public uint Uid { get; }

    /// <summary>The user's primary gid.</summary>
    public uint Gid { get; }

    /// <summary>The first of its subordinate uids (65536 or more of them).</summary>
    public uint SubUidStart { get; }

    /// <summary>The first of its subordinate gids.</summary>
    public uint SubGidStart { get; }

    private static uint? SubordinateStart(string file)
    {
        if (!File.Exists(file)) return null;
        foreach (var line in File.ReadAllLines(file))
        {
            var f = line.Split(':');
            if (f.Length == 3 && f[0] == Name && uint.TryParse(f[2], CultureInfo.InvariantCulture, out var count) && count >= 65536)
                return uint.Parse(f[1], CultureInfo.InvariantCulture);
        }
        return null;
    }
}

/// <summary>
/// Rootless mode end to end (issue 7): `ocirun spec --rootless` then `run`, `exec`, `delete` as an unprivileged user
/// with XDG_RUNTIME_DIR pointing at a directory it owns; subordinate id ranges through newuidmap/newgidmap; the
/// refusals a rootless container meets. The user's bundle, rootfs and runtime directory live in a temporary directory
/// it owns.
/// </summary>
public sealed class RootlessTests : IClassFixture<RootlessUser>, IDisposable
{
    private readonly RootlessUser _user;
    private readonly UsernsBundle _bundle;
    private readonly string _xdg;

    public RootlessTests(RootlessUser user)
    {
        _user = user;
        _bundle = UsernsBundle.Create("ocirun-rootless-");
        _xdg = Path.Combine(_bundle.Dir, "run");
        Directory.CreateDirectory(_xdg);
        File.SetUnixFileMode(_xdg, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        _bundle.Spec = DefaultSpec.CreateRootless(user.Uid, user.Gid);
        _bundle.Spec.Process!.Terminal = false;
        _bundle.Write();
        _bundle.ChownAll(user.Uid, user.Gid);
    }

    public void Dispose()
    {
        var root = Path.Combine(_xdg, "ocirun");
        foreach (var id in Directory.Exists(root) ? Directory.GetDirectories(root).Select(Path.GetFileName) : [])
            AsUser(Ocirun.DefaultBinary, "delete", "--force", id!);
        _bundle.Dispose();
    }

    private string StateRoot => Path.Combine(_xdg, "ocirun");

    private static string NewId() => "rootless-" + Guid.NewGuid().ToString("N")[..8];

    /// <summary>Runs a command as the test user (setpriv), in the bundle directory, with a minimal environment.</summary>
    private CommandResult AsUser(params string[] command) => Ocirun.Exec("setpriv",
        ["--reuid", _user.Uid.ToString(CultureInfo.InvariantCulture), "--regid", _user.Gid.ToString(CultureInfo.InvariantCulture), "--init-groups",
         "env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + _bundle.Dir, "XDG_RUNTIME_DIR=" + _xdg, .. command],
        workingDirectory: _bundle.Path);

    /// <summary>ocirun as the test user, without --root: the state root must default to $XDG_RUNTIME_DIR/ocirun.</summary>
    private CommandResult OcirunAsUser(params string[] args) => AsUser([Ocirun.DefaultBinary, .. args]);

    private void WriteConfig()
    {
        _bundle.Write();
        _bundle.ChownAll(_user.Uid, _user.Gid);
    }

    [Fact]
    public void Spec_rootless_writes_what_runc_writes_and_it_round_trips()
    {
        var ours = Path.Combine(_bundle.Dir, "ours");
        var runcs = Path.Combine(_bundle.Dir, "runcs");
        foreach (var d in new[] { ours, runcs })
        {
            Directory.CreateDirectory(d);
            Libc.Check(Libc.fchownat(OpenFlags.AT_FDCWD, d, _user.Uid, _user.Gid, 0), "chown");
        }

        AsUser(Ocirun.DefaultBinary, "spec", "--rootless", "--bundle", ours).ExitCode.Should().Be(0);
        AsUser("runc", "spec", "--rootless", "--bundle", runcs).ExitCode.Should().Be(0);

        var text = File.ReadAllText(Path.Combine(ours, "config.json"));
        text.Should().Be(File.ReadAllText(Path.Combine(runcs, "config.json")));
        SpecSerializer.Serialize(SpecSerializer.Parse(File.ReadAllBytes(Path.Combine(ours, "config.json")))).Should().Be(text);
        var spec = SpecSerializer.Parse(File.ReadAllBytes(Path.Combine(ours, "config.json")));
        spec.Linux!.UidMappings!.Single().HostId.Should().Be(_user.Uid);
        spec.Linux.GidMappings!.Single().HostId.Should().Be(_user.Gid);
    }

    [Fact]
    public void Spec_rootless_then_run_works_end_to_end_and_leaves_nothing()
    {
        // The bundle's config.json is `ocirun spec --rootless` of the user itself, with only args and terminal changed.
        File.Delete(Path.Combine(_bundle.Path, "config.json"));
        AsUser(Ocirun.DefaultBinary, "spec", "--rootless").ExitCode.Should().Be(0);
        var spec = SpecSerializer.Parse(File.ReadAllBytes(Path.Combine(_bundle.Path, "config.json")));
        spec.Process!.Terminal = false;
        spec.Process.Args = ["sh", "-c", "id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map; hostname"];
        _bundle.Spec = spec;
        WriteConfig();

        var result = OcirunAsUser("run", NewId());

        result.ExitCode.Should().Be(0, result.ToString());
        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => string.Join(' ', l.Split(' ', StringSplitOptions.RemoveEmptyEntries))).ToList();
        lines.Should().Equal("0", "0", $"0 {_user.Uid} 1", $"0 {_user.Gid} 1", "runc");
        Directory.GetFileSystemEntries(StateRoot).Should().BeEmpty("run deletes the container");
        Directory.GetFileSystemEntries(_xdg).Should().Equal([StateRoot], "nothing but the (empty) state root is left under $XDG_RUNTIME_DIR");
    }

    [Fact]
    public void Rootless_run_detached_then_exec_then_delete()
    {
        var id = NewId();
        _bundle.Spec.Process!.Args = ["sh", "-c", "exec sleep 60 >/dev/null 2>&1 </dev/null"];
        WriteConfig();

        var run = OcirunAsUser("run", "--detach", id);
        run.ExitCode.Should().Be(0, run.ToString());
        Directory.Exists(Path.Combine(StateRoot, id)).Should().BeTrue("the state root defaults to $XDG_RUNTIME_DIR/ocirun");
        var state = OcirunAsUser("state", id);
        state.ExitCode.Should().Be(0, state.ToString());
        var pid = System.Text.Json.JsonDocument.Parse(state.Stdout).RootElement.GetProperty("pid").GetInt32();
        UsernsBundle.OwnerOf($"/proc/{pid}").Should().Be($"{_user.Uid}:{_user.Gid}", "the container root is the user on the host");

        var exec = OcirunAsUser("exec", id, "sh", "-c", "id -u; for f in /proc/1/ns/pid /proc/self/ns/pid /proc/1/ns/user /proc/self/ns/user; do readlink $f; done");
        exec.ExitCode.Should().Be(0, exec.ToString());
        var lines = exec.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines[0].Should().Be("0");
        lines[1].Should().Be(lines[2], "exec joins the container's pid namespace");
        lines[3].Should().Be(lines[4], "exec joins the container's user namespace");

        var list = OcirunAsUser("list", "--quiet");
        list.Stdout.Should().Contain(id);
        var listed = OcirunAsUser("list", "--format", "json");
        var entry = System.Text.Json.JsonDocument.Parse(listed.Stdout).RootElement.EnumerateArray().Single(e => e.GetProperty("id").GetString() == id);
        entry.GetProperty("owner").GetString().Should().Be(RootlessUser.Name, "runc's list names the owner of the state directory");
        System.Text.Json.JsonDocument.Parse(state.Stdout).RootElement.GetProperty("owner").GetString().Should().Be("", "runc's state leaves owner empty");
        OcirunAsUser("delete", "--force", id).ExitCode.Should().Be(0);
        Directory.GetFileSystemEntries(StateRoot).Should().BeEmpty();
        Directory.GetFileSystemEntries(_xdg).Should().Equal([StateRoot]);
        // Killed by delete; the test process (a subreaper) reaps it soon after.
        var gone = SpinWait.SpinUntil(() => ProcStat.Read(pid) is not { State: not ('Z' or 'X') }, TimeSpan.FromSeconds(10));
        gone.Should().BeTrue("delete --force killed the container");
    }

    /// <summary>The container's init pid, from `state`.</summary>
    private int InitPid(string id)
    {
        var state = OcirunAsUser("state", id);
        state.ExitCode.Should().Be(0, state.ToString());
        return System.Text.Json.JsonDocument.Parse(state.Stdout).RootElement.GetProperty("pid").GetInt32();
    }

    /// <summary>Whether <paramref name="pid"/> is gone (or a zombie, for the test process, a subreaper, to reap) within 10 s.</summary>
    private static bool Gone(int pid) => SpinWait.SpinUntil(() => ProcStat.Read(pid) is not { State: not ('Z' or 'X') }, TimeSpan.FromSeconds(10));

    /// <summary>Live processes whose command line is exactly <paramref name="commandLine"/> (args joined by spaces).</summary>
    private static List<int> PidsRunning(string commandLine) =>
        Directory.EnumerateDirectories("/proc")
            .Select(d => int.TryParse(Path.GetFileName(d), NumberStyles.None, CultureInfo.InvariantCulture, out var p) ? p : 0)
            .Where(p => p > 0 && TestEnv.CommandLine(p) == commandLine && ProcStat.Read(p) is { State: not ('Z' or 'X') })
            .ToList();

    /// <summary>
    /// Issue #18: a rootless container (no cgroups to find its processes by) whose state.json is damaged. delete --force
    /// finds the init through the init mark beside state.json (pid + start time) and kills it; before the mark it removed
    /// the state directory and left the container running.
    /// </summary>
    [Theory]
    [InlineData("truncated", "{\"id\":")]
    [InlineData("empty", "")]
    [InlineData("null", "null")]
    [InlineData("array", "[]")]
    [InlineData("wrong type", "{\"id\":\"ID\",\"initPid\":\"x\"}")]
    [InlineData("not a record", "{\"id\":\"ID\"}")]
    public void Delete_force_kills_a_rootless_container_whose_state_json_is_damaged(string what, string content)
    {
        var id = NewId();
        _bundle.Spec.Process!.Args = ["sh", "-c", "exec sleep 60 >/dev/null 2>&1 </dev/null"];
        WriteConfig();
        OcirunAsUser("run", "--detach", id).ExitCode.Should().Be(0);
        var pid = InitPid(id);
        File.WriteAllText(Path.Combine(StateRoot, id, "state.json"), content.Replace("ID", id, StringComparison.Ordinal));

        var delete = OcirunAsUser("delete", "--force", id);

        delete.ExitCode.Should().Be(0, $"{what}: {delete}");
        delete.Stderr.Trim().Split('\n').Should().ContainSingle($"one warning line: {delete}").Which.Should().Contain("damaged state");
        Directory.Exists(Path.Combine(StateRoot, id)).Should().BeFalse();
        Gone(pid).Should().BeTrue($"delete --force of a container whose state.json is {what} kills its init");
    }

    /// <summary>
    /// The init mark names a pid and its start time: a pid that now belongs to another process (another start time) is
    /// not killed, and the damaged container is still removed.
    /// </summary>
    [Fact]
    public void Delete_force_of_a_damaged_rootless_container_spares_a_pid_whose_start_time_is_not_the_marks()
    {
        var id = NewId();
        _bundle.Spec.Process!.Args = ["sh", "-c", "exec sleep 60 >/dev/null 2>&1 </dev/null"];
        WriteConfig();
        OcirunAsUser("run", "--detach", id).ExitCode.Should().Be(0);
        var pid = InitPid(id);
        var start = ProcStat.Read(pid)!.Value.StartTime;
        var mark = Path.Combine(StateRoot, id, "init");
        new FileInfo(mark).LinkTarget.Should().Be($"{pid}:{start}", "create leaves the init mark beside state.json");
        try
        {
            // As if the init had exited and its pid had gone to a process started later.
            File.Delete(mark);
            File.CreateSymbolicLink(mark, $"{pid}:{start - 1}");
            File.WriteAllText(Path.Combine(StateRoot, id, "state.json"), "");

            var delete = OcirunAsUser("delete", "--force", id);

            delete.ExitCode.Should().Be(0, delete.ToString());
            Directory.Exists(Path.Combine(StateRoot, id)).Should().BeFalse();
            // delete waits for an init it kills: had it signalled this one, it would be gone by now.
            ProcStat.IsAlive(pid, start).Should().BeTrue("a process whose start time is not the mark's is not the container's init");
        }
        finally
        {
            TestEnv.Kill(pid, Signals.SIGKILL);
        }
        Gone(pid).Should().BeTrue();
    }

    /// <summary>
    /// A rootless container without a pid namespace of its own (killing the init ends nothing else) and without cgroups:
    /// delete --force kills its init, the init's children and a process exec'd into it (found by the container's own
    /// mount namespace), with a healthy or a damaged state.json, and nothing else of the same user.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Delete_force_kills_every_process_of_a_rootless_container_sharing_the_host_pid_namespace(bool damaged)
    {
        var id = NewId();
        var tag = Random.Shared.Next(100_000, 900_000).ToString(CultureInfo.InvariantCulture);
        _bundle.Spec.Linux!.Namespaces!.RemoveAll(n => n.Type == NamespaceType.Pid);
        // A new proc mount needs a pid namespace of its own: the host's /proc instead.
        _bundle.Spec.Mounts![_bundle.Spec.Mounts.FindIndex(m => m.Destination == "/proc")] = new Mount { Destination = "/proc", Type = "bind", Source = "/proc", Options = ["rbind", "nosuid", "noexec", "nodev"] };
        _bundle.Spec.Process!.Args = ["sh", "-c", $"exec >/dev/null 2>&1 </dev/null; sleep {tag}1 & (sleep {tag}2 &); exec sleep {tag}0"];
        WriteConfig();
        var run = OcirunAsUser("run", "--detach", id);
        run.ExitCode.Should().Be(0, run.ToString());
        var exec = OcirunAsUser("exec", "--detach", id, "sh", "-c", $"exec sleep {tag}3 >/dev/null 2>&1 </dev/null");
        exec.ExitCode.Should().Be(0, exec.ToString());
        // The same user's process outside the container.
        var bystander = AsUser("sh", "-c", $"sleep {tag}4 >/dev/null 2>&1 </dev/null & echo $!");
        var bystanderPid = int.Parse(bystander.Stdout.Trim(), CultureInfo.InvariantCulture);
        var container = new Dictionary<string, int>();
        try
        {
            SpinWait.SpinUntil(() => Enumerable.Range(0, 4).All(i => PidsRunning($"sleep {tag}{i}").Count == 1), TimeSpan.FromSeconds(10));
            for (var i = 0; i < 4; i++) container[$"sleep {tag}{i}"] = PidsRunning($"sleep {tag}{i}").Should().ContainSingle().Which;
            container[$"sleep {tag}0"].Should().Be(InitPid(id));
            if (damaged) File.WriteAllText(Path.Combine(StateRoot, id, "state.json"), "[]");

            var delete = OcirunAsUser("delete", "--force", id);

            delete.ExitCode.Should().Be(0, delete.ToString());
            Directory.Exists(Path.Combine(StateRoot, id)).Should().BeFalse();
            foreach (var (what, pid) in container) Gone(pid).Should().BeTrue($"{what} (init, its child, an orphan of it, an exec'd process) belongs to the container");
            ProcStat.Read(bystanderPid).Should().NotBeNull("the user's process outside the container is not the container's");
        }
        finally
        {
            foreach (var pid in container.Values.Append(bystanderPid)) TestEnv.Kill(pid, Signals.SIGKILL);
        }
    }

    [Fact]
    public void Rootless_run_with_a_terminal_gives_the_console_to_the_container_root()
    {
        _bundle.Spec.Process!.Terminal = true; // as `spec --rootless` writes it
        _bundle.Spec.Process.Args = ["sh", "-c", "tty; stat -L -c owner=%u /proc/self/fd/0"];
        WriteConfig();

        var result = AsUser("script", "--quiet", "--return", "--command", $"{Ocirun.DefaultBinary} run {NewId()}", "/dev/null");

        result.ExitCode.Should().Be(0, result.ToString());
        result.Stdout.Replace("\r", "", StringComparison.Ordinal).Should().Contain("/dev/pts/0\n").And.Contain("owner=0\n");
    }

    [Fact]
    public void Rootless_time_namespace_with_exec_into_it()
    {
        var id = NewId();
        _bundle.Spec.Linux!.Namespaces!.Add(new LinuxNamespace { Type = NamespaceType.Time });
        _bundle.Spec.Linux.TimeOffsets = new Dictionary<string, LinuxTimeOffset> { ["boottime"] = new() { Secs = 1_000_000 } };
        _bundle.Spec.Process!.Args = ["sh", "-c", "exec sleep 60 >/dev/null 2>&1 </dev/null"];
        WriteConfig();
        OcirunAsUser("run", "--detach", id).ExitCode.Should().Be(0);

        var exec = OcirunAsUser("exec", id, "cat", "/proc/uptime");

        exec.ExitCode.Should().Be(0, exec.ToString());
        double.Parse(exec.Stdout.Split(' ')[0], CultureInfo.InvariantCulture).Should().BeGreaterThan(1_000_000);
        OcirunAsUser("delete", "--force", id).ExitCode.Should().Be(0);
    }

    [Fact]
    public void Subordinate_ranges_map_through_newuidmap_and_newgidmap()
    {
        var linux = _bundle.Spec.Linux!;
        linux.UidMappings = [new LinuxIdMapping { ContainerId = 0, HostId = _user.Uid, Size = 1 }, new LinuxIdMapping { ContainerId = 1, HostId = _user.SubUidStart, Size = 65536 }];
        linux.GidMappings = [new LinuxIdMapping { ContainerId = 0, HostId = _user.Gid, Size = 1 }, new LinuxIdMapping { ContainerId = 1, HostId = _user.SubGidStart, Size = 65536 }];
        _bundle.Spec.Root!.Readonly = false;
        _bundle.Spec.Process!.User = new User { Uid = 1000, Gid = 1000, AdditionalGids = [10] };
        _bundle.Spec.Process.Args = ["sh", "-c", "id -u; id -G; stat -L -c %u /proc/self/fd/1; touch /tmp/made-by-1000"];
        WriteConfig();

        // `| cat`: stdout is then a pipe the user owns (container root), which the init can give to uid 1000.
        var result = AsUser("sh", "-c", $"{Ocirun.DefaultBinary} run {NewId()} | cat");

        result.ExitCode.Should().Be(0, result.ToString());
        result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Should().Equal("1000", "1000 10", "1000");
        UsernsBundle.OwnerOf(Path.Combine(_bundle.Rootfs, "tmp/made-by-1000"))
            .Should().Be($"{_user.SubUidStart + 999}:{_user.SubGidStart + 999}");
    }

    [Fact]
    public void Additional_gids_where_setgroups_is_denied_are_a_clear_error()
    {
        _bundle.Spec.Process!.User = new User { Uid = 0, Gid = 0, AdditionalGids = [5] };
        WriteConfig();

        var result = OcirunAsUser("run", NewId());

        result.ExitCode.Should().Be(1);
        result.Stderr.Should().StartWith("config.json: process.user.additionalGids: cannot set supplementary groups: setgroups is denied in this user namespace");
        Directory.GetFileSystemEntries(StateRoot).Should().BeEmpty();
    }

    [Fact]
    public void A_rootless_idmapped_mount_is_refused_clearly()
    {
        var source = Path.Combine(_bundle.Dir, "src");
        Directory.CreateDirectory(source);
        _bundle.Spec.Mounts!.Add(new Mount
        {
            Destination = "/mnt",
            Type = "bind",
            Source = source,
            Options = ["bind"],
            UidMappings = [new LinuxIdMapping { ContainerId = 0, HostId = _user.Uid, Size = 1 }],
            GidMappings = [new LinuxIdMapping { ContainerId = 0, HostId = _user.Gid, Size = 1 }],
        });
        var index = _bundle.Spec.Mounts.Count - 1;
        WriteConfig();

        var result = OcirunAsUser("run", NewId());

        result.ExitCode.Should().Be(1);
        result.Stderr.Trim().Should().Be($"config.json: mounts[{index}]: idmapped mounts are not supported by this kernel or filesystem (open_tree {source}: operation not permitted)");
    }

    [Fact]
    public void Rootless_mode_resolution_and_the_default_state_root()
    {
        RootlessMode.Resolve("true").Should().BeTrue();
        RootlessMode.Resolve("false").Should().BeFalse();
        RootlessMode.Resolve("auto").Should().Be(Libc.geteuid() != 0 || RootlessMode.InPartialUserNamespace());
        var bad = () => RootlessMode.Resolve("maybe");
        bad.Should().Throw<ArgumentException>();
        RootlessMode.DefaultRoot(true, "/run/user/1001").Should().Be("/run/user/1001/ocirun");
        RootlessMode.DefaultRoot(true, null).Should().Be("/run/ocirun");
        RootlessMode.DefaultRoot(false, "/run/user/1001").Should().Be("/run/ocirun");

        // An explicit --root wins over $XDG_RUNTIME_DIR; --rootless goes before the command, as in runc.
        var explicitRoot = Path.Combine(_xdg, "explicit");
        var list = OcirunAsUser("--rootless", "true", "--root", explicitRoot, "list", "--quiet");
        list.ExitCode.Should().Be(0, list.ToString());
        var refused = OcirunAsUser("--rootless", "maybe", "list");
        refused.ExitCode.Should().NotBe(0);
    }
}
