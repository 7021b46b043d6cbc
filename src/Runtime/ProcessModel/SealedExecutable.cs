using System.Diagnostics;
using System.Runtime.InteropServices;
using OciRuntime.Interop;

namespace OciRuntime.Runtime.ProcessModel;

/// <summary>
/// A sealed, in-memory copy of the ocirun binary that the container init is exec'd from (CVE-2019-5736).
/// </summary>
/// <remarks>
/// The init runs inside the container's namespaces, and a container process that can see it (a shared pid
/// namespace, or the init itself after a <c>#!/proc/self/exe</c> entrypoint) could open <c>/proc/PID/exe</c> and,
/// once the runtime exits, write through it to the host binary. Exec'ing a memfd copy instead means
/// <c>/proc/PID/exe</c> names that copy: it is sealed (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE),
/// so it cannot be changed either, and the host file is never referenced. This is runc's memfd clone (runc 1.0.0-rc7).
/// The copy costs one sendfile of the binary per launched init; <see cref="CopyMicros"/> measures it.
/// The memfd is close-on-exec: execveat(fd, "", AT_EMPTY_PATH) runs it and closes it, so the init does not inherit it.
/// </remarks>
public sealed class SealedExecutable : IDisposable
{
    private const int AllSeals = MemfdFlags.F_SEAL_SEAL | MemfdFlags.F_SEAL_SHRINK | MemfdFlags.F_SEAL_GROW | MemfdFlags.F_SEAL_WRITE;

    private SealedExecutable(SafeFd fd, long size, long micros)
    {
        Fd = fd;
        Size = size;
        CopyMicros = micros;
    }

    /// <summary>The sealed memfd (close-on-exec).</summary>
    public SafeFd Fd { get; }

    /// <summary>Bytes copied.</summary>
    public long Size { get; }

    /// <summary>How long memfd_create + copy + sealing took, in microseconds.</summary>
    public long CopyMicros { get; }

    /// <summary>The path execve takes to run the copy: <c>/proc/self/fd/N</c> (valid in this process and in a child cloned from it).</summary>
    public string ExecPath => $"/proc/self/fd/{Fd.Fd}";

    /// <summary>Copies <paramref name="source"/> (default: this process's own executable) into a new sealed memfd.</summary>
    /// <exception cref="SyscallException">memfd_create, open, sendfile or F_ADD_SEALS failed.</exception>
    public static unsafe SealedExecutable Create(string source = "/proc/self/exe")
    {
        var clock = Stopwatch.StartNew();
        var fd = Libc.memfd_create("ocirun", MemfdFlags.MFD_CLOEXEC | MemfdFlags.MFD_ALLOW_SEALING | MemfdFlags.MFD_EXEC);
        if (fd < 0 && Marshal.GetLastPInvokeError() == Errno.EINVAL)
        {
            // Before Linux 6.3 there is no MFD_EXEC (and memfds are always executable).
            fd = Libc.memfd_create("ocirun", MemfdFlags.MFD_CLOEXEC | MemfdFlags.MFD_ALLOW_SEALING);
        }
        var memfd = SafeFd.Check(fd, "memfd_create ocirun");
        try
        {
            using var input = SafeFd.Check(Libc.open(source, OpenFlags.O_RDONLY | OpenFlags.O_CLOEXEC), $"open {source}");
            var size = Libc.Check(Libc.lseek(input.Fd, 0, Libc.SEEK_END), $"lseek {source}");
            long offset = 0;
            while (offset < size)
            {
                var n = Libc.sendfile(memfd.Fd, input.Fd, &offset, (nuint)Math.Min(size - offset, 0x7ffff000));
                if (n < 0)
                {
                    if (Marshal.GetLastPInvokeError() == Errno.EINTR) continue;
                    throw SyscallException.FromLastError($"copy {source} to a memfd");
                }
                if (n == 0) throw new SyscallException($"copy {source} to a memfd: unexpected end of file at {offset} of {size} bytes", Errno.EINVAL);
            }
            Libc.Check(Libc.fcntl(memfd.Fd, MemfdFlags.F_ADD_SEALS, AllSeals), "seal the memfd copy of ocirun");
            var seals = Libc.Check(Libc.fcntl(memfd.Fd, MemfdFlags.F_GET_SEALS, 0), "read the seals of the memfd copy of ocirun");
            if ((seals & AllSeals) != AllSeals) throw new SyscallException($"memfd copy of ocirun has seals 0x{seals:x}, not 0x{AllSeals:x}", Errno.EPERM);
            return new SealedExecutable(memfd, size, clock.ElapsedTicks * 1_000_000 / Stopwatch.Frequency);
        }
        catch
        {
            memfd.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public void Dispose() => Fd.Dispose();
}
