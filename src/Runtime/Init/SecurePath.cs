using System.Text;
using OciRuntime.Interop;

namespace OciRuntime.Runtime.Init;

/// <summary>
/// Resolves a path inside a root directory the way the container would see it: symlinks are followed relative
/// to the root, and ".." never climbs above it (filepath-securejoin semantics). Used for every mount destination
/// and device path, so a rootfs symlink such as <c>/etc -> /host/etc</c> cannot point a mount at the host.
/// </summary>
public static class SecurePath
{
    private const int MaxSymlinks = 255;

    /// <summary>
    /// Returns <paramref name="root"/> joined with <paramref name="unsafePath"/>, symlinks resolved inside
    /// <paramref name="root"/>. Components that do not exist yet are kept as written (after ".." clamping).
    /// </summary>
    /// <param name="root">An absolute, symlink-free host path (the rootfs).</param>
    /// <param name="unsafePath">A path as seen inside the container (absolute or relative to its /).</param>
    /// <exception cref="IOException">more than 255 symlinks on the way (ELOOP).</exception>
    public static string Resolve(string root, string unsafePath)
    {
        root = root.TrimEnd('/');
        var pending = new List<string>(Split(unsafePath));
        pending.Reverse(); // used as a stack: the last element is the next component
        var current = new List<string>();
        var links = 0;
        while (pending.Count > 0)
        {
            var part = pending[^1];
            pending.RemoveAt(pending.Count - 1);
            if (part is "" or ".") continue;
            if (part == "..")
            {
                if (current.Count > 0) current.RemoveAt(current.Count - 1);
                continue;
            }
            var candidate = root + "/" + string.Join('/', current.Append(part));
            var target = ReadLink(candidate);
            if (target is null)
            {
                current.Add(part);
                continue;
            }
            if (++links > MaxSymlinks) throw new IOException($"resolve {unsafePath} in {root}: too many levels of symbolic links");
            if (target.StartsWith('/')) current.Clear();
            var targetParts = Split(target).ToList();
            for (var i = targetParts.Count - 1; i >= 0; i--) pending.Add(targetParts[i]);
        }
        return current.Count == 0 ? root : root + "/" + string.Join('/', current);
    }

    /// <summary>The path as the container sees it: absolute, cleaned, ".." clamped at "/" (no symlink resolution).</summary>
    public static string Clean(string path)
    {
        var parts = new List<string>();
        foreach (var part in Split(path))
        {
            if (part is "" or ".") continue;
            if (part == "..") { if (parts.Count > 0) parts.RemoveAt(parts.Count - 1); continue; }
            parts.Add(part);
        }
        return "/" + string.Join('/', parts);
    }

    private static string[] Split(string path) => path.Split('/', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>The target of symlink <paramref name="path"/>, or null when it is not a symlink or does not exist.</summary>
    public static unsafe string? ReadLink(string path)
    {
        const int size = 4096;
        byte* buf = stackalloc byte[size];
        var n = Libc.readlinkat(OpenFlags.AT_FDCWD, path, buf, size);
        return n < 0 ? null : Encoding.UTF8.GetString(buf, (int)n);
    }
}
