using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using OciRuntime.Runtime.Lifecycle;
using OciRuntime.Runtime.State;
using OciRuntime.Spec;

namespace OciRuntime.Runtime.Cli;

/// <summary>exec, ps, list and features (runc's flags).</summary>
public static partial class OcirunCli
{
    private static Command ExecCommand()
    {
        var command = new Command("exec", "execute new process inside the container");
        var id = IdArgument();
        var cmd = new Argument<string[]>("command") { Description = "the command and its arguments (or use -p)", Arity = ArgumentArity.ZeroOrMore };
        var process = new Option<string?>("--process", "-p") { Description = "path to the process.json ('-' for stdin)" };
        var tty = new Option<bool>("--tty", "-t") { Description = "allocate a pseudo-TTY" };
        var detach = new Option<bool>("--detach", "-d") { Description = "detach from the container's process" };
        var user = new Option<string?>("--user", "-u") { Description = "UID (format: <uid>[:<gid>])" };
        var gids = new Option<uint[]>("--additional-gids", "-g") { Description = "additional gids", AllowMultipleArgumentsPerToken = false };
        var env = new Option<string[]>("--env", "-e") { Description = "set environment variables" };
        var cwd = new Option<string?>("--cwd") { Description = "current working directory in the container" };
        var cap = new Option<string[]>("--cap", "-c") { Description = "add a capability to the bounding set for the process" };
        var noNewPrivs = new Option<bool>("--no-new-privs") { Description = "set the no new privileges value for the process" };
        var apparmor = new Option<string?>("--apparmor") { Description = "set the apparmor profile for the process" };
        var label = new Option<string?>("--process-label") { Description = "set the asm process label for the process commonly used with selinux" };
        var pidFile = PidFileOption();
        var consoleSocket = ConsoleSocketOption();
        var pidfdSocket = PidfdSocketOption();
        var preserveFds = PreserveFdsOption();
        var ignorePaused = new Option<bool>("--ignore-paused") { Description = "allow exec in a paused container" };
        var cgroup = new Option<string[]>("--cgroup") { Description = "run the process in an (existing) sub-cgroup(s): PATH or CONTROLLER[,CONTROLLER]:PATH" };
        command.Arguments.Add(id);
        command.Arguments.Add(cmd);
        foreach (var o in new Option[] { process, tty, detach, user, gids, env, cwd, cap, noNewPrivs, apparmor, label, pidFile, consoleSocket, pidfdSocket, preserveFds, ignorePaused, cgroup })
            command.Options.Add(o);
        command.SetAction(r => Execute(r, runtime =>
        {
            return runtime.Exec(new ExecOptions
            {
                Id = r.GetValue(id)!,
                ProcessFile = r.GetValue(process),
                Args = r.GetValue(cmd) ?? [],
                Tty = r.GetValue(tty),
                Detach = r.GetValue(detach),
                User = r.GetValue(user),
                AdditionalGids = r.GetValue(gids) ?? [],
                Env = r.GetValue(env) ?? [],
                Cwd = r.GetValue(cwd),
                Caps = r.GetValue(cap) ?? [],
                NoNewPrivs = r.GetValue(noNewPrivs),
                Apparmor = r.GetValue(apparmor),
                ProcessLabel = r.GetValue(label),
                PidFile = r.GetValue(pidFile),
                ConsoleSocket = r.GetValue(consoleSocket),
                PidfdSocket = r.GetValue(pidfdSocket),
                PreserveFds = r.GetValue(preserveFds),
                IgnorePaused = r.GetValue(ignorePaused),
                SubCgroups = r.GetValue(cgroup) ?? [],
            });
        }, failureCode: 255, stdioIsContainers: true));
        return command;
    }

    private static Option<string> FormatOption() => new("--format", "-f")
    {
        Description = "select one of: table or json",
        DefaultValueFactory = _ => "table",
    };

    private static Command PsCommand()
    {
        var command = new Command("ps", "ps displays the processes running inside a container");
        var id = IdArgument();
        var psArgs = new Argument<string[]>("ps-options") { Description = "options for ps (default -ef)", Arity = ArgumentArity.ZeroOrMore };
        var format = FormatOption();
        format.AcceptOnlyFromAmong("table", "json");
        command.Arguments.Add(id);
        command.Arguments.Add(psArgs);
        command.Options.Add(format);
        command.SetAction(r => Execute(r, runtime =>
        {
            var pids = runtime.Processes(r.GetValue(id)!);
            if (r.GetValue(format) == "json")
            {
                StdIo.OutLine(FormatPids(pids));
                return 0;
            }
            StdIo.Out(PsTable.Filter(r.GetValue(psArgs) is { Length: > 0 } a ? a : ["-ef"], pids));
            return 0;
        }));
        return command;
    }

    private static readonly string[] ListHeader = ["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"];

    private static Command ListCommand()
    {
        var command = new Command("list", "lists containers started by ocirun with the given root");
        var format = FormatOption();
        format.AcceptOnlyFromAmong("table", "json");
        var quiet = new Option<bool>("--quiet", "-q") { Description = "display only container IDs" };
        command.Options.Add(format);
        command.Options.Add(quiet);
        command.SetAction(r => Execute(r, runtime =>
        {
            var states = runtime.List();
            if (r.GetValue(quiet))
            {
                foreach (var s in states) StdIo.OutLine(s.Id);
            }
            else if (r.GetValue(format) == "json")
            {
                StdIo.OutLine(RuntimeJson.Format(new List<ContainerStateOutput>(states)));
            }
            else
            {
                var rows = new List<string[]> { ListHeader };
                foreach (var s in states) rows.Add([s.Id, s.Pid.ToString(CultureInfo.InvariantCulture), s.Status, s.Bundle, s.Created, s.Owner]);
                StdIo.Out(TabTable(rows));
            }
            return 0;
        }));
        return command;
    }

    private static Command FeaturesCommand()
    {
        var command = new Command("features", "show the enabled features (runtime-spec features.md)");
        command.SetAction(r => Execute(r, _ =>
        {
            StdIo.OutLine(SpecSerializer.SerializeFeatures(ContainerRuntime.Features()));
            return 0;
        }));
        return command;
    }

    /// <summary><c>ps --format json</c>: the pids as one JSON array ("[12,15]"), as runc prints them.</summary>
    internal static string FormatPids(IReadOnlyList<int> pids)
    {
        var sb = new StringBuilder("[");
        for (int i = 0; i < pids.Count; i++) sb.Append(i == 0 ? "" : ",").Append(pids[i].ToString(CultureInfo.InvariantCulture));
        return sb.Append(']').ToString();
    }

    /// <summary>Aligns cells as Go's tabwriter does for runc (min width 12, padding 3; the last column unpadded).</summary>
    internal static string TabTable(List<string[]> rows)
    {
        var columns = 0;
        foreach (var row in rows) columns = Math.Max(columns, row.Length);
        var widths = new int[columns];
        foreach (var row in rows)
            for (var c = 0; c < row.Length - 1; c++) widths[c] = Math.Max(widths[c], Math.Max(row[c].Length + 3, 12));
        var sb = new StringBuilder();
        foreach (var row in rows)
        {
            for (var c = 0; c < row.Length; c++) sb.Append(c < row.Length - 1 ? row[c].PadRight(widths[c]) : row[c]);
            sb.Append('\n');
        }
        return sb.ToString();
    }
}
