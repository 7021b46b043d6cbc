using System.Globalization;
using OciRuntime.Cgroups;
using OciRuntime.Interop;
using OciRuntime.Runtime.ProcessModel;
using OciRuntime.Runtime.State;
using OciRuntime.Spec;

namespace OciRuntime.Runtime.Lifecycle;

/// <summary>Options of <c>exec</c> (runc's flags). Without <see cref="ProcessFile"/>, the process is the container's
/// config.json process with <see cref="Args"/> and the flags applied on top, as runc builds it.</summary>
public sealed class ExecOptions
{
    /// <summary>The container id.</summary>
    public required string Id { get; init; }

    /// <summary>-p/--process: a runtime-spec process JSON file ("-" = stdin). Replaces the other process flags.</summary>
    public string? ProcessFile { get; init; }

    /// <summary>The command and its arguments (when no process file).</summary>
    public IReadOnlyList<string> Args { get; init; } = [];

    /// <summary>-t/--tty.</summary>
    public bool Tty { get; init; }

    /// <summary>-d/--detach.</summary>
    public bool Detach { get; init; }

    /// <summary>-u/--user "uid[:gid]".</summary>
    public string? User { get; init; }

    /// <summary>-g/--additional-gids.</summary>
    public IReadOnlyList<uint> AdditionalGids { get; init; } = [];

    /// <summary>-e/--env KEY=VALUE (replacing a config entry of the same key).</summary>
    public IReadOnlyList<string> Env { get; init; } = [];

    /// <summary>--cwd.</summary>
    public string? Cwd { get; init; }

    /// <summary>--cap: capabilities added to every set.</summary>
    public IReadOnlyList<string> Caps { get; init; } = [];

    /// <summary>--no-new-privs.</summary>
    public bool NoNewPrivs { get; init; }

    /// <summary>--apparmor profile.</summary>
    public string? Apparmor { get; init; }

    /// <summary>--process-label (SELinux).</summary>
    public string? ProcessLabel { get; init; }

    /// <summary>--preserve-fds N.</summary>
    public int PreserveFds { get; init; }

    /// <summary>--pid-file.</summary>
    public string? PidFile { get; init; }

    /// <summary>--console-socket.</summary>
    public string? ConsoleSocket { get; init; }

    /// <summary>--pidfd-socket: AF_UNIX socket path that receives a pidfd of the new process.</summary>
    public string? PidfdSocket { get; init; }

    /// <summary>--cgroup: run the process in existing sub-cgroups of the container ("PATH" or "CONTROLLER[,…]:PATH").</summary>
    public IReadOnlyList<string> SubCgroups { get; init; } = [];

    /// <summary>--ignore-paused: allow exec into a paused container.</summary>
    public bool IgnorePaused { get; init; }
}

