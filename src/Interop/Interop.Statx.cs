using System.Runtime.InteropServices;

namespace OciRuntime.Interop;

public static partial class Libc
{
    [LibraryImport(Name, EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int statx(int dirfd, string path, int flags, uint mask, byte* buf);

    /// <summary>
    /// Owner, group and mode (type and permission bits) of <paramref name="path"/> itself, not following a final
    /// symlink: statx(2), whose layout is the same on every architecture.
    /// </summary>
    /// <exception cref="SyscallException">statx failed.</exception>
    public static unsafe (uint Uid, uint Gid, uint Mode) LStatOwner(string path)
    {
        const uint STATX_MODE = 0x2, STATX_UID = 0x8, STATX_GID = 0x10;
        byte* buf = stackalloc byte[256]; // struct statx
        Check(statx(OpenFlags.AT_FDCWD, path, OpenFlags.AT_SYMLINK_NOFOLLOW, STATX_MODE | STATX_UID | STATX_GID, buf), $"statx {path}");
        return (*(uint*)(buf + 20), *(uint*)(buf + 24), *(ushort*)(buf + 28));
    }
}
