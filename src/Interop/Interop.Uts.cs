namespace OciRuntime.Interop;

public static unsafe partial class Libc
{
    /// <summary>sethostname(2).</summary>
    public static int sethostname(byte[] name, nuint len)
    {
        fixed (byte* p = name) return LibC.sethostname(p, (Tmds.Linux.size_t)(ulong)len);
    }

    /// <summary>setdomainname(2).</summary>
    public static int setdomainname(byte[] name, nuint len)
    {
        fixed (byte* p = name) return LibC.setdomainname(p, (Tmds.Linux.size_t)(ulong)len);
    }
}
