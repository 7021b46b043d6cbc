using System.Runtime.InteropServices;
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
        try
        {
            foreach (var leaf in leafSet)
            {
                if (created.Contains(leaf)) fs.RemoveTree(leaf);
            }
        }
        catch (SyscallException e)
        {
            throw new CgroupException($"remove cgroup: {e.Message}", null, e);
        }
        // Deepest first: a longer path is never an ancestor of a shorter one.
        var parents = created.FindAll(d => !leafSet.Contains(d));
        parents.Sort(static (a, b) => b.Length.CompareTo(a.Length));
        foreach (var parent in parents)
        {
            if (Libc.unlinkat(OpenFlags.AT_FDCWD, parent, OpenFlags.AT_REMOVEDIR) == 0) continue;
            var errno = Marshal.GetLastPInvokeError();
            if (errno == Errno.ENOTEMPTY && fs.Fake && !HasAny(Directory.EnumerateDirectories(parent)))
            {
                foreach (var f in Directory.EnumerateFiles(parent)) File.Delete(f);
                _ = Libc.unlinkat(OpenFlags.AT_FDCWD, parent, OpenFlags.AT_REMOVEDIR);
            }
            // EBUSY / ENOTEMPTY: another container's cgroup lives there; ENOENT: already gone.
        }
        created.RemoveAll(d => !Directory.Exists(d));
    }

    private static bool HasAny(IEnumerable<string> entries)
    {
        using var e = entries.GetEnumerator();
        return e.MoveNext();
    }
}
