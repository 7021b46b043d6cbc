using System.Runtime.InteropServices;

namespace OciRuntime.Interop;

/// <summary>struct scmp_arg_cmp of libseccomp (seccomp.h): one argument comparison of a rule, 24 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct ScmpArgCmp
{
    /// <summary>Argument index, 0..5.</summary>
    public uint Arg;
    /// <summary>Comparison, one of <see cref="Libseccomp"/>.SCMP_CMP_*.</summary>
    public int Op;
    /// <summary>First operand (the mask for SCMP_CMP_MASKED_EQ).</summary>
    public ulong DatumA;
    /// <summary>Second operand (the expected masked value for SCMP_CMP_MASKED_EQ).</summary>
    public ulong DatumB;
}

/// <summary>struct sock_filter (linux/filter.h): one classic BPF instruction, 8 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct SockFilter
{
    /// <summary>Opcode.</summary>
    public ushort Code;
    /// <summary>Jump offset when true.</summary>
    public byte Jt;
    /// <summary>Jump offset when false.</summary>
    public byte Jf;
    /// <summary>Generic field (constant, offset or return value).</summary>
    public uint K;
}

/// <summary>struct sock_fprog (linux/filter.h): a classic BPF program, as passed to seccomp(2).</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct SockFprog
{
    /// <summary>Number of instructions.</summary>
    public ushort Len;
    /// <summary>The instructions.</summary>
    public SockFilter* Filter;
}

/// <summary>struct seccomp_data (linux/seccomp.h), 64 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct SeccompData
{
    /// <summary>The system call number.</summary>
    public int Nr;
    /// <summary>AUDIT_ARCH_* of the call.</summary>
    public uint Arch;
    /// <summary>The instruction pointer at the call.</summary>
    public ulong InstructionPointer;
    /// <summary>The six arguments.</summary>
    public fixed ulong Args[6];
}

/// <summary>struct seccomp_notif (linux/seccomp.h): one notification of SECCOMP_IOCTL_NOTIF_RECV, 80 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct SeccompNotif
{
    /// <summary>The cookie to answer with.</summary>
    public ulong Id;
    /// <summary>The pid of the calling thread (in the listener's pid namespace).</summary>
    public uint Pid;
    /// <summary>Unused, 0.</summary>
    public uint Flags;
    /// <summary>The system call.</summary>
    public SeccompData Data;
}

/// <summary>struct seccomp_notif_resp (linux/seccomp.h): the answer of SECCOMP_IOCTL_NOTIF_SEND, 24 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct SeccompNotifResp
{
    /// <summary>The cookie of the notification.</summary>
    public ulong Id;
    /// <summary>The return value of the system call when <see cref="Error"/> is 0.</summary>
    public long Val;
    /// <summary>A negated errno to fail the call with (e.g. -13 for EACCES), or 0.</summary>
    public int Error;
    /// <summary>SECCOMP_USER_NOTIF_FLAG_CONTINUE (1) lets the kernel run the call.</summary>
    public uint Flags;
}

/// <summary>
/// libseccomp (seccomp.h, libseccomp 2.5) loaded at run time from <c>libseccomp.so.2</c>; ocirun has no build-time
/// dependency on it. Every function throws <see cref="DllNotFoundException"/> when the library is missing: call
/// <see cref="TryLoad"/> first to turn that into a clear message. Functions return libseccomp's negative errno
/// values as documented in seccomp_rule_add(3), seccomp_export_bpf(3) and seccomp_notify_alloc(3).
/// </summary>
public static unsafe partial class Libseccomp
{
    /// <summary>The shared object name resolved by the dynamic loader.</summary>
    public const string LibraryName = "libseccomp.so.2";

    /// <summary>SCMP_ACT_KILL_PROCESS.</summary>
    public const uint SCMP_ACT_KILL_PROCESS = 0x80000000;
    /// <summary>SCMP_ACT_KILL_THREAD (= SCMP_ACT_KILL).</summary>
    public const uint SCMP_ACT_KILL_THREAD = 0x00000000;
    /// <summary>SCMP_ACT_TRAP.</summary>
    public const uint SCMP_ACT_TRAP = 0x00030000;
    /// <summary>SCMP_ACT_NOTIFY.</summary>
    public const uint SCMP_ACT_NOTIFY = 0x7fc00000;
    /// <summary>SCMP_ACT_LOG.</summary>
    public const uint SCMP_ACT_LOG = 0x7ffc0000;
    /// <summary>SCMP_ACT_ALLOW.</summary>
    public const uint SCMP_ACT_ALLOW = 0x7fff0000;

    /// <summary>SCMP_ACT_ERRNO(<paramref name="errno"/>).</summary>
    public static uint SCMP_ACT_ERRNO(uint errno) => 0x00050000 | (errno & 0xffff);

    /// <summary>SCMP_ACT_TRACE(<paramref name="message"/>).</summary>
    public static uint SCMP_ACT_TRACE(uint message) => 0x7ff00000 | (message & 0xffff);

