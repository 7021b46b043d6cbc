using OciRuntime.Runtime.Tests.Harness;
using OciRuntime.Spec;

namespace OciRuntime.Runtime.Tests.Integration;

/// <summary>config.json mounts, root.readonly, maskedPaths, readonlyPaths, rootfsPropagation and --no-pivot, seen from inside.</summary>
public sealed class MountTests : IDisposable
{
    private readonly TestContainer _c = new("mnt");
    private readonly List<string> _hostDirs = [];

    public void Dispose()
    {
        try
        {
            _c.Dispose();
        }
        finally
        {
            foreach (var d in _hostDirs) TestEnv.RemoveTree(d);
        }
    }

    private string HostDir(string prefix = "host")
    {
        var d = TestEnv.NewDir(prefix);
        _hostDirs.Add(d);
        return d;
    }

    private void AddMount(string destination, string type, string source, params string[] options) =>
        _c.Bundle.Spec.Mounts!.Add(new Mount { Destination = destination, Type = type, Source = source, Options = options.Length > 0 ? [.. options] : null });

    private string RunOk(params string[] options)
    {
        var r = _c.Run(options);
        r.ExitCode.Should().Be(0, r.ToString());
        r.Stderr.Should().BeEmpty();
        return r.Stdout;
    }

    /// <summary>The /proc/self/mounts line of <paramref name="mountPoint"/> in <paramref name="mounts"/>: fields fs, type, options.</summary>
    private static (string Source, string Type, string[] Options) MountLine(string mounts, string mountPoint)
    {
        var lines = mounts.Split('\n').Select(l => l.Split(' ')).Where(f => f.Length >= 4 && f[1] == mountPoint).ToList();
        lines.Should().NotBeEmpty($"{mountPoint} should be mounted; mounts:\n{mounts}");
        var f = lines[^1];
        return (f[0], f[2], f[3].Split(','));
    }

    [Fact]
    public void Tmpfs_mount_gets_its_options_size_and_mode()
    {
        AddMount("/mnt/scratch", "tmpfs", "tmpfs", "nosuid", "nodev", "noexec", "size=1m", "mode=750");
        _c.Bundle.Sh("cat /proc/self/mounts; echo; stat -c '%a' /mnt/scratch");

        var output = RunOk().Split("\n\n");

        var (_, type, options) = MountLine(output[0], "/mnt/scratch");
        type.Should().Be("tmpfs");
        options.Should().Contain(["rw", "nosuid", "nodev", "noexec", "size=1024k", "mode=750"]);
        output[1].Should().Be("750\n");
    }

    [Fact]
    public void Bind_mount_of_a_host_directory_shows_and_shares_its_content()
    {
        var host = HostDir();
        File.WriteAllText(Path.Combine(host, "hello.txt"), "from the host\n");
        AddMount("/data", "bind", host, "bind");
        _c.Bundle.Sh("cat /data/hello.txt; echo from-container > /data/back.txt");

        RunOk().Should().Be("from the host\n");
        File.ReadAllText(Path.Combine(host, "back.txt")).Should().Be("from-container\n");
    }

    [Theory]
    [InlineData("bind")]
    [InlineData("rbind")]
    public void Bind_mount_with_ro_nosuid_nodev_noexec(string bind)
    {
        var host = HostDir();
        File.WriteAllText(Path.Combine(host, "run.sh"), "#!/bin/sh\necho ran\n");
        File.SetUnixFileMode(Path.Combine(host, "run.sh"), (UnixFileMode)0x1ed);
        AddMount("/data", "bind", host, bind, "ro", "nosuid", "nodev", "noexec");
        _c.Bundle.Sh("cat /proc/self/mounts; echo; touch /data/x 2>&1; /data/run.sh 2>&1; true");

        var output = RunOk().Split("\n\n");

        MountLine(output[0], "/data").Options.Should().Contain(["ro", "nosuid", "nodev", "noexec"]);
        output[1].Should().Contain("Read-only file system").And.Contain("Permission denied").And.NotContain("ran");
        File.Exists(Path.Combine(host, "x")).Should().BeFalse();
    }

    [Fact]
    public void Type_bind_without_bind_option_is_a_bind_mount()
    {
        var host = HostDir();
        File.WriteAllText(Path.Combine(host, "f"), "typed\n");
        AddMount("/data", "bind", host);
        _c.Bundle.Sh("cat /data/f");

        RunOk().Should().Be("typed\n");
    }

