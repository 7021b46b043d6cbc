using System.Runtime.InteropServices;
using OciRuntime.Interop;

namespace OciRuntime.Cgroups;

/// <summary>
/// The controllers a container on a hybrid host needs from the cgroup2 hierarchy (those bound to no v1 hierarchy,
/// typically hugetlb), enabled in the ancestors' cgroup.subtree_control only when its config asks for them, and
/// disabled again at delete where no other cgroup loses a setting by it (docs/cgroups.md, "Host modes").
/// </summary>
/// <remarks>
/// runc 1.1's fs driver never writes cgroup.subtree_control on a hybrid host: the container's cgroup2 directory has
/// no controllers, hugepageLimits fail there when hugetlb has no v1 hierarchy and linux.resources.unified is refused.
/// A controller left enabled in the cgroup2 root keeps it bound to the cgroup2 hierarchy while any child cgroup holds
/// its state: `mount -t cgroup -o hugetlb` then fails with EBUSY, which is the step (in benchmarks/lifecycle.sh and
/// conformance/spec/run.sh) that makes crun usable on such a host (crun refuses a hybrid host whose cgroup2 root has
/// any controller: "cgroups in hybrid mode not supported").
/// Every enable and disable runs under an exclusive flock(2) of the cgroup2 mount's root directory, so a delete never
/// disables a controller between another ocirun's enable and its writes.
/// </remarks>
internal static class HybridControllers
{
    // Controllers whose every setting lives in a "<controller>.…max" file, "max" (or empty) when unset: a child whose
    // files all read so loses nothing when its parent disables the controller.
    private static readonly string[] s_maxOnly = ["hugetlb", "pids", "rdma", "misc"];

    /// <summary>
    /// Enables <paramref name="controllers"/> in cgroup.subtree_control of every ancestor of <paramref name="dir"/>
    /// from the cgroup2 mount point down (where not enabled yet), so that <paramref name="dir"/> has them. A refusal
    /// is left to surface as the write of the field that needs the controller.
    /// </summary>
    public static void Enable(CgroupHost host, string dir, IReadOnlyList<string> controllers)
    {
        if (controllers.Count == 0 || host.UnifiedMount is not { } mount) return;
        using var _ = Lock(mount);
        foreach (var ancestor in Ancestors(mount, dir, topDown: true))
        {
            var enabled = Words(host.Fs.ReadOrNull(ancestor, "cgroup.subtree_control"));
            foreach (var c in controllers)
            {
                if (enabled.Contains(c)) continue;
                try
                {
                    host.Fs.Write(ancestor, "cgroup.subtree_control", "+" + c);
                }
                catch (SyscallException)
                {
                    // E.g. EBUSY in a cgroup with processes: the field's own write names what is missing.
                }
            }
        }
    }

    /// <summary>
    /// After <paramref name="dir"/> is removed: disables <paramref name="controllers"/> in each ancestor, deepest first
    /// up to the cgroup2 mount point, where no child still uses them (none has them in its own subtree_control, and
    /// each child's limit files are unset; for a controller not known to keep its settings in *.max files, only when
    /// the ancestor has no child left). Failures are ignored: what stays enabled is left as found.
    /// </summary>
    public static void Release(CgroupHost host, string dir, IReadOnlyList<string> controllers)
    {
        if (controllers.Count == 0 || host.UnifiedMount is not { } mount) return;
        using var _ = Lock(mount);
        foreach (var ancestor in Ancestors(mount, dir, topDown: false))
        {
            var enabled = Words(host.Fs.ReadOrNull(ancestor, "cgroup.subtree_control"));
            if (enabled.Count == 0) continue;
            List<string> children;
            try
            {
                children = [.. Directory.EnumerateDirectories(ancestor)];
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue; // gone (removed as a created parent) or unreadable
            }
            foreach (var c in controllers)
            {
                if (!enabled.Contains(c) || !children.TrueForAll(child => Unused(host.Fs, child, c))) continue;
                try
                {
                    host.Fs.Write(ancestor, "cgroup.subtree_control", "-" + c);
                }
                catch (SyscallException)
                {
                    // EBUSY: a child enabled it meanwhile; it stays.
                }
            }
        }
    }

    /// <summary>Whether <paramref name="child"/> loses nothing when its parent disables <paramref name="controller"/>.</summary>
    private static bool Unused(CgroupFs fs, string child, string controller)
    {
        if (Words(fs.ReadOrNull(child, "cgroup.subtree_control")).Contains(controller)) return false;
        if (Array.IndexOf(s_maxOnly, controller) < 0) return false;
        IEnumerable<string> files;
        try
        {
            files = Directory.EnumerateFiles(child, controller + ".*max");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return true; // the child went away
        }
        foreach (var file in files)
        {
            var text = fs.ReadOrNull(child, Path.GetFileName(file));
            if (text is not null && !IsUnset(text)) return false;
        }
        return true;
    }

    /// <summary>"max", "" or lines whose values are all max ("rdma0 hca_handle=max hca_object=max", "res max").</summary>
    internal static bool IsUnset(string text)
    {
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var tokens = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            for (var i = 0; i < tokens.Length; i++)
            {
                var value = tokens[i].Contains('=', StringComparison.Ordinal) ? tokens[i][(tokens[i].IndexOf('=', StringComparison.Ordinal) + 1)..] : tokens[i];
                if (value == "max") continue;
                if (i == 0 && tokens.Length > 1 && !tokens[i].Contains('=', StringComparison.Ordinal)) continue; // a key (device, resource)
                return false;
            }
        }
        return true;
    }

    // The ancestors of dir below and including the mount point (not dir itself).
    private static List<string> Ancestors(string mount, string dir, bool topDown)
    {
        var list = new List<string>();
        for (var d = Path.GetDirectoryName(dir); d is not null && d.Length >= mount.Length && d.StartsWith(mount, StringComparison.Ordinal); d = Path.GetDirectoryName(d))
            list.Add(d);
        if (topDown) list.Reverse();
        return list;
    }

    private static List<string> Words(string? text) =>
        [.. (text ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];

    private static SafeFd? Lock(string mount)
    {
        var fd = CgroupFs.Open(mount, OpenFlags.O_RDONLY | OpenFlags.O_DIRECTORY | OpenFlags.O_CLOEXEC);
        if (fd < 0) return null;
        var handle = new SafeFd(fd);
        while (Libc.flock(fd, OpenFlags.LOCK_EX) < 0 && Marshal.GetLastPInvokeError() == Errno.EINTR)
        {
        }
        return handle;
    }
}
