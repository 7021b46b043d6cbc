using Google.Protobuf;

namespace OciRuntime.Runtime.Checkpoint;

// CRIU's RPC (criu.org/RPC, the messages of its rpc.proto, proto2), written by hand over Google.Protobuf's
// CodedOutputStream/CodedInputStream: only the messages and fields ocirun sends or reads, each with its field number
// from CRIU's documented protocol. No generated code, no descriptors, no reflection (docs/checkpoint.md says why).

/// <summary>criu_req_type: what a request asks for (and what a response answers).</summary>
public enum CriuRequestType
{
    /// <summary>EMPTY.</summary>
    Empty = 0,
    /// <summary>DUMP: checkpoint a process tree.</summary>
    Dump = 1,
    /// <summary>RESTORE: restore a process tree.</summary>
    Restore = 2,
    /// <summary>CHECK: whether the kernel supports what CRIU needs.</summary>
    Check = 3,
    /// <summary>PRE_DUMP: dump memory only, the tree keeps running.</summary>
    PreDump = 4,
    /// <summary>NOTIFY: a notification from CRIU (a response) or its acknowledgement (a request).</summary>
    Notify = 6,
    /// <summary>FEATURE_CHECK: which optional features (memory tracking, lazy pages) work here.</summary>
    FeatureCheck = 9,
    /// <summary>VERSION: CRIU's version.</summary>
    Version = 10,
}

/// <summary>criu_cg_mode: how CRIU restores cgroups (runc's --manage-cgroups-mode).</summary>
public enum CriuCgroupMode
{
    /// <summary>IGNORE: leave cgroups alone.</summary>
    Ignore = 0,
    /// <summary>SOFT: restore properties only of the cgroups CRIU creates (CRIU's default).</summary>
    Soft = 3,
    /// <summary>FULL: restore every cgroup and its properties.</summary>
    Full = 4,
    /// <summary>STRICT: as FULL, and the cgroups must not exist yet.</summary>
    Strict = 5,
}

/// <summary>A key → value pair of CRIU's RPC: ext_mount_map (key, val), inherit_fd (key, fd), cgroup_root (ctrl, path), join_namespace (ns, ns_file).</summary>
/// <param name="Key">The first field (field 1).</param>
/// <param name="Value">The second field (field 2).</param>
public readonly record struct CriuPair(string Key, string Value);

