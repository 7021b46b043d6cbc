using System.CommandLine;
using System.Reflection;
using OciRuntime.Interop;
using OciRuntime.Runtime.Init;
using OciRuntime.Runtime.Lifecycle;
using OciRuntime.Runtime.Logging;
using OciRuntime.Runtime.State;
using OciRuntime.Spec;

namespace OciRuntime.Runtime.Cli;

/// <summary>
/// The ocirun command line: runc's commands and flags (System.CommandLine), each a thin call into
/// <see cref="ContainerRuntime"/>. Errors print one line to stderr (and to --log when given) and exit 1.
/// </summary>
public static partial class OcirunCli
{
    /// <summary>Runs ocirun with <paramref name="args"/>; returns the process exit status.</summary>
    public static int Main(string[] args)
    {
        // The container init takes no options and must start fast: bypass the parser.
        if (args.Length == 1 && args[0] == "init") return ContainerInit.Main();
        args = PassThrough.Normalize(args);
        // Only the command that runs is built (the whole tree costs ≈0.3 ms of start-up); help, version and unknown
        // commands get the whole tree, so their output and errors list every command.
        var at = PassThrough.CommandIndex(args);
        var only = at >= 0 && Array.Exists(Commands, c => c.Name == args[at]) ? args[at] : null;
        // A known command without a help flag gets a plain root: System.CommandLine's RootCommand adds a help and a
        // version option whose descriptions come from its resources, and the ResourceManager's first lookup costs
        // ≈0.5 ms in NativeAOT (reflection over the assembly's manifest). Anything the lean parse does not accept is
        // parsed again by the full root, so errors and help read exactly as before.
        if (only is not null && !AsksForHelp(args))
        {
            var lean = BuildLeanRoot(only).Parse(args);
            if (lean.Errors.Count == 0) return lean.Invoke();
        }
        return BuildRoot(only).Parse(args).Invoke();
    }

    private static bool AsksForHelp(string[] args)
    {
        foreach (var a in args)
        {
            if (a == "--") return false; // the container's own arguments follow (PassThrough)
            if (a is "--help" or "-h" or "-?" or "/?" or "/h" or "--version" or "-v") return true;
        }
        return false;
    }

    /// <summary>The global options and one command under a plain <see cref="Command"/> (no help or version option).</summary>
    private static Command BuildLeanRoot(string only)
    {
        var root = new Command(RootCommand.ExecutableName);
        AddGlobalOptions(root);
        foreach (var (name, build) in Commands)
        {
            if (name == only) root.Subcommands.Add(build());
        }
        return root;
    }

    private static void AddGlobalOptions(Command root)
    {
        LogFormatOption.AcceptOnlyFromAmong("text", "json");
        RootlessOption.AcceptOnlyFromAmong("auto", "true", "false");
        root.Options.Add(RootOption);
        root.Options.Add(RootlessOption);
        root.Options.Add(LogOption);
        root.Options.Add(LogFormatOption);
        root.Options.Add(DebugOption);
        root.Options.Add(SystemdCgroupOption);
    }

    private static readonly Option<string?> RootOption = new("--root")
    {
        Description = "root directory for storage of container state (this should be located in tmpfs) (default: /run/ocirun, or $XDG_RUNTIME_DIR/ocirun when rootless)",
        Recursive = true,
    };

    // Global only (before the command), as in runc: `spec --rootless` is spec's own flag.
    private static readonly Option<string> RootlessOption = new("--rootless")
    {
        Description = "ignore cgroup permission errors ('true', 'false', or 'auto')",
        DefaultValueFactory = _ => "auto",
    };

    private static readonly Option<string?> LogOption = new("--log")
    {
        Description = "set the log file to write ocirun logs to (default is '/dev/stderr')",
        Recursive = true,
    };

    private static readonly Option<string> LogFormatOption = new("--log-format")
    {
        Description = "set the log format ('text' (default), or 'json')",
        DefaultValueFactory = _ => "text",
        Recursive = true,
    };

