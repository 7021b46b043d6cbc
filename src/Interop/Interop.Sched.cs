using System.Runtime.InteropServices;

namespace OciRuntime.Interop;

/// <summary>struct sched_attr of sched_setattr(2), SCHED_ATTR_SIZE_VER1 (56 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct SchedAttr
{
    /// <summary>sizeof(struct sched_attr).</summary>
    public uint Size;
    /// <summary>SCHED_* policy number.</summary>
    public uint Policy;
    /// <summary>SCHED_FLAG_* bits.</summary>
    public ulong Flags;
    /// <summary>Nice value, -20..19 (SCHED_OTHER, SCHED_BATCH).</summary>
    public int Nice;
    /// <summary>Static priority, 1..99 (SCHED_FIFO, SCHED_RR).</summary>
    public uint Priority;
    /// <summary>SCHED_DEADLINE runtime, ns.</summary>
    public ulong Runtime;
    /// <summary>SCHED_DEADLINE deadline, ns.</summary>
    public ulong Deadline;
    /// <summary>SCHED_DEADLINE period, ns.</summary>
    public ulong Period;
    /// <summary>Utilisation clamp minimum (SCHED_FLAG_UTIL_CLAMP_MIN).</summary>
    public uint UtilMin;
    /// <summary>Utilisation clamp maximum (SCHED_FLAG_UTIL_CLAMP_MAX).</summary>
    public uint UtilMax;
}

// Own declarations (Tmds.LibC 0.5.0 lacks them): personality, gettid; sched_setattr and ioprio_set go through LibC.syscall.
/// <summary>
/// Scheduling and execution-domain calls of the process: sched_setattr(2), sched_setaffinity(2), ioprio_set(2),
/// personality(2) (runtime-spec config.md#linux-process, config-linux.md#personality).
/// </summary>
public static partial class Libc
{
    private static bool IsArm64 => RuntimeInformation.ProcessArchitecture == Architecture.Arm64;

    /// <summary>sched_setattr(2) (not in Tmds.LibC: LibC.syscall 314 on x86-64, 274 on arm64); <paramref name="pid"/> 0 = the calling thread.</summary>
    public static unsafe int sched_setattr(int pid, SchedAttr* attr, uint flags) =>
        (int)Result(LibC.syscall(Arg(IsArm64 ? 274 : 314), pid, attr, flags));

    /// <summary>ioprio_set(2) (not in Tmds.LibC: LibC.syscall 251 on x86-64, 30 on arm64).</summary>
    public static int ioprio_set(int which, int who, int ioprio) => (int)Result(LibC.syscall(Arg(IsArm64 ? 30 : 251), which, who, ioprio));

    /// <summary>ioprio_set which: a process or thread id (0 = the calling thread).</summary>
    public const int IOPRIO_WHO_PROCESS = 1;

    /// <summary>The ioprio value of <paramref name="ioClass"/> (IOPRIO_CLASS_RT = 1, BE = 2, IDLE = 3) and level 0..7.</summary>
    public static int IoprioValue(int ioClass, int level) => (ioClass << 13) | level;

    /// <summary>sched_setaffinity(2); <paramref name="pid"/> 0 = the calling thread; <paramref name="mask"/> is a cpu_set_t bit array.</summary>
    public static unsafe int sched_setaffinity(int pid, nuint size, byte* mask) => LibC.sched_setaffinity(pid, (Tmds.Linux.size_t)(ulong)size, (Tmds.Linux.cpu_set_t*)mask);

    /// <summary>sched_getaffinity(2); returns 0 on success (glibc), the mask in <paramref name="mask"/>.</summary>
    public static unsafe int sched_getaffinity(int pid, nuint size, byte* mask) => LibC.sched_getaffinity(pid, (Tmds.Linux.size_t)(ulong)size, (Tmds.Linux.cpu_set_t*)mask);

    /// <summary>personality(2) (own declaration: not in Tmds.LibC 0.5.0): sets the execution domain; returns the previous one, or -1. 0xffffffff only queries.</summary>
    [LibraryImport(Name, EntryPoint = "personality", SetLastError = true)]
    public static partial int personality(uint persona);

    /// <summary>personality PER_LINUX.</summary>
    public const uint PER_LINUX = 0x0000;
    /// <summary>personality PER_LINUX32.</summary>
    public const uint PER_LINUX32 = 0x0008;

    /// <summary>gettid(2) (own declaration: not in Tmds.LibC 0.5.0).</summary>
    [LibraryImport(Name, EntryPoint = "gettid")]
    public static partial int gettid();

    /// <summary>getcwd(3): NULL with ENOENT when the working directory is not reachable from the root (Linux 2.6.36+, glibc 2.27+).</summary>
    public static unsafe byte* getcwd(byte* buf, nuint size) => LibC.getcwd(buf, (Tmds.Linux.size_t)(ulong)size);
}
