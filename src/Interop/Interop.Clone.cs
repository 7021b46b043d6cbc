using System.Runtime.InteropServices;

namespace OciRuntime.Interop;

/// <summary>clone(2)/clone3(2) flags used by the runtime.</summary>
[Flags]
public enum CloneFlags : ulong
{
    /// <summary>No flags.</summary>
    None = 0,
    /// <summary>CLONE_NEWTIME (clone3 only).</summary>
    NewTime = 0x80,
    /// <summary>CLONE_FS (for unshare: a private root, cwd and umask for the calling thread, which setns of a mount namespace needs).</summary>
    Fs = 0x200,
    /// <summary>CLONE_PIDFD: return a pidfd of the child in <see cref="CloneArgs.PidFd"/>.</summary>
    PidFd = 0x1000,
    /// <summary>CLONE_NEWNS (mount namespace).</summary>
    NewNs = 0x20000,
    /// <summary>CLONE_NEWCGROUP.</summary>
    NewCgroup = 0x02000000,
    /// <summary>CLONE_NEWUTS.</summary>
    NewUts = 0x04000000,
    /// <summary>CLONE_NEWIPC.</summary>
    NewIpc = 0x08000000,
    /// <summary>CLONE_NEWUSER.</summary>
    NewUser = 0x10000000,
    /// <summary>CLONE_NEWPID.</summary>
    NewPid = 0x20000000,
    /// <summary>CLONE_NEWNET.</summary>
    NewNet = 0x40000000,
    /// <summary>CLONE_INTO_CGROUP: start the child in the cgroup v2 directory fd <see cref="CloneArgs.Cgroup"/>.</summary>
    IntoCgroup = 0x200000000,
}

/// <summary>struct clone_args of clone3(2) (CLONE_ARGS_SIZE_VER2, 88 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct CloneArgs
{
    /// <summary>CLONE_* flags.</summary>
    public ulong Flags;
    /// <summary>Pointer to an int that receives the child's pidfd (with CLONE_PIDFD).</summary>
    public ulong PidFd;
    /// <summary>CLONE_CHILD_SETTID target.</summary>
    public ulong ChildTid;
    /// <summary>CLONE_PARENT_SETTID target.</summary>
    public ulong ParentTid;
    /// <summary>Signal sent to the parent when the child exits (SIGCHLD).</summary>
    public ulong ExitSignal;
    /// <summary>Child stack (0 = copy-on-write copy of the caller's, fork semantics).</summary>
    public ulong Stack;
    /// <summary>Child stack size.</summary>
    public ulong StackSize;
    /// <summary>TLS descriptor.</summary>
    public ulong Tls;
    /// <summary>Pointer to the pids to request per pid namespace level.</summary>
    public ulong SetTid;
    /// <summary>Number of entries at <see cref="SetTid"/>.</summary>
    public ulong SetTidSize;
    /// <summary>cgroup v2 directory fd (with CLONE_INTO_CGROUP).</summary>
    public ulong Cgroup;
}

/// <summary>
/// The raw calls a freshly cloned child may make before execve. Every one is <c>[SuppressGCTransition]</c>
/// and blittable: the child holds a one-thread copy of a multithreaded .NET runtime, and any GC mode switch,
/// allocation or marshalling there can deadlock on a lock another parent thread held at clone time
/// (docs/process-model.md).
/// </summary>
public static unsafe partial class RawSys
{
    [LibraryImport(Libc.Name, EntryPoint = "syscall")]
    [SuppressGCTransition]
    private static partial long syscall3(long number, nint a, nint b);

    [LibraryImport(Libc.Name, EntryPoint = "syscall")]
    [SuppressGCTransition]
    private static partial long syscall4(long number, nint a, nint b, nint c);

    /// <summary>setresuid(2) as a raw syscall (this thread only: right for a one-thread child).</summary>
    public static int Setresuid(uint r, uint e, uint s) => (int)syscall4(SyscallNumbers.Setresuid, (nint)r, (nint)e, (nint)s);

    /// <summary>setresgid(2) as a raw syscall.</summary>
    public static int Setresgid(uint r, uint e, uint s) => (int)syscall4(SyscallNumbers.Setresgid, (nint)r, (nint)e, (nint)s);

    /// <summary>setgroups(0, NULL) as a raw syscall: drop supplementary groups.</summary>
    public static int ClearGroups() => (int)syscall4(SyscallNumbers.Setgroups, 0, 0, 0);

    /// <summary>unshare(2).</summary>
    [LibraryImport(Libc.Name, EntryPoint = "unshare")]
    [SuppressGCTransition]
    public static partial int Unshare(int flags);

