using OciRuntime.Interop;

namespace OciRuntime.Cgroups;

/// <summary>Emptying and removing a container's cgroups, shared by the v1 and v2 managers.</summary>
internal static class CgroupRemoval
{
    /// <summary>SIGKILLs whatever is left in <paramref name="manager"/>'s cgroups and waits (up to 10 s) until they are empty.</summary>
    public static void KillRemaining(ICgroupManager manager)
    {
        if (manager.GetPids().Count == 0) return;
        manager.SignalAll(Signals.SIGKILL);
        for (var i = 0; i < 1000 && manager.GetPids().Count > 0; i++) Thread.Sleep(10);
    }

    /// <summary>
    /// Removes <paramref name="leaves"/> (the container's own directories) with the cgroups below them when this
    /// runtime created them, then the other created directories (parents) deepest first, each only if empty. Directories
    /// that were not created here are left alone. A leaf that cannot be removed (after RemoveTree's retries) does not
    /// stop the others: every hierarchy is tried, and what is left is named at the end.
    /// </summary>
    /// <exception cref="CgroupException">created container directories are left (the message names each, with its error).</exception>
    public static void Remove(CgroupFs fs, IEnumerable<string> leaves, List<string> created)
    {
        var leafSet = new HashSet<string>(leaves, StringComparer.Ordinal);
        // What is known gone (removed here, or already missing) leaves `created`; no stat afterwards to find out.
        var gone = new List<string>();
        List<string>? left = null;
        foreach (var leaf in leafSet)
        {
            if (!created.Contains(leaf)) continue;
            try
            {
                fs.RemoveTree(leaf);
                gone.Add(leaf);
            }
            catch (Exception e) when (e is SyscallException or IOException or UnauthorizedAccessException)
            {
                (left ??= []).Add(e.Message);
            }
        }
        // Deepest first: a longer path is never an ancestor of a shorter one.
        var parents = created.FindAll(d => !leafSet.Contains(d));
        parents.Sort(static (a, b) => b.Length.CompareTo(a.Length));
        foreach (var parent in parents)
        {
            var errno = CgroupFs.Rmdir(parent);
            if (errno == 0)
            {
                gone.Add(parent);
                continue;
            }
            if (errno == Errno.ENOTEMPTY && fs.Fake && !HasAny(Directory.EnumerateDirectories(parent)))
            {
                foreach (var f in Directory.EnumerateFiles(parent)) File.Delete(f);
                if (CgroupFs.Rmdir(parent) == 0) gone.Add(parent);
                continue;
            }
            // EBUSY / ENOTEMPTY: another container's cgroup lives there; ENOENT: already gone.
            if (errno == Errno.ENOENT) gone.Add(parent);
        }
        Forget(created, gone);
        if (left is not null) throw new CgroupException($"remove cgroup: {string.Join("; ", left)}");
    }

    // Drops the directories in `gone`, and any below them, from `created`.
    private static void Forget(List<string> created, List<string> gone)
    {
        created.RemoveAll(d =>
        {
            foreach (var g in gone)
            {
                if (d == g || (d.Length > g.Length && d[g.Length] == '/' && d.StartsWith(g, StringComparison.Ordinal))) return true;
            }
            return false;
        });
    }

    private static bool HasAny(IEnumerable<string> entries)
    {
        using var e = entries.GetEnumerator();
        return e.MoveNext();
    }
}

/// <summary>
/// What a container's record holds about its cgroups before they exist (crash consistency: the state root,
/// docs/cgroups.md "Removal"): the directories create is about to make, so that a create killed after any mkdir is
/// still cleaned up by <c>delete --force</c>.
/// </summary>
public static class CgroupPlan
{
    /// <summary>
    /// <paramref name="manager"/>'s state with <see cref="CgroupState.Created"/> set to the directories that do not
    /// exist yet: each hierarchy's container directory and its missing ancestors, parents first (one open per level
    /// probed; the existing directories stay out, so removal never takes a cgroup that was there before).
    /// </summary>
    public static CgroupState Planned(ICgroupManager manager)
    {
        ArgumentNullException.ThrowIfNull(manager);
        var state = manager.State;
        foreach (var dir in manager.Paths.Values)
        {
            var missing = new List<string>();
            for (var d = dir; d.Length > 1 && !Exists(d); d = System.IO.Path.GetDirectoryName(d) ?? "/") missing.Add(d);
            for (var i = missing.Count - 1; i >= 0; i--)
            {
                if (!state.Created.Contains(missing[i])) state.Created.Add(missing[i]);
            }
        }
        return state;
    }

    /// <summary>
    /// For a container whose record is lost (a damaged state.json): <paramref name="manager"/>'s state with its own
    /// directories (those named after the container, the leaves) counted as created, so that they are removed.
    /// </summary>
    public static CgroupState Recovered(ICgroupManager manager)
    {
        ArgumentNullException.ThrowIfNull(manager);
        var state = manager.State;
        foreach (var dir in manager.Paths.Values)
        {
            if (!state.Created.Contains(dir)) state.Created.Add(dir);
        }
        return state;
    }

    private static bool Exists(string dir)
    {
        var fd = CgroupFs.Open(dir, OpenFlags.O_PATH | OpenFlags.O_DIRECTORY | OpenFlags.O_CLOEXEC);
        if (fd < 0) return false;
        Libc.close(fd);
        return true;
    }
}