public sealed partial class ContainerRuntime
{
    /// <summary>
    /// exec: starts another process in a running container. A fresh process is cloned (no new namespaces), joins
    /// every namespace of the container with setns while it has one thread, execs <c>ocirun init</c> in exec mode,
    /// which applies the process's user, capabilities, rlimits, cwd, no_new_privs and execs it.
    /// In the foreground returns the process's status (exit code, or 128 + signal); detached, 0.
    /// </summary>
    /// <exception cref="ContainerNotFoundException">no such container.</exception>
    /// <exception cref="RuntimeException">the container does not run, or the process could not be started.</exception>
    public int Exec(ExecOptions options)
    {
        Spec.Spec spec;
        ContainerRecord record;
        InitProcess process;
        SafeFd? master;
        SignalForwarder? forwarder;
        var timer = new Init.PhaseTimer();
        CheckPreserveFds(options.PreserveFds);
        using (var dir = _store.Open(options.Id))
        {
            record = dir.Load();
            var status = StatusOf(dir, record);
            if (status == ContainerStatus.Stopped) throw new RuntimeException("cannot exec in a stopped container");
            if (status == ContainerStatus.Paused && !options.IgnorePaused) throw new RuntimeException("cannot exec in a paused container");
            spec = dir.LoadConfig();
            spec.Process = BuildExecProcess(options, spec.Process, _log.Warn);
            if (Init.Capabilities.RemoveUnavailable(spec.Process.Capabilities, Init.Capabilities.LastCap()) is { Count: > 0 } ignored)
                _log.Warn(Init.Capabilities.IgnoredWarning(ignored));
            if (spec.Process.Terminal && options.Detach && options.ConsoleSocket is not { Length: > 0 })
                throw new RuntimeException("exec: a terminal (-t) with --detach needs --console-socket");
            var preserveFds = options.PreserveFds + SocketActivation.Apply(spec.Process);
            SetHomeFromContainer(spec.Process, "/proc/" + record.InitPid.ToString(CultureInfo.InvariantCulture) + "/root");
            // The lock is not held while the process starts: in a paused container (--ignore-paused), or one paused
            // meanwhile, the new process freezes as it joins the cgroups and the wait below lasts until `resume`,
            // which must be able to take the lock (runc's exec holds no lock across processes either).
            dir.Dispose();

            using var console = TerminalEnds.Open(spec.Process, options.ConsoleSocket);
            using var seccompListener = ConnectSeccompListener(spec);
            timer.Mark("load");
            using var cgroups = JoinExistingCgroups(record, options.SubCgroups);
            var seccompProgram = CompileSeccomp(spec);
            timer.Mark("cgroups+seccomp");
            var joins = new List<NamespaceJoin>();
            foreach (var (type, path) in record.NamespacePaths ?? []) joins.Add(new NamespaceJoin(type, path));
            // The direct path (DirectExec): the cloned child applies the process attributes with raw syscalls and execs
            // the process itself; what it cannot express goes through `ocirun init`.
            var whyInit = DirectExec.WhyNot(spec, seccompListener is not null, joins);
            // The exec trampoline: the process is exec'd through it, never by a copy of the runtime (CVE-2019-5736).
            using var trampoline = whyInit is null ? ExecTrampoline.TryCreate() : null;
            if (whyInit is null && trampoline is null) whyInit = "no exec trampoline (executable memfds refused)";
            using var direct = whyInit is null ? BuildDirectExec(spec.Process, cgroups.Fds, seccompProgram, preserveFds, trampoline!) : null;
            if (_log.IsDebug) _log.Debug($"exec {record.Id}: {(direct is not null ? "direct" : $"through ocirun init ({whyInit})")}");
            var request = new LaunchRequest
            {
                NewNamespaces = CloneFlags.None,
                Joins = joins,
                InheritedFds = [.. console.InitEnd is { } end ? [end] : Array.Empty<SafeFd>(), .. seccompListener is { } listener ? [listener] : Array.Empty<SafeFd>()],
                Direct = direct,
                IntoCgroup = cgroups.BirthCgroup,
            };
            process = LaunchInit(request);
            timer.Mark("clone+exec");
            // Forwarding starts as soon as the process exists (after the clone), before it can run: a signal sent once it
            // runs must reach it, not end this process with its default action (as in Run).
            forwarder = options.Detach ? null : SignalForwarder.Start(process.PidFd);
            try
            {
                // A kernel without CLONE_INTO_CGROUP (before 5.7): the runtime moves the process into the cgroup2 directory.
                if (cgroups.BirthCgroup is not null && !request.BornInCgroup && cgroups.Options?.Paths.GetValueOrDefault("") is { } cgroup2)
                    CgroupFs.Real.Write(cgroup2, "cgroup.procs", process.Pid.ToString(CultureInfo.InvariantCulture));
                var report = direct is not null
                    ? AwaitDirectExec(process, request, timer)
                    : StartExecInit(process, request, record, spec, preserveFds, console, cgroups, seccompListener, seccompProgram, timer);
                if (_log.IsDebug)
                {
                    foreach (var p in Init.PhaseTimer.Both(timer.Phases, report?.Phases)) _log.Debug($"exec {record.Id}: phase {p.Name} took {p.Micros} µs");
                }
                if (options.PidFile is { Length: > 0 } pidFile) WritePidFile(pidFile, process.Pid);
                if (options.PidfdSocket is { Length: > 0 } pidfdSocket) SendPidFd(pidfdSocket, process);
                master = console.ReceiveMaster();
            }
            catch (Exception e)
            {
                forwarder?.Dispose();
                process.KillAndReap();
                process.Dispose();
                if (e is SyscallException or IOException or UnauthorizedAccessException) throw new RuntimeException(e.Message, e);
                throw;
            }
        }

        using (process)
        using (master)
        {
            if (options.Detach) return 0;
            WaitStatus exit;
            var relay = master is not null ? TerminalRelay.Start(master) : null;
            using (forwarder)
            {
                exit = Libc.WaitPid(process.Pid);
            }
            relay?.Dispose();
            return exit.ShellStatus;
        }
    }

