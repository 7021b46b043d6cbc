using System.Runtime.InteropServices;

namespace OciRuntime.Interop;

/// <summary>prctl(2) options.</summary>
public static class Prctl
{
    /// <summary>PR_SET_PDEATHSIG.</summary>
    public const int PR_SET_PDEATHSIG = 1;
    /// <summary>PR_GET_DUMPABLE.</summary>
    public const int PR_GET_DUMPABLE = 3;
    /// <summary>PR_SET_DUMPABLE.</summary>
    public const int PR_SET_DUMPABLE = 4;
    /// <summary>PR_SET_KEEPCAPS.</summary>
    public const int PR_SET_KEEPCAPS = 8;
    /// <summary>PR_SET_NAME.</summary>
    public const int PR_SET_NAME = 15;
    /// <summary>PR_CAPBSET_READ.</summary>
    public const int PR_CAPBSET_READ = 23;
    /// <summary>PR_CAPBSET_DROP.</summary>
    public const int PR_CAPBSET_DROP = 24;
    /// <summary>PR_SET_CHILD_SUBREAPER.</summary>
    public const int PR_SET_CHILD_SUBREAPER = 36;
    /// <summary>PR_SET_NO_NEW_PRIVS.</summary>
    public const int PR_SET_NO_NEW_PRIVS = 38;
    /// <summary>PR_CAP_AMBIENT.</summary>
    public const int PR_CAP_AMBIENT = 47;
    /// <summary>PR_CAP_AMBIENT_RAISE.</summary>
    public const int PR_CAP_AMBIENT_RAISE = 2;
    /// <summary>PR_CAP_AMBIENT_CLEAR_ALL.</summary>
    public const int PR_CAP_AMBIENT_CLEAR_ALL = 4;
}

/// <summary>A decoded wait status (wait(2)): exited with a code, or killed by a signal.</summary>
/// <param name="Exited">True when the process called exit.</param>
/// <param name="Code">The exit code (0-255) when <paramref name="Exited"/>.</param>
/// <param name="Signal">The terminating signal when not <paramref name="Exited"/>.</param>
public readonly record struct WaitStatus(bool Exited, int Code, int Signal)
{
    /// <summary>The shell convention: the exit code, or 128 + signal.</summary>
    public int ShellStatus => Exited ? Code : 128 + Signal;

    /// <summary>Decodes a raw status from waitpid(2).</summary>
    public static WaitStatus FromRaw(int status) =>
        (status & 0x7f) == 0 ? new WaitStatus(true, (status >> 8) & 0xff, 0) : new WaitStatus(false, 0, status & 0x7f);
}

// Own declarations (Tmds.LibC 0.5.0 lacks them): waitpid, prctl; pidfd_* go through LibC.syscall.
public static partial class Libc
{
    /// <summary>waitpid: do not block.</summary>
    public const int WNOHANG = 1;
    /// <summary>waitpid/waitid: wait for all children (clone or not).</summary>
    public const int __WALL = 0x40000000;

    /// <summary>getpid(2).</summary>
    public static int getpid() => LibC.getpid();

    /// <summary>kill(2).</summary>
    public static int kill(int pid, int sig) => LibC.kill(pid, sig);

    /// <summary>waitpid(2) (own declaration: not in Tmds.LibC 0.5.0).</summary>
    [LibraryImport(Name, EntryPoint = "waitpid", SetLastError = true)]
    public static unsafe partial int waitpid(int pid, int* status, int options);

    /// <summary>prctl(2) (own declaration: not in Tmds.LibC 0.5.0).</summary>
    [LibraryImport(Name, EntryPoint = "prctl", SetLastError = true)]
    public static partial int prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    /// <summary>setsid(2).</summary>
    public static int setsid() => LibC.setsid();

    /// <summary>pidfd_open(2) (not in Tmds.LibC: LibC.syscall): an fd that refers to process <paramref name="pid"/> (readable when it exits).</summary>
    public static int pidfd_open(int pid, uint flags = 0) => (int)Result(LibC.syscall(Arg(SyscallNumbers.PidfdOpen), pid, flags));

    /// <summary>pidfd_send_signal(2) (not in Tmds.LibC: LibC.syscall): signals the process of <paramref name="pidfd"/> without a pid-reuse race.</summary>
    public static unsafe int pidfd_send_signal(int pidfd, int sig) => (int)Result(LibC.syscall(Arg(SyscallNumbers.PidfdSendSignal), pidfd, sig, (void*)null, 0));

    /// <summary>Waits for child <paramref name="pid"/>, retrying on EINTR.</summary>
    /// <exception cref="SyscallException">waitpid failed (e.g. ECHILD: not our child).</exception>
    public static unsafe WaitStatus WaitPid(int pid)
    {
        int status;
        while (true)
        {
            var r = waitpid(pid, &status, __WALL);
            if (r == pid) return WaitStatus.FromRaw(status);
            var errno = Marshal.GetLastPInvokeError();
            if (r == -1 && errno == Errno.EINTR) continue;
            throw new SyscallException($"waitpid {pid}", errno);
        }
    }

    /// <summary>Reaps any exited child without blocking; returns its pid and status, or 0 when none is ready, -1 when there are no children.</summary>
    public static unsafe int TryReapAny(out WaitStatus status)
    {
        int raw = 0;
        var r = waitpid(-1, &raw, WNOHANG | __WALL);
        status = r > 0 ? WaitStatus.FromRaw(raw) : default;
        return r;
    }

    /// <summary>Waits for any child; returns its pid and status, or -1 (ECHILD) when there are none. Retries on EINTR.</summary>
    public static unsafe int ReapAny(out WaitStatus status)
    {
        int raw = 0;
        while (true)
        {
            var r = waitpid(-1, &raw, __WALL);
            if (r == -1 && Marshal.GetLastPInvokeError() == Errno.EINTR) continue;
            status = r > 0 ? WaitStatus.FromRaw(raw) : default;
            return r;
        }
    }
}
