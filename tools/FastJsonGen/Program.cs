using OciRuntime.Tools.FastJsonGen;

// `dotnet run --project tools/FastJsonGen [-- --check] [repo-root]`: rewrites (or, with --check, verifies) the generated files.
var check = args.Contains("--check");
var root = args.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal)) ?? FindRoot();
int stale = 0;
foreach (var target in Targets.All)
{
    var path = Path.Combine(root, target.Path);
    var text = Generator.Render(target);
    var current = File.Exists(path) ? File.ReadAllText(path) : null;
    if (current == text) continue;
    stale++;
    if (check) Console.Error.WriteLine($"{target.Path}: stale (run `dotnet run --project tools/FastJsonGen`)");
    else
    {
        File.WriteAllText(path, text);
        Console.WriteLine($"wrote {target.Path}");
    }
}
return check && stale > 0 ? 1 : 0;

static string FindRoot()
{
    var dir = new DirectoryInfo(AppContext.BaseDirectory);
    while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "OciRuntime.sln"))) dir = dir.Parent;
    return dir?.FullName ?? throw new InvalidOperationException("repository root (OciRuntime.sln) not found");
}
