using System.Runtime.InteropServices;

namespace OciRuntime.Interop;

public static partial class Libc
{
    /// <summary>setresuid(2) through glibc, which applies it to every thread of the process.</summary>
    [LibraryImport(Name, EntryPoint = "setresuid", SetLastError = true)]
    public static partial int setresuid(uint ruid, uint euid, uint suid);

    /// <summary>setresgid(2) through glibc, which applies it to every thread of the process.</summary>
    [LibraryImport(Name, EntryPoint = "setresgid", SetLastError = true)]
    public static partial int setresgid(uint rgid, uint egid, uint sgid);

    /// <summary>setgroups(2) through glibc, which applies it to every thread of the process.</summary>
    [LibraryImport(Name, EntryPoint = "setgroups", SetLastError = true)]
    public static unsafe partial int setgroups(nuint size, uint* list);

    /// <summary>getuid(2).</summary>
    [LibraryImport(Name, EntryPoint = "getuid")]
    public static partial uint getuid();

    /// <summary>getegid(2).</summary>
    [LibraryImport(Name, EntryPoint = "getegid")]
    public static partial uint getegid();

    /// <summary>geteuid(2).</summary>
    [LibraryImport(Name, EntryPoint = "geteuid")]
    public static partial uint geteuid();
}