    /// <summary>
    /// HOME from the container's /etc/passwd when process.env has none (<see cref="Init.UserHome"/>), the root given as
    /// a host path (the rootfs before the mounts, /proc/PID/root of a running container). Unopenable: left to the init.
    /// </summary>
    private static void SetHomeFromContainer(Spec.Process process, string root)
    {
        if (!Init.UserHome.IsMissing(process.Env)) return;
        var fd = Libc.open(root, OpenFlags.O_PATH | OpenFlags.O_DIRECTORY | OpenFlags.O_CLOEXEC);
        if (fd < 0) return;
        using var dir = new SafeFd(fd);
        Init.UserHome.Apply(process, dir.Fd);
    }

    private static DirectExec BuildDirectExec(Spec.Process process, IReadOnlyList<SafeFd> cgroupFds, (byte[]? Program, uint Flags) seccomp, int preserveFds, SafeFd trampoline)
    {
        try
        {
            return DirectExec.Build(process, FdNumbers(cgroupFds), seccomp.Program, seccomp.Flags, preserveFds, trampoline);
        }
        catch (Init.InitException e)
        {
            throw new RuntimeException(e.Message, e);
        }
    }

    /// <summary>The direct path: EOF on the sync socket is the execve (close-on-exec); a ChildFailed frame says which step failed.</summary>
    private static InitReport? AwaitDirectExec(InitProcess process, LaunchRequest request, Init.PhaseTimer timer)
    {
        while (process.Channel.TryReceive(out var type, out var payload))
        {
            if (type == SyncMessage.ChildFailed) throw new RuntimeException(InitLauncher.DescribeChildFailure(request, payload));
        }
        timer.Mark("child-setup+execve");
        return null;
    }

    /// <summary>Through `ocirun init` in exec mode: its orders, its Ready, then EOF at its execve.</summary>
    private InitReport StartExecInit(InitProcess process, LaunchRequest request, ContainerRecord record, Spec.Spec spec, int preserveFds,
        TerminalEnds console, CgroupSetup cgroups, SafeFd? seccompListener, (byte[]? Program, uint Flags) seccompProgram, Init.PhaseTimer timer)
    {
        var initOptions = new InitOptions
        {
            Id = record.Id,
            Bundle = record.Bundle,
            Rootfs = record.Rootfs,
            IsExec = true,
            NewMountNamespace = false,
            HostPid = process.Pid,
            NamespaceRootFd = request.NamespaceRootFd,
            PreserveFds = preserveFds,
            NoNewKeyring = true,
            Debug = _log.IsDebug,
            ConsoleSocketFd = console.InitEnd?.Fd ?? -1,
            Cgroups = cgroups.Options,
            SeccompListenerFd = seccompListener?.Fd ?? -1,
            SeccompListenerState = seccompListener is null ? null : SeccompListenerState(spec, record.Id, record.Bundle, process.Pid, ContainerStatus.Running),
            SeccompProgram = seccompProgram.Program is { } program ? Convert.ToBase64String(program) : null,
            SeccompFlags = seccompProgram.Flags,
        };
        SendOrders(process, initOptions, SpecSerializer.SerializeForRuntime(spec), cgroups.Fds);
        if (cgroups.MovesWholeProcess) CgroupHost.Real.WarmMigrationLock(); // see Create
        var report = AwaitReady(process, request);
        timer.Mark("init-setup");
        // Until execve (EOF on the sync socket, close-on-exec in the process) or the process's death.
        while (process.Channel.TryReceive(out _, out _)) { }
        timer.Mark("execve");
        return report;
    }

