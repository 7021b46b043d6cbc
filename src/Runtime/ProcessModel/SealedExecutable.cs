using System.Diagnostics;
using System.Runtime.InteropServices;
using OciRuntime.Interop;

namespace OciRuntime.Runtime.ProcessModel;

/// <summary>
/// The ocirun binary as the container init is exec'd from: a handle through which nobody can write it (CVE-2019-5736).
/// </summary>
/// <remarks>
/// The init runs inside the container's namespaces, and a container process that can see it (a shared pid
/// namespace), or the container's own pid 1 after a <c>#!/proc/self/exe</c> entrypoint, can open <c>/proc/PID/exe</c>
/// and, once the runtime has exited, write through that handle to the host binary. So the init is never exec'd from
/// a writable handle of the binary:
/// <list type="number">
/// <item>Preferred: a detached, read-only bind mount of the binary (open_tree OPEN_TREE_CLONE + mount_setattr
/// MOUNT_ATTR_RDONLY, Linux 5.12, needs CAP_SYS_ADMIN). Every path through /proc/PID/exe lands on that mount:
/// opening it for writing fails with EROFS, and no process of the container can reach the mount to change it.
/// It copies nothing (tens of microseconds).</item>
/// <item>Fallback: a sealed memfd copy (memfd_create MFD_CLOEXEC | MFD_ALLOW_SEALING, sendfile, F_ADD_SEALS
/// SEAL | SHRINK | GROW | WRITE), runc's memfd clone: /proc/PID/exe names the copy, which cannot change, and the host
/// file is never referenced. Costs one copy of the binary per launched init (about 5 ms for 7 MB here).</item>
/// </list>
/// The handle is close-on-exec: execveat(fd, "", AT_EMPTY_PATH) runs it and the init does not inherit it.
/// </remarks>
public sealed class SealedExecutable : IDisposable
{
    private const int AllSeals = MemfdFlags.F_SEAL_SEAL | MemfdFlags.F_SEAL_SHRINK | MemfdFlags.F_SEAL_GROW | MemfdFlags.F_SEAL_WRITE;

    private SealedExecutable(SafeFd fd, string kind, long size, long micros)
    {
        Fd = fd;
        Kind = kind;
        Size = size;
        Micros = micros;
    }

    /// <summary>The handle to exec with execveat AT_EMPTY_PATH (close-on-exec).</summary>
    public SafeFd Fd { get; }

    /// <summary>"read-only bind" or "sealed memfd".</summary>
    public string Kind { get; }

    /// <summary>Bytes copied (0 for the read-only bind).</summary>
    public long Size { get; }

    /// <summary>How long making the handle took, in microseconds.</summary>
    public long Micros { get; }

    /// <summary>A read-only bind of <paramref name="source"/> when the kernel and privileges allow, else a sealed memfd copy.</summary>
    /// <exception cref="SyscallException">neither could be made.</exception>
    public static SealedExecutable Create(string source = "/proc/self/exe") => TryReadOnlyBind(source) ?? CreateMemfdCopy(source);

    /// <summary>A detached read-only bind mount of <paramref name="source"/>, or null when the kernel or privileges refuse it.</summary>
    public static SealedExecutable? TryReadOnlyBind(string source = "/proc/self/exe")
    {
        var clock = Stopwatch.StartNew();
        var tree = Libc.open_tree(OpenFlags.AT_FDCWD, source, Libc.OPEN_TREE_CLONE | Libc.OPEN_TREE_CLOEXEC);
        if (tree < 0) return null; // ENOSYS before Linux 5.2, EPERM without CAP_SYS_ADMIN
        var fd = new SafeFd(tree);
        if (Libc.mount_setattr(tree, "", (uint)OpenFlags.AT_EMPTY_PATH, new MountAttrArgs { AttrSet = (ulong)MountAttr.ReadOnly }) != 0 || !IsReadOnly(fd))
        {
            fd.Dispose();
            return null;
        }
        return new SealedExecutable(fd, "read-only bind", 0, clock.ElapsedTicks * 1_000_000 / Stopwatch.Frequency);
    }

    private static bool IsReadOnly(SafeFd fd)
    {
        try
        {
            return (Libc.MountFlagsOfFd(fd.Fd) & MountFlags.ReadOnly) != 0;
        }
        catch (SyscallException)
        {
            return false;
        }
    }

    /// <summary>Copies <paramref name="source"/> into a new sealed memfd.</summary>
    /// <exception cref="SyscallException">memfd_create, open, sendfile or F_ADD_SEALS failed.</exception>
    public static unsafe SealedExecutable CreateMemfdCopy(string source = "/proc/self/exe")
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
            return new SealedExecutable(memfd, "sealed memfd", size, clock.ElapsedTicks * 1_000_000 / Stopwatch.Frequency);
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
