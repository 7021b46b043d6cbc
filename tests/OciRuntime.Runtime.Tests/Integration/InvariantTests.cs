using System.Text.Json;
using OciRuntime.Runtime.Tests.Harness;
using OciRuntime.Spec;

namespace OciRuntime.Runtime.Tests.Integration;

/// <summary>
/// The table "One set of invariants, whatever the path" of docs/process-model.md, checked on every start path: through
/// <c>ocirun init</c> (OCIRUN_INIT=1), the direct path (OCIRUN_DIRECT=1, which fails loudly when the direct path cannot
/// take the container), and the init with what only it can do (a createContainer hook, a user namespace). A property
/// checked here is checked on each path.
/// </summary>
public sealed class InvariantTests : IDisposable
{
    private readonly TestContainer _c = new("inv");

    public void Dispose() => _c.Dispose();

    /// <summary>A start path and what forces it.</summary>
    public enum StartPath
    {
        /// <summary>create's or exec's direct path (OCIRUN_DIRECT=1).</summary>
        Direct,

        /// <summary>through ocirun init (OCIRUN_INIT=1).</summary>
        Init,

        /// <summary>through ocirun init because of a createContainer hook (no switch).</summary>
        InitForCreateContainerHook,

        /// <summary>through ocirun init because of a user namespace (no switch).</summary>
        InitForUserNamespace,
    }

    private static readonly string[] NamespaceFiles = ["cgroup", "ipc", "mnt", "net", "pid", "user", "uts"];

    // The path is the theory's, never the suite's (OCIRUN_INIT / OCIRUN_DIRECT in the environment).
    private static string[] Env(StartPath path) => path switch
    {
        StartPath.Direct => ["-u", "OCIRUN_INIT", "OCIRUN_DIRECT=1"],
        StartPath.Init => ["-u", "OCIRUN_DIRECT", "OCIRUN_INIT=1"],
        _ => ["-u", "OCIRUN_INIT", "-u", "OCIRUN_DIRECT"],
    };

    /// <summary>Shapes the bundle for <paramref name="path"/> (the hook or the user namespace that takes the init).</summary>
    private void Shape(StartPath path)
    {
        var spec = _c.Bundle.Spec;
        spec.Root!.Readonly = false;
        _c.Bundle.WithNamespace(NamespaceType.Cgroup);
        if (path == StartPath.InitForCreateContainerHook)
        {
            spec.Hooks ??= new Hooks();
            spec.Hooks.CreateContainer = [new Hook { Path = "/bin/sh", Args = ["sh", "-c", "true"] }];
        }
        if (path == StartPath.InitForUserNamespace)
        {
            _c.Bundle.WithNamespace(NamespaceType.User);
            spec.Linux!.UidMappings = [new LinuxIdMapping { ContainerId = 0, HostId = 100000, Size = 65536 }];
            spec.Linux.GidMappings = [new LinuxIdMapping { ContainerId = 0, HostId = 100000, Size = 65536 }];
            File.SetUnixFileMode(_c.Bundle.Dir, (UnixFileMode)0x1ed);
        }
    }

    private CommandResult Runtime(StartPath path, params string[] args) =>
        Harness.Ocirun.Exec("/usr/bin/env", [.. Env(path), _c.Runtime.Binary, "--root", _c.Runtime.StateRoot, "--debug", "--log", LogFile, .. args]);

    private string LogFile => Path.Combine(_c.Bundle.Dir, "runtime.log");

    private CommandResult Create(StartPath path)
    {
        _c.Bundle.Write();
        File.WriteAllText(_c.OutputFile, "");
        return Harness.Ocirun.ExecWithFileStdio("/usr/bin/env",
            [.. Env(path), _c.Runtime.Binary, "--root", _c.Runtime.StateRoot, "--debug", "--log", LogFile, "create", "-b", _c.Bundle.Dir, _c.Id], _c.OutputFile);
    }

