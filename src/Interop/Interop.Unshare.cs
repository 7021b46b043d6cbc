namespace OciRuntime.Interop;

public static partial class Libc
{
    /// <summary>
    /// unshare(2). Namespaces kept in nsproxy (cgroup, uts, ipc, net, time for children) are per thread: in a
    /// multithreaded process only the calling thread moves.
    /// </summary>
    public static int unshare(int flags) => LibC.unshare(flags);
}
