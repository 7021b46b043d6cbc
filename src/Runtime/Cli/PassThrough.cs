namespace OciRuntime.Runtime.Cli;

/// <summary>
/// runc (urfave/cli) stops reading flags at a command's first positional argument: in
/// <c>ocirun exec ID sh -c 'x'</c> and <c>ocirun ps ID -ef</c> everything after the container id belongs to the
/// process or to ps. System.CommandLine reads flags everywhere, so a "--" is inserted after the id.
/// </summary>
internal static class PassThrough
{
    private static readonly HashSet<string> GlobalValueOptions = ["--root", "--log", "--log-format", "--criu", "--rootless"];

    private static readonly Dictionary<string, HashSet<string>> ValueOptions = new()
    {
        ["exec"] = ["--process", "-p", "--user", "-u", "--additional-gids", "-g", "--env", "-e", "--cwd", "--cap", "-c", "--apparmor",
                    "--process-label", "--preserve-fds", "--pid-file", "--console-socket", "--pidfd-socket", "--cgroup"],
        ["ps"] = ["--format", "-f"],
    };

    /// <summary>Returns <paramref name="args"/> with "--" after the container id of exec and ps.</summary>
    /// <summary>The index of the command name in <paramref name="args"/> (the first word after the global options), or -1.</summary>
    public static int CommandIndex(string[] args)
    {
        var i = 0;
        while (i < args.Length && args[i].StartsWith('-'))
        {
            if (GlobalValueOptions.Contains(args[i])) i++;
            i++;
        }
        return i < args.Length ? i : -1;
    }

    public static string[] Normalize(string[] args)
    {
        var i = CommandIndex(args);
        if (i < 0 || !ValueOptions.TryGetValue(args[i], out var valueOptions)) return args;
        for (var j = i + 1; j < args.Length; j++)
        {
            var a = args[j];
            if (a == "--") return args;
            if (a.StartsWith('-') && a.Length > 1)
            {
                if (valueOptions.Contains(a)) j++;
                continue;
            }
            // args[j] is the container id: everything after it passes through.
            if (j + 1 >= args.Length || args[j + 1] == "--") return args;
            return [.. args[..(j + 1)], "--", .. args[(j + 1)..]];
        }
        return args;
    }
}
