using System.Diagnostics;
using Process = System.Diagnostics.Process;
using OciRuntime.Interop;
using OciRuntime.Spec;

namespace OciRuntime.Cgroups.Tests;

/// <summary>
/// A real cgroup2 hierarchy mounted in a temporary directory (as root). On this hybrid VM its controllers are bound to
/// v1, but the core files (cgroup.procs, cgroup.freeze, cgroup.events, cgroup.kill) work, and so does the cgroup-bpf
/// device hook: every task has a cgroup2 cgroup, and BPF_CGROUP_DEVICE programs run before the v1 devices check.
/// </summary>
public sealed class Cgroup2Mount : IDisposable
{
    public Cgroup2Mount()
    {
        Root = Path.Combine(Path.GetTempPath(), "ocirun-cg2-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(Root);
        Libc.Mount("none", Root, "cgroup2", MountFlags.None, null);
        Host = new CgroupHost(CgroupMode.V2, Root, [], Root, new Dictionary<string, string> { [""] = "/" });
    }

    public string Root { get; }

    public CgroupHost Host { get; }

    public void Dispose()
    {
        _ = Libc.umount2(Root, Libc.MNT_DETACH);
        try { Directory.Delete(Root); } catch (IOException) { }
    }
}

public sealed class RealCgroup2Tests : IClassFixture<Cgroup2Mount>, IDisposable
{
    private readonly Cgroup2Mount _mount;
    private readonly string _name = "ocirun-test-" + Guid.NewGuid().ToString("N")[..10];
    private readonly List<Process> _children = [];

    public RealCgroup2Tests(Cgroup2Mount mount) => _mount = mount;

    public void Dispose()
    {
        foreach (var p in _children)
        {
            try { p.Kill(); p.WaitForExit(); } catch (InvalidOperationException) { }
            p.Dispose();
        }
        try
        {
            CgroupManagerFactory.Create(_name, "/" + _name, _mount.Host).Destroy();
        }
        catch (CgroupException)
        {
        }
        if (Directory.Exists(Path.Combine(_mount.Root, _name))) Directory.Delete(Path.Combine(_mount.Root, _name));
    }

    private Process Shell(string script)
    {
        var p = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", script])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        _children.Add(p);
        return p;
    }

    private V2CgroupManager Create()
    {
        var m = (V2CgroupManager)CgroupManagerFactory.Create(_name, "/" + _name, _mount.Host);
        m.Create();
        return m;
    }

    [Fact]
    public void Join_freeze_thaw_kill_and_remove()
    {
        var m = Create();
        var p = Shell("read x; exec sleep 100");
        m.Apply(p.Id);
        m.GetPids().Should().Equal(p.Id);
        File.ReadAllText($"/proc/{p.Id}/cgroup").Should().Contain($"0::/{_name}");

        m.Freeze(FreezerState.Frozen);
        m.GetFreezerState().Should().Be(FreezerState.Frozen);
        File.ReadAllText(Path.Combine(m.Dir, "cgroup.events")).Should().Contain("frozen 1");
        m.Freeze(FreezerState.Thawed);
        File.ReadAllText(Path.Combine(m.Dir, "cgroup.events")).Should().Contain("frozen 0");

        m.SignalAll(Signals.SIGKILL); // cgroup.kill
        p.WaitForExit(10_000).Should().BeTrue();
        m.Destroy();
        Directory.Exists(m.Dir).Should().BeFalse();
    }

    [Fact]
    public void Joining_later_through_an_open_cgroup_procs_fd_moves_the_writer()
    {
        var m = Create();
        var fds = m.OpenJoinFiles(bornInCgroup2: false);
        fds.Should().ContainSingle();
        // The fd was opened here; the write moves a child by pid (the init writes "0", itself).
        var p = Shell("read x; exec sleep 100");
        CgroupFs.WriteOnce(fds[0].Fd, System.Text.Encoding.ASCII.GetBytes(p.Id.ToString()), "cgroup.procs");
        fds[0].Dispose();
        m.GetPids().Should().Equal(p.Id);
    }

    [Fact]
    public void The_device_program_loads_attaches_and_is_enforced()
    {
        var m = Create();
        var node = Path.Combine(Path.GetTempPath(), _name + "-sda");
        Libc.Check(Libc.mknodat(OpenFlags.AT_FDCWD, node, 0x6000 | 0x180 /* S_IFBLK | 0600 */, Libc.MakeDev(8, 0)), "mknod");
        try
        {
            m.ApplyResources(new LinuxResources { Devices = [new LinuxDeviceCgroup { Allow = false, Access = "rwm" }] });
            AttachedPrograms(m.Dir).Should().Be(1);
            // Applying again replaces the program instead of stacking a second one.
            m.ApplyResources(new LinuxResources { Devices = [new LinuxDeviceCgroup { Allow = false, Access = "rwm" }] });
            AttachedPrograms(m.Dir).Should().Be(1);

            var p = Shell($"read x; echo hi > /dev/null && echo null-ok; head -c1 {node} >/dev/null; echo sda=$?");
            m.Apply(p.Id);
            p.StandardInput.WriteLine("go");
            p.StandardInput.Close();
            p.WaitForExit(10_000).Should().BeTrue();
            var output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
            output.Should().Contain("null-ok").And.Contain("sda=1").And.Contain("Operation not permitted");
        }
        finally
        {
            File.Delete(node);
        }
    }

    private static int AttachedPrograms(string dir)
    {
        using var fd = SafeFd.Check(Libc.open(dir, OpenFlags.O_DIRECTORY | OpenFlags.O_RDONLY | OpenFlags.O_CLOEXEC), "open");
        return Bpf.QueryAttached(fd.Fd, Bpf.CGROUP_DEVICE).Length;
    }

    [Fact]
    public void Unified_keys_must_exist_in_the_real_tree()
    {
        var m = Create();
        m.ApplyResources(new LinuxResources { Unified = new Dictionary<string, string> { ["cgroup.max.descendants"] = "5" } });
        File.ReadAllText(Path.Combine(m.Dir, "cgroup.max.descendants")).Trim().Should().Be("5");
        var act = () => m.ApplyResources(new LinuxResources { Unified = new Dictionary<string, string> { ["memory.max"] = "1" } });
        act.Should().Throw<CgroupException>().WithMessage("linux.resources.unified.memory.max: the memory controller is not available*");
    }
}
