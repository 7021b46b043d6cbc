using System.Diagnostics;
using System.Text;

namespace OciRuntime.Runtime.Tests.Harness;

/// <summary>The result of one command: exit code and captured output.</summary>
public sealed record CommandResult(int ExitCode, string Stdout, string Stderr)
{
    /// <summary>stderr without a trailing newline, split into lines (empty lines dropped).</summary>
    public string[] StderrLines => Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    /// <inheritdoc />
    public override string ToString() => $"exit {ExitCode}\nstdout: {Stdout}\nstderr: {Stderr}";
}

/// <summary>Runs the real NativeAOT ocirun binary (or runc, for differential tests) as a child of the reaping test process.</summary>
public sealed class Ocirun
{
    /// <summary>The hang guard of one command: generous, it only turns a hang into a failure.</summary>
    public const int DefaultTimeoutMs = 60_000;

    /// <summary>A runtime binary with its own state root.</summary>
    public Ocirun(string binary, string stateRoot)
    {
        Binary = binary;
        StateRoot = stateRoot;
    }

    /// <summary>The binary.</summary>
    public string Binary { get; }

    /// <summary>The --root of every command.</summary>
    public string StateRoot { get; }

    /// <summary>The ocirun binary under test: $OCIRUN_BINARY, else ./ocirun at the repository root (built by `make`).</summary>
    public static string DefaultBinary
    {
        get
        {
            var env = Environment.GetEnvironmentVariable("OCIRUN_BINARY");
            if (!string.IsNullOrEmpty(env)) return env;
            var candidate = Path.Combine(RepoRoot, "ocirun");
            return File.Exists(candidate) ? candidate : throw new FileNotFoundException($"{candidate} is missing: run `make` first (or set OCIRUN_BINARY)");
        }
    }

    /// <summary>The repository root (the directory holding OciRuntime.sln).</summary>
    public static string RepoRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "OciRuntime.sln"))) dir = dir.Parent;
            return dir?.FullName ?? throw new DirectoryNotFoundException("repository root not found");
        }
    }

    /// <summary>Runs `binary --root ROOT args…` and waits (at most <see cref="DefaultTimeoutMs"/>).</summary>
    public CommandResult Run(params string[] args) => Exec(Binary, ["--root", StateRoot, .. args]);

    /// <summary>
    /// Runs `binary --root ROOT args…` with stdio on files instead of pipes, for commands that leave a container
    /// holding their stdio (create, run -d): reading a pipe to its end would wait for the container.
    /// The container's later output lands in the same files (<paramref name="stdoutFile"/>).
    /// </summary>
    public CommandResult RunDetached(string stdoutFile, params string[] args) =>
        ExecWithFileStdio(Binary, ["--root", StateRoot, .. args], stdoutFile);

    /// <summary>Runs `binary args…` without the --root prefix.</summary>
    public CommandResult RunRaw(params string[] args) => Exec(Binary, args);

    /// <summary>Starts `binary --root ROOT args…` in the background (pipes, read as they come).</summary>
    public BackgroundCommand Launch(params string[] args) => BackgroundCommand.Start(Binary, ["--root", StateRoot, .. args]);

    /// <summary>Runs any program and captures its output; kills it after <paramref name="timeoutMs"/>.</summary>
    public static CommandResult Exec(string file, IEnumerable<string> args, int timeoutMs = DefaultTimeoutMs, string? stdin = null, string? workingDirectory = null)
    {
        var argList = args.ToList();
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? "",
        };
        foreach (var a in argList) start.ArgumentList.Add(a);
        using var p = Reaper.Spawn(start);
        try
        {
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            if (stdin is not null) p.StandardInput.Write(stdin);
            p.StandardInput.Close();
            if (!p.WaitForExit(timeoutMs))
            {
                p.Kill(entireProcessTree: true);
                p.WaitForExit();
                throw new TimeoutException($"{file} {string.Join(' ', argList)} did not finish within {timeoutMs} ms");
            }
            // The process is gone; its output pipes close when the last holder (maybe a container) closes them.
            if (!Task.WaitAll([stdout, stderr], timeoutMs))
                throw new TimeoutException($"{file} {string.Join(' ', argList)} exited but something still holds its stdout/stderr");
            p.WaitForExit();
            return new CommandResult(p.ExitCode, stdout.Result, stderr.Result);
        }
        finally
        {
            Reaper.Forget(p.Id);
        }
    }

    /// <summary>
    /// Runs a program with stdin from /dev/null and stdout/stderr on files (through `sh -c exec`, same pid), waits
    /// for it to exit (not for its output's end), then reads the files.
    /// </summary>
    public static CommandResult ExecWithFileStdio(string file, IEnumerable<string> args, string stdoutFile, int timeoutMs = DefaultTimeoutMs)
    {
        var argList = args.ToList();
        var stderrFile = stdoutFile + ".err";
        var start = new ProcessStartInfo("/bin/sh")
        {
            UseShellExecute = false,
            RedirectStandardInput = false,
            RedirectStandardOutput = false,
            RedirectStandardError = false,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("out=$1; err=$2; shift 2; exec \"$@\" <\"/dev/null\" >>\"$out\" 2>\"$err\"");
        start.ArgumentList.Add("sh");
        start.ArgumentList.Add(stdoutFile);
        start.ArgumentList.Add(stderrFile);
        start.ArgumentList.Add(file);
        foreach (var a in argList) start.ArgumentList.Add(a);
        var before = File.Exists(stdoutFile) ? new FileInfo(stdoutFile).Length : 0;
        using var p = Reaper.Spawn(start);
        try
        {
            if (!p.WaitForExit(timeoutMs))
            {
                p.Kill(entireProcessTree: true);
                p.WaitForExit();
                throw new TimeoutException($"{file} {string.Join(' ', argList)} did not finish within {timeoutMs} ms");
            }
            p.WaitForExit();
            var stdout = ReadFrom(stdoutFile, before);
            var stderr = File.Exists(stderrFile) ? File.ReadAllText(stderrFile) : "";
            return new CommandResult(p.ExitCode, stdout, stderr);
        }
        finally
        {
            Reaper.Forget(p.Id);
        }
    }

    private static string ReadFrom(string path, long offset)
    {
        if (!File.Exists(path)) return "";
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        stream.Seek(offset, SeekOrigin.Begin);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }
}

