using System.Runtime.InteropServices;

namespace OciRuntime.Interop;

public static partial class Libc
{
    /// <summary>
    /// capset(2), _LINUX_CAPABILITY_VERSION_3, for the calling thread: the effective, permitted and inheritable
    /// sets as 64-bit masks (bit n = capability n).
    /// </summary>
    /// <exception cref="SyscallException">capset failed.</exception>
    public static void CapSet(ulong effective, ulong permitted, ulong inheritable)
    {
        if (RawSys.Capset(SyscallNumbers.Capset, effective, permitted, inheritable) != 0) throw new SyscallException("capset", RawSys.ErrnoValue);
    }
}

public static unsafe partial class RawSys
{
    /// <summary>
    /// capset(2) as a raw syscall (<see cref="Libc.CapSet"/>, and the direct-exec child, which passes the syscall number
    /// read before the clone): 0, or -1 with the errno in <see cref="ErrnoValue"/>.
    /// </summary>
    public static int Capset(long number, ulong effective, ulong permitted, ulong inheritable)
    {
        uint* header = stackalloc uint[2];
        header[0] = 0x20080522; // _LINUX_CAPABILITY_VERSION_3
        header[1] = 0;
        uint* data = stackalloc uint[6];
        data[0] = (uint)effective; data[1] = (uint)permitted; data[2] = (uint)inheritable;
        data[3] = (uint)(effective >> 32); data[4] = (uint)(permitted >> 32); data[5] = (uint)(inheritable >> 32);
        return (int)syscall4(number, (nint)header, (nint)data, 0);
    }
}