    /// <summary>SCMP_CMP_NE.</summary>
    public const int SCMP_CMP_NE = 1;
    /// <summary>SCMP_CMP_LT.</summary>
    public const int SCMP_CMP_LT = 2;
    /// <summary>SCMP_CMP_LE.</summary>
    public const int SCMP_CMP_LE = 3;
    /// <summary>SCMP_CMP_EQ.</summary>
    public const int SCMP_CMP_EQ = 4;
    /// <summary>SCMP_CMP_GE.</summary>
    public const int SCMP_CMP_GE = 5;
    /// <summary>SCMP_CMP_GT.</summary>
    public const int SCMP_CMP_GT = 6;
    /// <summary>SCMP_CMP_MASKED_EQ.</summary>
    public const int SCMP_CMP_MASKED_EQ = 7;

    /// <summary>SCMP_FLTATR_ACT_BADARCH: action for a foreign architecture.</summary>
    public const int SCMP_FLTATR_ACT_BADARCH = 2;
    /// <summary>SCMP_FLTATR_CTL_NNP: set no_new_privs on seccomp_load.</summary>
    public const int SCMP_FLTATR_CTL_NNP = 3;
    /// <summary>SCMP_FLTATR_CTL_TSYNC: SECCOMP_FILTER_FLAG_TSYNC on load.</summary>
    public const int SCMP_FLTATR_CTL_TSYNC = 4;
    /// <summary>SCMP_FLTATR_CTL_LOG: SECCOMP_FILTER_FLAG_LOG on load.</summary>
    public const int SCMP_FLTATR_CTL_LOG = 6;
    /// <summary>SCMP_FLTATR_CTL_SSB: SECCOMP_FILTER_FLAG_SPEC_ALLOW on load.</summary>
    public const int SCMP_FLTATR_CTL_SSB = 7;
    /// <summary>SCMP_FLTATR_CTL_OPTIMIZE: 1 = priority order, 2 = binary tree.</summary>
    public const int SCMP_FLTATR_CTL_OPTIMIZE = 8;
    /// <summary>SCMP_FLTATR_CTL_WAITKILL (libseccomp 2.6+ only; 2.5 answers -EINVAL).</summary>
    public const int SCMP_FLTATR_CTL_WAITKILL = 10;

    /// <summary>__NR_SCMP_ERROR: what seccomp_syscall_resolve_name returns for an unknown name.</summary>
    public const int NR_SCMP_ERROR = -1;

    private static string? s_loadError;
    private static int s_loaded;

    /// <summary>
    /// Loads <see cref="LibraryName"/> once. Returns false with the loader's message when it is missing, e.g.
    /// "libseccomp.so.2: cannot open shared object file: No such file or directory".
    /// </summary>
    public static bool TryLoad(out string? error)
    {
        if (Volatile.Read(ref s_loaded) == 0)
        {
            try
            {
                _ = NativeLibrary.Load(LibraryName);
                s_loadError = null;
            }
            catch (DllNotFoundException e)
            {
                s_loadError = e.Message;
            }
            Volatile.Write(ref s_loaded, 1);
        }
        error = s_loadError;
        return error is null;
    }

    /// <summary>seccomp_version(3): the library version.</summary>
    public static Version LibraryVersion
    {
        get
        {
            var v = (uint*)seccomp_version();
            return new Version((int)v[0], (int)v[1], (int)v[2]);
        }
    }

    [LibraryImport(LibraryName)]
    private static partial nint seccomp_version();

    /// <summary>seccomp_api_get(3): the API level supported by the library and the kernel (5: notify, 6: notify with TSYNC).</summary>
    [LibraryImport(LibraryName)]
    public static partial uint seccomp_api_get();

    /// <summary>seccomp_init(3): a filter context whose default action is <paramref name="defAction"/>; 0 on failure.</summary>
    [LibraryImport(LibraryName)]
    public static partial nint seccomp_init(uint defAction);

    /// <summary>seccomp_release(3).</summary>
    [LibraryImport(LibraryName)]
    public static partial void seccomp_release(nint ctx);

    /// <summary>seccomp_arch_resolve_name(3): the AUDIT_ARCH token of a libseccomp architecture name ("x86_64"), 0 when unknown.</summary>
    [LibraryImport(LibraryName, StringMarshalling = StringMarshalling.Utf8)]
    public static partial uint seccomp_arch_resolve_name(string name);

    /// <summary>seccomp_arch_native(3).</summary>
    [LibraryImport(LibraryName)]
    public static partial uint seccomp_arch_native();

    /// <summary>seccomp_arch_add(3): 0, -EEXIST when present, or another negative errno.</summary>
    [LibraryImport(LibraryName)]
    public static partial int seccomp_arch_add(nint ctx, uint archToken);

    /// <summary>seccomp_attr_set(3): 0 or a negative errno (-EOPNOTSUPP: the kernel lacks the feature; -EINVAL: unknown attribute).</summary>
    [LibraryImport(LibraryName)]
    public static partial int seccomp_attr_set(nint ctx, int attr, uint value);

