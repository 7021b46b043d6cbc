using System.Globalization;
using System.Text;
using OciRuntime.Spec;

namespace OciRuntime.Runtime.ProcessModel;

/// <summary>linux.timeOffsets of a new time namespace (config-linux.md#offset-for-time-namespace): written to /proc/PID/timens_offsets.</summary>
public static class TimeNamespace
{
    /// <summary>Writes the monotonic and boottime offsets for the time namespace process <paramref name="pid"/> will enter.</summary>
    /// <exception cref="IOException">the kernel refused them; the message names linux.timeOffsets.</exception>
    public static void WriteOffsets(int pid, Dictionary<string, LinuxTimeOffset>? offsets)
    {
        if (offsets is not { Count: > 0 }) return;
        var text = new StringBuilder();
        foreach (var (clock, offset) in offsets)
        {
            if (clock is not ("monotonic" or "boottime")) throw new IOException($"config.json: linux.timeOffsets.{clock}: unknown clock (monotonic or boottime)");
            text.Append(CultureInfo.InvariantCulture, $"{clock} {offset.Secs ?? 0} {offset.Nanosecs ?? 0}\n");
        }
        var path = $"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/timens_offsets";
        try
        {
            File.WriteAllText(path, text.ToString());
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"config.json: linux.timeOffsets: write {path}: {e.Message}", e);
        }
    }
}
