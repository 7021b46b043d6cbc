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
    /// that were not created here are left alone.
    /// </summary>
    /// <exception cref="CgroupException">a created container directory cannot be removed.</exception>
    public static void Remove(CgroupFs fs, IEnumerable<string> leaves, List<string> created)
    {
        var leafSet = new HashSet<string>(leaves, StringComparer.Ordinal);
        // What is known gone (removed here, or already missing) leaves `created`; no stat afterwards to find out.
        var gone = new List<string>();
        try
        {
            foreach (var leaf in leafSet)
            {
                if (!created.Contains(leaf)) continue;
                fs.RemoveTree(leaf);
                gone.Add(leaf);
            }
        }
        catch (SyscallException e)
        {
            Forget(created, gone);
            throw new CgroupException($"remove cgroup: {e.Message}", null, e);
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
