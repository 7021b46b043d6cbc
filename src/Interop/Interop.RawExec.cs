using System.Runtime.InteropServices;

namespace OciRuntime.Interop;

/// <summary>
/// The raw calls of the direct-exec child (<c>exec</c> without an <c>ocirun init</c> in between, docs/process-model.md):
/// the process attributes runc's setns init applies (prctl, prlimit, capset, setgroups, umask, chdir, signals) made
/// from a one-thread copy of the runtime. Same rules as the rest of <see cref="RawSys"/>: <c>[SuppressGCTransition]</c>,
/// blittable, on memory prepared before the clone; glibc wrappers only where they are a bare syscall (no setxid
/// broadcast, no locks, no malloc).
/// </summary>
public static unsafe partial class RawSys
{
    /// <summary>
    /// syscall(2) with up to four arguments: for calls whose glibc wrapper is not a bare syscall (setgroups, capset)
    /// or that glibc 2.36 lacks. <paramref name="number"/> must be read before the clone (e.g. from
    /// <see cref="SyscallNumbers"/>). Returns the result, or -1 with the errno in <see cref="ErrnoValue"/>.
    /// </summary>
    public static long Syscall(long number, nint a, nint b, nint c) => syscall4(number, a, b, c);

    /// <summary>prctl(2).</summary>
    [LibraryImport(Libc.Name, EntryPoint = "prctl")]
    [SuppressGCTransition]
    public static partial int Prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    /// <summary>prlimit(2) of the calling process (pid 0): sets <paramref name="limit"/> for <paramref name="resource"/>.</summary>
    [LibraryImport(Libc.Name, EntryPoint = "prlimit64")]
    [SuppressGCTransition]
    public static partial int Prlimit(int pid, int resource, RLimit* limit, RLimit* old);

    /// <summary>umask(2); returns the previous mask.</summary>
    [LibraryImport(Libc.Name, EntryPoint = "umask")]
    [SuppressGCTransition]
    public static partial uint Umask(uint mask);

    /// <summary>chdir(2) of a pre-marshalled path.</summary>
    [LibraryImport(Libc.Name, EntryPoint = "chdir")]
    [SuppressGCTransition]
    public static partial int Chdir(byte* path);

    /// <summary>getcwd(3) into a caller's buffer (a bare syscall when the buffer is given); null on failure.</summary>
    [LibraryImport(Libc.Name, EntryPoint = "getcwd")]
    [SuppressGCTransition]
    public static partial byte* Getcwd(byte* buf, nuint size);

    /// <summary>close_range(2); with <see cref="OpenFlags.CLOSE_RANGE_CLOEXEC"/> marks the range close-on-exec.</summary>
    [LibraryImport(Libc.Name, EntryPoint = "close_range")]
    [SuppressGCTransition]
    public static partial int CloseRange(uint first, uint last, int flags);

    /// <summary>fchown(2).</summary>
    [LibraryImport(Libc.Name, EntryPoint = "fchown")]
    [SuppressGCTransition]
    public static partial int Fchown(int fd, uint uid, uint gid);

    /// <summary>
    /// fstatat(2) into a kernel <c>struct stat</c> of <see cref="StatSize"/> bytes (x86-64/arm64 generic layout:
    /// st_mode u32 at <see cref="StatModeOffset"/>, st_uid, st_gid, st_rdev u64 at <see cref="StatRdevOffset"/>).
    /// </summary>
    [LibraryImport(Libc.Name, EntryPoint = "fstatat")]
    [SuppressGCTransition]
    public static partial int Fstatat(int dirfd, byte* path, byte* statbuf, int flags);

    /// <summary>Bytes of the buffer <see cref="Fstatat"/> fills (struct stat is 144 bytes on x86-64, 128 on arm64).</summary>
    public const int StatSize = 256;

    /// <summary>Offset of st_mode in struct stat: 24 on x86-64, 16 on arm64.</summary>
    public static int StatModeOffset => RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 16 : 24;

    /// <summary>Offset of st_uid (st_gid follows it): 28 on x86-64, 24 on arm64.</summary>
    public static int StatUidOffset => StatModeOffset + 4;

    /// <summary>Offset of st_rdev: 40 on x86-64, 32 on arm64.</summary>
    public static int StatRdevOffset => RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 32 : 40;
}
