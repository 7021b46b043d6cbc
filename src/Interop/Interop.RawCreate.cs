using System.Runtime.InteropServices;

namespace OciRuntime.Interop;

/// <summary>
/// The raw calls of the direct-create child (a container init that is a one-thread copy of the runtime and never
/// starts a second .NET runtime, docs/process-model.md "create: the direct path"): receiving its last orders, the
/// pivot_root sequence, the PATH lookup and handing over to the exec trampoline. Same rules
/// as the rest of <see cref="RawSys"/>: <c>[SuppressGCTransition]</c>, blittable, glibc entry points that are a bare
/// syscall only.
/// </summary>
public static unsafe partial class RawSys
{
    /// <summary>struct iovec.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct IoVec
    {
        /// <summary>iov_base.</summary>
        public void* Base;
        /// <summary>iov_len in bytes.</summary>
        public nuint Length;
    }

    /// <summary>struct msghdr (64-bit layout).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct MsgHdr
    {
        /// <summary>msg_name (unused: connected sockets).</summary>
        public void* Name;
        /// <summary>msg_namelen.</summary>
        public uint NameLength;
        /// <summary>msg_iov.</summary>
        public IoVec* Iov;
        /// <summary>msg_iovlen.</summary>
        public nuint IovLength;
        /// <summary>msg_control: the ancillary data buffer (SCM_RIGHTS).</summary>
        public void* Control;
        /// <summary>msg_controllen in bytes; on return the length used.</summary>
        public nuint ControlLength;
        /// <summary>msg_flags (MSG_CTRUNC when fds did not fit).</summary>
        public int Flags;
    }

    /// <summary>recvmsg(2).</summary>
    [LibraryImport(Libc.Name, EntryPoint = "recvmsg")]
    [SuppressGCTransition]
    public static partial nint Recvmsg(int fd, MsgHdr* msg, int flags);

    /// <summary>sendmsg(2).</summary>
    [LibraryImport(Libc.Name, EntryPoint = "sendmsg")]
    [SuppressGCTransition]
    public static partial nint Sendmsg(int fd, MsgHdr* msg, int flags);

    /// <summary>faccessat(2) (flags 0: a bare syscall in glibc).</summary>
    [LibraryImport(Libc.Name, EntryPoint = "faccessat")]
    [SuppressGCTransition]
    public static partial int Faccessat(int dirfd, byte* path, int mode, int flags);

    /// <summary>mount(2) of pre-marshalled strings (any of them may be null).</summary>
    [LibraryImport(Libc.Name, EntryPoint = "mount")]
    [SuppressGCTransition]
    public static partial int Mount(byte* source, byte* target, byte* fstype, nuint flags, void* data);

    /// <summary>umount2(2).</summary>
    [LibraryImport(Libc.Name, EntryPoint = "umount2")]
    [SuppressGCTransition]
    public static partial int Umount2(byte* target, int flags);

    /// <summary>memfd_create(2) of a pre-marshalled name.</summary>
    [LibraryImport(Libc.Name, EntryPoint = "memfd_create")]
    [SuppressGCTransition]
    public static partial int MemfdCreate(byte* name, uint flags);

    /// <summary>lseek(2).</summary>
    [LibraryImport(Libc.Name, EntryPoint = "lseek")]
    [SuppressGCTransition]
    public static partial long Lseek(int fd, long offset, int whence);

    /// <summary>fcntl(F_SETFD, flags) as a raw syscall (glibc's fcntl is variadic).</summary>
    /// <param name="nrFcntl">The fcntl syscall number, read before the clone.</param>
    /// <param name="fd">The fd.</param>
    /// <param name="flags">FD_CLOEXEC or 0.</param>
    public static int SetFdFlags(long nrFcntl, int fd, int flags) => (int)syscall4(nrFcntl, fd, 2 /* F_SETFD */, flags);

    /// <summary>
    /// Every signal the runtime handles goes back to SIG_DFL (ignored ones stay ignored until
    /// <see cref="ResetSignalsForExec"/>) and none is blocked: the handlers of the copied .NET runtime must never run.
    /// </summary>
    /// <param name="rtSigaction">The rt_sigaction syscall number, read before the clone.</param>
    /// <param name="rtSigprocmask">The rt_sigprocmask syscall number.</param>
    public static void ResetHandlers(long rtSigaction, long rtSigprocmask) => ResetSignals(rtSigaction, rtSigprocmask, handled: true);
}
