using System.Runtime.ExceptionServices;
using OciRuntime.Interop;
using OciRuntime.Runtime.Lifecycle;

namespace OciRuntime.Runtime.Tests;

/// <summary>
/// /proc/PID/stat reads: a gone process is the usual answer when `run` or `delete` checks an exited init, so it is
/// null without an exception (a thrown and caught exception costs a stack unwind in NativeAOT, ≈0.1 ms per run).
/// </summary>
public sealed class ProcStatTests
{
    [Fact]
    public void A_running_process_has_its_state_and_start_time()
    {
        var self = ProcStat.Read(Environment.ProcessId);
        self.Should().NotBeNull();
        self!.Value.State.Should().BeOneOf('R', 'S');
        var fields = File.ReadAllText("/proc/self/stat").Split(')')[^1].Trim().Split(' ');
        self.Value.StartTime.Should().Be(ulong.Parse(fields[19]));
        ProcStat.IsAlive(Environment.ProcessId, self.Value.StartTime).Should().BeTrue();
        ProcStat.IsAlive(Environment.ProcessId, self.Value.StartTime + 1).Should().BeFalse("another start time is another process");
    }

    [Fact]
    public void The_parent_pid_is_read_with_the_rest()
    {
        var self = ProcStat.ReadWithParent(Environment.ProcessId);
        self.Should().NotBeNull();
        var fields = File.ReadAllText("/proc/self/stat").Split(')')[^1].Trim().Split(' ');
        self!.Value.ParentPid.Should().Be(int.Parse(fields[1]));
        self.Value.StartTime.Should().Be(ProcStat.Read(Environment.ProcessId)!.Value.StartTime);
    }

    [Fact]
    public void A_gone_process_is_null_and_throws_nothing_on_the_way()
    {
        var pid = GonePid();
        var thrown = 0;
        var thread = Environment.CurrentManagedThreadId;
        void Count(object? sender, FirstChanceExceptionEventArgs e)
        {
            if (Environment.CurrentManagedThreadId == thread) Interlocked.Increment(ref thrown);
        }
        AppDomain.CurrentDomain.FirstChanceException += Count;
        try
        {
            ProcStat.Read(pid).Should().BeNull();
            ProcStat.IsAlive(pid, 1).Should().BeFalse();
        }
        finally
        {
            AppDomain.CurrentDomain.FirstChanceException -= Count;
        }
        thrown.Should().Be(0);
    }

    [Fact]
    public void TryReadFileText_returns_the_text_or_null_with_the_open_errno()
    {
        Libc.TryReadFileText("/proc/self/stat", out var errno).Should().StartWith(Environment.ProcessId + " (");
        errno.Should().Be(0);
        Libc.TryReadFileText("/nonexistent-ocirun-test/file", out errno).Should().BeNull();
        errno.Should().Be(Errno.ENOENT);
        Libc.TryReadFileText("/proc/self/stat/x", out errno).Should().BeNull();
        errno.Should().Be(Errno.ENOTDIR);
    }

    // A pid that no process has: one past pid_max is never used.
    private static int GonePid() => int.Parse(File.ReadAllText("/proc/sys/kernel/pid_max").Trim()) + 1;
}