/// <summary>A command running in the background (e.g. a foreground `ocirun run` the test signals), output collected as it comes.</summary>
public sealed class BackgroundCommand : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly TaskCompletionSource _stdoutClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stderrClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly string _description;
    private bool _exited;

    private BackgroundCommand(Process process, string description)
    {
        _process = process;
        _description = description;
    }

    /// <summary>The process id.</summary>
    public int Pid => _process.Id;

    /// <summary>The stdout read so far.</summary>
    public string Stdout
    {
        get { lock (_stdout) return _stdout.ToString(); }
    }

    /// <summary>Starts <paramref name="file"/> with <paramref name="args"/>; stdin is closed at once.</summary>
    public static BackgroundCommand Start(string file, IEnumerable<string> args)
    {
        var argList = args.ToList();
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in argList) start.ArgumentList.Add(a);
        var p = Reaper.Spawn(start);
        var command = new BackgroundCommand(p, $"{file} {string.Join(' ', argList)}");
        p.OutputDataReceived += (_, e) => command.Append(command._stdout, command._stdoutClosed, e.Data);
        p.ErrorDataReceived += (_, e) => command.Append(command._stderr, command._stderrClosed, e.Data);
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        p.StandardInput.Close();
        return command;
    }

    private void Append(StringBuilder sb, TaskCompletionSource closed, string? line)
    {
        if (line is null)
        {
            closed.TrySetResult();
            return;
        }
        lock (sb) sb.Append(line).Append('\n');
    }

    /// <summary>Waits until stdout holds a line equal to <paramref name="line"/>; fails when the process exits first or the guard expires.</summary>
    public void WaitForLine(string line, int timeoutMs = Ocirun.DefaultTimeoutMs)
    {
        var sw = Stopwatch.StartNew();
        while (!Stdout.Split('\n').Contains(line))
        {
            if (_process.HasExited && _stdoutClosed.Task.IsCompleted && !Stdout.Split('\n').Contains(line))
                throw new InvalidOperationException($"{_description} exited ({_process.ExitCode}) before printing \"{line}\"; stdout: {Stdout}; stderr: {_stderr}");
            if (sw.ElapsedMilliseconds > timeoutMs) throw new TimeoutException($"{_description} did not print \"{line}\" within {timeoutMs} ms; stdout: {Stdout}");
            Thread.Sleep(10);
        }
    }

    /// <summary>Sends <paramref name="signal"/> to the process.</summary>
    public void Signal(int signal)
    {
        if (TestEnv.Kill(Pid, signal) != 0) throw new InvalidOperationException($"kill({Pid}, {signal}) failed");
    }

    /// <summary>Waits for the process to exit and its output to end.</summary>
    public CommandResult Wait(int timeoutMs = Ocirun.DefaultTimeoutMs)
    {
        if (!_process.WaitForExit(timeoutMs))
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
            throw new TimeoutException($"{_description} did not finish within {timeoutMs} ms; stdout: {Stdout}");
        }
        if (!Task.WaitAll([_stdoutClosed.Task, _stderrClosed.Task], timeoutMs))
            throw new TimeoutException($"{_description} exited but something still holds its stdout/stderr");
        _process.WaitForExit();
        _exited = true;
        string stderr;
        lock (_stderr) stderr = _stderr.ToString();
        return new CommandResult(_process.ExitCode, Stdout, stderr);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        try
        {
            if (!_exited && !_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit();
            }
        }
        catch (InvalidOperationException)
        {
            // never started or already gone
        }
        Reaper.Forget(_process.Id);
        _process.Dispose();
    }
}
