using OciRuntime.Runtime.State;

namespace OciRuntime.Runtime.Tests;

/// <summary>
/// The init mark beside state.json (issue #18): what delete --force finds a container's init by when state.json is
/// damaged. A symlink "PID:STARTTIME" made whole by one symlinkat; anything else there is no mark.
/// </summary>
public sealed class InitMarkTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("ocirun-initmark-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void The_mark_round_trips_is_a_symlink_and_goes_with_the_directory()
    {
        var store = new StateStore(_root);
        using (var dir = store.Create("c1"))
        {
            dir.LoadInitMark().Should().BeNull("a container whose init does not exist yet has no mark");
            dir.SaveInitMark(4242, 18446744073709551615);
            new FileInfo(dir.InitMarkFile).LinkTarget.Should().Be("4242:18446744073709551615");
            dir.LoadInitMark().Should().Be((4242, 18446744073709551615UL));
            // A directory reused (restore) gets the new init's mark.
            dir.SaveInitMark(7, 8);
            dir.LoadInitMark().Should().Be((7, 8UL));
            dir.Remove();
        }
        Directory.Exists(Path.Combine(_root, "c1")).Should().BeFalse();
    }

    [Theory]
    [InlineData("")]
    [InlineData("4242")]
    [InlineData("4242:")]
    [InlineData(":99")]
    [InlineData("0:99")]
    [InlineData("-5:99")]
    [InlineData("4242:99x")]
    [InlineData("4242x:99")]
    [InlineData("4242:-1")]
    [InlineData("4242 99")]
    [InlineData("99999999999:1")]
    [InlineData("regular file")]
    public void Anything_but_a_well_formed_mark_is_no_mark(string target)
    {
        var store = new StateStore(_root);
        using var dir = store.Create("c2");
        if (target == "regular file") File.WriteAllText(dir.InitMarkFile, "4242:99");
        else if (target.Length == 0) Directory.CreateDirectory(dir.InitMarkFile);
        else File.CreateSymbolicLink(dir.InitMarkFile, target);
        dir.LoadInitMark().Should().BeNull(target);
    }
}
