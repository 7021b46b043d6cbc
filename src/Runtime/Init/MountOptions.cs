using OciRuntime.Interop;

namespace OciRuntime.Runtime.Init;

/// <summary>
/// The mount(2) reading of a runtime-spec mount's <c>options</c> (config.md#mounts, runc's table): flags to set,
/// flags to clear, propagation changes applied after the mount, and the rest joined as the data string.
/// </summary>
public sealed class MountOptions
{
    private static readonly Dictionary<string, (bool Clear, MountFlags Flag)> FlagTable = new(StringComparer.Ordinal)
    {
        ["async"] = (true, MountFlags.Synchronous),
        ["atime"] = (true, MountFlags.NoAtime),
        ["bind"] = (false, MountFlags.Bind),
        ["defaults"] = (false, MountFlags.None),
        ["dev"] = (true, MountFlags.NoDev),
        ["diratime"] = (true, MountFlags.NoDirAtime),
        ["dirsync"] = (false, MountFlags.DirSync),
        ["exec"] = (true, MountFlags.NoExec),
        ["lazytime"] = (false, MountFlags.LazyTime),
        ["nolazytime"] = (true, MountFlags.LazyTime),
        ["loud"] = (true, MountFlags.Silent),
        ["mand"] = (false, MountFlags.MandLock),
        ["noatime"] = (false, MountFlags.NoAtime),
        ["nodev"] = (false, MountFlags.NoDev),
        ["nodiratime"] = (false, MountFlags.NoDirAtime),
        ["noexec"] = (false, MountFlags.NoExec),
        ["nomand"] = (true, MountFlags.MandLock),
        ["norelatime"] = (true, MountFlags.RelAtime),
        ["nostrictatime"] = (true, MountFlags.StrictAtime),
        ["nosuid"] = (false, MountFlags.NoSuid),
        ["nosymfollow"] = (false, MountFlags.NoSymFollow),
        ["rbind"] = (false, MountFlags.Bind | MountFlags.Rec),
        ["relatime"] = (false, MountFlags.RelAtime),
        ["remount"] = (false, MountFlags.Remount),
        ["ro"] = (false, MountFlags.ReadOnly),
        ["rw"] = (true, MountFlags.ReadOnly),
        ["silent"] = (false, MountFlags.Silent),
        ["strictatime"] = (false, MountFlags.StrictAtime),
        ["suid"] = (true, MountFlags.NoSuid),
        ["sync"] = (false, MountFlags.Synchronous),
    };

    private static readonly Dictionary<string, MountFlags> PropagationTable = new(StringComparer.Ordinal)
    {
        ["private"] = MountFlags.Private,
        ["rprivate"] = MountFlags.Private | MountFlags.Rec,
        ["shared"] = MountFlags.Shared,
        ["rshared"] = MountFlags.Shared | MountFlags.Rec,
        ["slave"] = MountFlags.Slave,
        ["rslave"] = MountFlags.Slave | MountFlags.Rec,
        ["unbindable"] = MountFlags.Unbindable,
        ["runbindable"] = MountFlags.Unbindable | MountFlags.Rec,
    };

    /// <summary>
    /// runc 1.1's recursive attributes ("rro", "rnosuid", …): applied with mount_setattr(AT_RECURSIVE) to the mount and
    /// every mount below it (MOUNT_ATTR_* bits; Clear = the attribute is cleared).
    /// </summary>
    private static readonly Dictionary<string, (bool Clear, ulong Attr)> RecursiveTable = new(StringComparer.Ordinal)
    {
        ["rro"] = (false, 0x1), ["rrw"] = (true, 0x1),
        ["rnosuid"] = (false, 0x2), ["rsuid"] = (true, 0x2),
        ["rnodev"] = (false, 0x4), ["rdev"] = (true, 0x4),
        ["rnoexec"] = (false, 0x8), ["rexec"] = (true, 0x8),
        ["rnodiratime"] = (false, 0x80), ["rdiratime"] = (true, 0x80),
        ["rrelatime"] = (false, 0x0), ["rnorelatime"] = (true, 0x0),
        ["rnoatime"] = (false, 0x10), ["ratime"] = (true, 0x10),
        ["rstrictatime"] = (false, 0x20), ["rnostrictatime"] = (true, 0x20),
        ["rnosymfollow"] = (false, 0x200000), ["rsymfollow"] = (true, 0x200000),
    };

    /// <summary>MOUNT_ATTR__ATIME: the access-time field of mount_setattr (set with its whole mask cleared).</summary>
    private const ulong AtimeMask = 0x70;