    private void CheckPathTaken(StartPath path, string command)
    {
        var log = File.ReadAllText(LogFile);
        var direct = command == "create" ? $"create {_c.Id}: direct path" : $"exec {_c.Id}: direct";
        if (path == StartPath.Direct) log.Should().Contain(direct, "the test must exercise the path it names");
        else log.Should().Contain($"{command} {_c.Id}: through ocirun init", "the test must exercise the path it names");
    }

    private int StatePid()
    {
        var state = _c.Runtime.Run("state", _c.Id);
        state.ExitCode.Should().Be(0, state.ToString());
        return JsonDocument.Parse(state.Stdout).RootElement.GetProperty("pid").GetInt32();
    }

    private static List<string> View(int pid)
    {
        var lines = new List<string>();
        foreach (var n in NamespaceFiles) lines.Add($"ns {n} {new FileInfo($"/proc/{pid}/ns/{n}").LinkTarget}");
        foreach (var l in File.ReadAllLines($"/proc/{pid}/cgroup")) lines.Add($"cgroup {l}");
        return lines;
    }

    /// <summary>
    /// Row "before prestart / createRuntime hooks": the state's pid is in every namespace and cgroup the container's
    /// process later has (runc's hooks see that; Docker's libnetwork-setkey takes /proc/PID/ns/net of it).
    /// </summary>
    [Theory]
    [InlineData(StartPath.Direct)]
    [InlineData(StartPath.Init)]
    [InlineData(StartPath.InitForCreateContainerHook)]
    [InlineData(StartPath.InitForUserNamespace)]
    public void Prestart_and_createRuntime_hooks_see_the_init_in_all_its_namespaces_and_cgroups(StartPath path)
    {
        Shape(path);
        var log = Path.Combine(_c.Bundle.Dir, "hooks.log");
        var hook = Path.Combine(_c.Bundle.Dir, "view.sh");
        File.WriteAllText(hook, $$"""
            #!/bin/sh
            pid=$(sed -n 's/.*"pid": *\([0-9]*\).*/\1/p')
            { for n in {{string.Join(' ', NamespaceFiles)}}; do echo "$1 ns $n $(readlink /proc/$pid/ns/$n)"; done
              sed "s/^/$1 cgroup /" /proc/$pid/cgroup; } >> {{log}}
            """);
        File.SetUnixFileMode(hook, (UnixFileMode)0x1ed);
        var spec = _c.Bundle.Spec;
        spec.Hooks ??= new Hooks();
        spec.Hooks.Prestart = [new Hook { Path = hook, Args = ["view.sh", "prestart"] }];
        spec.Hooks.CreateRuntime = [new Hook { Path = hook, Args = ["view.sh", "createRuntime"] }];
        _c.Bundle.Args("sleep", "100");
        var created = Create(path);
        created.ExitCode.Should().Be(0, created.ToString());
        CheckPathTaken(path, "create");
        _c.Runtime.Run("start", _c.Id).ExitCode.Should().Be(0);
        var pid = StatePid();
        WaitFor(() => File.ReadAllText($"/proc/{pid}/cmdline").StartsWith("sleep", StringComparison.Ordinal), "the container's process");
        var later = View(pid);
        var hooks = File.ReadAllLines(log);
        foreach (var kind in new[] { "prestart", "createRuntime" })
        {
            var seen = hooks.Where(l => l.StartsWith(kind + " ", StringComparison.Ordinal)).Select(l => l[(kind.Length + 1)..]).ToList();
            seen.Should().Equal(later, $"a {kind} hook must see the namespaces and cgroups the container's process has");
        }
        // And they are the container's own, not the host's.
        later.Should().NotContain($"ns net {new FileInfo("/proc/self/ns/net").LinkTarget}");
    }

