using System.Runtime.InteropServices;
using OciRuntime.Interop;
using System.Globalization;
using System.Text;
using OciRuntime.Runtime.Lifecycle;

namespace OciRuntime.Runtime.Cli;

/// <summary><c>ps -f table</c>: runs the host's ps with the given options and keeps the header and the container's rows (runc's way).</summary>
internal static class PsTable
{
    public static string Filter(IReadOnlyList<string> psOptions, IReadOnlyList<int> pids)
    {
        var (output, error, ok) = RunPs(psOptions);
        if (!ok) throw new RuntimeException($"ps {string.Join(' ', psOptions)}: {error.Trim()}");
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (lines.Length == 0) return "";
        var header = lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var pidColumn = Array.IndexOf(header, "PID");
        if (pidColumn < 0) throw new RuntimeException("ps: couldn't find PID field in ps output");
        var wanted = new HashSet<int>(pids);
        var sb = new StringBuilder(lines[0]).Append('\n');
        foreach (var line in lines.AsSpan(1))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length > pidColumn && int.TryParse(fields[pidColumn], NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && wanted.Contains(pid))
                sb.Append(line).Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>
    /// Runs the host's ps (found in this process's PATH, with its environment) through posix_spawn: stdout through a
    /// pipe, stderr into a memfd read after it exits (no second pipe to drain), stdin /dev/null.
    /// </summary>
    private static (string Output, string Error, bool Ok) RunPs(IReadOnlyList<string> psOptions)
    {
        var path = Init.ProcessSetup.FindInPath("ps", Environment.GetEnvironmentVariable("PATH") ?? Init.ProcessSetup.DefaultPath) ?? throw new RuntimeException("ps: exec: \"ps\": executable file not found in $PATH");
        var argv = new List<string>(psOptions.Count + 1) { "ps" };
        argv.AddRange(psOptions);
        var env = new List<string>();
        foreach (System.Collections.DictionaryEntry e in Environment.GetEnvironmentVariables()) env.Add($"{e.Key}={e.Value}");
        using var devNull = SafeFd.Check(Libc.open("/dev/null", OpenFlags.O_RDONLY | OpenFlags.O_CLOEXEC), "open /dev/null");
        using var errors = SafeFd.Check(Libc.memfd_create("ps-stderr", MemfdFlags.MFD_CLOEXEC), "memfd_create");
        var (outRead, outWrite) = Libc.Pipe();
        using (outRead)
        {
            int pid;
            using (outWrite)
            {
                try
                {
                    pid = Libc.Spawn(path, argv, env, devNull.Fd, outWrite.Fd, errors.Fd);
                }
                catch (SyscallException e)
                {
                    throw new RuntimeException($"ps: {e.Message}", e);
                }
            }
            var output = ReadToEnd(outRead.Fd, -1);
            var status = Libc.WaitPid(pid);
            var ok = status.Exited && status.Code == 0;
            return (output, ok ? "" : ReadToEnd(errors.Fd, 0), ok);
        }
    }

    /// <summary>Reads <paramref name="fd"/> to its end, from <paramref name="offset"/> (pipes: -1, no seek).</summary>
    private static string ReadToEnd(int fd, long offset)
    {
        if (offset >= 0 && Libc.lseek(fd, offset, 0 /* SEEK_SET */) < 0) throw new SyscallException("lseek", Marshal.GetLastPInvokeError());
        var bytes = new MemoryStream();
        var buffer = new byte[16 * 1024];
        int n;
        while ((n = Libc.ReadSome(fd, buffer, "ps output")) > 0) bytes.Write(buffer, 0, n);
        return Encoding.UTF8.GetString(bytes.GetBuffer(), 0, (int)bytes.Length);
    }
}
