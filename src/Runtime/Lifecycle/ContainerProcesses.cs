using System.Globalization;
using OciRuntime.Interop;
using OciRuntime.Runtime.Init;

namespace OciRuntime.Runtime.Lifecycle;

/// <summary>
/// The processes of a container that has no cgroups to find them by (rootless without a delegated cgroup, or a root
/// container whose cgroups cannot be found) and no pid namespace of its own (killing its init would end the rest):
/// <c>delete --force</c> kills them through this. A process belongs to the container when it is
/// <list type="bullet">
/// <item>the container's init (its pid and start time, checked after its pidfd is open),</item>
/// <item>a descendant of a process that belongs (the parent pid chain in /proc, so while its parents live),</item>
/// <item>in the container's own mount namespace (the init's, when the container made it: its exec'd processes, and
/// orphans reparented out of the container's tree).</item>
/// </list>
/// Not found: an orphan whose parents have died when the container shares its mount namespace too (then nothing in
/// /proc ties it to the container), and anything at all once the init itself is gone (the mount namespace is then known
/// by nothing in the state directory). A process started from the container's processes into another mount namespace of
/// its own is found only through its parents.
/// </summary>
internal static class ContainerProcesses
{
    /// <summary>Scans before giving up on a tree that keeps growing (each scan stops what it finds, so a few suffice).</summary>
    private const int MaxScans = 50;

    /// <summary>
    /// Stops (SIGSTOP) every process that belongs to the container of init <paramref name="initPid"/> (started at
    /// <paramref name="initStartTime"/>), scanning /proc again until a scan finds none it has not stopped (a stopped
    /// process cannot fork, so the set is closed), then SIGKILLs them all. Every process is held by a pidfd from the
    /// moment its start time is checked, so a pid reused meanwhile is never signalled. Returns how many were killed;
    /// 0 when the init is gone or its pid now names another process.
    /// </summary>
    /// <param name="initPid">The init's pid in the runtime's pid namespace.</param>
    /// <param name="initStartTime">The init's start time (/proc/&lt;pid&gt;/stat field 22).</param>
    /// <param name="ownMountNamespace">The container made its own mount namespace: its members belong too.</param>
    public static int KillAll(int initPid, ulong initStartTime, bool ownMountNamespace)
    {
        var members = new Dictionary<int, SafeFd>();
        try
        {
            var init = OpenIfSame(initPid, initStartTime);
            if (init is null) return 0;
            members.Add(initPid, init);
            _ = Libc.pidfd_send_signal(init.Fd, Signals.SIGSTOP);
            // Read once the init is stopped and pinned: its mount namespace now, unless it is this process's own.
            string? mountNs = null;
            if (ownMountNamespace)
            {
                mountNs = SecurePath.ReadLink($"/proc/{Pid(initPid)}/ns/mnt");
                if (mountNs is not null && mountNs == SecurePath.ReadLink("/proc/self/ns/mnt")) mountNs = null;
            }
            var self = Environment.ProcessId;
            for (var scan = 0; scan < MaxScans; scan++)
            {
                var processes = Scan();
                var added = false;
                // Parents before children is not guaranteed by pid order: repeat over the scan until it adds nothing.
                bool more;
                do
                {
                    more = false;
                    foreach (var (pid, parent, start) in processes)
                    {
                        if (pid == self || members.ContainsKey(pid)) continue;
                        if (!members.ContainsKey(parent) && (mountNs is null || SecurePath.ReadLink($"/proc/{Pid(pid)}/ns/mnt") != mountNs)) continue;
                        var fd = OpenIfSame(pid, start);
                        if (fd is null) continue;
                        members.Add(pid, fd);
                        _ = Libc.pidfd_send_signal(fd.Fd, Signals.SIGSTOP);
                        more = added = true;
                    }
                } while (more);
                if (!added) break;
            }
            foreach (var fd in members.Values) _ = Libc.pidfd_send_signal(fd.Fd, Signals.SIGKILL);
            return members.Count;
        }
        finally
        {
            foreach (var fd in members.Values) fd.Dispose();
        }
    }

    /// <summary>Every live process of /proc: pid, parent pid, start time.</summary>
    private static List<(int Pid, int Parent, ulong Start)> Scan()
    {
        var list = new List<(int, int, ulong)>();
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(entry.AsSpan()), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)) continue;
            if (ProcStat.ReadWithParent(pid) is { State: not ('Z' or 'X') } s) list.Add((pid, s.ParentPid, s.StartTime));
        }
        return list;
    }

    /// <summary>A pidfd of <paramref name="pid"/> if it still is the process that started at <paramref name="start"/>.</summary>
    private static SafeFd? OpenIfSame(int pid, ulong start)
    {
        var raw = Libc.pidfd_open(pid);
        if (raw < 0) return null;
        var fd = new SafeFd(raw);
        if (ProcStat.IsAlive(pid, start)) return fd;
        fd.Dispose();
        return null;
    }

    private static string Pid(int pid) => pid.ToString(CultureInfo.InvariantCulture);
}
