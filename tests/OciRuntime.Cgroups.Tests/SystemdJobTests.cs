using System.Diagnostics;
using OciRuntime.Cgroups.Systemd;
using Tmds.DBus.Protocol;

namespace OciRuntime.Cgroups.Tests;

/// <summary>
/// The driver's job handling (runc's startUnit/stopUnit) against a fake systemd: a connection on a private
/// dbus-daemon that owns org.freedesktop.systemd1, answers StartTransientUnit/StopUnit with a job path and sends
/// the manager's JobRemoved signal for it as told (before or after the reply, with another job's signal first, with a
/// result other than "done", or not at all), and says UnitExists for a leftover unit until it is reset.
/// </summary>
public sealed class SystemdJobTests : IDisposable
{
    private readonly PrivateBus? _bus = PrivateBus.Start();
    private readonly FakeSystemd? _systemd;

    public SystemdJobTests()
    {
        if (_bus is not null) _systemd = FakeSystemd.Start(_bus.Address);
    }

    public void Dispose()
    {
        _systemd?.Dispose();
        _bus?.Dispose();
    }

    private SystemdManagerClient Client(int timeoutMs = 5000)
    {
        var c = SystemdManagerClient.Connect(_bus!.Address, user: false);
        c.JobTimeout = TimeSpan.FromMilliseconds(timeoutMs);
        return c;
    }

    private static List<KeyValuePair<string, VariantValue>> Props(string unit) =>
        SystemdProperties.ForUnit(new SystemdUnitPath("system.slice", unit), "c", Environment.ProcessId);

    [Fact]
    public void Start_returns_when_the_JobRemoved_of_its_own_job_says_done()
    {
        if (_systemd is null) return; // no dbus-daemon here: the VM stage covers it
        _systemd.OtherJobFirst = true; // another job's "failed" on the bus first: not ours
        using var client = Client();
        client.StartTransientUnit("t-1.scope", Props("t-1.scope"));
        _systemd.Calls.Should().Equal("StartTransientUnit t-1.scope");
        _systemd.LastProperties.Should().Contain(["Slice", "PIDs", "Delegate"]);
    }

    [Fact]
    public void A_JobRemoved_sent_before_the_reply_is_not_missed()
    {
        if (_systemd is null) return;
        _systemd.SignalBeforeReply = true;
        using var client = Client();
        var watch = Stopwatch.StartNew();
        client.StartTransientUnit("t-2.scope", Props("t-2.scope"));
        watch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(4), "the signal was subscribed to before the call");
    }

    [Fact]
    public void A_job_result_other_than_done_is_an_error_naming_the_unit_and_resets_it()
    {
        if (_systemd is null) return;
        _systemd.Result = "failed";
        using var client = Client();
        var start = () => client.StartTransientUnit("t-3.scope", Props("t-3.scope"));
        start.Should().Throw<CgroupException>().WithMessage("systemd cgroup driver: error creating systemd unit t-3.scope: got failed");
        _systemd.Calls.Should().Equal("StartTransientUnit t-3.scope", "ResetFailedUnit t-3.scope");
    }

    [Fact]
    public void No_JobRemoved_is_a_timeout_naming_the_unit()
    {
        if (_systemd is null) return;
        _systemd.Result = null;
        using var client = Client(timeoutMs: 300);
        var start = () => client.StartTransientUnit("t-4.scope", Props("t-4.scope"));
        start.Should().Throw<CgroupException>().WithMessage("systemd cgroup driver: timeout waiting for systemd to create t-4.scope*");
        _systemd.Calls.Should().Equal(["StartTransientUnit t-4.scope", "StopUnit t-4.scope", "ResetFailedUnit t-4.scope"],
            "the pending start is cancelled, the unit reset");
    }

    [Fact]
    public void A_leftover_unit_is_reset_and_started_again()
    {
        if (_systemd is null) return;
        _systemd.Leftover.Add("t-5.scope");
        using var client = Client();
        client.StartTransientUnit("t-5.scope", Props("t-5.scope"));
        _systemd.Calls.Should().Equal("StartTransientUnit t-5.scope", "ResetFailedUnit t-5.scope", "StartTransientUnit t-5.scope");
    }

    [Fact]
    public void A_unit_that_exists_after_the_reset_is_refused_with_systemds_error()
    {
        if (_systemd is null) return;
        _systemd.Leftover.Add("t-6.scope");
        _systemd.ResetForgets = false; // an active unit: reset-failed leaves it
        using var client = Client();
        var start = () => client.StartTransientUnit("t-6.scope", Props("t-6.scope"));
        start.Should().Throw<CgroupException>().WithMessage("systemd cgroup driver: start unit t-6.scope: org.freedesktop.systemd1.UnitExists: *");
        _systemd.Calls.Should().Equal("StartTransientUnit t-6.scope", "ResetFailedUnit t-6.scope", "StartTransientUnit t-6.scope");
    }

    [Fact]
    public void Stop_waits_for_its_job_and_resets_the_unit()
    {
        if (_systemd is null) return;
        _systemd.SignalBeforeReply = true;
        _systemd.Result = "canceled";
        using var client = Client();
        client.StopUnit("t-7.scope").Should().Be("canceled", "the result is the caller's to judge (runc warns and goes on)");
        _systemd.Calls.Should().Equal("StopUnit t-7.scope", "ResetFailedUnit t-7.scope");
    }

    [Fact]
    public void Stop_of_a_unit_systemd_does_not_know_is_done_already()
    {
        if (_systemd is null) return;
        _systemd.Missing.Add("t-8.scope");
        using var client = Client();
        client.StopUnit("t-8.scope").Should().BeNull();
        _systemd.Calls.Should().Equal("StopUnit t-8.scope");
    }

    [Fact]
    public void Stop_without_JobRemoved_times_out()
    {
        if (_systemd is null) return;
        _systemd.Result = null;
        using var client = Client(timeoutMs: 300);
        var stop = () => client.StopUnit("t-9.scope");
        stop.Should().Throw<CgroupException>().WithMessage("systemd cgroup driver: timed out while waiting for systemd to remove t-9.scope*");
    }
}