/// <summary>
/// criu_opts: the options of a dump, pre-dump or restore. Null (or empty) fields are not sent, so CRIU's defaults
/// hold. Fds are numbers: images_dir_fd and work_dir_fd in the requesting process (CRIU opens /proc/PID/fd/N of its
/// peer), inherit_fd and status_fd in the CRIU process.
/// </summary>
public sealed class CriuOptions
{
    /// <summary>images_dir_fd (1): the image directory, open in the requesting process.</summary>
    public int ImagesDirFd { get; set; } = -1;
    /// <summary>pid (2): the root of the tree to dump.</summary>
    public int? Pid { get; set; }
    /// <summary>leave_running (3).</summary>
    public bool? LeaveRunning { get; set; }
    /// <summary>ext_unix_sk (4).</summary>
    public bool? ExtUnixSk { get; set; }
    /// <summary>tcp_established (5).</summary>
    public bool? TcpEstablished { get; set; }
    /// <summary>evasive_devices (6).</summary>
    public bool? EvasiveDevices { get; set; }
    /// <summary>shell_job (7).</summary>
    public bool? ShellJob { get; set; }
    /// <summary>file_locks (8).</summary>
    public bool? FileLocks { get; set; }
    /// <summary>log_level (9): 0–4.</summary>
    public int? LogLevel { get; set; }
    /// <summary>log_file (10): a file name in the work directory (no subdirectories).</summary>
    public string? LogFile { get; set; }
    /// <summary>ps (11): address (1) of a CRIU page server.</summary>
    public string? PageServerAddress { get; set; }
    /// <summary>ps (11): port (2) of a CRIU page server.</summary>
    public int? PageServerPort { get; set; }
    /// <summary>notify_scripts (12): send notifications (network-lock, setup-namespaces, post-restore, …).</summary>
    public bool? NotifyScripts { get; set; }
    /// <summary>root (13): the tree's root directory on the host.</summary>
    public string? Root { get; set; }
    /// <summary>parent_img (14): the previous (pre-)dump's image directory, relative to the image directory.</summary>
    public string? ParentImg { get; set; }
    /// <summary>track_mem (15).</summary>
    public bool? TrackMem { get; set; }
    /// <summary>auto_dedup (16).</summary>
    public bool? AutoDedup { get; set; }
    /// <summary>work_dir_fd (17): logs and temporary files, open in the requesting process.</summary>
    public int? WorkDirFd { get; set; }
    /// <summary>ext_mnt (23): external mounts, mount point → key at dump, key → host source at restore.</summary>
    public List<CriuPair> ExtMounts { get; } = [];
    /// <summary>manage_cgroups (24).</summary>
    public bool? ManageCgroups { get; set; }
    /// <summary>cg_root (25): controller ("" = all) → cgroup path to restore into.</summary>
    public List<CriuPair> CgroupRoots { get; } = [];
    /// <summary>rst_sibling (26): restore the root task as a sibling of CRIU (a child of the requester).</summary>
    public bool? RestoreSibling { get; set; }
    /// <summary>inherit_fd (27): resource key → fd number in the CRIU process.</summary>
    public List<(string Key, int Fd)> InheritFds { get; } = [];
    /// <summary>manage_cgroups_mode (34).</summary>
    public CriuCgroupMode? ManageCgroupsMode { get; set; }
    /// <summary>external (37): external resources, e.g. "net[INODE]:extRootNetNS".</summary>
    public List<string> External { get; } = [];
    /// <summary>empty_ns (38): CLONE_NEW* mask of namespaces made empty at restore.</summary>
    public uint? EmptyNs { get; set; }
    /// <summary>join_ns (39): namespace name → namespace file to join at restore.</summary>
    public List<CriuPair> JoinNamespaces { get; } = [];
    /// <summary>freeze_cgroup (44): the freezer cgroup CRIU stops the tree with.</summary>
    public string? FreezeCgroup { get; set; }
    /// <summary>lazy_pages (48).</summary>
    public bool? LazyPages { get; set; }
    /// <summary>status_fd (49).</summary>
    public int? StatusFd { get; set; }
    /// <summary>orphan_pts_master (50): send the master of a restored pty with an "orphan-pts-master" notification.</summary>
    public bool? OrphanPtsMaster { get; set; }
    /// <summary>config_file (51): a CRIU configuration file (its settings override the RPC's).</summary>
    public string? ConfigFile { get; set; }
    /// <summary>lsm_profile (53): TYPE:NAME for the restored tasks.</summary>
    public string? LsmProfile { get; set; }
    /// <summary>lsm_mount_context (63).</summary>
    public string? LsmMountContext { get; set; }

    internal void WriteTo(CodedOutputStream o)
    {
        Int(o, 1, ImagesDirFd);
        if (Pid is { } pid) Int(o, 2, pid);
        Bool(o, 3, LeaveRunning);
        Bool(o, 4, ExtUnixSk);
        Bool(o, 5, TcpEstablished);
        Bool(o, 6, EvasiveDevices);
        Bool(o, 7, ShellJob);
        Bool(o, 8, FileLocks);
        if (LogLevel is { } level) Int(o, 9, level);
        Str(o, 10, LogFile);
        if (PageServerAddress is not null)
        {
            Nested(o, 11, n =>
            {
                Str(n, 1, PageServerAddress);
                if (PageServerPort is { } port) Int(n, 2, port);
            });
        }
        Bool(o, 12, NotifyScripts);
        Str(o, 13, Root);
        Str(o, 14, ParentImg);
        Bool(o, 15, TrackMem);
        Bool(o, 16, AutoDedup);
        if (WorkDirFd is { } work) Int(o, 17, work);
        foreach (var m in ExtMounts) Pair(o, 23, m.Key, m.Value);
        Bool(o, 24, ManageCgroups);
        // cgroup_root: ctrl (1) is optional (none: every controller), path (2) required.
        foreach (var c in CgroupRoots) Pair(o, 25, c.Key.Length > 0 ? c.Key : null, c.Value);
        Bool(o, 26, RestoreSibling);
        foreach (var (key, fd) in InheritFds) Pair(o, 27, key, fd);
        if (ManageCgroupsMode is { } mode) Int(o, 34, (int)mode);
        foreach (var e in External) Str(o, 37, e);
        if (EmptyNs is { } empty)
        {
            o.WriteTag(38, WireFormat.WireType.Varint);
            o.WriteUInt32(empty);
        }
        foreach (var j in JoinNamespaces) Pair(o, 39, j.Key, j.Value);
        Str(o, 44, FreezeCgroup);
        Bool(o, 48, LazyPages);
        if (StatusFd is { } status) Int(o, 49, status);
        Bool(o, 50, OrphanPtsMaster);
        Str(o, 51, ConfigFile);
        Str(o, 53, LsmProfile);
        Str(o, 63, LsmMountContext);
    }

