namespace OciRuntime.Interop;

public static partial class Libc
{
    /// <summary>setresuid(2) through glibc, which applies it to every thread of the process.</summary>
    public static int setresuid(uint ruid, uint euid, uint suid) => LibC.setresuid(ruid, euid, suid);

    /// <summary>setresgid(2) through glibc, which applies it to every thread of the process.</summary>
    public static int setresgid(uint rgid, uint egid, uint sgid) => LibC.setresgid(rgid, egid, sgid);

    /// <summary>setgroups(2) through glibc, which applies it to every thread of the process.</summary>
    public static unsafe int setgroups(nuint size, uint* list) => LibC.setgroups((Tmds.Linux.size_t)(ulong)size, (Tmds.Linux.gid_t*)list);

    /// <summary>getuid(2).</summary>
    public static uint getuid() => LibC.getuid();

    /// <summary>getegid(2).</summary>
    public static uint getegid() => LibC.getegid();

    /// <summary>geteuid(2).</summary>
    public static uint geteuid() => LibC.geteuid();
}