    /// <summary>read(2).</summary>
    [LibraryImport(Libc.Name, EntryPoint = "read")]
    [SuppressGCTransition]
    public static partial nint Read(int fd, void* buf, nuint count);

    /// <summary>clone3(2): returns the child pid in the parent, 0 in the child, -1 on failure (errno in <see cref="ErrnoValue"/>).</summary>
    public static long Clone3(CloneArgs* args) => syscall3(SyscallNumbers.Clone3, (nint)args, sizeof(CloneArgs));

    /// <summary>setns(2).</summary>
    [LibraryImport(Libc.Name, EntryPoint = "setns")]
    [SuppressGCTransition]
    public static partial int Setns(int fd, int nstype);

    /// <summary>execve(2) with pre-marshalled, NUL-terminated UTF-8 path, argv and envp.</summary>
    [LibraryImport(Libc.Name, EntryPoint = "execve")]
    [SuppressGCTransition]
    public static partial int Execve(byte* path, byte** argv, byte** envp);

    /// <summary>execveat(2): execs the file open at <paramref name="dirfd"/> when <paramref name="path"/> is "" and flags hold AT_EMPTY_PATH.</summary>
    [LibraryImport(Libc.Name, EntryPoint = "execveat")]
    [SuppressGCTransition]
    public static partial int Execveat(int dirfd, byte* path, byte** argv, byte** envp, int flags);

    /// <summary>open(2) of a pre-marshalled path.</summary>
    [LibraryImport(Libc.Name, EntryPoint = "open")]
    [SuppressGCTransition]
    public static partial int Open(byte* path, int flags);

    /// <summary>dup3(2).</summary>
    [LibraryImport(Libc.Name, EntryPoint = "dup3")]
    [SuppressGCTransition]
    public static partial int Dup3(int oldfd, int newfd, int flags);

    /// <summary>close(2).</summary>
    [LibraryImport(Libc.Name, EntryPoint = "close")]
    [SuppressGCTransition]
    public static partial int Close(int fd);

    /// <summary>fchdir(2).</summary>
    [LibraryImport(Libc.Name, EntryPoint = "fchdir")]
    [SuppressGCTransition]
    public static partial int Fchdir(int fd);

    /// <summary>chroot(2) of a pre-marshalled path.</summary>
    [LibraryImport(Libc.Name, EntryPoint = "chroot")]
    [SuppressGCTransition]
    public static partial int Chroot(byte* path);

    /// <summary>write(2).</summary>
    [LibraryImport(Libc.Name, EntryPoint = "write")]
    [SuppressGCTransition]
    public static partial nint Write(int fd, void* buf, nuint count);

    /// <summary>_exit(2): ends the process at once (no atexit handlers, no runtime shutdown).</summary>
    [LibraryImport(Libc.Name, EntryPoint = "_exit")]
    [SuppressGCTransition]
    public static partial void Exit(int status);

    [LibraryImport(Libc.Name, EntryPoint = "__errno_location")]
    [SuppressGCTransition]
    private static partial int* ErrnoLocation();

    /// <summary>The calling thread's errno, read without a GC transition.</summary>
    public static int ErrnoValue => *ErrnoLocation();
}

public static partial class Libc
{
    /// <summary>setns(2).</summary>
    public static int setns(int fd, int nstype) => LibC.setns(fd, nstype);

    /// <summary>execve(2) with managed strings (for a process that is already single-purpose, e.g. the container init).</summary>
    public static unsafe int execve(string path, string?[] argv, string?[] envp)
    {
        var args = NullTerminated(argv);
        var env = NullTerminated(envp);
        try
        {
            fixed (byte* p = Utf8Z(path)) return LibC.execve(p, (byte**)args, (byte**)env);
        }
        finally
        {
            Free(args, argv.Length);
            Free(env, envp.Length);
        }
    }

    // A NULL-terminated native array of NUL-terminated UTF-8 copies of strings (null entries stay NULL).
    private static unsafe nint* NullTerminated(string?[] strings)
    {
        var array = (nint*)NativeMemory.AllocZeroed((nuint)(strings.Length + 1), (nuint)sizeof(nint));
        for (var i = 0; i < strings.Length; i++)
        {
            if (strings[i] is { } s) array[i] = Marshal.StringToCoTaskMemUTF8(s);
        }
        return array;
    }

    private static unsafe void Free(nint* array, int count)
    {
        for (var i = 0; i < count; i++) Marshal.FreeCoTaskMem(array[i]);
        NativeMemory.Free(array);
    }
}
