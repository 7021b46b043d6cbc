using System.Globalization;
using OciRuntime.Interop;
using OciRuntime.Runtime.Tests.Harness;
using OciRuntime.Spec;

namespace OciRuntime.Runtime.Tests;

/// <summary>
/// User namespaces as root (issue 7): id maps seen from both sides, files created inside, exec into a user-namespaced
/// container, idmapped mounts, the time namespace, and the fix-ups of the init (devices, console, stdio, mqueue).
/// Runs the real ocirun binary (`make` first).
/// </summary>
public sealed class UserNamespaceTests : IDisposable
{
    private const uint HostBase = 100000;
    private readonly string _stateRoot;
    private readonly Ocirun _ocirun;
    private readonly UsernsBundle _bundle;

    public UserNamespaceTests()
    {
        if (Libc.geteuid() != 0) throw new InvalidOperationException("UserNamespaceTests run as root (see RootlessTests for the unprivileged side)");
        _bundle = UsernsBundle.Create("ocirun-userns-");
        _stateRoot = Path.Combine(_bundle.Dir, "state");
        _ocirun = new Ocirun(Ocirun.DefaultBinary, _stateRoot);
    }

    public void Dispose()
    {
        foreach (var id in Directory.Exists(_stateRoot) ? Directory.GetDirectories(_stateRoot).Select(Path.GetFileName) : [])
            _ocirun.Run("delete", "--force", id!);
        _bundle.Dispose();
    }

    private static string NewId() => "userns-" + Guid.NewGuid().ToString("N")[..8];

    private CommandResult RunForeground(params string[] args)
    {
        _bundle.SetArgs(args);
        return _ocirun.Run("run", "--bundle", _bundle.Path, NewId());
    }

    /// <summary>Starts <paramref name="args"/> detached; the process must not keep the test's pipes (see Detached).</summary>
    private (string Id, int Pid) RunDetached(params string[] args)
    {
        var id = NewId();
        _bundle.SetArgs(args);
        var result = _ocirun.Run("run", "--detach", "--bundle", _bundle.Path, id);
        result.ExitCode.Should().Be(0, result.ToString());
        return (id, InitPid(id));
    }

    private int InitPid(string id)
    {
        var state = _ocirun.Run("state", id);
        state.ExitCode.Should().Be(0, state.ToString());
        var doc = System.Text.Json.JsonDocument.Parse(state.Stdout);
        return doc.RootElement.GetProperty("pid").GetInt32();
    }

    // A detached container's process must drop the test's stdout/stderr pipes, or reading them would wait for it.
    private static string[] Detached(string command) => ["sh", "-c", $"exec {command} >/dev/null 2>&1 </dev/null"];

    [Fact]
    public void A_mapped_container_sees_uid_0_while_the_host_sees_100000()
    {
        _bundle.AddUserNamespace(HostBase, 65536);
        var (id, pid) = RunDetached(Detached("sleep 60"));

        var ps = Ocirun.Exec("ps", ["-o", "uid=,gid=", "-p", pid.ToString(CultureInfo.InvariantCulture)]);
        ps.Stdout.Split((char[])[' ', '\n'], StringSplitOptions.RemoveEmptyEntries).Should().Equal("100000", "100000");
        UsernsBundle.OwnerOf($"/proc/{pid}").Should().Be("100000:100000");
        File.ReadAllText($"/proc/{pid}/uid_map").Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Should().Equal("0", "100000", "65536");

        var inside = _ocirun.Run("exec", id, "sh", "-c", "id -u; id -g; stat -c %u:%g /proc/1");
        inside.ExitCode.Should().Be(0, inside.ToString());
        inside.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Should().Equal("0", "0", "0:0");
    }

    [Fact]
    public void Files_created_inside_are_owned_by_the_mapped_ids_on_the_host()
    {
        _bundle.AddUserNamespace(HostBase, 65536);
        var caps = _bundle.Spec.Process!.Capabilities!;
        foreach (var set in new[] { caps.Bounding!, caps.Effective!, caps.Permitted! }) set.Add("CAP_CHOWN");
        var result = RunForeground("sh", "-c", "touch /tmp/by-root && mkdir /tmp/dir && touch /tmp/by-1000 && chown 1000:1001 /tmp/by-1000 && ls -ln /tmp");
        result.ExitCode.Should().Be(0, result.ToString());

        UsernsBundle.OwnerOf(Path.Combine(_bundle.Rootfs, "tmp/by-root")).Should().Be("100000:100000");
        UsernsBundle.OwnerOf(Path.Combine(_bundle.Rootfs, "tmp/dir")).Should().Be("100000:100000");
        UsernsBundle.OwnerOf(Path.Combine(_bundle.Rootfs, "tmp/by-1000")).Should().Be("101000:101001");
    }

