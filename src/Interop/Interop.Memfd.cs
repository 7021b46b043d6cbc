using System.Runtime.InteropServices;

namespace OciRuntime.Interop;

/// <summary>memfd_create(2) flags and the file seals of fcntl(2) F_ADD_SEALS.</summary>
public static class MemfdFlags
{
    /// <summary>MFD_CLOEXEC.</summary>
    public const uint MFD_CLOEXEC = 0x1;
    /// <summary>MFD_ALLOW_SEALING.</summary>
    public const uint MFD_ALLOW_SEALING = 0x2;
    /// <summary>MFD_EXEC (Linux 6.3): executable even when vm.memfd_noexec asks for MFD_NOEXEC_SEAL by default.</summary>
    public const uint MFD_EXEC = 0x10;
    /// <summary>fcntl F_ADD_SEALS.</summary>
    public const int F_ADD_SEALS = 1033;
    /// <summary>fcntl F_GET_SEALS.</summary>
    public const int F_GET_SEALS = 1034;
    /// <summary>F_SEAL_SEAL: no further seals.</summary>
    public const int F_SEAL_SEAL = 0x1;
    /// <summary>F_SEAL_SHRINK: the size cannot decrease.</summary>
    public const int F_SEAL_SHRINK = 0x2;
    /// <summary>F_SEAL_GROW: the size cannot increase.</summary>
    public const int F_SEAL_GROW = 0x4;
    /// <summary>F_SEAL_WRITE: the contents cannot change.</summary>
    public const int F_SEAL_WRITE = 0x8;
}

// Own declaration (Tmds.LibC 0.5.0 lacks it): sendfile.
public static unsafe partial class Libc
{
    /// <summary>memfd_create(2).</summary>
    public static int memfd_create(string name, uint flags)
    {
        fixed (byte* p = Utf8Z(name)) return LibC.memfd_create(p, flags);
    }

    /// <summary>sendfile(2) from the current offset of <paramref name="inFd"/> (null offset). Own declaration: not in Tmds.LibC 0.5.0.</summary>
    [LibraryImport(Name, EntryPoint = "sendfile", SetLastError = true)]
    public static partial nint sendfile(int outFd, int inFd, long* offset, nuint count);

    /// <summary>lseek(2).</summary>
    public static long lseek(int fd, long offset, int whence) => LibC.lseek(fd, offset, whence);

    /// <summary>pread(2).</summary>
    public static nint pread(int fd, byte* buf, nuint count, long offset) => (nint)(long)LibC.pread(fd, buf, (Tmds.Linux.size_t)(ulong)count, offset);

    /// <summary>lseek whence: from the end.</summary>
    public const int SEEK_END = 2;
}
