using OciRuntime.Cgroups;
using OciRuntime.Interop;
using OciRuntime.Runtime.ProcessModel;

namespace OciRuntime.Runtime.Init;

/// <summary>
/// The init's side of the late cgroup join (docs/process-model.md, "cgroups"): write "0" (this process, all its threads)
/// to each join file fd the runtime passed (a v1 tasks file, or cgroup.procs on cgroup2), then unshare the cgroup namespace if one was asked for.
/// </summary>
internal static class CgroupJoin
{
    /// <summary>Joins; called on the init's main thread, with CAP_SYS_ADMIN still held, as late as that allows.</summary>
    /// <exception cref="InitException">the kernel refused.</exception>
    public static void Join(CgroupJoinOptions? options)
    {
        if (options is null) return;
        foreach (var fd in options.ProcsFds)
        {
            try
            {
                CgroupFs.WriteOnce(fd, "0"u8, $"cgroup join file (fd {fd})");
            }
            catch (SyscallException e)
            {
                throw new InitException($"join the container's cgroup: {e.Message}", e);
            }
            Libc.close(fd);
        }
        // nsproxy is per thread: only this thread (the one that execs) moves, which is what the container gets.
        if (options.NewNamespace && Libc.unshare((int)CloneFlags.NewCgroup) != 0)
            throw new InitException($"config.json: linux.namespaces: cgroup: {SyscallException.FromLastError("unshare(CLONE_NEWCGROUP)").Message}");
    }
}