    [Fact]
    public void Exec_into_a_user_namespaced_container_joins_its_user_pid_and_mount_namespaces()
    {
        _bundle.AddUserNamespace(HostBase, 65536);
        var (id, pid) = RunDetached(Detached("sleep 60"));
        string Ns(string kind) => SecureReadLink($"/proc/{pid}/ns/{kind}");

        var inside = _ocirun.Run("exec", id, "sh", "-c", "for n in user pid mnt; do readlink /proc/self/ns/$n; done; id -u; cat /proc/self/uid_map; ps -o pid,args");
        inside.ExitCode.Should().Be(0, inside.ToString());
        var lines = inside.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines[..3].Should().Equal(Ns("user"), Ns("pid"), Ns("mnt"));
        lines[3].Should().Be("0");
        lines[4].Split(' ', StringSplitOptions.RemoveEmptyEntries).Should().Equal("0", "100000", "65536");
        inside.Stdout.Should().MatchRegex(@"\n\s+1 sleep 60\n", "the exec'd process sees the container's init as pid 1");

        // The exec'd process, seen from the host: the mapped ids.
        var pidFile = Path.Combine(_bundle.Dir, "exec.pid");
        var detached = _ocirun.Run(["exec", "--detach", "--pid-file", pidFile, id, .. Detached("sleep 30")]);
        detached.ExitCode.Should().Be(0, detached.ToString());
        var execPid = File.ReadAllText(pidFile).Trim();
        UsernsBundle.OwnerOf($"/proc/{execPid}").Should().Be("100000:100000");
        SecureReadLink($"/proc/{execPid}/ns/user").Should().Be(Ns("user"));
    }

    [Fact]
    public void An_idmapped_bind_mount_shows_host_files_owned_by_the_container_ids()
    {
        var source = MakeSource();
        _bundle.AddUserNamespace(HostBase, 65536);
        _bundle.Spec.Mounts!.Add(IdmappedMount(source, "/tmp/mapped", 0, HostBase, 65536));
        _bundle.Spec.Mounts.Add(new Mount { Destination = "/tmp/plain", Type = "bind", Source = source, Options = ["bind"] });

        var result = RunForeground("sh", "-c", "stat -c %n=%u:%g /tmp/mapped/foo /tmp/mapped/bar /tmp/plain/foo && touch /tmp/mapped/new && stat -c %n=%u:%g /tmp/mapped/new");

        result.ExitCode.Should().Be(0, result.ToString());
        result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Should().Equal(
            "/tmp/mapped/foo=0:0",        // host root's file is the container root's
            "/tmp/mapped/bar=1:2",
            "/tmp/plain/foo=65534:65534", // without the idmapping host root is unmapped: nobody
            "/tmp/mapped/new=0:0");
        UsernsBundle.OwnerOf(Path.Combine(source, "new")).Should().Be("0:0", "a file the container root creates through the idmapped mount is host root's on disk");
    }

    [Fact]
    public void An_idmapped_mount_without_a_user_namespace_shows_the_mapped_host_ids()
    {
        var source = MakeSource();
        _bundle.Spec.Mounts!.Add(IdmappedMount(source, "/tmp/mapped", 0, HostBase, 65536));

        var result = RunForeground("stat", "-c", "%n=%u:%g", "/tmp/mapped/foo", "/tmp/mapped/bar");

        result.ExitCode.Should().Be(0, result.ToString());
        result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Should().Equal("/tmp/mapped/foo=100000:100000", "/tmp/mapped/bar=100001:100002");
    }

