using System.CommandLine;
using OciRuntime.Runtime.Checkpoint;

namespace OciRuntime.Runtime.Cli;

/// <summary>checkpoint and restore (runc's flags; CRIU through its RPC, docs/checkpoint.md).</summary>
public static partial class OcirunCli
{
    /// <summary>The CRIU flags checkpoint and restore share, in runc's words.</summary>
    private sealed class CriuFlagSet
    {
        public readonly Option<string?> ImagePath;
        public readonly Option<string?> WorkPath = new("--work-path") { Description = "path for saving work files and logs" };
        public readonly Option<bool> TcpEstablished = new("--tcp-established") { Description = "allow open tcp connections" };
        public readonly Option<bool> ExtUnixSk = new("--ext-unix-sk") { Description = "allow external unix sockets" };
        public readonly Option<bool> ShellJob = new("--shell-job") { Description = "allow shell jobs" };
        public readonly Option<bool> FileLocks = new("--file-locks") { Description = "handle file locks, for safety" };
        public readonly Option<string?> ManageCgroupsMode = new("--manage-cgroups-mode") { Description = "cgroups mode: 'soft' (default), 'full', 'strict' and 'ignore'" };
        public readonly Option<string?> EmptyNs = new("--empty-ns") { Description = "create a namespace, but don't restore its properties" };
        public readonly Option<bool> AutoDedup = new("--auto-dedup") { Description = "enable auto deduplication of memory images" };
        public readonly Option<bool> LazyPages = new("--lazy-pages") { Description = "use userfaultfd to lazily restore memory pages" };

        public CriuFlagSet(Command command, string imagePathDescription)
        {
            ImagePath = new Option<string?>("--image-path") { Description = imagePathDescription };
            foreach (var o in new Option[] { ImagePath, WorkPath, TcpEstablished, ExtUnixSk, ShellJob, FileLocks, ManageCgroupsMode, EmptyNs, AutoDedup, LazyPages })
                command.Options.Add(o);
        }

        /// <summary>Sets the shared flags of <paramref name="options"/> from the parse; returns it.</summary>
        public T Apply<T>(ParseResult r, T options) where T : CriuFlags
        {
            options.ImagePath = r.GetValue(ImagePath);
            options.WorkPath = r.GetValue(WorkPath);
            options.TcpEstablished = r.GetValue(TcpEstablished);
            options.ExtUnixSk = r.GetValue(ExtUnixSk);
            options.ShellJob = r.GetValue(ShellJob);
            options.FileLocks = r.GetValue(FileLocks);
            options.ManageCgroupsMode = r.GetValue(ManageCgroupsMode);
            options.EmptyNs = r.GetValue(EmptyNs);
            options.AutoDedup = r.GetValue(AutoDedup);
            options.LazyPages = r.GetValue(LazyPages);
            return options;
        }
    }

    private static Command CheckpointCommand()
    {
        var command = new Command("checkpoint", "checkpoint a running container");
        var id = IdArgument();
        command.Arguments.Add(id);
        var f = new CriuFlagSet(command, "path for saving criu image files");
        var parentPath = new Option<string?>("--parent-path") { Description = "path for previous criu image files in pre-dump" };
        var leaveRunning = new Option<bool>("--leave-running") { Description = "leave the process running after checkpointing" };
        var statusFd = new Option<int>("--status-fd") { Description = "criu writes \\0 to this FD once lazy-pages is ready", DefaultValueFactory = _ => -1 };
        var pageServer = new Option<string?>("--page-server") { Description = "ADDRESS:PORT of the page server" };
        var preDump = new Option<bool>("--pre-dump") { Description = "dump container's memory information only, leave the container running after this" };
        foreach (var o in new Option[] { parentPath, leaveRunning, statusFd, pageServer, preDump }) command.Options.Add(o);
        command.SetAction(r => Execute(r, runtime =>
        {
            runtime.Checkpoint(f.Apply(r, new CheckpointOptions
            {
                Id = r.GetValue(id)!,
                ParentPath = r.GetValue(parentPath),
                LeaveRunning = r.GetValue(leaveRunning),
                StatusFd = r.GetValue(statusFd),
                PageServer = r.GetValue(pageServer),
                PreDump = r.GetValue(preDump),
            }));
            return 0;
        }));
        return command;
    }

    private static Command RestoreCommand()
    {
        var command = new Command("restore", "restore a container from a previous checkpoint");
        var id = IdArgument();
        command.Arguments.Add(id);
        var f = new CriuFlagSet(command, "path to criu image files for restoring");
        var bundle = BundleOption();
        var detach = new Option<bool>("--detach", "-d") { Description = "detach from the container's process" };
        var pidFile = PidFileOption();
        var consoleSocket = ConsoleSocketOption();
        var noSubreaper = new Option<bool>("--no-subreaper", "-no-subreaper") { Description = "disable the use of the subreaper used to reap reparented processes" };
        var noPivot = NoPivotOption();
        var lsmProfile = new Option<string?>("--lsm-profile") { Description = "Specify an LSM profile to be used during restore in the form of TYPE:NAME." };
        var lsmMountContext = new Option<string?>("--lsm-mount-context") { Description = "Specify an LSM mount context to be used during restore." };
        foreach (var o in new Option[] { bundle, detach, pidFile, consoleSocket, noSubreaper, noPivot, lsmProfile, lsmMountContext }) command.Options.Add(o);
        command.SetAction(r => Execute(r, runtime => runtime.Restore(f.Apply(r, new RestoreOptions
        {
            Id = r.GetValue(id)!,
            Bundle = r.GetValue(bundle),
            Detach = r.GetValue(detach),
            PidFile = r.GetValue(pidFile),
            ConsoleSocket = r.GetValue(consoleSocket),
            NoSubreaper = r.GetValue(noSubreaper),
            NoPivot = r.GetValue(noPivot),
            LsmProfile = r.GetValue(lsmProfile),
            LsmMountContext = r.GetValue(lsmMountContext),
        }))));
        return command;
    }
}