    /// <summary>runc's extension: a tmpfs starts with a copy of what the rootfs has at its destination.</summary>
    private const string TmpCopyUp = "tmpcopyup";

    /// <summary>Every option name understood as a flag, a propagation or an extension (for <c>features</c>), sorted.</summary>
    public static IEnumerable<string> KnownOptions
    {
        get
        {
            var names = new List<string>(FlagTable.Keys);
            names.AddRange(PropagationTable.Keys);
            names.AddRange(RecursiveTable.Keys);
            names.AddRange(["idmap", "ridmap", TmpCopyUp]);
            names.Sort(StringComparer.Ordinal);
            return names;
        }
    }

    /// <summary>MS_* flags for the mount call.</summary>
    public MountFlags Flags { get; private set; }

    /// <summary>Propagation changes (MS_SHARED etc., maybe with MS_REC), applied one by one after the mount.</summary>
    public List<MountFlags> Propagation { get; } = [];

    /// <summary>Filesystem-specific options joined with commas (e.g. "mode=755,size=65536k"), or null.</summary>
    public string? Data { get; private set; }

    /// <summary>"idmap" or "ridmap": an idmapped bind mount (runtime-spec 1.2; see IdmappedMounts).</summary>
    public bool IdMap { get; private set; }

    /// <summary>"ridmap": the idmapping applies to every mount of the (rbind) tree, not only its top.</summary>
    public bool RecursiveIdMap { get; private set; }

    /// <summary>tmpcopyup (podman's --tmpfs and --read-only mounts): copy the destination's contents into the new tmpfs.</summary>
    public bool CopyUp { get; private set; }

    /// <summary>Recursive attributes to set (MOUNT_ATTR_*), from "rro" and the like; see <see cref="HasRecursiveAttributes"/>.</summary>
    public ulong RecursiveAttrSet { get; private set; }

    /// <summary>Recursive attributes to clear (MOUNT_ATTR_*; the whole access-time field when an access-time option is given).</summary>
    public ulong RecursiveAttrClear { get; private set; }

    /// <summary>Some recursive attribute option was given (mount_setattr AT_RECURSIVE after the mount).</summary>
    public bool HasRecursiveAttributes { get; private set; }

    /// <summary>True when the options ask for a bind mount (bind or rbind).</summary>
    public bool IsBind => (Flags & MountFlags.Bind) != 0;

    /// <summary>Parses <paramref name="options"/> (null = none).</summary>
    public static MountOptions Parse(IEnumerable<string>? options)
    {
        var result = new MountOptions();
        var data = new List<string>();
        foreach (var option in options ?? [])
        {
            if (FlagTable.TryGetValue(option, out var f))
            {
                result.Flags = f.Clear ? result.Flags & ~f.Flag : result.Flags | f.Flag;
            }
            else if (PropagationTable.TryGetValue(option, out var p))
            {
                result.Propagation.Add(p);
            }
            else if (RecursiveTable.TryGetValue(option, out var r))
            {
                result.HasRecursiveAttributes = true;
                var atime = option.EndsWith("atime", StringComparison.Ordinal) && option is not ("rnodiratime" or "rdiratime");
                if (atime)
                {
                    // The access-time field is one value: set one, clear the field.
                    result.RecursiveAttrClear |= AtimeMask;
                    result.RecursiveAttrSet = (result.RecursiveAttrSet & ~AtimeMask) | (r.Clear ? 0 : r.Attr);
                }
                else if (r.Clear)
                {
                    result.RecursiveAttrSet &= ~r.Attr;
                    result.RecursiveAttrClear |= r.Attr;
                }
                else
                {
                    result.RecursiveAttrSet |= r.Attr;
                    result.RecursiveAttrClear &= ~r.Attr;
                }
            }
            else if (option is "idmap" or "ridmap")
            {
                result.IdMap = true;
                result.RecursiveIdMap |= option == "ridmap";
            }
            else if (option == TmpCopyUp)
            {
                result.CopyUp = true;
            }
            else if (option.Length > 0)
            {
                data.Add(option);
            }
        }
        result.Data = data.Count > 0 ? string.Join(',', data) : null;
        return result;
    }

    /// <summary>The propagation flags of a rootfsPropagation value (default rprivate), per config-linux.md#rootfs-mount-propagation.</summary>
    /// <exception cref="ArgumentException">an unknown value.</exception>
    public static MountFlags RootPropagation(string? value) =>
        string.IsNullOrEmpty(value) ? MountFlags.Private | MountFlags.Rec
        : PropagationTable.TryGetValue(value, out var p) ? p
        : throw new ArgumentException($"linux.rootfsPropagation: unknown value \"{value}\"");
}
