using System.Runtime.InteropServices;

namespace OciRuntime.Interop;

public static partial class Libc
{
    /// <summary>sethostname(2).</summary>
    [LibraryImport(Name, EntryPoint = "sethostname", SetLastError = true)]
    public static partial int sethostname(byte[] name, nuint len);

    /// <summary>setdomainname(2).</summary>
    [LibraryImport(Name, EntryPoint = "setdomainname", SetLastError = true)]
    public static partial int setdomainname(byte[] name, nuint len);
}