    /// <summary>seccomp_syscall_resolve_name(3): the native number of a syscall name, or <see cref="NR_SCMP_ERROR"/>.</summary>
    [LibraryImport(LibraryName, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int seccomp_syscall_resolve_name(string name);

    /// <summary>seccomp_syscall_resolve_name_arch(3): the number of a syscall name on <paramref name="archToken"/> (x32: with bit 30 set), or <see cref="NR_SCMP_ERROR"/>.</summary>
    [LibraryImport(LibraryName, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int seccomp_syscall_resolve_name_arch(uint archToken, string name);

    /// <summary>seccomp_rule_add_array(3): 0 or a negative errno.</summary>
    [LibraryImport(LibraryName)]
    public static partial int seccomp_rule_add_array(nint ctx, uint action, int syscall, uint argCount, ScmpArgCmp* args);

    /// <summary>seccomp_export_bpf(3): writes the BPF program (struct sock_filter[]) to <paramref name="fd"/>; 0 or a negative errno.</summary>
    [LibraryImport(LibraryName)]
    public static partial int seccomp_export_bpf(nint ctx, int fd);

    /// <summary>seccomp_load(3): builds and loads the filter into the calling thread (or all threads with TSYNC).</summary>
    [LibraryImport(LibraryName)]
    public static partial int seccomp_load(nint ctx);

    /// <summary>seccomp_notify_receive(3): blocks for the next notification; 0 or a negative errno (-ENOENT: no task uses the filter any more).</summary>
    [LibraryImport(LibraryName)]
    public static partial int seccomp_notify_receive(int fd, SeccompNotif* req);

    /// <summary>seccomp_notify_respond(3): answers a notification; 0 or a negative errno.</summary>
    [LibraryImport(LibraryName)]
    public static partial int seccomp_notify_respond(int fd, SeccompNotifResp* resp);

    /// <summary>seccomp_notify_id_valid(3): 0 when the notification is still pending.</summary>
    [LibraryImport(LibraryName)]
    public static partial int seccomp_notify_id_valid(int fd, ulong id);
}

/// <summary>seccomp(2) constants (linux/seccomp.h).</summary>
public static class SeccompKernel
{
    /// <summary>SECCOMP_SET_MODE_FILTER.</summary>
    public const uint SECCOMP_SET_MODE_FILTER = 1;
    /// <summary>SECCOMP_FILTER_FLAG_TSYNC: install on every thread of the process.</summary>
    public const uint SECCOMP_FILTER_FLAG_TSYNC = 1 << 0;
    /// <summary>SECCOMP_FILTER_FLAG_LOG: log every action but SECCOMP_RET_ALLOW (Linux 4.14).</summary>
    public const uint SECCOMP_FILTER_FLAG_LOG = 1 << 1;
    /// <summary>SECCOMP_FILTER_FLAG_SPEC_ALLOW: keep Speculative Store Bypass mitigation off (Linux 4.17).</summary>
    public const uint SECCOMP_FILTER_FLAG_SPEC_ALLOW = 1 << 2;
    /// <summary>SECCOMP_FILTER_FLAG_NEW_LISTENER: return a notification fd (Linux 5.0).</summary>
    public const uint SECCOMP_FILTER_FLAG_NEW_LISTENER = 1 << 3;
    /// <summary>SECCOMP_FILTER_FLAG_TSYNC_ESRCH: a TSYNC failure is ESRCH, not a thread id (Linux 5.7; needed with NEW_LISTENER).</summary>
    public const uint SECCOMP_FILTER_FLAG_TSYNC_ESRCH = 1 << 4;
    /// <summary>SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: a received notification waits killably (Linux 5.19; only with NEW_LISTENER).</summary>
    public const uint SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV = 1 << 5;
    /// <summary>SECCOMP_USER_NOTIF_FLAG_CONTINUE.</summary>
    public const uint SECCOMP_USER_NOTIF_FLAG_CONTINUE = 1;
    /// <summary>BPF_MAXINSNS: the kernel's limit on the length of a classic BPF program.</summary>
    public const int BPF_MAXINSNS = 4096;

    /// <summary>The number of seccomp(2): 317 on x86-64, 277 on arm64.</summary>
    public static long SyscallNumber => RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 277 : 317;
}

public static unsafe partial class RawSys
{
    [LibraryImport(Libc.Name, EntryPoint = "syscall")]
    [SuppressGCTransition]
    private static partial long syscall3l(long number, nint a, nint b, nint c);

    /// <summary>
    /// seccomp(SECCOMP_SET_MODE_FILTER, <paramref name="flags"/>, <paramref name="prog"/>) on the calling thread, without a
    /// GC transition (nothing of the runtime runs between the load and the execve that follows it). Returns 0, the
    /// listener fd with SECCOMP_FILTER_FLAG_NEW_LISTENER, or -1 with the errno in <see cref="ErrnoValue"/>.
    /// </summary>
    public static long SeccompSetModeFilter(uint flags, SockFprog* prog) =>
        syscall3l(SeccompKernel.SyscallNumber, (nint)SeccompKernel.SECCOMP_SET_MODE_FILTER, (nint)flags, (nint)prog);
}
