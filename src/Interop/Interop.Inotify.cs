using System.Runtime.InteropServices;

namespace OciRuntime.Interop;

// Own declarations (Tmds.LibC 0.5.0 lacks them): inotify_init1, inotify_add_watch.
public static partial class Libc
{
    /// <summary>inotify_init1 flag: close on exec.</summary>
    public const int IN_CLOEXEC = 0x80000;
    /// <summary>inotify_init1 flag: non-blocking reads.</summary>
    public const int IN_NONBLOCK = 0x800;
    /// <summary>inotify event: the file was modified (cgroup v2 notifies *.events changes this way).</summary>
    public const uint IN_MODIFY = 0x2;

    /// <summary>inotify_init1(2).</summary>
    [LibraryImport(Name, EntryPoint = "inotify_init1", SetLastError = true)]
    public static partial int inotify_init1(int flags);

    /// <summary>inotify_add_watch(2); returns the watch descriptor.</summary>
    [LibraryImport(Name, EntryPoint = "inotify_add_watch", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int inotify_add_watch(int fd, string path, uint mask);
}
