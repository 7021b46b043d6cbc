using System.Runtime.InteropServices;

namespace OciRuntime.Interop;

public static partial class Libc
{
    [LibraryImport(Name, EntryPoint = "syscall", SetLastError = true)]
    private static unsafe partial long syscallCap(long number, uint* header, uint* data);

    /// <summary>
    /// capset(2), _LINUX_CAPABILITY_VERSION_3, for the calling thread: the effective, permitted and inheritable
    /// sets as 64-bit masks (bit n = capability n).
    /// </summary>
    /// <exception cref="SyscallException">capset failed.</exception>
    public static unsafe void CapSet(ulong effective, ulong permitted, ulong inheritable)
    {
        uint* header = stackalloc uint[2];
        header[0] = 0x20080522;
        header[1] = 0;
        uint* data = stackalloc uint[6];
        data[0] = (uint)effective; data[1] = (uint)permitted; data[2] = (uint)inheritable;
        data[3] = (uint)(effective >> 32); data[4] = (uint)(permitted >> 32); data[5] = (uint)(inheritable >> 32);
        if (syscallCap(SyscallNumbers.Capset, header, data) != 0) throw SyscallException.FromLastError("capset");
    }
}