    private static readonly Option<bool> DebugOption = new("--debug")
    {
        Description = "enable debug logging",
        Recursive = true,
    };

    /// <summary>The commands, by name, in the order help lists them.</summary>
    private static readonly (string Name, Func<Command> Build)[] Commands =
    [
        ("spec", SpecCommand), ("create", CreateCommand), ("start", StartCommand), ("state", StateCommand),
        ("kill", KillCommand), ("delete", DeleteCommand), ("run", RunCommand), ("exec", ExecCommand), ("ps", PsCommand),
        ("list", ListCommand), ("features", FeaturesCommand), ("update", UpdateCommand), ("pause", PauseCommand),
        ("resume", ResumeCommand), ("events", EventsCommand), ("checkpoint", CheckpointCommand), ("restore", RestoreCommand),
    ];

    /// <summary>Builds the command tree: every command, or only <paramref name="only"/> (a command name) with the global options.</summary>
    public static RootCommand BuildRoot(string? only = null)
    {
        var root = new RootCommand("ocirun: an OCI runtime (a runc-compatible CLI) for running containers from OCI bundles");
        for (int i = root.Options.Count - 1; i >= 0; i--)
        {
            if (root.Options[i] is VersionOption) root.Options.RemoveAt(i);
        }
        var version = new Option<bool>("--version", "-v") { Description = "print the version" };
        root.Options.Add(version);
        AddGlobalOptions(root);
        root.SetAction(r =>
        {
            if (r.GetValue(version))
            {
                StdIo.Out(VersionText());
                return 0;
            }
            StdIo.ErrorLine("ocirun: a command is required (see ocirun --help)");
            return 1;
        });

        foreach (var (name, build) in Commands)
        {
            if (only is null || only == name) root.Subcommands.Add(build());
        }
        return root;
    }

    /// <summary>The --version text, in the line format go-runc parses.</summary>
    public static string VersionText() =>
        $"ocirun version {BuildInfo.Version}\ncommit: {BuildInfo.Commit}\nspec: {ContainerRuntime.SpecVersion}\n";

    private static Argument<string> IdArgument() => new("container-id") { Description = "the container's id (unique on this host)" };

    private static Option<string?> BundleOption() => new("--bundle", "-b")
    {
        Description = "path to the root of the bundle directory, defaults to the current directory",
    };

    private static Option<string?> PidFileOption() => new("--pid-file") { Description = "specify the file to write the process id to" };

    private static Option<string?> ConsoleSocketOption() => new("--console-socket")
    {
        Description = "path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console's pseudoterminal",
    };

    private static Option<bool> NoPivotOption() => new("--no-pivot")
    {
        Description = "do not use pivot root to jail process inside rootfs (for a rootfs on a ramdisk)",
    };

    private static Option<string?> PidfdSocketOption() => new("--pidfd-socket")
    {
        Description = "path to an AF_UNIX socket which will receive a file descriptor referencing the process (a pidfd)",
    };

    private static Option<bool> NoNewKeyringOption() => new("--no-new-keyring")
    {
        Description = "do not create a new session keyring for the container",
    };

    private static Option<int> PreserveFdsOption() => new("--preserve-fds")
    {
        Description = "pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total)",
    };

    private static Command SpecCommand()
    {
        var command = new Command("spec", "create a new specification file (config.json) for a bundle");
        var bundle = BundleOption();
        bundle.Description = "path to the root of the bundle directory";
        var rootless = new Option<bool>("--rootless") { Description = "generate a configuration for a rootless container" };
        command.Options.Add(bundle);
        command.Options.Add(rootless);
        command.SetAction(r => Execute(r, _ =>
        {
            var dir = r.GetValue(bundle) is { Length: > 0 } b ? b : ".";
            var path = Path.Combine(dir, "config.json");
            if (File.Exists(path)) throw new RuntimeException("File config.json exists. Remove it first");
            var spec = r.GetValue(rootless) ? DefaultSpec.CreateRootless(Libc.geteuid(), Libc.getegid()) : DefaultSpec.Create();
            File.WriteAllText(path, SpecSerializer.Serialize(spec));
            return 0;
        }));
        return command;
    }

