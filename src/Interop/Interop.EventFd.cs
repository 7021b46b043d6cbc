namespace OciRuntime.Interop;

public static partial class Libc
{
    /// <summary>eventfd flag: close on exec.</summary>
    public const int EFD_CLOEXEC = 0x80000;

    /// <summary>eventfd(2): a counter fd; read returns the 8-byte count (blocks while it is 0).</summary>
    public static int eventfd(uint initval, int flags) => LibC.eventfd(initval, flags);
}
