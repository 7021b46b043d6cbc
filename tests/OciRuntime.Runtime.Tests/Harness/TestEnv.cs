using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace OciRuntime.Runtime.Tests.Harness;

/// <summary>
/// Where the tests keep their files (/tmp/ocirun-tests/&lt;test pid&gt;, removed at exit), unique names, and the
/// leak probes: mounts, descendant processes and open fds of the test process.
/// </summary>
public static class TestEnv
{
    private static readonly Lazy<string> Base = new(CreateBase);

    /// <summary>This test run's directory.</summary>
    public static string BaseDir => Base.Value;

    /// <summary>Signal numbers used by the tests.</summary>
    public const int SIGKILL = 9, SIGUSR1 = 10, SIGTERM = 15;

    [DllImport("libc", SetLastError = true, EntryPoint = "kill")]
    private static extern int SysKill(int pid, int signal);

    /// <summary>kill(2).</summary>
    public static int Kill(int pid, int signal) => SysKill(pid, signal);

    /// <summary>True when the tests run as root (they need to: real containers).</summary>
    public static bool IsRoot => Environment.UserName == "root" || geteuid() == 0;

    [DllImport("libc")]
    private static extern uint geteuid();

    /// <summary>A fresh container id, unique in this run and on the machine.</summary>
    public static string NewId(string prefix = "t") => $"{prefix}-{Guid.NewGuid().ToString("N")[..12]}";

    /// <summary>Creates a fresh, empty directory under <see cref="BaseDir"/>.</summary>
    public static string NewDir(string prefix)
    {
        var dir = Path.Combine(BaseDir, $"{prefix}-{Guid.NewGuid().ToString("N")[..12]}");
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>Lines of the test process's /proc/self/mountinfo.</summary>
    public static string[] MountInfo() => File.ReadAllLines("/proc/self/mountinfo");

    /// <summary>
    /// Host mounts that belong to this test run: mount point or mounted root under <see cref="BaseDir"/>. The machine is
    /// shared (other test runs mount and unmount all the time), so the mount table's size proves nothing; every path a
    /// leaked container mount could have (bundles, rootfs, state roots, host dirs of the tests) is under BaseDir.
    /// </summary>
    public static List<string> OurMounts()
    {
        var prefix = BaseDir + "/";
        return MountInfo().Where(l =>
        {
            var f = l.Split(' ');
            return f.Length > 4 && (f[3] == BaseDir || f[3].StartsWith(prefix, StringComparison.Ordinal) ||
                                    f[4] == BaseDir || f[4].StartsWith(prefix, StringComparison.Ordinal));
        }).ToList();
    }

    /// <summary>Mount points (host side) at or under <paramref name="path"/>.</summary>
    public static List<string> MountsUnder(string path)
    {
        var prefix = path.TrimEnd('/');
        return MountInfo().Select(l => l.Split(' ')[4]).Where(m => m == prefix || m.StartsWith(prefix + "/", StringComparison.Ordinal)).ToList();
    }

    /// <summary>Cgroup directories (in any hierarchy under /sys/fs/cgroup, a few levels deep) named after one of <paramref name="ids"/>.</summary>
    public static List<string> CgroupDirsOf(IReadOnlySet<string> ids)
    {
        var found = new List<string>();
        void Walk(string dir, int depth)
        {
            List<string> subs;
            try { subs = Directory.EnumerateDirectories(dir).ToList(); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return; }
            foreach (var sub in subs)
            {
                if (ids.Contains(Path.GetFileName(sub))) found.Add(sub);
                else if (depth > 0) Walk(sub, depth - 1);
            }
        }
        Walk("/sys/fs/cgroup", 4);
        return found;
    }

    /// <summary>
    /// Number of open fds of the test process, after a full collection: handles that only wait for their finalizer
    /// are not a leak.
    /// </summary>
    public static int OpenFdCount()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return Directory.GetFileSystemEntries("/proc/self/fd").Length;
    }