    /// <summary>OCIRUN_DIRECT=1 never falls back to the init silently: a container only the init can start is refused, naming why.</summary>
    [Theory]
    [InlineData(StartPath.InitForCreateContainerHook, "createContainer or startContainer hooks")]
    [InlineData(StartPath.InitForUserNamespace, "a user or time namespace")]
    public void Forcing_the_direct_path_fails_loudly_when_it_cannot_be_taken(StartPath shape, string reason)
    {
        Shape(shape);
        _c.Bundle.Args("true");
        var created = Create(StartPath.Direct);
        created.ExitCode.Should().NotBe(0);
        (created.Stderr + File.ReadAllText(_c.OutputFile) + (File.Exists(LogFile) ? File.ReadAllText(LogFile) : "")).Should().Contain($"OCIRUN_DIRECT=1, but the direct path cannot be taken: {reason}");
        Directory.Exists(_c.StateDir).Should().BeFalse("nothing is left behind");
    }

    /// <summary>
    /// Row "before startContainer / waiting for start": the process that waits on the exec fifo is non-dumpable and does
    /// not run the host binary from a writable handle. Seen from the host: /proc/PID/status of a non-dumpable process belongs to
    /// the root of its memory's user namespace, not to the process's own uid (1000 here, already set).
    /// </summary>
    [Theory]
    [InlineData(StartPath.Direct)]
    [InlineData(StartPath.Init)]
    [InlineData(StartPath.InitForCreateContainerHook)]
    [InlineData(StartPath.InitForUserNamespace)]
    public void The_created_process_is_non_dumpable_and_not_the_host_binary(StartPath path)
    {
        Shape(path);
        _c.Bundle.Args("true");
        _c.Bundle.Process.User = new User { Uid = 1000, Gid = 1000 };
        var created = Create(path);
        created.ExitCode.Should().Be(0, created.ToString());
        CheckPathTaken(path, "create");
        var pid = StatePid();
        // (/proc/PID itself always shows the euid; the files in it follow the dumpable rule.)
        var st = Harness.Ocirun.Exec("stat", ["-c", "%u:%g", $"/proc/{pid}/status"]).Stdout.Trim();
        var root = path == StartPath.InitForUserNamespace ? "100000:100000" : "0:0";
        st.Should().Be(root, "a dumpable process running as uid 1000 would own its /proc files");
        File.ReadAllText($"/proc/{pid}/status").Should().Contain("Uid:\t" + (path == StartPath.InitForUserNamespace ? "101000" : "1000"));
        var exe = new FileInfo($"/proc/{pid}/exe").LinkTarget;
        var host = Harness.Ocirun.Exec("stat", ["-L", "-c", "%d:%i", _c.Runtime.Binary]).Stdout.Trim();
        var running = Harness.Ocirun.Exec("stat", ["-L", "-c", "%d:%i", $"/proc/{pid}/exe"]).Stdout.Trim();
        if (path == StartPath.InitForUserNamespace || path == StartPath.Direct)
            running.Should().NotBe(host, $"inside a user namespace, and on the direct path, the waiting process runs from a sealed memfd ({exe})");
        else
            (running != host || exe == "/").Should().BeTrue($"the init runs from a sealed memfd or a detached read-only bind of ocirun, not {exe}");
    }

