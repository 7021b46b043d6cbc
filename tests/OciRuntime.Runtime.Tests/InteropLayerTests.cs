using System.Reflection;
using System.Runtime.InteropServices;
using OciRuntime.Interop;

namespace OciRuntime.Runtime.Tests;

/// <summary>
/// src/Interop sits on Tmds.LibC (issue #20): no libc function is declared both there and in the layer's own imports
/// (RawSys, the raw calls of a cloned child, aside), and the constants the layer keeps as compile-time consts (for
/// <c>case</c> labels and patterns; Tmds.LibC has properties) have Tmds.LibC's values.
/// </summary>
public sealed class InteropLayerTests
{
    private static readonly Assembly Layer = typeof(Libc).Assembly;

    private static HashSet<string> TmdsEntryPoints()
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var m in typeof(Tmds.Linux.LibC).GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static))
        {
            if (m.GetCustomAttribute<DllImportAttribute>() is { } d) names.Add(d.EntryPoint ?? m.Name);
        }
        return names;
    }

    [Fact]
    public void Tmds_LibC_is_the_source_of_the_classic_calls()
    {
        // The reflection sees Tmds.LibC's imports; a handful it must have for this test to mean anything.
        TmdsEntryPoints().Should().Contain(["open", "openat", "read", "write", "close", "mount", "umount2", "setns", "unshare", "sendmsg", "recvmsg", "syscall"]);
    }

    [Fact]
    public void The_layer_declares_no_function_Tmds_LibC_declares_outside_RawSys()
    {
        var tmds = TmdsEntryPoints();
        var twice = new List<string>();
        var own = 0;
        foreach (var type in Layer.GetTypes())
        {
            if (type == typeof(RawSys) || type.DeclaringType == typeof(RawSys)) continue;
            foreach (var m in type.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.DeclaredOnly))
            {
                if (m.GetCustomAttribute<DllImportAttribute>() is not { } d) continue;
                own++;
                var entry = d.EntryPoint ?? m.Name;
                if (tmds.Contains(entry)) twice.Add($"{type.Name}.{m.Name} -> {d.Value}!{entry}");
            }
        }
        own.Should().BeGreaterThan(0, "the layer keeps its own imports for what Tmds.LibC lacks (clone3 via RawSys aside: waitpid, prctl, close_range…)");
        twice.Should().BeEmpty("a call Tmds.LibC declares is made through Tmds.Linux.LibC");
    }

    [Fact]
    public void The_layers_constants_have_Tmds_LibC_values()
    {
        var compared = 0;
        var differ = new List<string>();
        foreach (var type in Layer.GetTypes())
        {
            foreach (var f in type.GetFields(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.DeclaredOnly))
            {
                if (!f.IsLiteral || f.FieldType.IsEnum) continue;
                var p = typeof(Tmds.Linux.LibC).GetProperty(f.Name, BindingFlags.Public | BindingFlags.Static);
                if (p is null || !IsInteger(p.PropertyType) || !IsInteger(f.FieldType)) continue;
                compared++;
                long ours = Convert.ToInt64(f.GetRawConstantValue(), System.Globalization.CultureInfo.InvariantCulture);
                long theirs = Convert.ToInt64(p.GetValue(null), System.Globalization.CultureInfo.InvariantCulture);
                if (ours != theirs) differ.Add($"{type.Name}.{f.Name} = {ours}, Tmds.LibC {theirs}");
            }
        }
        // MountFlags and CloneFlags carry readable names; their values are MS_* and CLONE_*.
        (string Ours, long Value, string Theirs)[] named =
        [
            ("MountFlags.ReadOnly", (long)MountFlags.ReadOnly, "MS_RDONLY"), ("MountFlags.NoSuid", (long)MountFlags.NoSuid, "MS_NOSUID"),
            ("MountFlags.NoDev", (long)MountFlags.NoDev, "MS_NODEV"), ("MountFlags.NoExec", (long)MountFlags.NoExec, "MS_NOEXEC"),
            ("MountFlags.Remount", (long)MountFlags.Remount, "MS_REMOUNT"), ("MountFlags.Bind", (long)MountFlags.Bind, "MS_BIND"),
            ("MountFlags.Move", (long)MountFlags.Move, "MS_MOVE"), ("MountFlags.NoAtime", (long)MountFlags.NoAtime, "MS_NOATIME"),
            ("MountFlags.Private", (long)MountFlags.Private, "MS_PRIVATE"), ("MountFlags.Slave", (long)MountFlags.Slave, "MS_SLAVE"),
            ("MountFlags.Shared", (long)MountFlags.Shared, "MS_SHARED"), ("MountFlags.Unbindable", (long)MountFlags.Unbindable, "MS_UNBINDABLE"),
            ("MountFlags.Rec", (long)MountFlags.Rec, "MS_REC"), ("MountFlags.RelAtime", (long)MountFlags.RelAtime, "MS_RELATIME"),
            ("CloneFlags.NewNs", (long)CloneFlags.NewNs, "CLONE_NEWNS"), ("CloneFlags.NewUser", (long)CloneFlags.NewUser, "CLONE_NEWUSER"),
            ("CloneFlags.NewPid", (long)CloneFlags.NewPid, "CLONE_NEWPID"), ("CloneFlags.NewNet", (long)CloneFlags.NewNet, "CLONE_NEWNET"),
            ("CloneFlags.NewUts", (long)CloneFlags.NewUts, "CLONE_NEWUTS"), ("CloneFlags.NewIpc", (long)CloneFlags.NewIpc, "CLONE_NEWIPC"),
            ("CloneFlags.NewCgroup", (long)CloneFlags.NewCgroup, "CLONE_NEWCGROUP"), ("CloneFlags.Fs", (long)CloneFlags.Fs, "CLONE_FS"),
        ];
        foreach (var (ours, value, theirs) in named)
        {
            compared++;
            var v = ToLong(typeof(Tmds.Linux.LibC).GetProperty(theirs)!.GetValue(null)!);
            if (v != value) differ.Add($"{ours} = {value}, Tmds.LibC {theirs} {v}");
        }
        compared.Should().BeGreaterThan(60, "Errno, OpenFlags, Signals, MemfdFlags and the socket constants all have Tmds.LibC twins");
        differ.Should().BeEmpty();
    }

    [Fact]
    public unsafe void The_structs_the_layer_casts_to_Tmds_LibC_pointers_have_its_layout()
    {
        // UnixSocket/Socket pass RawSys.MsgHdr and IoVec to LibC.sendmsg/recvmsg, FsOpen passes OpenHow to LibC.openat2.
        sizeof(RawSys.MsgHdr).Should().Be(sizeof(Tmds.Linux.msghdr));
        sizeof(RawSys.IoVec).Should().Be(sizeof(Tmds.Linux.iovec));
        sizeof(OpenHow).Should().Be(sizeof(Tmds.Linux.open_how));
        string[] ours = ["Name", "NameLength", "Iov", "IovLength", "Control", "ControlLength", "Flags"];
        string[] theirs = ["msg_name", "msg_namelen", "msg_iov", "msg_iovlen", "msg_control", "msg_controllen", "msg_flags"];
        for (var i = 0; i < ours.Length; i++)
        {
            Marshal.OffsetOf<RawSys.MsgHdr>(ours[i]).Should().Be(OffsetOf<Tmds.Linux.msghdr>(theirs[i]), ours[i]);
        }
        // LinkCount/StatAt read struct statx by offset from a buffer LibC.statx fills.
        OffsetOf<Tmds.Linux.statx>("stx_nlink").Should().Be(16);
        OffsetOf<Tmds.Linux.statx>("stx_uid").Should().Be(20);
        OffsetOf<Tmds.Linux.statx>("stx_gid").Should().Be(24);
        OffsetOf<Tmds.Linux.statx>("stx_mode").Should().Be(28);
        OffsetOf<Tmds.Linux.statx>("stx_rdev_major").Should().Be(128);
        OffsetOf<Tmds.Linux.statx>("stx_rdev_minor").Should().Be(132);
        sizeof(Tmds.Linux.statx).Should().BeLessThanOrEqualTo(256);
    }

    // Tmds.LibC declares some fields as properties: over "<name>k__BackingField" or "_name".
    private static nint OffsetOf<T>(string field)
    {
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance;
        var f = typeof(T).GetField(field, all) ?? typeof(T).GetField($"<{field}>k__BackingField", all) ?? typeof(T).GetField("_" + field, all);
        f.Should().NotBeNull($"{typeof(T).Name}.{field}");
        return Marshal.OffsetOf<T>(f!.Name);
    }

    private static long ToLong(object value) => value is Tmds.Linux.ulong_t u
        ? (long)(ulong)u
        : Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture);

    private static bool IsInteger(Type t) =>
        t == typeof(int) || t == typeof(uint) || t == typeof(long) || t == typeof(ulong) || t == typeof(short) || t == typeof(ushort) || t == typeof(byte);
}
