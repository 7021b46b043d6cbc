using System.Globalization;
using System.Text;
using OciRuntime.Interop;
using OciRuntime.Spec;

namespace OciRuntime.Runtime.ProcessModel;

/// <summary>
/// Writes the id maps of a new user namespace (config-linux.md#user-namespace-mappings) for the process
/// <c>pid</c>: uid_map, then setgroups, then gid_map. As root the maps are written directly; an unprivileged caller
/// that maps more than its own id uses newuidmap/newgidmap (Debian's uidmap package), as runc does.
/// </summary>
public static class UserNamespace
{
    private static readonly string[] HelperDirs = ["/usr/bin/", "/bin/", "/usr/sbin/"];

    /// <summary>Writes <paramref name="uidMappings"/> and <paramref name="gidMappings"/> for process <paramref name="pid"/>.</summary>
    /// <exception cref="IOException">a map was refused; the message names linux.uidMappings or linux.gidMappings.</exception>
    public static void WriteMappings(int pid, IReadOnlyList<LinuxIdMapping> uidMappings, IReadOnlyList<LinuxIdMapping> gidMappings)
    {
        var privileged = Libc.geteuid() == 0;
        var selfOnlyGid = gidMappings.Count == 1 && gidMappings[0].Size == 1 && gidMappings[0].HostId == Libc.getegid();
        Write(pid, "uid_map", "linux.uidMappings", uidMappings, privileged ? null : "newuidmap");
        if (!privileged && selfOnlyGid)
        {
            // An unprivileged process may map its own gid only after denying setgroups.
            WriteProc(pid, "setgroups", "deny", "linux.gidMappings");
            Write(pid, "gid_map", "linux.gidMappings", gidMappings, null);
        }
        else
        {
            Write(pid, "gid_map", "linux.gidMappings", gidMappings, privileged ? null : "newgidmap");
        }
    }

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
        var path = HelperDirs.Select(d => d + helper).FirstOrDefault(File.Exists)
            ?? throw new IOException($"config.json: {field}: {helper} not found (install Debian's uidmap package)");
        var devNull = SafeFd.Check(Libc.open("/dev/null", OpenFlags.O_RDWR | OpenFlags.O_CLOEXEC), "open /dev/null");
        using (devNull)
        {
            var child = Libc.Spawn(path, args, ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], devNull.Fd, 2, 2);
            var status = Libc.WaitPid(child);
            if (!status.Exited || status.Code != 0) throw new IOException($"config.json: {field}: {helper} failed (status {status.ShellStatus})");
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
