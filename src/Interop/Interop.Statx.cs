namespace OciRuntime.Interop;

public static partial class Libc
{
    /// <summary>Owner, mode and rdev of <paramref name="path"/> itself, not following a final symlink (statx AT_SYMLINK_NOFOLLOW).</summary>
    /// <exception cref="SyscallException">statx failed.</exception>
    public static FileOwner LStatPath(string path) => StatAt(OpenFlags.AT_FDCWD, path, OpenFlags.AT_SYMLINK_NOFOLLOW);
}
