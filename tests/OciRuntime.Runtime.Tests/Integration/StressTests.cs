using System.Collections.Concurrent;
using OciRuntime.Runtime.Tests.Harness;

namespace OciRuntime.Runtime.Tests.Integration;

/// <summary>
/// Many containers in a row and at once: no hang (every command has a generous guard, no timing is asserted) and
/// nothing left: no state directory, no new mount, no process, and the test process's fd count back to its baseline.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class StressTests : IDisposable
{
    private const int FdSlack = 8;

    private readonly BundleBuilder _bundle = new("stress");
    private readonly Ocirun _runtime = new(Ocirun.DefaultBinary, TestEnv.NewDir("root"));
    private readonly string _output;
    private string _baselineFds = "";
    private readonly ConcurrentDictionary<string, bool> _ids = new(StringComparer.Ordinal);

    public StressTests()
    {
        _output = Path.Combine(_bundle.Dir, "stress.out");
        _bundle.Args("true");
        _bundle.Write();
        TestEnv.WaitForNoDescendants().Should().BeEmpty("no earlier test may leave a process");
    }

    public void Dispose()
    {
        try
        {
            foreach (var id in Directory.Exists(_runtime.StateRoot) ? Directory.GetDirectories(_runtime.StateRoot) : [])
                _runtime.Run("delete", "-f", Path.GetFileName(id));
        }
        finally
        {
            TestEnv.RemoveTree(_runtime.StateRoot);
            _bundle.Dispose();
        }
    }

    private static void Ok(CommandResult r, string what)
    {
        if (r.ExitCode != 0) throw new InvalidOperationException($"{what} failed: {r}");
    }

    /// <summary>create, start, wait until stopped (`true` exits at once), delete.</summary>
    private void Cycle(string id)
    {
        _ids[id] = true;
        Ok(_runtime.RunDetached(_output, "create", "-b", _bundle.Dir, id), $"create {id}");
        Ok(_runtime.Run("start", id), $"start {id}");
        var stopped = TestEnv.Eventually(() =>
        {
            var state = _runtime.Run("state", id);
            Ok(state, $"state {id}");
            return state.Stdout.Contains("\"status\":\"stopped\"", StringComparison.Ordinal) ||
                   state.Stdout.Contains("\"status\": \"stopped\"", StringComparison.Ordinal);
        });
        if (!stopped) throw new InvalidOperationException($"{id} did not stop");
        Ok(_runtime.Run("delete", id), $"delete {id}");
        if (Directory.Exists(Path.Combine(_runtime.StateRoot, id))) throw new InvalidOperationException($"{id}: state directory left after delete");
    }

    private int Baseline()
    {
        // One warm-up cycle first: the Process machinery of the test host opens its fds lazily.
        Cycle(TestEnv.NewId("warmup"));
        TestEnv.WaitForNoDescendants();
        TestEnv.OurMounts().Should().BeEmpty();
        _baselineFds = TestEnv.DescribeOpenFds();
        return TestEnv.OpenFdCount();
    }

    private void NothingLeft(int baselineFds)
    {
        Directory.EnumerateFileSystemEntries(_runtime.StateRoot).Should().BeEmpty("every container was deleted");
        TestEnv.OurMounts().Should().BeEmpty("no mount may leak to the host");
        TestEnv.MountsUnder(_bundle.Dir).Should().BeEmpty();
        TestEnv.CgroupDirsOf(_ids.Keys.ToHashSet(StringComparer.Ordinal)).Should().BeEmpty("delete removes the container's cgroups");
        TestEnv.WaitForNoDescendants().Should().BeEmpty("no container process may survive");
        TestEnv.Eventually(() => TestEnv.OpenFdCount() <= baselineFds + FdSlack).Should().BeTrue(
            $"the test process's fds come back to {baselineFds} (±{FdSlack}), now {TestEnv.OpenFdCount()}: {TestEnv.DescribeOpenFds()} (at baseline: {_baselineFds})");
    }

    [Fact]
    public void Two_hundred_create_start_delete_cycles_in_a_row()
    {
        var baseline = Baseline();

        for (var i = 0; i < 200; i++) Cycle(TestEnv.NewId($"seq{i}"));

        NothingLeft(baseline);
    }

    [Fact]
    public void Twenty_create_start_delete_cycles_in_parallel()
    {
        var baseline = Baseline();

        RunInParallel(20, i => Cycle(TestEnv.NewId($"par{i}")));

        NothingLeft(baseline);
    }

    [Fact]
    public void Twenty_foreground_runs_in_parallel_return_their_own_exit_codes()
    {
        var baseline = Baseline();
        var bundles = Enumerable.Range(0, 20).Select(i =>
        {
            var b = new BundleBuilder($"stress-run{i}");
            b.Sh($"echo container-{i}; exit {i + 1}");
            b.Write();
            return b;
        }).ToList();
        try
        {
            var results = new ConcurrentDictionary<int, CommandResult>();

            RunInParallel(20, i =>
            {
                var id = TestEnv.NewId($"run{i}");
                _ids[id] = true;
                results[i] = _runtime.Run("run", "-b", bundles[i].Dir, id);
            });

            for (var i = 0; i < 20; i++)
            {
                results[i].ExitCode.Should().Be(i + 1, results[i].ToString());
                results[i].Stdout.Should().Be($"container-{i}\n");
            }
            NothingLeft(baseline);
        }
        finally
        {
            foreach (var b in bundles) b.Dispose();
        }
    }

    [Fact]
    public void Fifty_foreground_runs_in_a_row()
    {
        _bundle.Sh("exit 3");
        _bundle.Write();
        var baseline = Baseline();

        for (var i = 0; i < 50; i++)
        {
            var id = TestEnv.NewId($"fg{i}");
            _ids[id] = true;
            var r = _runtime.Run("run", "-b", _bundle.Dir, id);
            r.ExitCode.Should().Be(3, r.ToString());
        }

        NothingLeft(baseline);
    }

    [Fact]
    public void Two_hundred_execs_in_a_row_and_forty_in_parallel_into_one_container()
    {
        // exec's direct path (DirectExec): the cloned child runs raw syscalls only and execs the process itself.
        var baseline = Baseline();
        _bundle.Args("sleep", "1000");
        _bundle.Write();
        var id = TestEnv.NewId("exec");
        _ids[id] = true;
        Ok(_runtime.RunDetached(_output, "run", "-d", "-b", _bundle.Dir, id), $"run -d {id}");

        for (var i = 0; i < 200; i++)
        {
            var r = _runtime.Run("exec", id, "sh", "-c", $"exit {i % 7}");
            r.ExitCode.Should().Be(i % 7, r.ToString());
        }
        var results = new ConcurrentDictionary<int, CommandResult>();
        RunInParallel(40, i => results[i] = _runtime.Run("exec", id, "sh", "-c", $"echo exec-{i}"));
        for (var i = 0; i < 40; i++) results[i].Stdout.Should().Be($"exec-{i}\n", results[i].ToString());

        Ok(_runtime.Run("delete", "-f", id), $"delete -f {id}");
        NothingLeft(baseline);
    }

    private static void RunInParallel(int count, Action<int> body)
    {
        var errors = new ConcurrentQueue<Exception>();
        var threads = Enumerable.Range(0, count).Select(i => new Thread(() =>
        {
            try
            {
                body(i);
            }
            catch (Exception e)
            {
                errors.Enqueue(e);
            }
        })).ToList();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();
        if (!errors.IsEmpty) throw new AggregateException(errors);
    }
}
