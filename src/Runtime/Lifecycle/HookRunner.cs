using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using OciRuntime.Interop;
using OciRuntime.Spec;
using OciState = OciRuntime.Spec.State;

namespace OciRuntime.Runtime.Lifecycle;

/// <summary>A hook that exited non-zero, timed out or could not be started; the message names the hook.</summary>
public sealed class HookException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Runs config.json hooks (config.md#posix-platform-hooks): each with its args (args[0] is argv[0]), env (a hook without
/// "env" gets the environment of whoever runs it, as runc and crun do: the runtime's own for prestart, createRuntime,
/// poststart and poststop, the container init's, i.e. process.env, for createContainer and startContainer), and
/// the container state JSON on stdin, killed after its timeout (seconds). Output (stdout and stderr together)
/// is captured and quoted in the error when the hook fails. Hooks run in order; the first failure stops the list.
/// </summary>
public static class HookRunner
{
    /// <summary>The hook kinds in lifecycle order, with their config.json names.</summary>
    public static IReadOnlyList<string> Kinds { get; } = ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"];

    /// <summary>The hooks of <paramref name="kind"/> in <paramref name="hooks"/> (empty when none).</summary>
    public static IReadOnlyList<Hook> Of(Hooks? hooks, string kind) => kind switch
    {
        "prestart" => hooks?.Prestart,
        "createRuntime" => hooks?.CreateRuntime,
        "createContainer" => hooks?.CreateContainer,
        "startContainer" => hooks?.StartContainer,
        "poststart" => hooks?.Poststart,
        "poststop" => hooks?.Poststop,
        _ => null,
    } ?? (IReadOnlyList<Hook>)[];

    /// <summary>Runs every hook of <paramref name="kind"/> with <paramref name="state"/> on stdin.</summary>
    /// <param name="hooks">config.json's hooks.</param>
    /// <param name="kind">The hook kind (config.json name).</param>
    /// <param name="state">The state JSON the hooks read on stdin.</param>
    /// <param name="inheritedEnv">The environment of a hook without "env"; null: the runtime's own (<see cref="OwnEnvironment"/>).</param>
    /// <exception cref="HookException">a hook failed: "config.json: hooks.prestart[1] (/usr/bin/x): exit status 2: output".</exception>
    public static void Run(Hooks? hooks, string kind, OciState state, IReadOnlyList<string>? inheritedEnv = null)
    {
        var list = Of(hooks, kind);
        if (list.Count == 0) return;
        var stdin = SpecSerializer.SerializeStateToUtf8(state);
        for (var i = 0; i < list.Count; i++) RunOne(list[i], $"config.json: hooks.{kind}[{i}] ({list[i].Path})", stdin, inheritedEnv, inheritedEnv is null ? RuntimeCwd(state) : null);
    }

    /// <summary>Runs every hook of <paramref name="kind"/>, turning failures into warnings through <paramref name="warn"/> (poststart, poststop).</summary>
    public static void RunWarnOnly(Hooks? hooks, string kind, OciState state, Action<string> warn)
    {
        var list = Of(hooks, kind);
        if (list.Count == 0) return;
        var stdin = SpecSerializer.SerializeStateToUtf8(state);
        for (var i = 0; i < list.Count; i++)
        {
            try
            {
                RunOne(list[i], $"config.json: hooks.{kind}[{i}] ({list[i].Path})", stdin, null, RuntimeCwd(state));
            }
            catch (HookException e)
            {
                warn(e.Message);
            }
        }
    }

    // The runtime's hooks start in the bundle directory, as under `runc run` (runc chdirs to the bundle); a bundle that
    // is gone (poststop after the bundle was removed) leaves the runtime's own working directory.
    private static string? RuntimeCwd(OciState state) => Directory.Exists(state.Bundle) ? state.Bundle : null;

    /// <summary>
    /// The runtime's own environment, in its order (/proc/self/environ: what the runtime was started with; ocirun never
    /// changes its environment).
    /// </summary>
    public static IReadOnlyList<string> OwnEnvironment()
    {
        var text = Libc.TryReadFileText("/proc/self/environ", out _) ?? "";
        return text.Split('\0', StringSplitOptions.RemoveEmptyEntries);
    }

    // cwd: where the hook starts (null: the caller's working directory).
    private static void RunOne(Hook hook, string name, byte[] stdin, IReadOnlyList<string>? inheritedEnv, string? cwd)
    {
        var (inRead, inWrite) = Libc.Pipe();
        var (outRead, outWrite) = Libc.Pipe();
        int pid;
        using (inRead)
        using (outWrite)
        {
            try
            {
                var argv = hook.Args is { Count: > 0 } a ? a : [hook.Path];
                pid = Libc.Spawn(hook.Path, argv, hook.Env ?? inheritedEnv ?? OwnEnvironment(), inRead.Fd, outWrite.Fd, outWrite.Fd, cwd);
            }
            catch (SyscallException e)
            {
                inWrite.Dispose();
                outRead.Dispose();
                throw new HookException($"{name}: {e.Message}", e);
            }
        }
        using (outRead)
        using (var pidFd = SafeFd.Check(Libc.pidfd_open(pid), $"pidfd_open {pid}"))
        {
            using (inWrite)
            {
                try { Libc.WriteAll(inWrite.Fd, stdin, "hook stdin"); } catch (SyscallException) { /* the hook need not read it */ }
            }
            var output = new MemoryStream();
            var timedOut = !Drain(outRead.Fd, pidFd.Fd, hook.Timeout is > 0 ? hook.Timeout.Value * 1000 : -1, output);
            if (timedOut) _ = Libc.pidfd_send_signal(pidFd.Fd, Signals.SIGKILL);
            var status = Libc.WaitPid(pid);
            var text = Encoding.UTF8.GetString(output.ToArray()).Trim();
            if (timedOut) throw new HookException($"{name}: timed out after {hook.Timeout} s{Tail(text)}");
            if (!status.Exited || status.Code != 0)
            {
                var how = status.Exited ? $"exit status {status.Code.ToString(CultureInfo.InvariantCulture)}" : $"killed by {Signals.Name(status.Signal)}";
                throw new HookException($"{name}: {how}{Tail(text)}");
            }
        }
    }

    // Reads the hook's output until it exits (pidfd readable) and the pipe is drained; false on timeout.
    private static bool Drain(int outFd, int pidFd, int timeoutMs, MemoryStream output)
    {
        var deadline = timeoutMs < 0 ? long.MaxValue : Environment.TickCount64 + timeoutMs;
        Span<PollFd> fds = stackalloc PollFd[2];
        var buffer = new byte[4096];
        var exited = false;
        var eof = false;
        while (!(exited && eof))
        {
            var remaining = deadline == long.MaxValue ? -1 : (int)Math.Max(0, deadline - Environment.TickCount64);
            fds[0] = new PollFd { Fd = eof ? -1 : outFd, Events = PollFd.POLLIN };
            fds[1] = new PollFd { Fd = exited ? -1 : pidFd, Events = PollFd.POLLIN };
            if (Libc.Poll(fds, remaining) == 0) return false;
            if ((fds[0].REvents & (PollFd.POLLIN | PollFd.POLLHUP | PollFd.POLLERR)) != 0)
            {
                var n = Libc.ReadSome(outFd, buffer, "hook output");
                if (n == 0) eof = true;
                else if (output.Length < 64 * 1024) output.Write(buffer, 0, n);
            }
            if ((fds[1].REvents & PollFd.POLLIN) != 0) exited = true;
            // A hook may leave a daemon holding the pipe: once it has exited, stop waiting for EOF.
            if (exited && !eof && (fds[0].REvents & PollFd.POLLIN) == 0) eof = true;
        }
        return true;
    }

    private static string Tail(string output) =>
        output.Length == 0 ? "" : ": " + (output.Length > 400 ? output[^400..] : output).ReplaceLineEndings(" ");

    /// <summary>The OCI state passed to hooks (runtime.md#state).</summary>
    public static OciState StateFor(string id, string status, int pid, string bundle, Dictionary<string, string>? annotations) => new()
    {
        OciVersion = ContainerRuntime.SpecVersion,
        Id = id,
        Status = status,
        Pid = pid,
        Bundle = bundle,
        Annotations = annotations,
    };
}
