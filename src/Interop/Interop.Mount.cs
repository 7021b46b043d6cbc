using System.Runtime.InteropServices;

namespace OciRuntime.Interop;

/// <summary>mount(2) flags (MS_*) and umount2(2) flags.</summary>
[Flags]
public enum MountFlags : ulong
{
    /// <summary>No flags.</summary>
    None = 0,
    /// <summary>MS_RDONLY.</summary>
    ReadOnly = 1,
    /// <summary>MS_NOSUID.</summary>
    NoSuid = 2,
    /// <summary>MS_NODEV.</summary>
    NoDev = 4,
    /// <summary>MS_NOEXEC.</summary>
    NoExec = 8,
    /// <summary>MS_SYNCHRONOUS.</summary>
    Synchronous = 16,
    /// <summary>MS_REMOUNT.</summary>
    Remount = 32,
    /// <summary>MS_MANDLOCK.</summary>
    MandLock = 64,
    /// <summary>MS_DIRSYNC.</summary>
    DirSync = 128,
    /// <summary>MS_NOSYMFOLLOW.</summary>
    NoSymFollow = 256,
    /// <summary>MS_NOATIME.</summary>
    NoAtime = 1024,
    /// <summary>MS_NODIRATIME.</summary>
    NoDirAtime = 2048,
    /// <summary>MS_BIND.</summary>
    Bind = 4096,
    /// <summary>MS_MOVE.</summary>
    Move = 8192,
    /// <summary>MS_REC.</summary>
    Rec = 16384,
    /// <summary>MS_SILENT.</summary>
    Silent = 32768,
    /// <summary>MS_UNBINDABLE.</summary>
    Unbindable = 1 << 17,
    /// <summary>MS_PRIVATE.</summary>
    Private = 1 << 18,
    /// <summary>MS_SLAVE.</summary>
    Slave = 1 << 19,
    /// <summary>MS_SHARED.</summary>
    Shared = 1 << 20,
    /// <summary>MS_RELATIME.</summary>
    RelAtime = 1 << 21,
    /// <summary>MS_STRICTATIME.</summary>
    StrictAtime = 1 << 24,
    /// <summary>MS_LAZYTIME.</summary>
    LazyTime = 1 << 25,
}

public static partial class Libc
{
    /// <summary>umount2: lazy detach.</summary>
    public const int MNT_DETACH = 2;

    /// <summary>mount(2).</summary>
    public static unsafe int mount(string? source, string target, string? fstype, MountFlags flags, string? data)
    {
        fixed (byte* s = Utf8Z(source))
        fixed (byte* t = Utf8Z(target))
        fixed (byte* f = Utf8Z(fstype))
        fixed (byte* d = Utf8Z(data))
            return LibC.mount(s, t, f, (Tmds.Linux.ulong_t)(ulong)flags, d);
    }

    /// <summary>umount2(2).</summary>
    public static unsafe int umount2(string target, int flags)
    {
        fixed (byte* t = Utf8Z(target)) return LibC.umount2(t, flags);
    }

    /// <summary>pivot_root(2) (not in glibc nor Tmds.LibC: LibC.syscall 155 on x86-64, 41 on arm64).</summary>
    public static unsafe int pivot_root(string newRoot, string putOld)
    {
        fixed (byte* n = Utf8Z(newRoot))
        fixed (byte* o = Utf8Z(putOld))
            return (int)Result(LibC.syscall(Arg(SyscallNumbers.PivotRoot), n, o));
    }

    /// <summary>
    /// Mounts, and throws <see cref="SyscallException"/> with a message naming source, target and type
    /// (e.g. <c>mount proc on /rootfs/proc (type proc): no such device</c>); <paramref name="shownTarget"/> names the
    /// target in that message when <paramref name="target"/> is a <c>/proc/self/fd/N</c> handle path.
    /// </summary>
    public static void Mount(string? source, string target, string? fstype, MountFlags flags, string? data, string? shownTarget = null)
    {
        if (mount(source, target, fstype, flags, data) != 0)
        {
            target = shownTarget ?? target;
            var what = (flags & MountFlags.Remount) != 0 ? $"remount {target}"
                : (flags & (MountFlags.Shared | MountFlags.Slave | MountFlags.Private | MountFlags.Unbindable)) != 0 && fstype is null && (flags & MountFlags.Bind) == 0
                    ? $"set propagation of {target}"
                    : $"mount {source ?? "none"} on {target}" + (fstype is null ? "" : $" (type {fstype})");
            throw SyscallException.FromLastError(what);
        }
    }
}