/// <summary>The manager's side of a failed create.</summary>
public sealed class SystemdManagerTests
{
    [Fact]
    public void Destroy_of_a_unit_it_never_started_touches_neither_the_unit_nor_its_cgroup()
    {
        // StartTransientUnit refused (UnitExists: an active unit of that name, someone else's): the create fails and
        // destroys what it made, which is nothing. No bus is asked (there is none here), no directory removed.
        using var tree = FakeCgroupTree.V2();
        tree.Put("system.slice/vmtest-other.scope/cgroup.procs", "");
        var unit = new SystemdUnitPath("system.slice", "vmtest-other.scope", "other");
        var manager = new SystemdCgroupManager(tree.Host, "system.slice:vmtest:other", unit, user: false,
            unit.Directory(tree.Root, "/"), "c", started: false);
        manager.Destroy();
        tree.DirExists("system.slice/vmtest-other.scope").Should().BeTrue();
    }
}

/// <summary>A dbus-daemon of its own (session configuration, any name may be owned) on a socket in a temporary directory; null without dbus-daemon.</summary>
internal sealed class PrivateBus : IDisposable
{
    private readonly Process _daemon;
    private readonly DirectoryInfo _dir;

    private PrivateBus(Process daemon, DirectoryInfo dir, string address)
    {
        _daemon = daemon;
        _dir = dir;
        Address = address;
    }

    /// <summary>The bus's address.</summary>
    public string Address { get; }

