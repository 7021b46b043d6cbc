using OciRuntime.Interop;
using OciRuntime.Runtime.Init;

namespace OciRuntime.Runtime.Tests;

/// <summary>
/// RootDir: paths of config.json resolved and made inside a root directory by fd, with openat2 RESOLVE_IN_ROOT and
/// with the fd walk used for creation and on kernels without openat2 (both run here, the walk forced).
/// </summary>
[Collection(nameof(RootDirTests))] // ForceWalk is process-wide
public sealed class RootDirTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "ocirun-rootdir-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly string _root;
    private readonly string _host;

    public RootDirTests()
    {
        _root = Path.Combine(_dir, "root");
        _host = Path.Combine(_dir, "host");
        Directory.CreateDirectory(Path.Combine(_root, "etc"));
        Directory.CreateDirectory(Path.Combine(_host, "sub"));
        File.WriteAllText(Path.Combine(_root, "etc/file"), "x");
        File.CreateSymbolicLink(Path.Combine(_root, "abs"), _host);                        // absolute: the host dir by path
        File.CreateSymbolicLink(Path.Combine(_root, "climb"), "../../../../../../.." + _host); // climbing out
        File.CreateSymbolicLink(Path.Combine(_root, "dangling"), "/made/by/walk");
        File.CreateSymbolicLink(Path.Combine(_root, "loop"), "loop");
    }

    public void Dispose()
    {
        RootDir.ForceWalk = false;
        Directory.Delete(_dir, recursive: true);
    }

    private static string Where(SafeFd fd) => new FileInfo(RootDir.FdPath(fd)).LinkTarget!;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Symlinks_resolve_inside_the_root_and_directories_are_made_there(bool walk)
    {
        RootDir.ForceWalk = walk;
        using var root = RootDir.OpenRoot(_root);
        using (var a = root.MkdirAll("/abs/sub")) Where(a).Should().Be(_root + _host + "/sub");
        using (var c = root.MkdirAll("climb/x/../y")) Where(c).Should().Be(_root + _host + "/y");
        using (var d = root.MkdirAll("/dangling/leaf", out var made))
        {
            Where(d).Should().Be(_root + "/made/by/walk/leaf");
            made.Should().BeTrue();
        }
        using (var again = root.MkdirAll("/dangling/leaf", out var madeAgain)) madeAgain.Should().BeFalse();
        Directory.EnumerateFileSystemEntries(_host).Should().Equal(Path.Combine(_host, "sub")); // nothing made on the host
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Lookups_report_missing_paths_loops_and_files_in_the_way(bool walk)
    {
        RootDir.ForceWalk = walk;
        using var root = RootDir.OpenRoot(_root);
        root.TryOpen("/no/such/thing").Should().BeNull();
        using (var f = root.Open("/etc/file")) Where(f).Should().Be(_root + "/etc/file");
        using (var top = root.Open("/../..")) Where(top).Should().Be(_root);
        root.Invoking(r => r.MkdirAll("/etc/file/sub")).Should().Throw<SyscallException>().Which.Errno.Should().Be(Errno.ENOTDIR);
        root.Invoking(r => r.MkdirAll("/loop/x")).Should().Throw<SyscallException>().Which.Errno.Should().Be(Errno.ELOOP);
    }

    [Fact]
    public void MkFile_makes_an_empty_file_and_keeps_an_existing_entry()
    {
        using var root = RootDir.OpenRoot(_root);
        using (var made = root.MkFile("/abs/new-file")) Where(made).Should().Be(_root + _host + "/new-file");
        File.Exists(_root + _host + "/new-file").Should().BeTrue();
        using (var kept = root.MkFile("/etc/file")) Where(kept).Should().Be(_root + "/etc/file");
        File.ReadAllText(Path.Combine(_root, "etc/file")).Should().Be("x");
    }
}
