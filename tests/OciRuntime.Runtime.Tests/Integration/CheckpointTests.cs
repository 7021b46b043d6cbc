using OciRuntime.Runtime.Tests.Harness;

namespace OciRuntime.Runtime.Tests.Integration;

/// <summary>
/// checkpoint and restore through the ocirun binary where CRIU cannot succeed (an unreachable page server, an image
/// directory without images): a failed dump leaves the container running and unchanged, a failed restore leaves
/// nothing, and each error is one line naming CRIU's log. The successful paths run in the VM stage
/// (conformance/vm/tests/checkpoint.sh), on a kernel where CRIU works.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class CheckpointTests : IDisposable
{
    private readonly TestContainer _c = new("ckpt");
    private readonly string _images = TestEnv.NewDir("ckpt-img");

    public void Dispose()
    {
        _c.Dispose();
        TestEnv.RemoveTree(_images);
    }

    [Fact]
    public void Failed_dump_leaves_the_container_running_and_names_the_log()
    {
        _c.Bundle.Sh("while true; do sleep 1; done");
        _c.RunDetached().ExitCode.Should().Be(0);
        var pid = _c.Pid();
        var img = Path.Combine(_images, "img");

        // Nothing listens on port 1: CRIU cannot send the pages, on any kernel.
        var r = _c.Runtime.Run("checkpoint", "--image-path", img, "--page-server", "127.0.0.1:1", _c.Id);

        r.ExitCode.Should().Be(1, r.ToString());
        r.StderrLines.Should().ContainSingle(r.ToString());
        r.StderrLines[0].Should().StartWith("criu failed: type DUMP").And.EndWith($"log file: {img}/dump.log");
        File.Exists(Path.Combine(img, "dump.log")).Should().BeTrue();
        _c.Status().Should().Be("running");
        _c.Pid().Should().Be(pid);
        File.Exists($"/proc/{pid}/stat").Should().BeTrue();
        File.ReadAllText($"/proc/{pid}/stat").Split(' ')[2].Should().NotBe("T", "CRIU resumed what it stopped");
    }

    [Fact]
    public void A_network_namespace_joined_through_a_bind_mount_reaches_criu()
    {
        // podman (and `ip netns`) give the runtime a network namespace as a bind mount of the nsfs file
        // (/run/netns/NAME): CRIU gets it as external, keyed by its inode. The pre-fix ocirun read the inode from the
        // /proc/self/fd link, which for such a mount is its path, and stopped before CRIU ("namespace …: /run/netns/…
        // is not a namespace file"); runc stats the file.
        var ns = Path.Combine(_images, "netns");
        File.WriteAllText(ns, "");
        Ocirun.Exec("/usr/bin/unshare", [$"--net={ns}", "true"]).ExitCode.Should().Be(0);
        try
        {
            _c.Bundle.WithNamespace("network", ns).Sh("while true; do sleep 1; done");
            _c.RunDetached().ExitCode.Should().Be(0);
            var img = Path.Combine(_images, "img");

            var r = _c.Runtime.Run("checkpoint", "--image-path", img, "--page-server", "127.0.0.1:1", _c.Id);

            r.ExitCode.Should().Be(1, r.ToString());
            r.StderrLines.Should().ContainSingle(r.ToString());
            r.StderrLines[0].Should().StartWith("criu failed: type DUMP", "the namespace was handed to CRIU");
            _c.Status().Should().Be("running");
        }
        finally
        {
            _c.Delete(force: true);
            Ocirun.Exec("/bin/umount", [ns]).ExitCode.Should().Be(0);
        }
    }

    [Fact]
    public void Failed_restore_leaves_nothing_behind()
    {
        var img = Path.Combine(_images, "empty");
        Directory.CreateDirectory(img);
        File.WriteAllText(Path.Combine(img, "descriptors.json"), """["/dev/null","/dev/null","/dev/null"]""");
        _c.Bundle.Write();

        var r = _c.Runtime.Run("restore", "-d", "-b", _c.Bundle.Dir, "--image-path", img, _c.Id);

        r.ExitCode.Should().Be(1, r.ToString());
        r.StderrLines.Should().ContainSingle(r.ToString());
        r.StderrLines[0].Should().StartWith("criu failed: type RESTORE").And.EndWith($"log file: {img}/restore.log");
        Directory.Exists(_c.StateDir).Should().BeFalse("a failed restore leaves no state directory");
        TestEnv.CgroupDirsOf(new HashSet<string> { _c.Id }).Should().BeEmpty("nor cgroups");
        TestEnv.OurMounts().Should().BeEmpty("nor the criu-root mount");
        TestEnv.WaitForNoDescendants().Should().BeEmpty("nor processes");
    }

    [Fact]
    public void The_runc_shims_restore_argv_is_accepted_and_its_failure_reaches_log_json_and_the_work_path()
    {
        // containerd-shim-runc-v2 (go-runc) restores a task created from a checkpoint with exactly these flags, in this
        // order, and with the single-dash -no-subreaper; the error the shim reports is the last line of --log.
        var img = Path.Combine(_images, "img");
        var work = Path.Combine(_images, "work");
        Directory.CreateDirectory(img);
        File.WriteAllText(Path.Combine(img, "descriptors.json"), """["/dev/null","/dev/null","/dev/null"]""");
        _c.Bundle.Write();
        var log = Path.Combine(_images, "log.json");
        var pidFile = Path.Combine(_images, "init.pid");

        var r = _c.Runtime.Run("--log", log, "--log-format", "json", "restore", "--image-path", img, "--work-path", work,
            "--detach", "--pid-file", pidFile, "-no-subreaper", "--bundle", _c.Bundle.Dir, _c.Id);

        r.ExitCode.Should().Be(1, r.ToString());
        r.StderrLines.Should().ContainSingle(r.ToString());
        r.StderrLines[0].Should().StartWith("criu failed: type RESTORE").And.EndWith($"log file: {work}/restore.log");
        File.Exists(Path.Combine(work, "restore.log")).Should().BeTrue("--work-path holds CRIU's log");
        File.Exists(Path.Combine(img, "restore.log")).Should().BeFalse();
        var messages = File.ReadAllLines(log).Where(l => l.Length > 0)
            .Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("msg").GetString()).ToList();
        messages.Should().Equal(r.StderrLines[0]);
        File.Exists(pidFile).Should().BeFalse("no pid file for a failed restore");
        Directory.Exists(_c.StateDir).Should().BeFalse();
        TestEnv.OurMounts().Should().BeEmpty();
    }

    [Fact]
    public void Checkpoint_refuses_a_created_container_and_bad_flags_in_one_line()
    {
        _c.Bundle.Sh("while true; do sleep 1; done");
        _c.CreateOk();

        var created = _c.Runtime.Run("checkpoint", "--image-path", Path.Combine(_images, "c"), _c.Id);
        created.ExitCode.Should().Be(1);
        created.StderrLines.Should().Equal("Container cannot be checkpointed in created state");

        _c.Start().ExitCode.Should().Be(0);
        var mode = _c.Runtime.Run("checkpoint", "--manage-cgroups-mode", "hard", "--image-path", Path.Combine(_images, "c"), _c.Id);
        mode.StderrLines.Should().Equal("--manage-cgroups-mode: invalid value \"hard\" (soft, full, strict or ignore)");
        var parent = _c.Runtime.Run("checkpoint", "--parent-path", "/abs", "--image-path", Path.Combine(_images, "c"), _c.Id);
        parent.StderrLines.Should().Equal("--parent-path: must be relative to the image path");

        var missing = _c.Runtime.Run("checkpoint", "no-such-container");
        missing.StderrLines.Should().Equal("container does not exist"); // runc's exact text (go-runc and the shim match it)
    }

    [Fact]
    public void Restore_without_criu_says_so()
    {
        _c.Bundle.Write();
        var r = Ocirun.Exec("/usr/bin/env", ["PATH=/nonexistent", _c.Runtime.Binary, "--root", _c.Runtime.StateRoot, "restore", "-d", "-b", _c.Bundle.Dir, "--image-path", _images, _c.Id]);

        r.ExitCode.Should().Be(1);
        r.StderrLines.Should().Equal("criu not found in PATH: checkpoint and restore need CRIU 3.0.0 or newer");
        Directory.Exists(_c.StateDir).Should().BeFalse();
    }

    [Fact]
    public void Features_reports_checkpoint_support()
    {
        var r = _c.Runtime.Run("features");
        r.Stdout.Should().Contain("\"org.opencontainers.runc.checkpoint.enabled\": \"true\"");
    }
}