    /// <summary>
    /// Row "at execve": the container's process (create) and an exec'd process have the credentials, capabilities,
    /// no_new_privs, seccomp mode, cwd and fds of the configuration, and no signal blocked, on each path.
    /// </summary>
    [Theory]
    [InlineData(StartPath.Direct)]
    [InlineData(StartPath.Init)]
    [InlineData(StartPath.InitForCreateContainerHook)]
    [InlineData(StartPath.InitForUserNamespace)]
    public void At_execve_the_process_is_the_configured_one_for_create_and_exec(StartPath path)
    {
        Shape(path);
        var p = _c.Bundle.Process;
        p.User = new User { Uid = 1000, Gid = 1000, AdditionalGids = [10] };
        p.Cwd = "/tmp";
        p.NoNewPrivileges = true;
        p.Capabilities = new LinuxCapabilities { Bounding = ["CAP_KILL"], Effective = ["CAP_KILL"], Permitted = ["CAP_KILL"], Inheritable = ["CAP_KILL"], Ambient = ["CAP_KILL"] };
        _c.Bundle.Spec.Linux!.Seccomp = new LinuxSeccomp { DefaultAction = "SCMP_ACT_ALLOW", Syscalls = [new LinuxSyscall { Names = ["chroot"], Action = "SCMP_ACT_ERRNO" }] };
        // Of the shell the runtime exec'd ($$), not of its children (whose capabilities execve recomputes).
        const string probe = "id; pwd; ls /proc/$$/fd; grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp|SigBlk):' /proc/$$/status";
        _c.Bundle.Sh(probe + "; sleep 100");
        var created = Create(path);
        created.ExitCode.Should().Be(0, created.ToString());
        CheckPathTaken(path, "create");
        _c.Runtime.Run("start", _c.Id).ExitCode.Should().Be(0);
        WaitFor(() => _c.Output.Contains("SigBlk", StringComparison.Ordinal), "the container's probe");
        var exec = Runtime(path == StartPath.InitForCreateContainerHook ? StartPath.Init : path, "exec", _c.Id, "sh", "-c", probe);
        exec.ExitCode.Should().Be(0, exec.ToString());
        CheckPathTaken(path == StartPath.InitForCreateContainerHook ? StartPath.Init : path, "exec");
        foreach (var (what, text) in new[] { ("create", _c.Output), ("exec", exec.Stdout) })
        {
            var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            lines[0].Should().StartWith("uid=1000 gid=1000 groups=10", what);
            lines[1].Should().Be("/tmp", what);
            lines[2..5].Should().Equal(["0", "1", "2"], $"{what}: only stdio is open at execve");
            lines[5].Should().StartWith("Sig", $"{what}: only stdio is open at execve");
            // uid 1000 keeps through execve only its ambient capabilities (runc's rules, and the kernel's).
            lines[5..].Should().Equal(["SigBlk:\t0000000000000000", "CapInh:\t0000000000000020", "CapPrm:\t0000000000000020",
                "CapEff:\t0000000000000020", "CapBnd:\t0000000000000020", "CapAmb:\t0000000000000020", "NoNewPrivs:\t1", "Seccomp:\t2"], what);
        }
    }

    /// <summary>
    /// Row "at execve", session: the container's init and an exec'd process each lead a session and a process group of
    /// their own inside the container (runc's nsexec calls setsid for both; CRIU refuses to dump a container whose
    /// init's session leader is outside its pid namespace).
    /// </summary>
    [Theory]
    [InlineData(StartPath.Direct)]
    [InlineData(StartPath.Init)]
    [InlineData(StartPath.InitForCreateContainerHook)]
    [InlineData(StartPath.InitForUserNamespace)]
    public void The_process_leads_its_own_session_for_create_and_exec(StartPath path)
    {
        Shape(path);
        // pid, process group and session of the shell the runtime exec'd.
        const string probe = "cut -d' ' -f1,5,6 /proc/$$/stat";
        _c.Bundle.Sh(probe + "; sleep 100");
        var created = Create(path);
        created.ExitCode.Should().Be(0, created.ToString());
        CheckPathTaken(path, "create");
        _c.Runtime.Run("start", _c.Id).ExitCode.Should().Be(0);
        WaitFor(() => _c.Output.Contains('\n'), "the container's probe");
        var execPath = path == StartPath.InitForCreateContainerHook ? StartPath.Init : path;
        var exec = Runtime(execPath, "exec", _c.Id, "sh", "-c", probe);
        exec.ExitCode.Should().Be(0, exec.ToString());
        CheckPathTaken(execPath, "exec");
        _c.Output.Trim().Should().Be("1 1 1", "the init is pid 1, its own process group and session");
        var fields = exec.Stdout.Trim().Split(' ');
        fields.Should().HaveCount(3);
        fields[0].Should().NotBe("0");
        fields.Should().AllBe(fields[0], "the exec'd process leads its own process group and session");
    }

    private static void WaitFor(Func<bool> condition, string what, int timeoutMs = 20_000)
    {
        var until = Environment.TickCount64 + timeoutMs;
        while (!condition())
        {
            if (Environment.TickCount64 > until) throw new TimeoutException($"timed out waiting for {what}");
            Thread.Sleep(20);
        }
    }
}
