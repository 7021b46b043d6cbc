using System.Runtime;
using System.Runtime.InteropServices;
using OciRuntime.Interop;
using OciRuntime.Spec;

namespace OciRuntime.Runtime.ProcessModel;

/// <summary>
/// A user namespace with given id maps, held only as an fd (<c>/proc/PID/ns/user</c>): what mount_setattr(MOUNT_ATTR_IDMAP)
/// needs for an idmapped mount. This multithreaded process may not unshare(CLONE_NEWUSER), so a helper is cloned with
/// CLONE_NEWUSER; it runs raw syscalls only (it blocks in read(2) on a socket), the parent writes its maps, opens its
/// namespace, then closes the socket: the helper reads end-of-file and _exits, and is reaped. The namespace lives on
/// as long as the fd. See docs/process-model.md, "Idmapped mounts".
/// </summary>
public static unsafe class MappedUserNamespace
{
    /// <summary>Creates a user namespace with <paramref name="uidMappings"/> and <paramref name="gidMappings"/>; returns its fd (close-on-exec).</summary>
    /// <exception cref="SyscallException">clone3, or opening the namespace, failed.</exception>
    /// <exception cref="IOException">a map was refused (the message names <paramref name="field"/>).</exception>
    public static SafeFd Create(IReadOnlyList<LinuxIdMapping> uidMappings, IReadOnlyList<LinuxIdMapping> gidMappings, string field)
    {
        var (parentEnd, childEnd) = Libc.SocketPair();
        using (parentEnd)
        {
            int pid;
            using (childEnd)
            {
                pid = CloneHelper(childEnd.Fd, parentEnd.Fd);
            }
            try
            {
                UserNamespace.WriteMappings(pid, uidMappings, gidMappings, field);
                return SafeFd.Check(Libc.open($"/proc/{pid}/ns/user", OpenFlags.O_RDONLY | OpenFlags.O_CLOEXEC), $"open /proc/{pid}/ns/user");
            }
            finally
            {
                parentEnd.Dispose(); // the helper reads end-of-file and exits
                try { Libc.WaitPid(pid); } catch (SyscallException) { /* reaped elsewhere */ }
            }
        }
    }

    private static int CloneHelper(int childFd, int parentFd)
    {
        var args = new CloneArgs { Flags = (ulong)CloneFlags.NewUser, ExitSignal = Signals.SIGCHLD };
        long pid;
        int errno;
        // Born non-dumpable: a copy of the runtime (its exe is the host binary) in a user namespace host root owns, which
        // any host-root process could otherwise open (CVE-2019-5736, docs/security.md). Without host privileges the parent
        // could not write the maps of a non-dumpable helper: then the helper is dumpable (such a runtime cannot make an
        // idmapped mount anyway).
        var dumpableForMaps = Libc.geteuid() != 0;
        var noGc = TryEnterNoGcRegion();
        var dumpable = dumpableForMaps ? -1 : NonDumpableClone.Enter();
        try
        {
            pid = RawSys.Clone3(&args);
            if (pid == 0) HelperMain(childFd, parentFd, dumpableForMaps); // never returns
            errno = RawSys.ErrnoValue;
        }
        finally
        {
            NonDumpableClone.Leave(dumpable);
            if (noGc && GCSettings.LatencyMode == GCLatencyMode.NoGCRegion) GC.EndNoGCRegion();
        }
        if (pid < 0) throw new SyscallException("clone3 (a user namespace for an idmapped mount)", errno);
        return (int)pid;
    }

    /// <summary>The helper: a one-thread copy of this process; raw, non-allocating syscalls only (docs/process-model.md).</summary>
    private static void HelperMain(int childFd, int parentFd, bool dumpable)
    {
        if (!dumpable) _ = RawSys.Prctl(Prctl.PR_SET_DUMPABLE, 0, 0, 0, 0);
        _ = RawSys.Close(parentFd); // else its own copy would keep the socket open: no end-of-file, ever
        byte one;
        while (true)
        {
            var n = RawSys.Read(childFd, &one, 1);
            if (n == 0 || (n < 0 && RawSys.ErrnoValue != Errno.EINTR)) RawSys.Exit(0);
        }
    }

    private static bool TryEnterNoGcRegion()
    {
        try
        {
            return GC.TryStartNoGCRegion(1 << 20, disallowFullBlockingGC: true);
        }
        catch (InvalidOperationException)
        {
            return false; // already in one
        }
    }

    /// <summary>The text of a map as uid_map takes it (for caching namespaces by mapping).</summary>
    internal static string Key(IReadOnlyList<LinuxIdMapping> uidMappings, IReadOnlyList<LinuxIdMapping> gidMappings) =>
        MapText(uidMappings) + "|" + MapText(gidMappings);

    private static string MapText(IReadOnlyList<LinuxIdMapping> mappings)
    {
        var parts = new string[mappings.Count];
        for (int i = 0; i < parts.Length; i++) parts[i] = $"{mappings[i].ContainerId}:{mappings[i].HostId}:{mappings[i].Size}";
        return string.Join(';', parts);
    }
}
