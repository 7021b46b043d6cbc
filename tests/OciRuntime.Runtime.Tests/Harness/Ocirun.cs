using System.Diagnostics;

namespace OciRuntime.Runtime.Tests.Harness;

/// <summary>The result of one command: exit code and captured output.</summary>
public sealed record CommandResult(int ExitCode, string Stdout, string Stderr)
{
    /// <inheritdoc />
    public override string ToString() => $"exit {ExitCode}\nstdout: {Stdout}\nstderr: {Stderr}";
}

/// <summary>Runs the real NativeAOT ocirun binary (or runc, for differential tests) as a child of the reaping test process.</summary>
public sealed class Ocirun
{
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

    /// <summary>Runs `binary --root ROOT args…` and waits (at most <paramref name="timeout"/>, default 60 s).</summary>
    public CommandResult Run(params string[] args) => Exec(Binary, ["--root", StateRoot, .. args]);

    /// <summary>Runs `binary args…` without the --root prefix.</summary>
    public CommandResult RunRaw(params string[] args) => Exec(Binary, args);

    /// <summary>Runs any program and captures its output; kills it after <paramref name="timeoutMs"/>.</summary>
    public static CommandResult Exec(string file, IEnumerable<string> args, int timeoutMs = 60_000, string? stdin = null, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? "",
        };
        foreach (var a in args) start.ArgumentList.Add(a);
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
                throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish within {timeoutMs} ms");
            }
            p.WaitForExit();
            return new CommandResult(p.ExitCode, stdout.Result, stderr.Result);
        }
        finally
        {
            Reaper.Forget(p.Id);
        }
    }
}
