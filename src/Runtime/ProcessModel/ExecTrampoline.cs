using System.Runtime.InteropServices;
using OciRuntime.Interop;

namespace OciRuntime.Runtime.ProcessModel;

/// <summary>
/// The exec trampoline of the direct paths (docs/process-model.md, "The exec trampoline"; src/Runtime/native/exec-trampoline.c):
/// a 2.5 KB static program in a sealed memfd that execs the container's program. The direct paths' child is a copy of the
/// runtime whose /proc/self/exe is the host's ocirun; exec'ing the container's program through this program instead
/// means a <c>#!/proc/self/exe</c> interpreter finds the sealed memfd, never the host binary (CVE-2019-5736).
/// </summary>
public static partial class ExecTrampoline
{
    /// <summary>argv[0] of the trampoline (seen in ps for the microseconds it runs).</summary>
    public const string Name = "ocirun-exec";

    /// <summary>
    /// A sealed memfd holding the trampoline (close-on-exec; exec it with execveat AT_EMPTY_PATH and argv
    /// <c>[Name, PATH, ARGV0, ARGS...]</c>), or null when this host refuses executable memfds (vm.memfd_noexec=2) or the
    /// resource is missing: the caller then takes <c>ocirun init</c>.
    /// </summary>
    public static SafeFd? TryCreate()
    {
        var fd = Libc.memfd_create(Name, MemfdFlags.MFD_CLOEXEC | MemfdFlags.MFD_ALLOW_SEALING | MemfdFlags.MFD_EXEC);
        if (fd < 0 && Marshal.GetLastPInvokeError() == Errno.EINVAL) fd = Libc.memfd_create(Name, MemfdFlags.MFD_CLOEXEC | MemfdFlags.MFD_ALLOW_SEALING); // before Linux 6.3
        if (fd < 0) return null;
        var memfd = new SafeFd(fd);
        try
        {
            Libc.WriteAll(fd, Program, "exec trampoline");
            const int seals = MemfdFlags.F_SEAL_SEAL | MemfdFlags.F_SEAL_SHRINK | MemfdFlags.F_SEAL_GROW | MemfdFlags.F_SEAL_WRITE;
            Libc.Check(Libc.fcntl(fd, MemfdFlags.F_ADD_SEALS, seals), "seal the exec trampoline");
            return memfd;
        }
        catch (SyscallException)
        {
            memfd.Dispose();
            return null;
        }
    }
}
