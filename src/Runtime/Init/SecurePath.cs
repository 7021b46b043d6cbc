using System.Text;
using OciRuntime.Interop;

namespace OciRuntime.Runtime.Init;

/// <summary>
/// Lexical helpers for container paths: <see cref="Clean"/> (absolute, ".." clamped at "/") and <see cref="ReadLink"/>.
/// Resolving a path inside the rootfs (symlinks followed as the container sees them) is done by fd, in
/// <see cref="RootDir"/>, never by a path string (CVE-2021-30465).
/// </summary>
public static class SecurePath
{
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