    public static PrivateBus? Start()
    {
        if (!File.Exists("/usr/bin/dbus-daemon")) return null;
        var dir = Directory.CreateTempSubdirectory("ocirun-dbus-");
        var socket = Path.Combine(dir.FullName, "bus");
        var daemon = Process.Start(new ProcessStartInfo("/usr/bin/dbus-daemon",
            ["--session", "--nofork", "--nopidfile", "--print-address=1", "--address=unix:path=" + socket]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        // Ready when it prints its address (after listen(2)): the socket file exists from bind(2) on, and a connect in
        // between is refused (seen in CI: "cannot connect to the user bus …: Connection refused").
        var printed = daemon.StandardOutput.ReadLineAsync();
        if (!printed.Wait(TimeSpan.FromSeconds(10)) || printed.Result is null)
        {
            daemon.Kill();
            daemon.WaitForExit();
            throw new InvalidOperationException($"dbus-daemon did not start: {daemon.StandardError.ReadToEnd()}");
        }
        return new PrivateBus(daemon, dir, "unix:path=" + socket);
    }

    public void Dispose()
    {
        _daemon.Kill();
        _daemon.WaitForExit();
        _daemon.Dispose();
        _dir.Delete(recursive: true);
    }
}

/// <summary>Plays systemd's manager for the job calls; what it did is in <see cref="Calls"/>.</summary>
internal sealed class FakeSystemd : IPathMethodHandler, IDisposable
{
    private readonly DBusConnection _connection;
    private readonly object _gate = new();
    private readonly List<string> _calls = [];
    private uint _jobs;

    private FakeSystemd(DBusConnection connection) => _connection = connection;

    /// <summary>The JobRemoved result; null: no signal at all.</summary>
    public string? Result { get; set; } = "done";

    /// <summary>Send JobRemoved before the method's reply.</summary>
    public bool SignalBeforeReply { get; set; }

    /// <summary>Send another job's JobRemoved ("failed") before ours.</summary>
    public bool OtherJobFirst { get; set; }

    /// <summary>Units that exist already (UnitExists) until reset.</summary>
    public HashSet<string> Leftover { get; } = [];

    /// <summary>Whether ResetFailedUnit removes a leftover unit (a failed one); false: an active one, which stays.</summary>
    public bool ResetForgets { get; set; } = true;

    /// <summary>Units StopUnit does not know (NoSuchUnit).</summary>
    public HashSet<string> Missing { get; } = [];

    /// <summary>The property names of the last StartTransientUnit.</summary>
    public List<string> LastProperties { get; } = [];

    /// <summary>"Member unit" of each call, in order.</summary>
    public IReadOnlyList<string> Calls
    {
        get
        {
            lock (_gate) return [.. _calls];
        }
    }

    public string Path => "/org/freedesktop/systemd1";

    public bool HandlesChildPaths => false;

    public static FakeSystemd Start(string address)
    {
        var connection = new DBusConnection(address);
        connection.ConnectAsync().AsTask().GetAwaiter().GetResult();
        var fake = new FakeSystemd(connection);
        connection.AddMethodHandler(fake);
        connection.RequestNameAsync("org.freedesktop.systemd1", RequestNameOptions.None).GetAwaiter().GetResult();
        return fake;
    }

    public ValueTask HandleMethodAsync(MethodContext context)
    {
        var request = context.Request;
        if (request.InterfaceAsString != "org.freedesktop.systemd1.Manager") return ValueTask.CompletedTask;
        var member = request.MemberAsString!;
        var reader = request.GetBodyReader();
        var unit = reader.ReadString();
        lock (_gate) _calls.Add(member + " " + unit);
        switch (member)
        {
            case "StartTransientUnit":
                reader.ReadString();
                LastProperties.Clear();
                var end = reader.ReadArrayStart(DBusType.Struct);
                while (reader.HasNext(end))
                {
                    reader.AlignStruct();
                    LastProperties.Add(reader.ReadString());
                    reader.ReadVariantValue();
                }
                if (Leftover.Contains(unit))
                {
                    context.ReplyError("org.freedesktop.systemd1.UnitExists", $"Unit {unit} was already loaded or has a fragment file.");
                    break;
                }
                Job(context, unit);
                break;
            case "StopUnit":
                if (Missing.Contains(unit))
                {
                    context.ReplyError("org.freedesktop.systemd1.NoSuchUnit", $"Unit {unit} not loaded.");
                    break;
                }
                Job(context, unit);
                break;
            case "ResetFailedUnit":
                if (ResetForgets) Leftover.Remove(unit);
                using (var writer = context.CreateReplyWriter(null)) context.Reply(writer.CreateMessage());
                break;
            default:
                context.ReplyUnknownMethodError();
                break;
        }
        return ValueTask.CompletedTask;
    }

    private void Job(MethodContext context, string unit)
    {
        var id = ++_jobs;
        var job = $"/org/freedesktop/systemd1/job/{id}";
        if (OtherJobFirst) JobRemoved(id + 1000, $"/org/freedesktop/systemd1/job/{id + 1000}", unit, "failed");
        if (SignalBeforeReply && Result is { } early) JobRemoved(id, job, unit, early);
        using (var writer = context.CreateReplyWriter("o"))
        {
            writer.WriteObjectPath(job);
            context.Reply(writer.CreateMessage());
        }
        if (!SignalBeforeReply && Result is { } late) JobRemoved(id, job, unit, late);
    }

    private void JobRemoved(uint id, string job, string unit, string result)
    {
        using var writer = _connection.GetMessageWriter();
        writer.WriteSignalHeader(null, "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager", "JobRemoved", "uoss");
        writer.WriteUInt32(id);
        writer.WriteObjectPath(job);
        writer.WriteString(unit);
        writer.WriteString(result);
        _connection.TrySendMessage(writer.CreateMessage());
    }

    public void Dispose() => _connection.Dispose();
}
