using System.Globalization;
using OciRuntime.Interop;
using OciRuntime.Runtime.Lifecycle;

namespace OciRuntime.Runtime.Checkpoint;

/// <summary>
/// One <c>criu swrk 3</c> process and its RPC socket (criu.org/RPC): ocirun spawns CRIU with a SOCK_SEQPACKET
/// socket as its fd 3 (runc's way), sends one request per record, acknowledges each notification CRIU sends while it
/// works, and reads the final response. CRIU's stdio are the caller's choice (a restore passes the container's stdio,
/// which CRIU hands to the restored tasks through inherit_fd); fds 4… are extra fds CRIU inherits (namespace files).
/// </summary>
public sealed class CriuSwrk : IDisposable
{
    /// <summary>The oldest CRIU whose RPC answers a VERSION request (runc's minimum, 3.0.0).</summary>
    public const int MinimumVersion = 30000;

    private readonly SafeFd _socket;
    private bool _exited;

    /// <summary>The CRIU process's pid (a child of this process).</summary>
    public int Pid { get; }

    private CriuSwrk(SafeFd socket, int pid)
    {
        _socket = socket;
        Pid = pid;
    }

    /// <summary>The criu executable: the first "criu" in PATH (as runc finds it), or null.</summary>
    public static string? FindExecutable()
    {
        var path = Environment.GetEnvironmentVariable("PATH") is { Length: > 0 } p ? p : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        foreach (var dir in path.Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, "criu");
            if (File.Exists(candidate) && Libc.access(candidate, 1 /* X_OK */) == 0) return candidate;
        }
        return null;
    }

    /// <summary>Starts <c>criu swrk 3</c> with <paramref name="stdio"/> as its fds 0–2 and <paramref name="extraFds"/> as 4….</summary>
    /// <exception cref="RuntimeException">no criu in PATH, or it cannot be started.</exception>
    public static CriuSwrk Start(ReadOnlySpan<int> stdio, IReadOnlyList<int>? extraFds = null)
    {
        var criu = FindExecutable() ?? throw new RuntimeException($"criu not found in PATH: checkpoint and restore need CRIU {VersionText(MinimumVersion)} or newer");
        var (client, server) = Libc.SeqPacketPair();
        using (server)
        {
            var fds = new int[4 + (extraFds?.Count ?? 0)];
            stdio.CopyTo(fds);
            fds[3] = server.Fd;
            for (var i = 0; i < (extraFds?.Count ?? 0); i++) fds[4 + i] = extraFds![i];
            try
            {
                var env = new List<string>();
                foreach (var name in (string[])["PATH", "LANG", "LC_ALL"])
                {
                    if (Environment.GetEnvironmentVariable(name) is { } v) env.Add($"{name}={v}");
                }
                var pid = Libc.SpawnWithFds(criu, [criu, "swrk", "3"], env, fds);
                return new CriuSwrk(client, pid);
            }
            catch (SyscallException e)
            {
                client.Dispose();
                throw new RuntimeException($"start {criu} swrk: {e.Message}", e);
            }
        }
    }

    /// <summary>Asks CRIU for its version (major*10000 + minor*100 + sublevel).</summary>
    /// <exception cref="RuntimeException">criu is missing, or older than the VERSION request (the message says which).</exception>
    public static int QueryVersion()
    {
        using var devNull = SafeFd.Check(Libc.open("/dev/null", OpenFlags.O_RDWR | OpenFlags.O_CLOEXEC), "open /dev/null");
        using var swrk = Start([devNull.Fd, devNull.Fd, devNull.Fd]);
        CriuResponse response;
        try
        {
            response = swrk.Call(new CriuRequest { Type = CriuRequestType.Version }, null);
        }
        catch (RuntimeException e)
        {
            throw new RuntimeException($"CRIU version check failed (CRIU {VersionText(MinimumVersion)} or newer is needed): {e.Message}", e);
        }
        swrk.Finish();
        if (!response.Success || response.Version is not { } version)
            throw new RuntimeException($"CRIU version check failed: CRIU does not answer the VERSION request (CRIU {VersionText(MinimumVersion)} or newer is needed)");
        return version;
    }

    /// <summary>Checks that the installed CRIU is at least <paramref name="minimum"/>; returns its version.</summary>
    /// <exception cref="RuntimeException">criu is missing or too old.</exception>
    public static int Require(int minimum)
    {
        var version = QueryVersion();
        if (version < minimum) throw new RuntimeException($"CRIU version {VersionText(version)} is too old: {VersionText(minimum)} or newer is needed");
        return version;
    }

    /// <summary>"3.17.1" for 31701.</summary>
    public static string VersionText(int version) => string.Create(CultureInfo.InvariantCulture, $"{version / 10000}.{version / 100 % 100}.{version % 100}");

    /// <summary>
    /// Sends <paramref name="request"/>, answers every notification (after <paramref name="onNotify"/> ran without
    /// throwing) and returns CRIU's final response. A notification's fd (orphan-pts-master) is passed to
    /// <paramref name="onNotify"/>, which owns it.
    /// </summary>
    /// <exception cref="RuntimeException">CRIU closed the socket or sent something unreadable.</exception>
    public CriuResponse Call(CriuRequest request, Action<CriuResponse, SafeFd?>? onNotify)
    {
        Send(request);
        var buffer = new byte[64 * 1024];
        while (true)
        {
            int n;
            SafeFd? fd;
            try
            {
                n = Libc.ReceiveRecord(_socket.Fd, buffer, out fd);
            }
            catch (SyscallException e)
            {
                throw new RuntimeException($"criu: {e.Message}", e);
            }
            if (n == 0) throw new RuntimeException("criu closed its RPC socket without an answer (it crashed or was killed)");
            CriuResponse response;
            try
            {
                response = CriuResponse.Parse(buffer.AsSpan(0, n));
            }
            catch (Google.Protobuf.InvalidProtocolBufferException e)
            {
                fd?.Dispose();
                throw new RuntimeException($"criu sent an unreadable RPC response: {e.Message}", e);
            }
            if (response.Type != CriuRequestType.Notify || !response.Success)
            {
                fd?.Dispose();
                return response;
            }
            if (onNotify is null) fd?.Dispose();
            else onNotify(response, fd);
            Send(new CriuRequest { Type = CriuRequestType.Notify, NotifySuccess = true });
        }
    }

    private void Send(CriuRequest request)
    {
        try
        {
            Libc.SendRecord(_socket.Fd, request.Encode());
        }
        catch (SyscallException e)
        {
            throw new RuntimeException($"criu: {e.Message} (CRIU exited early)", e);
        }
    }

    /// <summary>Closes the socket (CRIU ends its service loop) and reaps CRIU; returns its wait status.</summary>
    public WaitStatus Finish()
    {
        _ = Libc.shutdown(_socket.Fd, 1 /* SHUT_WR */);
        _exited = true;
        return Libc.WaitPid(Pid);
    }

    /// <summary>Closes the socket and, if <see cref="Finish"/> did not run, reaps CRIU.</summary>
    public void Dispose()
    {
        _socket.Dispose();
        if (!_exited)
        {
            _exited = true;
            _ = Libc.WaitPid(Pid);
        }
    }
}