    internal static void Int(CodedOutputStream o, int field, int value)
    {
        o.WriteTag(field, WireFormat.WireType.Varint);
        o.WriteInt32(value);
    }

    internal static void Bool(CodedOutputStream o, int field, bool? value)
    {
        if (value is not { } v) return;
        o.WriteTag(field, WireFormat.WireType.Varint);
        o.WriteBool(v);
    }

    internal static void Str(CodedOutputStream o, int field, string? value)
    {
        if (value is null) return;
        o.WriteTag(field, WireFormat.WireType.LengthDelimited);
        o.WriteString(value);
    }

    /// <summary>A nested message of a string field 1 (left out when null) and a field 2.</summary>
    private static void Pair(CodedOutputStream o, int field, string? key, string value) => Nested(o, field, n =>
    {
        Str(n, 1, key);
        Str(n, 2, value);
    });

    private static void Pair(CodedOutputStream o, int field, string key, int value) => Nested(o, field, n =>
    {
        Str(n, 1, key);
        Int(n, 2, value);
    });

    internal static void Nested(CodedOutputStream o, int field, Action<CodedOutputStream> write)
    {
        o.WriteTag(field, WireFormat.WireType.LengthDelimited);
        o.WriteBytes(ByteString.CopyFrom(CriuMessage.Encode(write)));
    }
}

/// <summary>criu_req: one request to <c>criu swrk</c>.</summary>
public sealed class CriuRequest
{
    /// <summary>type (1).</summary>
    public CriuRequestType Type { get; set; }
    /// <summary>opts (2).</summary>
    public CriuOptions? Options { get; set; }
    /// <summary>notify_success (3): the acknowledgement of a notification.</summary>
    public bool? NotifySuccess { get; set; }
    /// <summary>features (5) of a FEATURE_CHECK: mem_track (1).</summary>
    public bool? FeatureMemTrack { get; set; }
    /// <summary>features (5) of a FEATURE_CHECK: lazy_pages (2).</summary>
    public bool? FeatureLazyPages { get; set; }

    /// <summary>The request's protobuf encoding (one SOCK_SEQPACKET record).</summary>
    public byte[] Encode() => CriuMessage.Encode(o =>
    {
        CriuOptions.Int(o, 1, (int)Type);
        if (Options is { } opts) CriuOptions.Nested(o, 2, opts.WriteTo);
        CriuOptions.Bool(o, 3, NotifySuccess);
        if (FeatureMemTrack is not null || FeatureLazyPages is not null)
        {
            CriuOptions.Nested(o, 5, n =>
            {
                CriuOptions.Bool(n, 1, FeatureMemTrack);
                CriuOptions.Bool(n, 2, FeatureLazyPages);
            });
        }
    });
}

/// <summary>criu_resp: one response (or notification) from <c>criu swrk</c>.</summary>
public sealed class CriuResponse
{
    /// <summary>type (1).</summary>
    public CriuRequestType Type { get; set; }
    /// <summary>success (2).</summary>
    public bool Success { get; set; }
    /// <summary>restore (4): the restored root task's pid.</summary>
    public int? RestorePid { get; set; }
    /// <summary>notify (5): script (1), the notification's name.</summary>
    public string? NotifyScript { get; set; }
    /// <summary>notify (5): pid (2), the restored root task's pid (setup-namespaces, post-restore).</summary>
    public int? NotifyPid { get; set; }
    /// <summary>cr_errno (7).</summary>
    public int? Errno { get; set; }
    /// <summary>features (8): mem_track (1).</summary>
    public bool? FeatureMemTrack { get; set; }
    /// <summary>features (8): lazy_pages (2).</summary>
    public bool? FeatureLazyPages { get; set; }
    /// <summary>cr_errmsg (9).</summary>
    public string? ErrorMessage { get; set; }
    /// <summary>version (10): major_number (1), minor_number (2), sublevel (4), as one number major*10000+minor*100+sublevel (runc's).</summary>
    public int? Version { get; set; }
    /// <summary>version (10): gitid (3).</summary>
    public string? VersionGitId { get; set; }