    [Fact]
    public void The_idmap_option_without_mappings_of_its_own_uses_the_container_mappings()
    {
        var source = MakeSource();
        _bundle.AddUserNamespace(HostBase, 65536);
        _bundle.Spec.Mounts!.Add(new Mount { Destination = "/tmp/mapped", Type = "bind", Source = source, Options = ["rbind", "ridmap"] });

        var result = RunForeground("stat", "-c", "%n=%u:%g", "/tmp/mapped/foo", "/tmp/mapped/bar");

        result.ExitCode.Should().Be(0, result.ToString());
        result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Should().Equal("/tmp/mapped/foo=0:0", "/tmp/mapped/bar=1:2");
    }

    [Fact]
    public void An_idmapped_mount_the_filesystem_refuses_is_a_clear_error_and_leaves_nothing()
    {
        _bundle.AddUserNamespace(HostBase, 65536);
        _bundle.Spec.Mounts!.Add(IdmappedMount("/proc/sys", "/tmp/mapped", 0, HostBase, 65536));
        var index = _bundle.Spec.Mounts.Count - 1;

        var result = RunForeground("true");

        result.ExitCode.Should().Be(1);
        result.Stderr.Trim().Should().Be($"config.json: mounts[{index}]: idmapped mounts are not supported by this kernel or filesystem (mount_setattr /proc/sys: invalid argument)");
        Directory.GetDirectories(_stateRoot).Should().BeEmpty();
    }

    [Fact]
    public void Idmapping_a_mount_that_is_not_a_bind_mount_is_refused()
    {
        _bundle.Spec.Mounts!.Add(new Mount { Destination = "/tmp/t", Type = "tmpfs", Source = "tmpfs", Options = ["idmap"] });
        var index = _bundle.Spec.Mounts.Count - 1;

        var result = RunForeground("true");

        result.ExitCode.Should().Be(1);
        result.Stderr.Should().StartWith($"config.json: mounts[{index}]: idmapped mounts are supported for bind mounts only");
    }

    [Fact]
    public void A_time_namespace_shows_its_offsets_in_proc_uptime()
    {
        _bundle.Spec.Linux!.Namespaces!.Add(new LinuxNamespace { Type = NamespaceType.Time });
        _bundle.Spec.Linux.TimeOffsets = new Dictionary<string, LinuxTimeOffset>
        {
            ["boottime"] = new() { Secs = 1_000_000 },
            ["monotonic"] = new() { Secs = 500_000 },
        };
        var hostUptime = double.Parse(File.ReadAllText("/proc/uptime").Split(' ')[0], CultureInfo.InvariantCulture);

        var result = RunForeground("cat", "/proc/uptime");

        result.ExitCode.Should().Be(0, result.ToString());
        var inside = double.Parse(result.Stdout.Split(' ')[0], CultureInfo.InvariantCulture);
        inside.Should().BeInRange(hostUptime + 1_000_000, hostUptime + 1_000_000 + 120);
    }

    [Fact]
    public void Exec_joins_the_time_namespace_of_a_user_namespaced_container()
    {
        _bundle.AddUserNamespace(HostBase, 65536);
        _bundle.Spec.Linux!.Namespaces!.Add(new LinuxNamespace { Type = NamespaceType.Time });
        _bundle.Spec.Linux.TimeOffsets = new Dictionary<string, LinuxTimeOffset> { ["boottime"] = new() { Secs = 2_000_000 } };
        var (id, pid) = RunDetached(Detached("sleep 60"));

        var result = _ocirun.Run("exec", id, "sh", "-c", "readlink /proc/self/ns/time; cat /proc/uptime");

        result.ExitCode.Should().Be(0, result.ToString());
        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines[0].Should().Be(SecureReadLink($"/proc/{pid}/ns/time"));
        double.Parse(lines[1].Split(' ')[0], CultureInfo.InvariantCulture).Should().BeGreaterThan(2_000_000);
    }

    [Fact]
    public void Devices_are_bind_mounted_from_the_host_in_a_user_namespace()
    {
        _bundle.AddUserNamespace(HostBase, 65536);

        var result = RunForeground("sh", "-c", "grep -c ' /dev/null ' /proc/self/mountinfo; stat -c %t:%T /dev/null /dev/zero; echo x > /dev/null && head -c 4 /dev/zero | wc -c");

        result.ExitCode.Should().Be(0, result.ToString());
        result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Should().Equal("1", "1:3", "1:5", "4");
    }

