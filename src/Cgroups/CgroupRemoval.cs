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
        var leafSet = leaves.ToHashSet(StringComparer.Ordinal);
        try
        {
            foreach (var leaf in leafSet.Where(created.Contains)) fs.RemoveTree(leaf);
        }
        catch (SyscallException e)
        {
            throw new CgroupException($"remove cgroup: {e.Message}", null, e);
        }
        foreach (var parent in created.Where(d => !leafSet.Contains(d)).OrderByDescending(d => d.Length))
        {
            if (Libc.unlinkat(OpenFlags.AT_FDCWD, parent, OpenFlags.AT_REMOVEDIR) == 0) continue;
            var errno = Marshal.GetLastPInvokeError();
            if (errno == Errno.ENOTEMPTY && fs.Fake && !Directory.EnumerateDirectories(parent).Any())
            {
                foreach (var f in Directory.EnumerateFiles(parent)) File.Delete(f);
                _ = Libc.unlinkat(OpenFlags.AT_FDCWD, parent, OpenFlags.AT_REMOVEDIR);
            }
            // EBUSY / ENOTEMPTY: another container's cgroup lives there; ENOENT: already gone.
        }
        created.RemoveAll(d => !Directory.Exists(d));
    }
}