    /// <summary>Parses a response; unknown fields are skipped.</summary>
    /// <exception cref="InvalidProtocolBufferException">the bytes are not a protobuf message.</exception>
    public static CriuResponse Parse(ReadOnlySpan<byte> data)
    {
        var r = new CriuResponse();
        var i = new CodedInputStream(data.ToArray());
        uint tag;
        while ((tag = i.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1 when IsVarint(tag): r.Type = (CriuRequestType)i.ReadEnum(); break;
                case 2 when IsVarint(tag): r.Success = i.ReadBool(); break;
                case 4 when IsBytes(tag): r.RestorePid = Fields(i.ReadBytes())[1]; break;
                case 5 when IsBytes(tag): ParseNotify(r, i.ReadBytes()); break;
                case 7 when IsVarint(tag): r.Errno = i.ReadInt32(); break;
                case 8 when IsBytes(tag):
                    var f = Fields(i.ReadBytes());
                    r.FeatureMemTrack = f.TryGetValue(1, out var mt) ? mt != 0 : null;
                    r.FeatureLazyPages = f.TryGetValue(2, out var lp) ? lp != 0 : null;
                    break;
                case 9 when IsBytes(tag): r.ErrorMessage = i.ReadString(); break;
                case 10 when IsBytes(tag): ParseVersion(r, i.ReadBytes()); break;
                default: i.SkipLastField(); break;
            }
        }
        return r;
    }

    private static bool IsVarint(uint tag) => WireFormat.GetTagWireType(tag) == WireFormat.WireType.Varint;
    private static bool IsBytes(uint tag) => WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited;

    /// <summary>The varint fields of a nested message, by number (the last one wins, as protobuf's merge does).</summary>
    private static Dictionary<int, int> Fields(ByteString bytes)
    {
        var fields = new Dictionary<int, int>();
        var i = bytes.CreateCodedInput();
        uint tag;
        while ((tag = i.ReadTag()) != 0)
        {
            if (IsVarint(tag)) fields[WireFormat.GetTagFieldNumber(tag)] = i.ReadInt32();
            else i.SkipLastField();
        }
        return fields;
    }

    private static void ParseNotify(CriuResponse r, ByteString bytes)
    {
        var i = bytes.CreateCodedInput();
        uint tag;
        while ((tag = i.ReadTag()) != 0)
        {
            if (tag == WireFormat.MakeTag(1, WireFormat.WireType.LengthDelimited)) r.NotifyScript = i.ReadString();
            else if (tag == WireFormat.MakeTag(2, WireFormat.WireType.Varint)) r.NotifyPid = i.ReadInt32();
            else i.SkipLastField();
        }
    }

    private static void ParseVersion(CriuResponse r, ByteString bytes)
    {
        var i = bytes.CreateCodedInput();
        int major = 0, minor = 0, sublevel = 0;
        uint tag;
        while ((tag = i.ReadTag()) != 0)
        {
            switch (tag)
            {
                case 1 << 3: major = i.ReadInt32(); break;
                case 2 << 3: minor = i.ReadInt32(); break;
                case (3 << 3) | 2: r.VersionGitId = i.ReadString(); break;
                case 4 << 3: sublevel = i.ReadInt32(); break;
                default: i.SkipLastField(); break;
            }
        }
        r.Version = major * 10000 + minor * 100 + sublevel;
    }
}

/// <summary>Encoding helpers of the hand-written CRIU messages.</summary>
internal static class CriuMessage
{
    /// <summary>Runs <paramref name="write"/> over a fresh stream and returns the bytes written.</summary>
    public static byte[] Encode(Action<CodedOutputStream> write)
    {
        using var buffer = new MemoryStream();
        using (var o = new CodedOutputStream(buffer, leaveOpen: true))
        {
            write(o);
        }
        return buffer.ToArray();
    }
}