    [Fact]
    public void The_console_belongs_to_the_container_root_and_then_to_the_container_user()
    {
        _bundle.AddUserNamespace(HostBase, 65536);
        _bundle.Spec.Process!.Terminal = true;
        _bundle.Spec.Process.Args = ["stat", "-L", "-c", "tty=%u:%g", "/proc/self/fd/0"];
        _bundle.Write();
        var asRoot = InPty($"{_ocirun.Binary} --root {_stateRoot} run --bundle {_bundle.Path} {NewId()}");
        asRoot.Should().Contain("tty=0:5", "the pty slave is the container root's (gid 5 from devpts' gid=5)");

        _bundle.Spec.Process.User = new User { Uid = 1000, Gid = 1000 };
        _bundle.Write();
        var asUser = InPty($"{_ocirun.Binary} --root {_stateRoot} run --bundle {_bundle.Path} {NewId()}");
        asUser.Should().Contain("tty=1000:5", "stdio, the console here, is given to the container user");
    }

    [Fact]
    public void Stdio_is_given_to_a_non_root_container_user()
    {
        _bundle.Spec.Process!.User = new User { Uid = 1000, Gid = 1000 };

        var result = RunForeground("sh", "-c", "stat -L -c %u /proc/self/fd/1 /proc/self/fd/2");

        result.ExitCode.Should().Be(0, result.ToString());
        result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Should().Equal("1000", "1000");
    }

    [Fact]
    public void Mqueue_in_a_user_namespace_that_does_not_own_the_ipc_namespace_is_worked_around_with_a_warning()
    {
        _bundle.AddUserNamespace(HostBase, 65536);
        _bundle.Spec.Linux!.Namespaces!.RemoveAll(n => n.Type == NamespaceType.Ipc);

        var result = RunForeground("true");

        result.ExitCode.Should().Be(0, result.ToString());
        result.Stderr.Should().Contain("level=warning").And.Contain("/dev/mqueue: mqueue cannot be mounted in a user namespace that does not own the ipc namespace");
    }

    [Fact]
    public void The_default_mounts_work_in_a_user_namespace()
    {
        _bundle.AddUserNamespace(HostBase, 65536);

        var result = RunForeground("sh", "-c", "grep -E ' /(proc|dev|dev/pts|dev/shm|dev/mqueue|sys|sys/fs/cgroup) ' /proc/self/mountinfo | wc -l; ls /sys/fs/cgroup | grep -c .");

        result.ExitCode.Should().Be(0, result.ToString());
        result.Stderr.Should().BeEmpty();
        var counts = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToList();
        counts[0].Should().BeGreaterThanOrEqualTo(7);
        counts[1].Should().BeGreaterThan(0, "the cgroup hierarchies are bound under /sys/fs/cgroup");
    }

    private string MakeSource()
    {
        var source = Path.Combine(_bundle.Dir, "src");
        Directory.CreateDirectory(source);
        File.WriteAllText(Path.Combine(source, "foo"), "foo");
        File.WriteAllText(Path.Combine(source, "bar"), "bar");
        Libc.Check(Libc.fchownat(OpenFlags.AT_FDCWD, Path.Combine(source, "bar"), 1, 2, 0), "chown bar");
        File.SetUnixFileMode(source, (UnixFileMode)0x1ff); // 0777: the container root may create files through it
        return source;
    }

    private static Mount IdmappedMount(string source, string destination, uint containerId, uint hostId, uint size) => new()
    {
        Destination = destination,
        Type = "bind",
        Source = source,
        Options = ["bind"],
        UidMappings = [new LinuxIdMapping { ContainerId = containerId, HostId = hostId, Size = size }],
        GidMappings = [new LinuxIdMapping { ContainerId = containerId, HostId = hostId, Size = size }],
    };

    private static string SecureReadLink(string path) => new FileInfo(path).LinkTarget ?? throw new IOException($"{path} is not a link");

    /// <summary>Runs a shell command line in a new pseudoterminal (util-linux script) and returns what it printed.</summary>
    private static string InPty(string commandLine)
    {
        var result = Ocirun.Exec("script", ["--quiet", "--return", "--command", commandLine, "/dev/null"]);
        result.ExitCode.Should().Be(0, result.ToString());
        return result.Stdout.Replace("\r", "", StringComparison.Ordinal);
    }
}