    [Fact]
    public void Rbind_carries_submounts_and_bind_does_not()
    {
        var host = HostDir();
        var sub = Path.Combine(host, "sub");
        Directory.CreateDirectory(sub);
        var mount = Ocirun.Exec("/bin/mount", ["-t", "tmpfs", "-o", "size=1m", "submount", sub]);
        mount.ExitCode.Should().Be(0, mount.ToString());
        try
        {
            File.WriteAllText(Path.Combine(sub, "inner.txt"), "inner\n");
            AddMount("/r", "bind", host, "rbind");
            AddMount("/b", "bind", host, "bind");
            _c.Bundle.Sh("cat /r/sub/inner.txt; ls -A /b/sub; echo end");

            RunOk().Should().Be("inner\nend\n");
        }
        finally
        {
            Ocirun.Exec("/bin/umount", [sub]).ExitCode.Should().Be(0);
        }
    }

    [Fact]
    public void File_bind_mount_shows_the_host_file()
    {
        var host = HostDir();
        var file = Path.Combine(host, "app.conf");
        File.WriteAllText(file, "key=value\n");
        AddMount("/etc/app/app.conf", "bind", file, "bind", "ro");
        _c.Bundle.Sh("cat /etc/app/app.conf; stat -c '%F' /etc/app/app.conf");

        RunOk().Should().Be("key=value\nregular file\n");
        var placeholder = Path.Combine(_c.Bundle.Rootfs, "etc", "app", "app.conf");
        File.Exists(placeholder).Should().BeTrue("the mount target is created in the rootfs");
        new FileInfo(placeholder).Length.Should().Be(0);
    }

    [Theory]
    [InlineData("shared", "shared:")]
    [InlineData("rshared", "shared:")]
    [InlineData("unbindable", "unbindable")]
    [InlineData("private", null)]
    [InlineData("rprivate", null)]
    [InlineData("slave", null)]
    [InlineData("rslave", null)]
    public void Mount_propagation_option_is_applied(string propagation, string? expectedTag)
    {
        var host = HostDir();
        AddMount("/p", "bind", host, "rbind", propagation);
        _c.Bundle.Sh("cat /proc/self/mountinfo");

        var line = RunOk().Split('\n').Select(l => l.Split(' ')).Single(f => f.Length > 4 && f[4] == "/p");
        var optional = line.Skip(6).TakeWhile(f => f != "-").ToList();
        if (expectedTag is null) optional.Should().BeEmpty("the host's mounts are private, so is the bind");
        else optional.Should().Contain(t => t.StartsWith(expectedTag, StringComparison.Ordinal));
    }

