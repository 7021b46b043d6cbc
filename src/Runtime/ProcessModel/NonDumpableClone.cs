using OciRuntime.Interop;

namespace OciRuntime.Runtime.ProcessModel;

/// <summary>
/// Makes this process non-dumpable around a clone3, so that the child — a copy of the runtime, whose /proc/PID/exe is
/// the host's ocirun binary — is non-dumpable from its first instruction (the flag belongs to the memory, which the
/// child copies). Its memory belongs to the runtime's user namespace, so even after the child enters a new user
/// namespace a container process needs CAP_SYS_PTRACE there to reach it (CVE-2019-5736, docs/security.md); a child that
/// set the flag itself would be within reach of every host-root process for its first instructions. The runtime is
/// dumpable again right after the clone.
/// </summary>
internal static class NonDumpableClone
{
    /// <summary>Before the clone: clears the dumpable flag; returns what it was (prctl PR_GET_DUMPABLE: 0, 1, 2 or -1).</summary>
    public static int Enter()
    {
        var was = Libc.prctl(Prctl.PR_GET_DUMPABLE, 0, 0, 0, 0);
        if (was != 0) _ = Libc.prctl(Prctl.PR_SET_DUMPABLE, 0, 0, 0, 0);
        return was;
    }

    /// <summary>In the parent after the clone: the flag as it was (2, suid_dumpable's value, cannot be set back: 0 stays).</summary>
    public static void Leave(int was)
    {
        if (was == 1) _ = Libc.prctl(Prctl.PR_SET_DUMPABLE, 1, 0, 0, 0);
    }
}
