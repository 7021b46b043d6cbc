using OciRuntime.Runtime.Tests.Harness;
using OciRuntime.Spec;

namespace OciRuntime.Runtime.Tests.Integration;

/// <summary>/dev inside the container: default devices, symlinks, linux.devices.</summary>
public sealed class DeviceTests : IDisposable
{
    private readonly TestContainer _c = new("dev");

    public void Dispose() => _c.Dispose();

    private string RunOk()
    {
        var r = _c.Run();
        r.ExitCode.Should().Be(0, r.ToString());
        r.Stderr.Should().BeEmpty();
        return r.Stdout;
    }

    [Fact]
    public void Default_devices_have_the_right_type_numbers_and_mode()
    {
        _c.Bundle.Sh("for d in null zero full random urandom tty; do stat -c '%n %F %t:%T %a %u:%g' /dev/$d; done");

        RunOk().Should().Be(
            "/dev/null character special file 1:3 666 0:0\n" +
            "/dev/zero character special file 1:5 666 0:0\n" +
            "/dev/full character special file 1:7 666 0:0\n" +
            "/dev/random character special file 1:8 666 0:0\n" +
            "/dev/urandom character special file 1:9 666 0:0\n" +
            "/dev/tty character special file 5:0 666 0:0\n");
    }

    [Fact]
    public void Default_devices_work()
    {
        _c.Bundle.Sh("echo x > /dev/null && head -c 4 /dev/zero | wc -c; head -c 8 /dev/urandom | wc -c; echo y > /dev/full 2>/dev/null || echo full-refuses");

        RunOk().Should().Be("4\n8\nfull-refuses\n");
    }

    [Fact]
    public void Dev_symlinks_exist()
    {
        _c.Bundle.Sh("for l in fd stdin stdout stderr ptmx; do echo $l $(readlink /dev/$l); done");

        RunOk().Should().Be("fd /proc/self/fd\nstdin /proc/self/fd/0\nstdout /proc/self/fd/1\nstderr /proc/self/fd/2\nptmx pts/ptmx\n");
    }

    [Fact]
    public void Linux_devices_adds_nodes_with_mode_and_owner()
    {
        _c.Bundle.Spec.Linux!.Devices =
        [
            new LinuxDevice { Path = "/dev/fuse", Type = "c", Major = 10, Minor = 229, FileMode = 0x1a0 /* 0640 */, Uid = 1000, Gid = 1001 },
            new LinuxDevice { Path = "/dev/made/up", Type = "c", Major = 240, Minor = 7, FileMode = 0x180 /* 0600 */, Uid = 0, Gid = 0 },
            new LinuxDevice { Path = "/dev/blocky", Type = "b", Major = 7, Minor = 200, FileMode = 0x1b0 /* 0660 */ },
            new LinuxDevice { Path = "/dev/pipe0", Type = "p", FileMode = 0x1b6 },
        ];
        _c.Bundle.Sh("for d in fuse made/up blocky; do stat -c '%n %F %t:%T %a %u:%g' /dev/$d; done; stat -c '%n %F %a' /dev/pipe0");

        RunOk().Should().Be(
            "/dev/fuse character special file a:e5 640 1000:1001\n" +
            "/dev/made/up character special file f0:7 600 0:0\n" +
            "/dev/blocky block special file 7:c8 660 0:0\n" +
            "/dev/pipe0 fifo 666\n");
    }

    /// <summary>
    /// A linux.devices entry for /dev/null replaces the default node. Its access comes from linux.resources.devices
    /// alone: the init reopens /dev/null after pivot_root (runc's reOpenDevNull), so without an allow rule the create
    /// fails as runc 1.1.5's does ("open /dev/null: operation not permitted").
    /// </summary>
    [Fact]
    public void Linux_devices_entry_replaces_a_default_device()
    {
        _c.Bundle.Spec.Linux!.Devices = [new LinuxDevice { Path = "/dev/null", Type = "c", Major = 1, Minor = 3, FileMode = 0x180, Uid = 0, Gid = 0 }];
        _c.Bundle.Spec.Linux.Resources!.Devices!.Add(new LinuxDeviceCgroup { Allow = true, Type = "c", Major = 1, Minor = 3, Access = "rwm" });
        _c.Bundle.Sh("stat -c '%n %t:%T %a' /dev/null");

        RunOk().Should().Be("/dev/null 1:3 600\n");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_file_at_a_device_path_that_is_not_that_device_is_an_error_and_the_same_device_is_kept(bool init)
    {
        // config-linux.md#devices: "If a file already exists at path that does not match the requested device, the
        // runtime MUST generate an error." (runc 1.1 keeps whatever is there.) The same device already there is fine.
        File.WriteAllText(Path.Combine(_c.Bundle.Rootfs, "etc", "conf-dev"), "a regular file\n");
        _c.Bundle.Args("true");
        _c.Bundle.Spec.Linux!.Devices = [new LinuxDevice { Path = "/etc/conf-dev", Type = "c", Major = 1, Minor = 3 }];
        _c.Bundle.Write();
        var env = init ? "OCIRUN_INIT=1" : "OCIRUN_DIRECT=1";

        var r = Harness.Ocirun.Exec("/usr/bin/env", ["-u", "OCIRUN_INIT", "-u", "OCIRUN_DIRECT", env, _c.Runtime.Binary, "--root", _c.Runtime.StateRoot, "run", "-b", _c.Bundle.Dir, _c.Id]);

        r.ExitCode.Should().NotBe(0, r.ToString());
        r.StderrLines.Should().Equal($"config.json: linux.devices[0] (/etc/conf-dev): {_c.Bundle.Rootfs}/etc/conf-dev exists and is not that device");
        Directory.Exists(_c.StateDir).Should().BeFalse("a failed run leaves no state");
        File.ReadAllText(Path.Combine(_c.Bundle.Rootfs, "etc", "conf-dev")).Should().Be("a regular file\n", "the file is not replaced");

        File.Delete(Path.Combine(_c.Bundle.Rootfs, "etc", "conf-dev"));
        var first = Harness.Ocirun.Exec("/usr/bin/env", ["-u", "OCIRUN_INIT", "-u", "OCIRUN_DIRECT", env, _c.Runtime.Binary, "--root", _c.Runtime.StateRoot, "run", "-b", _c.Bundle.Dir, _c.Id]);
        first.ExitCode.Should().Be(0, first.ToString());
        var again = Harness.Ocirun.Exec("/usr/bin/env", ["-u", "OCIRUN_INIT", "-u", "OCIRUN_DIRECT", env, _c.Runtime.Binary, "--root", _c.Runtime.StateRoot, "run", "-b", _c.Bundle.Dir, _c.Id]);
        again.ExitCode.Should().Be(0, "the node the first run made is that device: " + again);
    }

    [Fact]
    public void Dev_pts_is_a_new_devpts_instance()
    {
        _c.Bundle.Sh("ls -A /dev/pts");

        RunOk().Should().Be("ptmx\n", "a new devpts instance holds only its ptmx");
    }
}