    /// <summary>The flags create and run share (runc's), and the <see cref="CreateOptions"/> they make.</summary>
    private sealed class CreateFlags
    {
        private readonly Argument<string> _id = IdArgument();
        private readonly Option<string?> _bundle = BundleOption();
        private readonly Option<string?> _pidFile = PidFileOption();
        private readonly Option<string?> _consoleSocket = ConsoleSocketOption();
        private readonly Option<string?> _pidfdSocket = PidfdSocketOption();
        private readonly Option<bool> _noPivot = NoPivotOption();
        private readonly Option<bool> _noNewKeyring = NoNewKeyringOption();
        private readonly Option<int> _preserveFds = PreserveFdsOption();

        public CreateFlags(Command command)
        {
            command.Arguments.Add(_id);
            foreach (var o in new Option[] { _bundle, _pidFile, _consoleSocket, _pidfdSocket, _noPivot, _noNewKeyring, _preserveFds }) command.Options.Add(o);
        }

        public CreateOptions Read(ParseResult r, bool detached) => new()
        {
            Id = r.GetValue(_id)!,
            Bundle = r.GetValue(_bundle),
            PidFile = r.GetValue(_pidFile),
            ConsoleSocket = r.GetValue(_consoleSocket),
            PidfdSocket = r.GetValue(_pidfdSocket),
            NoPivot = r.GetValue(_noPivot),
            NoNewKeyring = r.GetValue(_noNewKeyring),
            PreserveFds = r.GetValue(_preserveFds),
            Detached = detached,
        };
    }

    private static Command CreateCommand()
    {
        var command = new Command("create", "create a container (its init waits for start)");
        var flags = new CreateFlags(command);
        command.Options.Add(new Option<bool>("--detach", "-d") { Description = "accepted for go-runc compatibility; create always returns once the container exists" });
        command.SetAction(r => Execute(r, runtime =>
        {
            runtime.Create(flags.Read(r, detached: true));
            return 0;
        }, stdioIsContainers: true));
        return command;
    }

    private static Command StartCommand()
    {
        var command = new Command("start", "executes the user defined process in a created container");
        var id = IdArgument();
        command.Arguments.Add(id);
        command.SetAction(r => Execute(r, runtime =>
        {
            runtime.Start(r.GetValue(id)!);
            return 0;
        }));
        return command;
    }

    private static Command StateCommand()
    {
        var command = new Command("state", "output the state of a container");
        var id = IdArgument();
        command.Arguments.Add(id);
        command.SetAction(r => Execute(r, runtime =>
        {
            StdIo.OutLine(ContainerRuntime.FormatState(runtime.State(r.GetValue(id)!)));
            return 0;
        }));
        return command;
    }

    private static Command KillCommand()
    {
        var command = new Command("kill", "kill sends the specified signal (default: SIGTERM) to the container's init process");
        var id = IdArgument();
        var signal = new Argument<string>("signal") { Description = "signal name (SIGKILL, KILL) or number", DefaultValueFactory = _ => "SIGTERM" };
        var all = KillAllOption();
        command.Arguments.Add(id);
        command.Arguments.Add(signal);
        command.Options.Add(all);
        command.SetAction(r => Execute(r, runtime =>
        {
            var text = r.GetValue(signal)!;
            // Signal 0 (runc accepts any number): checks that the container's processes exist, delivers nothing.
            if (!Signals.TryParse(text, out var number) && !IsZero(text)) throw new RuntimeException($"unknown signal \"{text}\"");
            if (r.GetValue(all)) runtime.KillAll(r.GetValue(id)!, number);
            else runtime.Kill(r.GetValue(id)!, number);
            return 0;
        }));
        return command;
    }

