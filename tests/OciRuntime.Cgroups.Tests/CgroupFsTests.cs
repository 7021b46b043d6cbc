using System.Diagnostics;
using OciRuntime.Interop;
using Process = System.Diagnostics.Process;

namespace OciRuntime.Cgroups.Tests;

/// <summary>
/// CgroupFs's own behaviour: MkdirAll (mkdir first, parents only on ENOENT), WriteAll (several values through one fd),
/// ReadPidsRecursive (child cgroups found through the link count), on plain directories and on real cgroupfs
/// (the cgroup2 mount of <see cref="Cgroup2Mount"/>, this host's v1 devices hierarchy).
/// </summary>
public sealed class CgroupFsTests : IClassFixture<Cgroup2Mount>, IDisposable
{
    private readonly Cgroup2Mount _mount;
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "ocirun-cgfs-" + Guid.NewGuid().ToString("N")[..10]);
    private readonly string _name = "ocirun-cgfs-" + Guid.NewGuid().ToString("N")[..10];
    private readonly List<Process> _children = [];

    public CgroupFsTests(Cgroup2Mount mount)
    {
        _mount = mount;
        Directory.CreateDirectory(_dir);
    }

    public void Dispose()
    {
        foreach (var p in _children)
        {
            try { p.Kill(); p.WaitForExit(); } catch (InvalidOperationException) { }
            p.Dispose();
        }
        foreach (var root in new[] { _mount.Root, "/sys/fs/cgroup/devices" })
        {
            var top = Path.Combine(root, _name);
            if (!Directory.Exists(top)) continue;
            foreach (var d in Directory.EnumerateDirectories(top)) _ = Libc.unlinkat(OpenFlags.AT_FDCWD, d, OpenFlags.AT_REMOVEDIR);
            _ = Libc.unlinkat(OpenFlags.AT_FDCWD, top, OpenFlags.AT_REMOVEDIR);
        }
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void MkdirAll_makes_the_missing_levels_parents_first_and_reports_only_those()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "a"));
        var made = CgroupFs.Real.MkdirAll(Path.Combine(_dir, "a/b/c/d"));
        made.Should().Equal(Path.Combine(_dir, "a/b"), Path.Combine(_dir, "a/b/c"), Path.Combine(_dir, "a/b/c/d"));
        Directory.Exists(Path.Combine(_dir, "a/b/c/d")).Should().BeTrue();
        CgroupFs.Real.MkdirAll(Path.Combine(_dir, "a/b/c/d")).Should().BeEmpty("an existing directory is success, made by nobody");
        CgroupFs.Real.MkdirAll(Path.Combine(_dir, "a/b/c/e")).Should().Equal(Path.Combine(_dir, "a/b/c/e"));
    }

    [Fact]
    public void MkdirAll_under_a_file_names_the_level_that_failed()
    {
        File.WriteAllText(Path.Combine(_dir, "file"), "");
        var act = () => CgroupFs.Real.MkdirAll(Path.Combine(_dir, "file/x/y"));
        act.Should().Throw<SyscallException>().WithMessage($"mkdir {_dir}/file/x*");
    }

    [Fact]
    public void MkdirAll_on_cgroupfs_makes_a_cgroup_and_its_missing_parent()
    {
        var made = CgroupFs.Real.MkdirAll(Path.Combine(_mount.Root, _name, "c1"));
        made.Should().Equal(Path.Combine(_mount.Root, _name), Path.Combine(_mount.Root, _name, "c1"));
        File.Exists(Path.Combine(_mount.Root, _name, "c1", "cgroup.procs")).Should().BeTrue("the kernel made a cgroup");
    }

    [Fact]
    public void WriteAll_gives_a_v1_devices_cgroup_every_rule_through_one_open()
    {
        const string devices = "/sys/fs/cgroup/devices";
        Directory.Exists(devices).Should().BeTrue("this host has the v1 devices hierarchy (cgroup v1 hybrid)");
        var dir = Path.Combine(devices, _name);
        CgroupFs.Real.MkdirAll(dir);
        var fs = new CgroupFs { Journal = [] };
        fs.WriteAll(dir, [("devices.deny", "a"), ("devices.allow", "c 1:3 rwm"), ("devices.allow", "c 1:5 rw"), ("devices.allow", "c 136:* rwm")]);

        File.ReadAllText(Path.Combine(dir, "devices.list")).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Should().BeEquivalentTo("c 1:3 rwm", "c 1:5 rw", "c 136:* rwm");
        fs.Journal.Select(j => j.Value).Should().Equal("a", "c 1:3 rwm", "c 1:5 rw", "c 136:* rwm");
    }

    [Fact]
    public void WriteAll_names_the_file_and_value_the_kernel_refused()
    {
        var dir = Path.Combine("/sys/fs/cgroup/devices", _name);
        CgroupFs.Real.MkdirAll(dir);
        var act = () => CgroupFs.Real.WriteAll(dir, [("devices.deny", "a"), ("devices.allow", "c 1:3 rwm"), ("devices.allow", "x nonsense")]);
        act.Should().Throw<SyscallException>().WithMessage($"write {dir}/devices.allow = x nonsense:*");
    }

    [Fact]
    public void WriteAll_in_a_fake_tree_keeps_the_last_value_of_each_file_as_Write_does()
    {
        var fs = new CgroupFs { Fake = true, Journal = [] };
        fs.WriteAll(_dir, [("devices.deny", "a"), ("devices.allow", "c 1:3 rwm"), ("devices.allow", "c 1:5 rwm")]);
        File.ReadAllText(Path.Combine(_dir, "devices.allow")).Should().Be("c 1:5 rwm");
        fs.Journal.Should().HaveCount(3);
    }

    [Fact]
    public void ReadPidsRecursive_finds_a_process_in_a_child_cgroup_on_cgroupfs()
    {
        var parent = Path.Combine(_mount.Root, _name);
        var child = Path.Combine(parent, "sub");
        CgroupFs.Real.MkdirAll(child);
        CgroupFs.Real.ReadPidsRecursive(parent).Should().BeEmpty();
        Libc.LinkCount(parent).Should().Be(3, "kernfs counts a directory's subdirectories in its links");

        var p = Process.Start(new ProcessStartInfo("/bin/sleep", ["100"]))!;
        _children.Add(p);
        CgroupFs.Real.WriteProcs(child, p.Id);
        CgroupFs.Real.ReadPidsRecursive(parent).Should().Equal(p.Id);
        CgroupFs.Real.ReadPidsRecursive(Path.Combine(parent, "gone")).Should().BeEmpty();
    }

    [Fact]
    public void Paths_below_a_registered_root_are_reached_through_its_fd_not_walked_from_slash()
    {
        // Renaming the root after registering it proves the fd is used: the old absolute paths still reach the
        // directory, now under its new name, and paths outside the root are used as given.
        var root = Path.Combine(_dir, "root");
        Directory.CreateDirectory(Path.Combine(root, "cpu"));
        File.WriteAllText(Path.Combine(root, "cpu", "cpu.shares"), "");
        var fd = CgroupFs.UseRootFd(root);
        fd.Should().BeGreaterThan(2);
        CgroupFs.UseRootFd(root + "/").Should().Be(fd, "one fd per root");
        CgroupFs.At(root + "/cpu/c1/tasks", out var relative).Should().Be(fd);
        relative.Should().Be("cpu/c1/tasks");
        CgroupFs.At(root + "x/cpu", out relative).Should().Be(OpenFlags.AT_FDCWD);
        relative.Should().Be(root + "x/cpu");

        var moved = Path.Combine(_dir, "moved");
        Directory.Move(root, moved);
        CgroupFs.Real.MkdirAll(root + "/cpu/c1").Should().Equal(root + "/cpu/c1");
        Directory.Exists(Path.Combine(moved, "cpu/c1")).Should().BeTrue();
        CgroupFs.Real.Write(root + "/cpu", "cpu.shares", "512");
        File.ReadAllText(Path.Combine(moved, "cpu", "cpu.shares")).Should().Be("512");
        CgroupFs.Real.ReadOrNull(root + "/cpu", "cpu.shares").Should().Be("512");
        CgroupFs.Real.ReadOrNull(root + "/cpu", "missing").Should().BeNull();
        CgroupFs.Real.RemoveTree(root + "/cpu/c1");
        Directory.Exists(Path.Combine(moved, "cpu/c1")).Should().BeFalse();
    }

    [Fact]
    public void ReadPidsRecursive_descends_into_child_directories_of_a_plain_tree()
    {
        File.WriteAllText(Path.Combine(_dir, "cgroup.procs"), "10\n");
        Directory.CreateDirectory(Path.Combine(_dir, "a/b"));
        File.WriteAllText(Path.Combine(_dir, "a/b/cgroup.procs"), "11\n12\n");
        new CgroupFs { Fake = true }.ReadPidsRecursive(_dir).Should().Equal(10, 11, 12);
    }
}
