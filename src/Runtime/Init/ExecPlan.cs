using System.Runtime.InteropServices;
using System.Text;
using OciRuntime.Interop;
using OciRuntime.Runtime.Cli;

namespace OciRuntime.Runtime.Init;

/// <summary>
/// What the init still has to do between the exec fifo and execve, prepared at create time: the seccomp filter, the
/// capability sets deferred until after it, the seccomp listener hand-off, the final CPU affinity, and the procfs
/// handle for the exec fifo.
/// </summary>
/// <remarks>
/// The order of <see cref="RunFinalSteps"/> is the security-relevant part: (1) every fd above stdio is marked
/// close-on-exec (CVE-2024-21626) and the signal state is reset; (2) argv and envp go to native memory; (3) the seccomp
/// filter is loaded on this thread, the last thing before execve, so the runtime's own syscalls are never filtered
/// (with no_new_privs off it needs CAP_SYS_ADMIN, which is why <see cref="DeferredCapabilities"/> exists: the final
/// capability sets follow the load, as in runc); (4) the notify fd goes to the listener; (5) execve.
/// </remarks>
internal sealed unsafe class ExecPlan : IDisposable
{
    /// <summary>The resolved path of process.args[0] (LookPath).</summary>
    public string Executable { get; set; } = "";

    /// <summary>The compiled filter of linux.seccomp, or null.</summary>
    public SeccompFilter? Seccomp { get; set; }

    /// <summary>Capability sets to apply after the filter is loaded (seccomp without no_new_privs), or null.</summary>
    public CapabilitySets? DeferredCapabilities { get; set; }

    /// <summary>The socket connected to linux.seccomp.listenerPath by the runtime, or -1.</summary>
    public int ListenerFd { get; set; } = -1;

    /// <summary>The container process state JSON sent with the notify fd.</summary>
    public byte[] ListenerState { get; set; } = [];

    /// <summary>process.execCPUAffinity.final for an exec'd process, or null.</summary>
    public string? FinalCpuAffinity { get; set; }

    /// <summary>--preserve-fds: fds 3 … 3+N-1 stay open in the container process.</summary>
    public int PreserveFds { get; set; }

    /// <summary>The trusted procfs handle (see <see cref="ProcFs"/>).</summary>
    public ProcFs? ProcFs { get; set; }

    /// <summary>Runs the final steps and execs; returns only on failure, with the exit status to use.</summary>
    /// <param name="process">The process to exec.</param>
    /// <param name="beforeExec">Run after the filter and the final capabilities, right before execve (startContainer hooks); an <see cref="InitException"/> fails the start.</param>
    public int RunFinalSteps(Spec.Process process, Action? beforeExec = null)
    {
        // No fd of the runtime may reach the container (CVE-2024-21626): everything above stdio and the preserved
        // fds closes on exec.
        _ = Libc.close_range(3 + (uint)Math.Max(0, PreserveFds), uint.MaxValue, OpenFlags.CLOSE_RANGE_CLOEXEC);
        // With startContainer hooks the reset waits until they have run: the .NET runtime of this process still runs
        // them, and its own signals (GC thread suspension) must keep their handlers until then.
        if (beforeExec is null) Libc.ResetSignalsForExec();
        var args = process.Args!;
        var env = process.Env ?? [];
        using var native = new NativeArgv(Executable, args, env);
        try
        {
            ProcessAttributes.SetCpuAffinity(FinalCpuAffinity, "process.execCPUAffinity.final");
            if (Seccomp is { } filter)
            {
                var notifyFd = filter.Load();
                if (notifyFd >= 0)
                {
                    Span<int> fds = [notifyFd];
                    UnixSocket.SendWithRights(ListenerFd, ListenerState, fds);
                }
            }
            // The ambient set needs nothing more: capset intersects it with the new permitted and inheritable sets.
            if (DeferredCapabilities is { } sets) Libc.CapSet(sets.Effective, sets.Permitted, sets.Inheritable);
            if (beforeExec is not null)
            {
                beforeExec();
                Libc.ResetSignalsForExec();
            }
        }
        catch (Exception e) when (e is SyscallException or InitException)
        {
            StdIo.ErrorLine($"ocirun: {e.Message}");
            return 1;
        }
        _ = RawSys.Execve(native.Path, native.Argv, native.Envp);
        var errno = RawSys.ErrnoValue; // before anything else can overwrite it
        // runc's line and status for a program that cannot be exec'd at this point ("exec PATH: ERROR", 1).
        var error = new SyscallException($"exec {Executable}", errno);
        StdIo.ErrorLine(error.Message);
        return 1;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Seccomp?.Dispose();
        ProcFs?.Dispose();
    }

    /// <summary>The path, argv and envp of execve as NUL-terminated UTF-8 in native memory.</summary>
    private sealed class NativeArgv : IDisposable
    {
        private readonly List<nint> _blocks = [];

        public NativeArgv(string path, List<string> args, List<string> env)
        {
            Path = Utf8(path);
            Argv = Array(args);
            Envp = Array(env);
        }

        public byte* Path { get; }
        public byte** Argv { get; }
        public byte** Envp { get; }

        private byte* Utf8(string s)
        {
            var bytes = Encoding.UTF8.GetBytes(s);
            var p = (byte*)NativeMemory.AllocZeroed((nuint)bytes.Length + 1);
            bytes.CopyTo(new Span<byte>(p, bytes.Length));
            _blocks.Add((nint)p);
            return p;
        }

        private byte** Array(List<string> items)
        {
            var a = (byte**)NativeMemory.AllocZeroed((nuint)((items.Count + 1) * sizeof(byte*)));
            _blocks.Add((nint)a);
            for (var i = 0; i < items.Count; i++) a[i] = Utf8(items[i]);
            return a;
        }

        public void Dispose()
        {
            foreach (var b in _blocks) NativeMemory.Free((void*)b);
            _blocks.Clear();
        }
    }
}