    private static bool IsZero(string text) => text.Length > 0 && text.Trim('0').Length == 0;

    private static Command DeleteCommand()
    {
        var command = new Command("delete", "delete any resources held by the container");
        var id = IdArgument();
        var force = new Option<bool>("--force", "-f") { Description = "forcibly deletes the container if it is still running (uses SIGKILL)" };
        command.Arguments.Add(id);
        command.Options.Add(force);
        command.SetAction(r => Execute(r, runtime =>
        {
            runtime.Delete(r.GetValue(id)!, r.GetValue(force));
            return 0;
        }));
        return command;
    }

    private static Command RunCommand()
    {
        var command = new Command("run", "create and run a container");
        var flags = new CreateFlags(command);
        var detach = new Option<bool>("--detach", "-d") { Description = "detach from the container's process" };
        var keep = new Option<bool>("--keep") { Description = "do not delete the container after it exits" };
        var noSubreaper = new Option<bool>("--no-subreaper", "-no-subreaper") { Description = "disable the use of the subreaper used to reap reparented processes" };
        foreach (var o in new Option[] { detach, keep, noSubreaper }) command.Options.Add(o);
        command.SetAction(r => Execute(r, runtime =>
        {
            var detached = r.GetValue(detach);
            return runtime.Run(new RunOptions
            {
                Create = flags.Read(r, detached),
                Detach = detached,
                Keep = r.GetValue(keep),
                NoSubreaper = r.GetValue(noSubreaper),
            });
        }, stdioIsContainers: true));
        return command;
    }

    /// <summary>
    /// Runs a command body with the global options applied; turns every expected failure into one line and
    /// <paramref name="failureCode"/> (1; exec uses 255 as runc does). Without --log the line goes to stderr. With
    /// --log it goes to the log, and also to stderr unless <paramref name="stdioIsContainers"/> (create, run, exec: their
    /// stdio is the container's, containerd reads their errors from the log): as runc's fatal(), because go-runc puts a
    /// command's output into its error text and containerd-shim-runc-v2 matches "container not running" / "does not
    /// exist" in it to tell a finished container from a failure.
    /// </summary>
    private static int Execute(ParseResult r, Func<ContainerRuntime, int> body, int failureCode = 1, bool stdioIsContainers = false)
    {
        var format = r.GetValue(LogFormatOption) == "json" ? LogFormat.Json : LogFormat.Text;
        using var log = new RuntimeLog(r.GetValue(LogOption), format, r.GetValue(DebugOption));
        try
        {
            var rootless = RootlessMode.Resolve(r.GetValue(RootlessOption));
            var stateRoot = r.GetValue(RootOption) ?? RootlessMode.DefaultRoot(rootless, Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR"));
            return body(new ContainerRuntime(stateRoot, log) { Rootless = rootless, SystemdCgroup = r.GetValue(SystemdCgroupOption) });
        }
        catch (Exception e) when (e is RuntimeException or SpecException or ContainerNotFoundException or InvalidOperationException
                                       or IOException or UnauthorizedAccessException or ArgumentException or HookException)
        {
            var message = ErrorMessage(e);
            if (log.HasFile) log.Error(message);
            if (!log.HasFile || !stdioIsContainers)
            {
                StdIo.ErrorLine(message);
                if (!log.HasFile && log.IsDebug && e.InnerException is { } inner) StdIo.ErrorLine($"(caused by {inner.GetType().Name}: {inner.Message})");
            }
            return failureCode;
        }
    }

    /// <summary>
    /// The one line a failure prints. A missing container is runc's exact "container does not exist" (libcontainer
    /// ErrNotExist), the text containerd-shim-runc-v2 looks for.
    /// </summary>
    internal static string ErrorMessage(Exception e) => e is ContainerNotFoundException ? "container does not exist" : e.Message;
}
