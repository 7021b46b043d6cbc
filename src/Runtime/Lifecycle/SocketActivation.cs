using System.Globalization;

namespace OciRuntime.Runtime.Lifecycle;

/// <summary>
/// systemd socket activation passed through, as runc does: when ocirun itself was started with LISTEN_FDS=N,
/// fds 3 … 3+N-1 go to the container and its process gets LISTEN_FDS=N and LISTEN_PID=1.
/// </summary>
internal static class SocketActivation
{
    /// <summary>Adds LISTEN_FDS/LISTEN_PID to <paramref name="process"/>.env when ocirun got LISTEN_FDS; returns N (0 without).</summary>
    public static int Apply(Spec.Process? process)
    {
        var text = Environment.GetEnvironmentVariable("LISTEN_FDS");
        if (process is null || text is null || !int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n <= 0) return 0;
        process.Env ??= [];
        process.Env.RemoveAll(e => e.StartsWith("LISTEN_FDS=", StringComparison.Ordinal) || e.StartsWith("LISTEN_PID=", StringComparison.Ordinal));
        process.Env.Add($"LISTEN_FDS={n.ToString(CultureInfo.InvariantCulture)}");
        process.Env.Add("LISTEN_PID=1");
        return n;
    }
}
