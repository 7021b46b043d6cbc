using System.Diagnostics;
using System.Globalization;
using System.Text;
using OciRuntime.Runtime.Lifecycle;

namespace OciRuntime.Runtime.Cli;

/// <summary><c>ps -f table</c>: runs the host's ps with the given options and keeps the header and the container's rows (runc's way).</summary>
internal static class PsTable
{
    public static string Filter(IReadOnlyList<string> psOptions, IReadOnlyList<int> pids)
    {
        var start = new ProcessStartInfo("ps") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var o in psOptions) start.ArgumentList.Add(o);
        using var ps = System.Diagnostics.Process.Start(start) ?? throw new RuntimeException("ps: cannot start ps");
        var output = ps.StandardOutput.ReadToEnd();
        var error = ps.StandardError.ReadToEnd();
        ps.WaitForExit();
        if (ps.ExitCode != 0) throw new RuntimeException($"ps {string.Join(' ', psOptions)}: {error.Trim()}");
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (lines.Length == 0) return "";
        var header = lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var pidColumn = Array.IndexOf(header, "PID");
        if (pidColumn < 0) throw new RuntimeException("ps: couldn't find PID field in ps output");
        var wanted = pids.ToHashSet();
        var sb = new StringBuilder(lines[0]).Append('\n');
        foreach (var line in lines.Skip(1))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length > pidColumn && int.TryParse(fields[pidColumn], NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && wanted.Contains(pid))
                sb.Append(line).Append('\n');
        }
        return sb.ToString();
    }
}
