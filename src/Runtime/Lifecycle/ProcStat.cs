using OciRuntime.Interop;
using System.Globalization;

namespace OciRuntime.Runtime.Lifecycle;

/// <summary>Reads /proc/&lt;pid&gt;/stat: the process state letter and start time.</summary>
public static class ProcStat
{
    /// <summary>State letter (R, S, D, Z, T, X, …) and start time (clock ticks since boot), or null when there is no such process.</summary>
    public static (char State, ulong StartTime)? Read(int pid) => ReadWithParent(pid) is { } s ? (s.State, s.StartTime) : null;

    /// <summary>As <see cref="Read"/>, with the parent's pid (field 4).</summary>
    public static (char State, int ParentPid, ulong StartTime)? ReadWithParent(int pid)
    {
        string? text;
        try
        {
            // A gone process is the common case (delete after the container exited): no exception for it.
            text = Libc.TryReadFileText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat", out _);
        }
        catch (IOException)
        {
            return null;
        }
        if (text is null) return null;
        // "pid (comm) S ppid ..." – comm may hold spaces and parentheses: split after the last ')'.
        var close = text.LastIndexOf(')');
        if (close < 0) return null;
        var fields = text[(close + 2)..].Split(' ');
        if (fields.Length < 20) return null;
        return (fields[0][0], int.Parse(fields[1], CultureInfo.InvariantCulture), ulong.Parse(fields[19], CultureInfo.InvariantCulture));
    }

    /// <summary>True when <paramref name="pid"/> runs and is the same process (same start time), not a zombie.</summary>
    public static bool IsAlive(int pid, ulong startTime) =>
        pid > 0 && Read(pid) is { } s && s.State is not ('Z' or 'X') && s.StartTime == startTime;
}