    /// <summary>The open fds of the test process, counted by kind ("pipe", "socket", "anon_inode:[eventfd]", a path…).</summary>
    public static string DescribeOpenFds()
    {
        var kinds = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var fd in Directory.GetFileSystemEntries("/proc/self/fd"))
        {
            string target;
            try { target = new FileInfo(fd).LinkTarget ?? "?"; } catch (IOException) { continue; }
            var bracket = target.IndexOf(":[", StringComparison.Ordinal);
            var kind = bracket > 0 && !target.StartsWith("anon_inode", StringComparison.Ordinal) ? target[..bracket] : target;
            kinds[kind] = kinds.GetValueOrDefault(kind) + 1;
        }
        return string.Join(", ", kinds.OrderByDescending(k => k.Value).Select(k => $"{k.Key} x{k.Value}"));
    }

    /// <summary>Live (not zombie) descendants of the test process: pid and command line.</summary>
    public static List<(int Pid, string Command)> Descendants()
    {
        var parents = new Dictionary<int, (int Ppid, char State)>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)) continue;
            string stat;
            try { stat = File.ReadAllText(dir + "/stat"); } catch (IOException) { continue; } catch (UnauthorizedAccessException) { continue; }
            var close = stat.LastIndexOf(')');
            if (close < 0 || close + 2 >= stat.Length) continue;
            var fields = stat[(close + 2)..].Split(' ');
            if (fields.Length < 2 || !int.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var ppid)) continue;
            parents[pid] = (ppid, fields[0][0]);
        }
        var self = Environment.ProcessId;
        var result = new List<(int, string)>();
        foreach (var (pid, (_, state)) in parents)
        {
            if (state is 'Z' or 'X') continue;
            var cursor = pid;
            for (var depth = 0; depth < 64 && parents.TryGetValue(cursor, out var p); depth++)
            {
                if (p.Ppid == self)
                {
                    result.Add((pid, CommandLine(pid)));
                    break;
                }
                cursor = p.Ppid;
            }
        }
        return result;
    }

    /// <summary>Waits (hang guard only) until the test process has no live descendants; returns those still there.</summary>
    public static List<(int Pid, string Command)> WaitForNoDescendants(int guardMs = 60_000)
    {
        var sw = Stopwatch.StartNew();
        while (true)
        {
            var left = Descendants();
            if (left.Count == 0 || sw.ElapsedMilliseconds > guardMs) return left;
            Thread.Sleep(20);
        }
    }

    /// <summary>Polls <paramref name="condition"/> until true or the hang guard expires; returns the last value.</summary>
    public static bool Eventually(Func<bool> condition, int guardMs = 60_000)
    {
        var sw = Stopwatch.StartNew();
        while (!condition())
        {
            if (sw.ElapsedMilliseconds > guardMs) return false;
            Thread.Sleep(10);
        }
        return true;
    }

    /// <summary>/proc/&lt;pid&gt;/cmdline with spaces, or "" when gone.</summary>
    public static string CommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/cmdline").Replace('\0', ' ').Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }

    /// <summary>Removes a directory tree, refusing (and failing loudly) when something is still mounted in it.</summary>
    public static void RemoveTree(string dir)
    {
        if (!Directory.Exists(dir)) return;
        var mounts = MountsUnder(dir);
        if (mounts.Count > 0) throw new InvalidOperationException($"refusing to remove {dir}: still mounted: {string.Join(", ", mounts)}");
        Directory.Delete(dir, recursive: true); // does not follow symlinks
    }

    private static string CreateBase()
    {
        Reaper.EnsureStarted();
        const string parent = "/tmp/ocirun-tests";
        Directory.CreateDirectory(parent);
        // Leftovers of earlier runs whose test process is gone (and nothing mounted there).
        foreach (var old in Directory.EnumerateDirectories(parent))
        {
            if (int.TryParse(Path.GetFileName(old), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && !Directory.Exists($"/proc/{pid}"))
            {
                try { RemoveTree(old); } catch (Exception e) when (e is IOException or InvalidOperationException or UnauthorizedAccessException) { }
            }
        }
        var dir = Path.Combine(parent, Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        Directory.CreateDirectory(dir);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { RemoveTree(dir); } catch (Exception e) when (e is IOException or InvalidOperationException or UnauthorizedAccessException) { }
        };
        return dir;
    }
}