    [Fact]
    public void Missing_destinations_are_created_inside_the_rootfs_0755()
    {
        AddMount("/a/b/c", "tmpfs", "tmpfs");
        _c.Bundle.Sh("grep -c ' /a/b/c tmpfs ' /proc/self/mounts");

        RunOk().Should().Be("1\n");
        foreach (var d in new[] { "a", "a/b", "a/b/c" })
        {
            var path = Path.Combine(_c.Bundle.Rootfs, d);
            Directory.Exists(path).Should().BeTrue();
            ((int)File.GetUnixFileMode(path)).Should().Be(0x1ed, $"{d} is created 0755 as runc does, not world-writable");
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Destination_through_a_rootfs_symlink_stays_inside_the_rootfs(bool absolute)
    {
        var host = HostDir("escape");
        File.WriteAllText(Path.Combine(host, "canary"), "host file\n");
        var target = absolute ? host : "../../../../../../../../.." + host;
        File.CreateSymbolicLink(Path.Combine(_c.Bundle.Rootfs, "evil"), target);
        AddMount("/evil/x", "tmpfs", "tmpfs");
        _c.Bundle.Sh($"grep -c ' {host}/x tmpfs ' /proc/self/mounts; ls -A {host}");
        var output = RunOk();

        // On the host: nothing created, nothing mounted.
        Directory.EnumerateFileSystemEntries(host).Select(Path.GetFileName).Should().Equal("canary");
        TestEnv.MountsUnder(host).Should().BeEmpty();
        TestEnv.OurMounts().Should().BeEmpty();
        // In the container the symlink resolves inside the rootfs, where the mount went.
        output.Should().Be("1\nx\n");
        Directory.Exists(Path.Combine(_c.Bundle.Rootfs + host, "x")).Should().BeTrue();
    }

    [Fact]
    public void Bind_destination_through_a_rootfs_symlink_stays_inside_the_rootfs()
    {
        var host = HostDir("escape");
        var source = HostDir("source");
        File.WriteAllText(Path.Combine(source, "payload"), "payload\n");
        File.CreateSymbolicLink(Path.Combine(_c.Bundle.Rootfs, "etc", "evil"), host);
        AddMount("/etc/evil/bound", "bind", source, "bind");
        _c.Bundle.Sh($"cat {host}/bound/payload");

        RunOk().Should().Be("payload\n");
        Directory.EnumerateFileSystemEntries(host).Should().BeEmpty();
        TestEnv.MountsUnder(host).Should().BeEmpty();
    }

    [Fact]
    public void Default_mounts_of_the_runc_spec_are_there()
    {
        _c.Bundle.Args("cat", "/proc/self/mounts");

        var mounts = RunOk();

        MountLine(mounts, "/proc").Type.Should().Be("proc");
        var dev = MountLine(mounts, "/dev");
        dev.Type.Should().Be("tmpfs");
        dev.Options.Should().Contain(["nosuid", "mode=755", "size=65536k"]);
        MountLine(mounts, "/dev/pts").Type.Should().Be("devpts");
        MountLine(mounts, "/dev/pts").Options.Should().Contain(["nosuid", "noexec", "mode=620", "ptmxmode=666", "gid=5"]);
        MountLine(mounts, "/dev/shm").Options.Should().Contain(["nosuid", "nodev", "noexec", "size=65536k"]);
        MountLine(mounts, "/dev/mqueue").Type.Should().Be("mqueue");
        MountLine(mounts, "/sys").Type.Should().Be("sysfs");
        MountLine(mounts, "/sys").Options.Should().Contain(["ro", "nosuid", "nodev", "noexec"]);
        MountLine(mounts, "/sys/fs/cgroup").Should().NotBeNull();
        MountLine(mounts, "/").Options.Should().Contain("ro", "root.readonly is true in the default spec");
    }

    [Fact]
    public void Masked_file_reads_empty_and_masked_directory_is_an_empty_read_only_tmpfs()
    {
        File.WriteAllText(Path.Combine(_c.Bundle.Rootfs, "etc", "secret"), "s3cret\n");
        Directory.CreateDirectory(Path.Combine(_c.Bundle.Rootfs, "opt", "private"));
        File.WriteAllText(Path.Combine(_c.Bundle.Rootfs, "opt", "private", "key"), "k\n");
        _c.Bundle.Spec.Linux!.MaskedPaths = ["/etc/secret", "/opt/private", "/does/not/exist"];
        _c.Bundle.Sh("wc -c < /etc/secret; ls -A /opt/private; echo --; cat /proc/self/mounts");

        var output = RunOk().Split("--\n");

        output[0].Should().Be("0\n", "the masked file reads empty and the masked directory lists nothing");
        var (_, type, options) = MountLine(output[1], "/opt/private");
        type.Should().Be("tmpfs");
        options.Should().Contain("ro");
        MountLine(output[1], "/etc/secret").Should().NotBeNull();
        Directory.Exists("/does/not/exist").Should().BeFalse();
        File.Exists(Path.Combine(_c.Bundle.Rootfs, "does", "not", "exist")).Should().BeFalse("a missing masked path is skipped, not created");
    }

    [Fact]
    public void Default_masked_paths_hide_proc_files_and_sys_firmware()
    {
        // /proc/kcore and others do not exist on every kernel: the ones that do are masked, the others skipped.
        _c.Bundle.Sh("wc -c < /proc/keys; wc -c < /proc/timer_list; ls -A /sys/firmware | wc -l; ls -A /proc/acpi | wc -l");

        RunOk().Should().Be("0\n0\n0\n0\n");
    }

    [Fact]
    public void Readonly_path_refuses_writes_while_the_rest_stays_writable()
    {
        _c.Bundle.Spec.Root!.Readonly = false;
        _c.Bundle.Spec.Linux!.ReadonlyPaths = ["/var", "/does/not/exist"];
        _c.Bundle.Sh("touch /var/x 2>&1; touch /tmp/ok && echo tmp-writable");

        var output = RunOk();

        output.Should().Contain("Read-only file system").And.EndWith("tmp-writable\n");
        File.Exists(Path.Combine(_c.Bundle.Rootfs, "var", "x")).Should().BeFalse();
        File.Exists(Path.Combine(_c.Bundle.Rootfs, "tmp", "ok")).Should().BeTrue();
    }

    [Fact]
    public void Default_readonly_paths_make_proc_sys_read_only()
    {
        _c.Bundle.Sh("(echo 1 > /proc/sys/kernel/domainname) 2>/dev/null || echo refused; grep ' /proc/sys ' /proc/self/mounts | cut -d' ' -f4 | cut -d, -f1");

        RunOk().Should().EndWith("refused\nro\n");
    }

    [Fact]
    public void Readonly_root_refuses_writes()
    {
        _c.Bundle.Spec.Root!.Readonly = true;
        _c.Bundle.Sh("touch /x 2>&1; echo done");

        RunOk().Should().Contain("Read-only file system").And.EndWith("done\n");
        File.Exists(Path.Combine(_c.Bundle.Rootfs, "x")).Should().BeFalse();
    }

    [Fact]
    public void Writable_root_accepts_writes()
    {
        _c.Bundle.Spec.Root!.Readonly = false;
        _c.Bundle.Sh("touch /x && echo written; grep -E '^[^ ]+ / ' /proc/self/mounts | cut -d' ' -f4 | cut -d, -f1");

        RunOk().Should().Be("written\nrw\n");
        File.Exists(Path.Combine(_c.Bundle.Rootfs, "x")).Should().BeTrue();
    }

    [Theory]
    [InlineData("private")]
    [InlineData("rprivate")]
    [InlineData("slave")]
    [InlineData("rslave")]
    [InlineData("shared")]
    [InlineData("rshared")]
    public void Rootfs_propagation_value_is_accepted(string propagation)
    {
        _c.Bundle.Spec.Linux!.RootfsPropagation = propagation;
        _c.Bundle.Sh("echo ok; ls /");
        RunOk().Should().StartWith("ok\nbin\n");
        TestEnv.OurMounts().Should().BeEmpty("nothing propagates back to the host");
    }

    [Fact]
    public void No_pivot_runs_the_container_in_its_rootfs()
    {
        _c.Bundle.Sh("stat -c %i /; ls /");

        var output = RunOk("--no-pivot").Split('\n');

        long.Parse(output[0]).Should().Be(RootInode(), "/ is the bundle's rootfs");
        output.Should().Contain(["bin", "etc", "proc"]);
        output.Should().NotContain("work");
    }

    [Fact]
    public void Pivot_root_runs_the_container_in_its_rootfs()
    {
        _c.Bundle.Sh("stat -c %i /; ls /");

        var output = RunOk().Split('\n');

        long.Parse(output[0]).Should().Be(RootInode());
        output.Should().Contain(["bin", "etc", "proc"]);
    }

    private long RootInode()
    {
        var r = Ocirun.Exec("/usr/bin/stat", ["-c", "%i", _c.Bundle.Rootfs]);
        return long.Parse(r.Stdout.Trim());
    }

    [Fact]
    public void Tmpfs_over_an_existing_directory_keeps_its_mode_unless_mode_is_given()
    {
        Directory.CreateDirectory(Path.Combine(_c.Bundle.Rootfs, "run"));
        File.SetUnixFileMode(Path.Combine(_c.Bundle.Rootfs, "run"), (UnixFileMode)0x1e8 /* 0750 */);
        Directory.CreateDirectory(Path.Combine(_c.Bundle.Rootfs, "cache"));
        File.SetUnixFileMode(Path.Combine(_c.Bundle.Rootfs, "cache"), (UnixFileMode)0x1ed);
        AddMount("/run", "tmpfs", "tmpfs", "nosuid");
        AddMount("/cache", "tmpfs", "tmpfs", "mode=700");
        AddMount("/fresh", "tmpfs", "tmpfs");
        _c.Bundle.Sh("stat -c '%n %a' /run /cache /fresh");

        RunOk().Should().Be("/run 750\n/cache 700\n/fresh 1777\n");
    }

    [Fact]
    public void Relative_bind_source_is_relative_to_the_bundle()
    {
        Directory.CreateDirectory(Path.Combine(_c.Bundle.Dir, "data"));
        File.WriteAllText(Path.Combine(_c.Bundle.Dir, "data", "f"), "bundle data\n");
        AddMount("/data", "bind", "data", "bind", "ro");
        _c.Bundle.Sh("cat /data/f");

        RunOk().Should().Be("bundle data\n");
    }
}