    /// <summary>The process to exec: the -p file, or the container's process with the flags applied (runc's rules).</summary>
    /// <param name="options">exec's flags.</param>
    /// <param name="containerProcess">config.json's process.</param>
    /// <param name="warn">Where a --cap this kernel cannot grant is reported (and skipped, as runc does).</param>
    internal static Spec.Process BuildExecProcess(ExecOptions options, Spec.Process? containerProcess, Action<string>? warn = null)
    {
        Spec.Process process;
        if (options.ProcessFile is { Length: > 0 } file)
        {
            var bytes = file == "-" ? ReadAllStdin() : File.ReadAllBytes(file);
            var name = file == "-" ? "process.json (stdin)" : Path.GetFileName(file);
            process = SpecSerializer.ParseProcess(bytes, name);
        }
        else
        {
            if (options.Args.Count == 0) throw new RuntimeException("exec: a command to run is required (or -p/--process)");
            var baseProcess = containerProcess ?? new Spec.Process();
            process = SpecSerializer.CloneProcess(baseProcess);
            process.Args = [.. options.Args];
            process.Terminal = options.Tty;
            process.Env ??= [];
            foreach (var e in options.Env)
            {
                var key = e.Split('=', 2)[0];
                process.Env.RemoveAll(x => x.Split('=', 2)[0] == key);
                process.Env.Add(e);
            }
            if (options.Cwd is { Length: > 0 } cwd) process.Cwd = cwd;
            if (options.User is { Length: > 0 } user)
            {
                var parts = user.Split(':', 2);
                if (!uint.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var uid) ||
                    (parts.Length == 2 && !uint.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out _)))
                    throw new RuntimeException($"exec: --user: expected uid[:gid] as numbers, got \"{user}\"");
                process.User.Uid = uid;
                if (parts.Length == 2) process.User.Gid = uint.Parse(parts[1], CultureInfo.InvariantCulture);
            }
            if (options.AdditionalGids.Count > 0) process.User.AdditionalGids = [.. options.AdditionalGids];
            if (options.Caps.Count > 0)
            {
                process.Capabilities ??= new LinuxCapabilities();
                var lastCap = Init.Capabilities.LastCap();
                foreach (var cap in options.Caps)
                {
                    var name = cap.StartsWith("CAP_", StringComparison.OrdinalIgnoreCase) ? cap.ToUpperInvariant() : "CAP_" + cap.ToUpperInvariant();
                    if (!CapabilityNames.TryGetNumber(name, out var number) || number > lastCap)
                    {
                        warn?.Invoke($"--cap {cap}: ignoring unknown or unavailable capability");
                        continue;
                    }
                    foreach (var set in new Func<List<string>?>[] { () => process.Capabilities.Bounding ??= [], () => process.Capabilities.Effective ??= [], () => process.Capabilities.Permitted ??= [], () => process.Capabilities.Ambient ??= [] })
                    {
                        var list = set()!;
                        if (!list.Contains(name)) list.Add(name);
                    }
                }
            }
            if (options.NoNewPrivs) process.NoNewPrivileges = true;
            if (options.Apparmor is { Length: > 0 } profile) process.ApparmorProfile = profile;
            if (options.ProcessLabel is { Length: > 0 } label) process.SelinuxLabel = label;
        }
        if (process.Args is not { Count: > 0 }) throw new RuntimeException("exec: process.args: must not be empty");
        if (string.IsNullOrEmpty(process.Cwd)) process.Cwd = "/";
        return process;
    }

    private static byte[] ReadAllStdin()
    {
        using var stdin = Console.OpenStandardInput();
        using var buffer = new MemoryStream();
        stdin.CopyTo(buffer);
        return buffer.ToArray();
    }

    private static List<int> FdNumbers(IReadOnlyList<SafeFd> fds)
    {
        var numbers = new List<int>(fds.Count);
        foreach (var fd in fds) numbers.Add(fd.Fd);
        return numbers;
    }
}
