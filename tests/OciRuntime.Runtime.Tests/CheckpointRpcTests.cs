using Google.Protobuf;
using OciRuntime.Runtime.Checkpoint;
using OciRuntime.Runtime.Lifecycle;
using OciRuntime.Spec;

namespace OciRuntime.Runtime.Tests;

/// <summary>
/// The hand-written CRIU RPC messages (field numbers of CRIU's documented rpc.proto) and runc's option mapping
/// (libcontainer's Checkpoint/Restore), decoded back with a plain protobuf wire reader; and the real <c>criu swrk</c>
/// answering our VERSION, FEATURE_CHECK and DUMP requests (it parses them even on a kernel where dumps fail).
/// </summary>
public sealed class CheckpointRpcTests
{
    /// <summary>A decoded message: field number → values (varints as long, length-delimited as bytes).</summary>
    private static Dictionary<int, List<object>> Decode(byte[] bytes)
    {
        var fields = new Dictionary<int, List<object>>();
        var input = new CodedInputStream(bytes);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            var n = WireFormat.GetTagFieldNumber(tag);
            object value = WireFormat.GetTagWireType(tag) switch
            {
                WireFormat.WireType.Varint => input.ReadInt64(),
                WireFormat.WireType.LengthDelimited => input.ReadBytes().ToByteArray(),
                var t => throw new InvalidOperationException($"unexpected wire type {t} for field {n}"),
            };
            if (!fields.TryGetValue(n, out var list)) fields[n] = list = [];
            list.Add(value);
        }
        return fields;
    }

    private static string Str(object o) => System.Text.Encoding.UTF8.GetString((byte[])o);

    private static (string, string) Pair(object o)
    {
        var f = Decode((byte[])o);
        return (Str(f[1][0]), Str(f[2][0]));
    }

    [Fact]
    public void Request_uses_the_field_numbers_of_criu_rpc()
    {
        var options = new CriuOptions
        {
            ImagesDirFd = 7, Pid = 1234, LeaveRunning = true, TcpEstablished = false, LogLevel = 4, LogFile = "dump.log",
            Root = "/rootfs", ParentImg = "../pre", TrackMem = true, WorkDirFd = 8, ManageCgroups = true,
            ManageCgroupsMode = CriuCgroupMode.Strict, EmptyNs = 0x40000000, FreezeCgroup = "/sys/fs/cgroup/x",
            OrphanPtsMaster = true, ConfigFile = "/etc/criu/runc.conf", RestoreSibling = true, NotifyScripts = true,
        };
        options.ExtMounts.Add(new CriuPair("/data", "/host/data"));
        options.CgroupRoots.Add(new CriuPair("", "/ctr"));
        options.CgroupRoots.Add(new CriuPair("cpu", "/ctr"));
        options.InheritFds.Add(("pipe:[99]", 1));
        options.External.Add("net[4026531992]:extRootNetNS");
        options.JoinNamespaces.Add(new CriuPair("ipc", "/proc/1/ns/ipc"));

        var req = Decode(new CriuRequest { Type = CriuRequestType.Dump, Options = options }.Encode());

        req[1].Should().Equal(1L); // type DUMP
        var o = Decode((byte[])req[2][0]);
        o[1].Should().Equal(7L);
        o[2].Should().Equal(1234L);
        o[3].Should().Equal(1L);
        ((long)o[5][0]).Should().Be(0, "false is sent, not left out (runc sets every flag)");
        o[9].Should().Equal(4L);
        Str(o[10][0]).Should().Be("dump.log");
        o[12].Should().Equal(1L);
        Str(o[13][0]).Should().Be("/rootfs");
        Str(o[14][0]).Should().Be("../pre");
        o[15].Should().Equal(1L);
        o[17].Should().Equal(8L);
        Pair(o[23][0]).Should().Be(("/data", "/host/data"));
        o[24].Should().Equal(1L);
        Decode((byte[])o[25][0]).Should().NotContainKey(1, "a cgroup v2 root has no ctrl: it applies to every controller");
        Str(Decode((byte[])o[25][0])[2][0]).Should().Be("/ctr");
        Str(Decode((byte[])o[25][1])[1][0]).Should().Be("cpu");
        o[26].Should().Equal(1L);
        var inherit = Decode((byte[])o[27][0]);
        (Str(inherit[1][0]), inherit[2][0]).Should().Be(("pipe:[99]", 1L));
        o[34].Should().Equal(5L); // STRICT
        Str(o[37][0]).Should().Be("net[4026531992]:extRootNetNS");
        o[38].Should().Equal(0x40000000L);
        Pair(o[39][0]).Should().Be(("ipc", "/proc/1/ns/ipc"));
        Str(o[44][0]).Should().Be("/sys/fs/cgroup/x");
        o[50].Should().Equal(1L);
        Str(o[51][0]).Should().Be("/etc/criu/runc.conf");
        o.Should().NotContainKey(48, "unset options are not sent").And.NotContainKey(4).And.NotContainKey(11);
    }

    [Fact]
    public void Notification_acknowledgement_and_feature_check()
    {
        var ack = Decode(new CriuRequest { Type = CriuRequestType.Notify, NotifySuccess = true }.Encode());
        ack[1].Should().Equal(6L);
        ack[3].Should().Equal(1L);
        ack.Should().NotContainKey(2);

        var check = Decode(new CriuRequest { Type = CriuRequestType.FeatureCheck, FeatureMemTrack = true }.Encode());
        check[1].Should().Equal(9L);
        Decode((byte[])check[5][0])[1].Should().Equal(1L);
    }

    private static byte[] Message(Action<CodedOutputStream> write)
    {
        using var m = new MemoryStream();
        using (var o = new CodedOutputStream(m, leaveOpen: true)) write(o);
        return m.ToArray();
    }

    private static void Nested(CodedOutputStream o, int field, Action<CodedOutputStream> write)
    {
        o.WriteTag(field, WireFormat.WireType.LengthDelimited);
        o.WriteBytes(ByteString.CopyFrom(Message(write)));
    }

    [Fact]
    public void Response_parses_notify_restore_version_and_errors_and_skips_unknown_fields()
    {
        var bytes = Message(o =>
        {
            o.WriteTag(1, WireFormat.WireType.Varint); o.WriteEnum(6);
            o.WriteTag(2, WireFormat.WireType.Varint); o.WriteBool(true);
            Nested(o, 5, n => { n.WriteTag(1, WireFormat.WireType.LengthDelimited); n.WriteString("post-restore"); n.WriteTag(2, WireFormat.WireType.Varint); n.WriteInt32(4321); });
            o.WriteTag(99, WireFormat.WireType.LengthDelimited); o.WriteString("a field from a newer CRIU");
            Nested(o, 4, n => { n.WriteTag(1, WireFormat.WireType.Varint); n.WriteInt32(4321); });
            Nested(o, 10, n =>
            {
                n.WriteTag(1, WireFormat.WireType.Varint); n.WriteInt32(3);
                n.WriteTag(2, WireFormat.WireType.Varint); n.WriteInt32(17);
                n.WriteTag(3, WireFormat.WireType.LengthDelimited); n.WriteString("abc");
                n.WriteTag(4, WireFormat.WireType.Varint); n.WriteInt32(1);
            });
            o.WriteTag(7, WireFormat.WireType.Varint); o.WriteInt32(2);
            o.WriteTag(9, WireFormat.WireType.LengthDelimited); o.WriteString("boom");
        });

        var r = CriuResponse.Parse(bytes);

        r.Type.Should().Be(CriuRequestType.Notify);
        r.Success.Should().BeTrue();
        r.NotifyScript.Should().Be("post-restore");
        r.NotifyPid.Should().Be(4321);
        r.RestorePid.Should().Be(4321);
        r.Version.Should().Be(31701);
        r.VersionGitId.Should().Be("abc");
        r.Errno.Should().Be(2);
        r.ErrorMessage.Should().Be("boom");
        CriuSwrk.VersionText(31701).Should().Be("3.17.1");
    }

    private static Spec.Spec SpecWith(string json) => SpecSerializer.Parse(json);

    private static readonly Spec.Spec Sample = SpecWith("""
        {"ociVersion":"1.2.0","root":{"path":"rootfs"},"process":{"cwd":"/","args":["sh"]},
         "mounts":[{"destination":"/proc","type":"proc","source":"proc"},
                   {"destination":"/data/","type":"bind","source":"/host/data","options":["rbind"]},
                   {"destination":"/etc/x","source":"/host/x","options":["bind","ro"]}],
         "linux":{"maskedPaths":["/proc/kcore"],"devices":[{"path":"/dev/fuse","type":"c","major":10,"minor":229}],
                  "namespaces":[{"type":"pid"},{"type":"network","path":"/run/netns/n"},{"type":"ipc","path":"/proc/7/ns/ipc"},{"type":"mount"}]}}
        """);

    [Fact]
    public void Dump_describes_bind_mounts_masked_files_and_devices_as_external_as_runc_does()
    {
        var o = CriuRequestBuilder.Dump(Sample, new CheckpointOptions { Id = "c", LeaveRunning = true, ParentPath = "../pre", ManageCgroupsMode = "full" },
            "/b/rootfs", 42, 5, null, "/sys/fs/cgroup/c", ["net[1]:extRootNetNS"], ["/proc/kcore"]);

        o.ExtMounts.Should().Equal(
            new CriuPair("/data", "/data"), new CriuPair("/etc/x", "/etc/x"), new CriuPair("/proc/kcore", "/dev/null"),
            new CriuPair("/dev/null", "/dev/null"), new CriuPair("/dev/zero", "/dev/zero"), new CriuPair("/dev/full", "/dev/full"),
            new CriuPair("/dev/random", "/dev/random"), new CriuPair("/dev/urandom", "/dev/urandom"), new CriuPair("/dev/tty", "/dev/tty"),
            new CriuPair("/dev/fuse", "/dev/fuse"));
        o.Root.Should().Be("/b/rootfs");
        o.Pid.Should().Be(42);
        o.LeaveRunning.Should().BeTrue();
        (o.ParentImg, o.TrackMem).Should().Be(("../pre", true));
        o.ManageCgroupsMode.Should().Be(CriuCgroupMode.Full);
        o.External.Should().Equal("net[1]:extRootNetNS");
        (o.LogFile, o.LogLevel, o.OrphanPtsMaster, o.ManageCgroups, o.NotifyScripts).Should().Be(("dump.log", 4, true, true, true));
        o.ConfigFile.Should().Be("/etc/criu/runc.conf");
        o.RestoreSibling.Should().BeNull("rst_sibling is for restores");

        var pre = CriuRequestBuilder.Dump(Sample, new CheckpointOptions { Id = "c", PreDump = true }, "/b/rootfs", 42, 5, null, null, [], ["/proc/kcore"]);
        pre.ExtMounts.Should().BeEmpty("a pre-dump describes no mounts (runc's)");
    }

    [Fact]
    public void Restore_maps_mounts_to_their_sources_pipes_and_external_namespaces_to_inherited_fds()
    {
        var o = CriuRequestBuilder.Restore(Sample, new RestoreOptions { Id = "c", ShellJob = true, EmptyNs = "network" }, "/state/c/criu-root", 5, 6,
            [NamespaceType.Network], ["pipe:[11]", "pipe:[12]", "/dev/pts/3"]);

        o.ExtMounts.Take(3).Should().Equal(new CriuPair("/data", "/host/data"), new CriuPair("/etc/x", "/host/x"), new CriuPair("/dev/null", "/dev/null"));
        o.InheritFds.Should().Equal(("extRootNetNS", 4), ("pipe:[11]", 0), ("pipe:[12]", 1));
        o.JoinNamespaces.Should().Equal(new CriuPair("ipc", "/proc/7/ns/ipc"));
        (o.Root, o.RestoreSibling, o.EvasiveDevices, o.WorkDirFd, o.LogFile).Should().Be(("/state/c/criu-root", true, true, 6, "restore.log"));
        o.EmptyNs.Should().Be(0x40000000u);
        o.ShellJob.Should().BeTrue();
        o.Pid.Should().BeNull();
    }

    [Fact]
    public void Restore_refuses_a_cgroup_namespace_joined_by_path()
    {
        var spec = SpecWith("""{"ociVersion":"1.2.0","process":{"cwd":"/","args":["sh"]},"linux":{"namespaces":[{"type":"cgroup","path":"/proc/1/ns/cgroup"}]}}""");
        var act = () => CriuRequestBuilder.Restore(spec, new RestoreOptions { Id = "c" }, "/r", 5, null, [], []);
        act.Should().Throw<RuntimeException>().WithMessage("*cgroup namespace*");
    }

    [Fact]
    public void Config_file_annotation_and_flag_values()
    {
        CriuRequestBuilder.ConfigFile(SpecWith("""{"ociVersion":"1.2.0","annotations":{"org.criu.config":""}}""")).Should().BeNull();
        CriuRequestBuilder.ConfigFile(SpecWith("""{"ociVersion":"1.2.0","annotations":{"org.criu.config":"/my.conf"}}""")).Should().Be("/my.conf");
        new RestoreOptions { Id = "c", ManageCgroupsMode = "ignore" }.CgroupMode().Should().Be(CriuCgroupMode.Ignore);
        new RestoreOptions { Id = "c" }.CgroupMode().Should().BeNull();
        var bad = () => new RestoreOptions { Id = "c", ManageCgroupsMode = "hard" }.CgroupMode();
        bad.Should().Throw<RuntimeException>().WithMessage("--manage-cgroups-mode*hard*");
        var ns = () => new CheckpointOptions { Id = "c", EmptyNs = "pid" }.EmptyNsMask();
        ns.Should().Throw<RuntimeException>().WithMessage("--empty-ns*pid*");
    }

    [Fact]
    public void Cgroup_roots_from_proc_cgroup()
    {
        CriuRequestBuilder.CgroupRoots("0::/system.slice/c\n").Should().Equal(new CriuPair("", "/system.slice/c"));
        CriuRequestBuilder.CgroupRoots("4:cpu,cpuacct:/c\n1:name=systemd:/c\n0::/c\n").Should().Equal(
            new CriuPair("cpu", "/c"), new CriuPair("cpuacct", "/c"), new CriuPair("name=systemd", "/c"), new CriuPair("", "/c"));
        CriuRequestBuilder.ExternalNamespace(NamespaceType.Network, 4026531992).Should().Be("net[4026531992]:extRootNetNS");
        CriuRequestBuilder.SupportsExternal(NamespaceType.Pid, 31400).Should().BeFalse();
        CriuRequestBuilder.SupportsExternal(NamespaceType.Pid, 31500).Should().BeTrue();
    }

    private static bool HaveCriu => TestEnvIsRoot && CriuSwrk.FindExecutable() is not null;
    private static bool TestEnvIsRoot => Harness.TestEnv.IsRoot;

    [Fact]
    public void Real_criu_swrk_answers_version_feature_check_and_parses_a_dump_request()
    {
        if (!HaveCriu) Assert.Fail("criu is not installed (scripts/install-deps.sh installs it) or not root");

        CriuSwrk.QueryVersion().Should().BeGreaterThanOrEqualTo(CriuSwrk.MinimumVersion);

        using var devNull = new FileStream("/dev/null", FileMode.Open, FileAccess.ReadWrite);
        var fd = (int)devNull.SafeFileHandle.DangerousGetHandle();
        using (var swrk = CriuSwrk.Start([fd, fd, fd]))
        {
            var r = swrk.Call(new CriuRequest { Type = CriuRequestType.FeatureCheck, FeatureMemTrack = true, FeatureLazyPages = true }, null);
            swrk.Finish();
            r.Type.Should().Be(CriuRequestType.FeatureCheck, "CRIU answers the request it was sent");
            // On a kernel CRIU cannot work with (the 6.18 host), the check itself fails; where it works, every asked feature is answered.
            if (r.Success) r.FeatureMemTrack.Should().NotBeNull("CRIU answers each feature asked for");
        }

        // A dump of a pid that does not exist: CRIU decodes every option we send (a malformed message would be refused
        // before any work), then fails on the missing process and says so in its log.
        var dir = Harness.TestEnv.NewDir("criu-rpc");
        try
        {
            using var imageDir = OciRuntime.Interop.SafeFd.Check(OciRuntime.Interop.Libc.open(dir, OciRuntime.Interop.OpenFlags.O_RDONLY | OciRuntime.Interop.OpenFlags.O_DIRECTORY | OciRuntime.Interop.OpenFlags.O_CLOEXEC), "open");
            var spec = Sample;
            var options = CriuRequestBuilder.Dump(spec, new CheckpointOptions { Id = "x", ManageCgroupsMode = "soft", ParentPath = "." }, "/", int.MaxValue - 1, imageDir.Fd, null, null, [], []);
            options.ConfigFile = null;
            using var swrk = CriuSwrk.Start([fd, fd, fd]);
            var r = swrk.Call(new CriuRequest { Type = CriuRequestType.Dump, Options = options }, null);
            swrk.Finish();
            r.Type.Should().Be(CriuRequestType.Dump);
            r.Success.Should().BeFalse();
            // The log is where our options put it: log_file in the directory of our images_dir_fd (CRIU opened it through
            // /proc/OUR_PID/fd/N). Where CRIU gets past its kernel probe, it names the missing pid too.
            var log = File.ReadAllText(Path.Combine(dir, "dump.log"));
            log.Should().Contain("Error");
            if (!log.Contains("kerndat", StringComparison.Ordinal)) log.Should().Contain((int.MaxValue - 1).ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        finally
        {
            Harness.TestEnv.RemoveTree(dir);
        }
    }
}
