using System.Globalization;
using System.Text;
using OciRuntime.Interop;
using OciRuntime.Spec;

namespace OciRuntime.Runtime.ProcessModel;

/// <summary>
/// Writes the id maps of a new user namespace (config-linux.md#user-namespace-mappings) for the process
/// <c>pid</c>: uid_map, then setgroups, then gid_map. As root the maps are written directly; an unprivileged caller
/// writes a map of its own id alone directly too (denying setgroups first for the gid map, as the kernel requires),
/// and uses newuidmap/newgidmap (Debian's uidmap package, ranges from /etc/subuid and /etc/subgid) for anything
/// more, as runc does.
/// </summary>
public static class UserNamespace
{
    private static readonly string[] HelperDirs = ["/usr/bin/", "/bin/", "/usr/sbin/"];

    /// <summary>Writes <paramref name="uidMappings"/> and <paramref name="gidMappings"/> for process <paramref name="pid"/>.</summary>
    /// <param name="pid">The process whose (new) user namespace gets the maps.</param>
    /// <param name="uidMappings">linux.uidMappings (or a mount's).</param>
    /// <param name="gidMappings">linux.gidMappings (or a mount's).</param>
    /// <param name="field">Where the maps come from, for messages: "linux" or e.g. "mounts[3]".</param>
    /// <exception cref="IOException">a map was refused; the message names the field.</exception>
    public static void WriteMappings(int pid, IReadOnlyList<LinuxIdMapping> uidMappings, IReadOnlyList<LinuxIdMapping> gidMappings, string field = "linux")
    {
        var privileged = Libc.geteuid() == 0;
        var selfOnlyUid = IsSelfOnly(uidMappings, Libc.geteuid());
        var selfOnlyGid = IsSelfOnly(gidMappings, Libc.getegid());
        Write(pid, "uid_map", field + ".uidMappings", uidMappings, privileged || selfOnlyUid ? null : "newuidmap");
        if (!privileged && selfOnlyGid)
        {
            // An unprivileged process may map its own gid only after denying setgroups.
            WriteProc(pid, "setgroups", "deny", field + ".gidMappings");
            Write(pid, "gid_map", field + ".gidMappings", gidMappings, null);
        }
        else
        {
            Write(pid, "gid_map", field + ".gidMappings", gidMappings, privileged ? null : "newgidmap");
        }
    }

    private static bool IsSelfOnly(IReadOnlyList<LinuxIdMapping> mappings, uint id) =>
        mappings.Count == 1 && mappings[0].Size == 1 && mappings[0].HostId == id;

    private static void Write(int pid, string file, string field, IReadOnlyList<LinuxIdMapping> mappings, string? helper)
    {
        if (mappings.Count == 0) return;
        if (helper is null)
        {
            var text = new StringBuilder();
            foreach (var m in mappings) text.Append(CultureInfo.InvariantCulture, $"{m.ContainerId} {m.HostId} {m.Size}\n");
            WriteProc(pid, file, text.ToString(), field);
            return;
        }
        var args = new List<string> { helper, pid.ToString(CultureInfo.InvariantCulture) };
        foreach (var m in mappings)
        {
            args.Add(m.ContainerId.ToString(CultureInfo.InvariantCulture));
            args.Add(m.HostId.ToString(CultureInfo.InvariantCulture));
            args.Add(m.Size.ToString(CultureInfo.InvariantCulture));
        }
        var path = Array.Find(Array.ConvertAll(HelperDirs, d => d + helper), File.Exists)
            ?? throw new IOException($"config.json: {field}: {helper} not found (install Debian's uidmap package)");
        var devNull = SafeFd.Check(Libc.open("/dev/null", OpenFlags.O_RDWR | OpenFlags.O_CLOEXEC), "open /dev/null");
        using (devNull)
        {
            var child = Libc.Spawn(path, args, ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], devNull.Fd, 2, 2);
            var status = Libc.WaitPid(child);
            if (!status.Exited || status.Code != 0)
                throw new IOException($"config.json: {field}: {helper} failed (status {status.ShellStatus}; are the ranges in /etc/sub{(helper == "newuidmap" ? "uid" : "gid")} for this user?)");
        }
    }

    private static void WriteProc(int pid, string file, string text, string field)
    {
        var path = $"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/{file}";
        try
        {
            File.WriteAllText(path, text);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"config.json: {field}: write {path}: {e.Message}", e);
        }
    }
}
