using System.Globalization;
using System.Runtime.InteropServices;

namespace OciRuntime.Runtime.Tests.Harness;

/// <summary>
/// Makes the test process a child subreaper that reaps orphans, as containerd's shim does: container inits
/// left by `ocirun create` are reparented to us, and a container init whose pid namespace still holds an
/// orphaned zombie cannot finish exiting until somebody reaps it (PID 1 of these machines reaps late).
/// Children this process started itself (<see cref="Spawn"/>) are left to System.Diagnostics.Process.
/// </summary>
public static class Reaper
{
    private static readonly object Gate = new();
    private static readonly HashSet<int> Spawned = [];
    private static readonly int Self = Environment.ProcessId;
    private static int _started;

    [DllImport("libc", SetLastError = true)]
    private static extern int prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    [DllImport("libc", SetLastError = true)]
    private static extern int waitpid(int pid, out int status, int options);

    /// <summary>Becomes a subreaper and starts the reaping thread (idempotent).</summary>
    public static void EnsureStarted()
    {
        if (Interlocked.Exchange(ref _started, 1) == 1) return;
        if (prctl(36 /* PR_SET_CHILD_SUBREAPER */, 1, 0, 0, 0) != 0) throw new InvalidOperationException("PR_SET_CHILD_SUBREAPER failed");
        var thread = new Thread(Loop) { IsBackground = true, Name = "orphan reaper" };
        thread.Start();
    }

    /// <summary>Starts <paramref name="start"/> so that the reaper never takes its exit status.</summary>
    public static System.Diagnostics.Process Spawn(System.Diagnostics.ProcessStartInfo start)
    {
        EnsureStarted();
        lock (Gate)
        {
            var p = System.Diagnostics.Process.Start(start) ?? throw new InvalidOperationException($"cannot start {start.FileName}");
            Spawned.Add(p.Id);
            return p;
        }
    }

    /// <summary>Forgets a spawned child once its exit status has been read.</summary>
    public static void Forget(int pid)
    {
        lock (Gate) Spawned.Remove(pid);
    }

    private static void Loop()
    {
        // A zombie child is reaped only once it has stayed a zombie for a few scans: System.Diagnostics.Process reaps
        // the children it started (also ones started without Spawn) within milliseconds of SIGCHLD, and reaping one
        // of those first makes the .NET runtime fail ("Error while reaping child", ECHILD). Orphans reparented to us
        // are never reaped by anyone else.
        var seen = new Dictionary<int, int>();
        while (true)
        {
            Thread.Sleep(50);
            lock (Gate)
            {
                var zombies = ZombieChildren().ToHashSet();
                foreach (var pid in seen.Keys.Where(p => !zombies.Contains(p)).ToList()) seen.Remove(pid);
                foreach (var pid in zombies)
                {
                    if (Spawned.Contains(pid)) continue;
                    seen[pid] = seen.GetValueOrDefault(pid) + 1;
                    if (seen[pid] >= 4 && waitpid(pid, out _, 1 /* WNOHANG */) == pid) seen.Remove(pid);
                }
            }
        }
    }

    private static IEnumerable<int> ZombieChildren()
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            var name = Path.GetFileName(dir);
            if (name.Length == 0 || !char.IsAsciiDigit(name[0])) continue;
            string stat;
            try { stat = File.ReadAllText(dir + "/stat"); } catch (IOException) { continue; } catch (UnauthorizedAccessException) { continue; }
            var close = stat.LastIndexOf(')');
            if (close < 0 || close + 2 >= stat.Length) continue;
            var fields = stat[(close + 2)..].Split(' ');
            if (fields.Length < 2 || fields[0] != "Z") continue;
            if (int.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var ppid) && ppid == Self)
                yield return int.Parse(name, CultureInfo.InvariantCulture);
        }
    }
}
