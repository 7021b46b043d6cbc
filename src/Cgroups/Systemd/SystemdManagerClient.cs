using System.Globalization;
using OciRuntime.Interop;
using Tmds.DBus.Protocol;

namespace OciRuntime.Cgroups.Systemd;

/// <summary>
/// The calls the systemd cgroup driver makes on systemd's manager (org.freedesktop.systemd1.Manager, over the
/// system bus, or the user's session bus for the user manager), through Tmds.DBus.Protocol. Synchronous: each call
/// waits for its reply, a unit's start and stop for their job (the JobRemoved signal). Errors become
/// <see cref="CgroupException"/> with systemd's error name and message.
/// </summary>
public sealed class SystemdManagerClient : IDisposable
{
    private const string Service = "org.freedesktop.systemd1";
    private const string ManagerPath = "/org/freedesktop/systemd1";
    private const string ManagerInterface = "org.freedesktop.systemd1.Manager";
    private const string UnitInterface = "org.freedesktop.systemd1.Unit";
    private const string PropertiesInterface = "org.freedesktop.DBus.Properties";

    private readonly DBusConnection _connection;

    private SystemdManagerClient(DBusConnection connection, bool user)
    {
        _connection = connection;
        User = user;
    }

    /// <summary>Whether this is the user's manager (systemd --user), not the system's.</summary>
    public bool User { get; }

    /// <summary>
    /// Connects to the system manager (the system bus: $DBUS_SYSTEM_BUS_ADDRESS or /run/dbus/system_bus_socket) or, for
    /// <paramref name="user"/>, the caller's user manager ($DBUS_SESSION_BUS_ADDRESS, else $XDG_RUNTIME_DIR/bus, else
    /// /run/user/UID/bus).
    /// </summary>
    /// <exception cref="CgroupException">no bus to connect to.</exception>
    public static SystemdManagerClient Connect(bool user) =>
        Connect(user ? UserBusAddress() : DBusAddress.System ?? "unix:path=/run/dbus/system_bus_socket", user);

    /// <summary>Connects to the manager on the bus at <paramref name="address"/> (a D-Bus address, "unix:path=…").</summary>
    /// <param name="address">The bus.</param>
    /// <param name="user">Whether it is the user's manager (for the messages).</param>
    /// <exception cref="CgroupException">no bus to connect to.</exception>
    public static SystemdManagerClient Connect(string address, bool user)
    {
        var connection = new DBusConnection(address);
        try
        {
            connection.ConnectAsync().AsTask().GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is DBusExceptionBase or IOException or System.Net.Sockets.SocketException)
        {
            connection.Dispose();
            throw new CgroupException($"systemd cgroup driver: cannot connect to the {(user ? "user" : "system")} bus ({address}): {e.Message}");
        }
        return new SystemdManagerClient(connection, user);
    }

    private static string UserBusAddress()
    {
        if (Environment.GetEnvironmentVariable("DBUS_SESSION_BUS_ADDRESS") is { Length: > 0 } session) return session;
        var runtimeDir = Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR") is { Length: > 0 } xdg
            ? xdg : "/run/user/" + Libc.geteuid().ToString(CultureInfo.InvariantCulture);
        return "unix:path=" + runtimeDir + "/bus";
    }

    /// <summary>The manager's version, e.g. 252 for "252.36-1~deb12u1"; 0 when it cannot be read.</summary>
    public int Version()
    {
        try
        {
            var text = GetProperty(ManagerPath, ManagerInterface, "Version").GetString();
            var n = 0;
            while (n < text.Length && char.IsAsciiDigit(text[n])) n++;
            return n == 0 ? 0 : int.Parse(text.AsSpan(0, n), CultureInfo.InvariantCulture);
        }
        catch (CgroupException)
        {
            return 0;
        }
    }

    /// <summary>The manager's own cgroup ("/" for the system manager, e.g. "/user.slice/user-1000.slice/user@1000.service").</summary>
    /// <exception cref="CgroupException">the property cannot be read.</exception>
    public string ControlGroup() => GetProperty(ManagerPath, ManagerInterface, "ControlGroup").GetString();

    /// <summary>How long a job (a unit's start or stop) may take before it is given up on: runc's 30 s.</summary>
    public TimeSpan JobTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// StartTransientUnit(<paramref name="unit"/>, "replace", <paramref name="properties"/>), then waits for its job to
    /// finish: systemd's JobRemoved signal for the job path the call returned, subscribed to before the call so that
    /// none is missed (runc's startUnit). A unit of that name that exists already (a leftover failed one, kept until
    /// reset) is reset and the start tried once more, as runc ≥ 1.1.6 does.
    /// </summary>
    /// <exception cref="CgroupException">systemd refused the unit (the unit still exists after a reset, a bad property),
    /// its job ended otherwise than "done" (the unit is reset), or did not end within <see cref="JobTimeout"/>.</exception>
    public void StartTransientUnit(string unit, IReadOnlyList<KeyValuePair<string, VariantValue>> properties)
    {
        using var jobs = JobWatch.Subscribe(_connection);
        string job;
        try
        {
            job = CallForPath(StartTransientUnitMessage(unit, properties), $"start unit {unit}");
        }
        catch (CgroupException e) when (e.InnerException is DBusErrorReplyException { ErrorName: "org.freedesktop.systemd1.UnitExists" })
        {
            TryResetFailedUnit(unit);
            job = CallForPath(StartTransientUnitMessage(unit, properties), $"start unit {unit}");
        }
        var result = jobs.Wait(job, JobTimeout);
        if (result == "done") return;
        // The unit is this call's: a failed one is reset (systemd forgets it), a start still pending is cancelled
        // (StopUnit "replace" takes its place), so that nothing of it is left.
        if (result is null) TryCall(UnitMessage("StopUnit", unit, "replace"));
        TryResetFailedUnit(unit);
        throw new CgroupException(result is null
            ? $"systemd cgroup driver: timeout waiting for systemd to create {unit} ({JobTimeout.TotalSeconds} s)"
            : $"systemd cgroup driver: error creating systemd unit {unit}: got {result}");
    }

    private MessageBuffer StartTransientUnitMessage(string unit, IReadOnlyList<KeyValuePair<string, VariantValue>> properties)
    {
        // MessageWriter is a ref struct that advances as it writes: it goes to helpers by ref, never copied.
        var writer = _connection.GetMessageWriter();
        try
        {
            writer.WriteMethodCallHeader(Service, ManagerPath, ManagerInterface, "StartTransientUnit", "ssa(sv)a(sa(sv))");
            writer.WriteString(unit);
            writer.WriteString("replace");
            WriteProperties(ref writer, properties);
            var aux = writer.WriteArrayStart(DBusType.Struct);
            writer.WriteArrayEnd(aux);
            return writer.CreateMessage();
        }
        finally
        {
            writer.Dispose();
        }
    }

    /// <summary>SetUnitProperties(<paramref name="unit"/>, runtime=true, <paramref name="properties"/>).</summary>
    /// <exception cref="CgroupException">systemd refused.</exception>
    public void SetUnitProperties(string unit, IReadOnlyList<KeyValuePair<string, VariantValue>> properties)
    {
        if (properties.Count == 0) return;
        MessageBuffer message;
        var writer = _connection.GetMessageWriter();
        try
        {
            writer.WriteMethodCallHeader(Service, ManagerPath, ManagerInterface, "SetUnitProperties", "sba(sv)");
            writer.WriteString(unit);
            writer.WriteBool(true);
            WriteProperties(ref writer, properties);
            message = writer.CreateMessage();
        }
        finally
        {
            writer.Dispose();
        }
        Call(message, $"set properties of unit {unit}");
    }

    /// <summary>
    /// StopUnit(<paramref name="unit"/>, "replace"), waits for its job's JobRemoved signal, then ResetFailedUnit (so a
    /// unit that failed is not left loaded). A unit that is not loaded is already stopped.
    /// </summary>
    /// <returns>The job's result ("done"; "canceled", "failed", … — runc warns and goes on), or null when there was no such unit.</returns>
    /// <exception cref="CgroupException">systemd refused, or the job did not end within <see cref="JobTimeout"/>.</exception>
    public string? StopUnit(string unit)
    {
        string job;
        using (var jobs = JobWatch.Subscribe(_connection))
        {
            var message = UnitMessage("StopUnit", unit, "replace");
            try
            {
                job = CallForPath(message, $"stop unit {unit}");
            }
            catch (CgroupException e) when (e.InnerException is DBusErrorReplyException { ErrorName: "org.freedesktop.systemd1.NoSuchUnit" })
            {
                return null;
            }
            var result = jobs.Wait(job, JobTimeout)
                ?? throw new CgroupException($"systemd cgroup driver: timed out while waiting for systemd to remove {unit} ({JobTimeout.TotalSeconds} s)");
            TryResetFailedUnit(unit);
            return result;
        }
    }

    /// <summary>ResetFailedUnit(<paramref name="unit"/>): a failed unit is forgotten (systemd unloads it). Errors (not failed, not loaded) are ignored.</summary>
    private void TryResetFailedUnit(string unit) => TryCall(UnitMessage("ResetFailedUnit", unit, null));

    /// <summary>A call of the manager's method <paramref name="member"/>(unit[, mode]).</summary>
    private MessageBuffer UnitMessage(string member, string unit, string? mode)
    {
        using var writer = _connection.GetMessageWriter();
        writer.WriteMethodCallHeader(Service, ManagerPath, ManagerInterface, member, mode is null ? "s" : "ss");
        writer.WriteString(unit);
        if (mode is not null) writer.WriteString(mode);
        return writer.CreateMessage();
    }

    /// <summary>A call whose failure does not matter (the unit not failed, not loaded, already collected).</summary>
    private void TryCall(MessageBuffer message)
    {
        try
        {
            _connection.CallMethodAsync(message).GetAwaiter().GetResult();
        }
        catch (DBusExceptionBase)
        {
            // nothing to reset, or to stop
        }
    }

    /// <summary>The unit's ActiveState ("active", "inactive", "failed", …), or null when systemd has no such unit loaded.</summary>
    /// <exception cref="CgroupException">systemd could not be asked.</exception>
    public string? ActiveState(string unit)
    {
        MessageBuffer message;
        using (var writer = _connection.GetMessageWriter())
        {
            writer.WriteMethodCallHeader(Service, ManagerPath, ManagerInterface, "GetUnit", "s");
            writer.WriteString(unit);
            message = writer.CreateMessage();
        }
        string path;
        try
        {
            path = CallForPath(message, $"get unit {unit}");
        }
        catch (CgroupException e) when (e.InnerException is DBusErrorReplyException { ErrorName: "org.freedesktop.systemd1.NoSuchUnit" })
        {
            return null;
        }
        return GetProperty(path, UnitInterface, "ActiveState").GetString();
    }

    /// <summary>A call whose reply is one object path (a job's, or a unit's).</summary>
    private string CallForPath(MessageBuffer message, string what) =>
        Call(message, what, static (Message m, object? _) => m.GetBodyReader().ReadObjectPathAsString());

    /// <summary>
    /// The manager's JobRemoved signals (u id, o job, s unit, s result), collected from the moment of the subscription
    /// (AddMatch, answered before this returns) on: a job that ends before its caller has read the call's reply
    /// is not missed. Signals come from the bus's name org.freedesktop.systemd1 only (the bus daemon checks the sender).
    /// </summary>
    private sealed class JobWatch : IDisposable
    {
        private readonly object _gate = new();
        private readonly Dictionary<string, string> _results = new(StringComparer.Ordinal);
        private IDisposable? _observer;
        private Exception? _closed;

        public static JobWatch Subscribe(DBusConnection connection)
        {
            var watch = new JobWatch();
            var rule = new MatchRule
            {
                Type = MessageType.Signal,
                Sender = Service,
                Path = ManagerPath,
                Interface = ManagerInterface,
                Member = "JobRemoved",
            };
            try
            {
                watch._observer = connection.AddMatchAsync(rule, static (Message m, object? _) => ReadJobRemoved(m),
                    static (Notification<(string Job, string Result)?> n) => ((JobWatch)n.State!).OnSignal(n),
                    emitOnCapturedContext: false, ObserverFlags.EmitOnConnectionClosed | ObserverFlags.EmitOnConnectionFailed, watch)
                    .AsTask().GetAwaiter().GetResult();
            }
            catch (DBusExceptionBase e)
            {
                throw Wrap(e, "subscribe to JobRemoved");
            }
            return watch;
        }

        /// <summary>(job, result) of a well-formed JobRemoved; null otherwise (it is ignored, not a reason to drop the connection).</summary>
        private static (string Job, string Result)? ReadJobRemoved(Message m)
        {
            if (m.SignatureAsString != "uoss") return null;
            var reader = m.GetBodyReader();
            reader.ReadUInt32();
            var job = reader.ReadObjectPathAsString();
            reader.ReadString();
            return (job, reader.ReadString());
        }

        private void OnSignal(Notification<(string Job, string Result)?> n)
        {
            lock (_gate)
            {
                if (n.IsCompletion) _closed ??= n.CompletionReason;
                else if (n.HasValue && n.Value is { } r) _results[r.Job] = r.Result;
                else return;
                Monitor.PulseAll(_gate);
            }
        }

        /// <summary>The result of <paramref name="job"/> ("done", "canceled", "timeout", "failed", "dependency", "skipped"), or null after <paramref name="timeout"/>.</summary>
        /// <exception cref="CgroupException">the connection closed first.</exception>
        public string? Wait(string job, TimeSpan timeout)
        {
            var deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
            lock (_gate)
            {
                while (true)
                {
                    if (_results.TryGetValue(job, out var result)) return result;
                    if (_closed is not null) throw new CgroupException($"systemd cgroup driver: waiting for job {job}: {_closed.Message}", null, _closed);
                    var left = deadline - Environment.TickCount64;
                    if (left <= 0) return null;
                    Monitor.Wait(_gate, TimeSpan.FromMilliseconds(left));
                }
            }
        }

        public void Dispose() => _observer?.Dispose();
    }

    private static void WriteProperties(ref MessageWriter writer, IReadOnlyList<KeyValuePair<string, VariantValue>> properties)
    {
        var array = writer.WriteArrayStart(DBusType.Struct);
        foreach (var (name, value) in properties)
        {
            writer.WriteStructureStart();
            writer.WriteString(name);
            writer.WriteVariant(value);
        }
        writer.WriteArrayEnd(array);
    }

    private VariantValue GetProperty(string path, string @interface, string name)
    {
        MessageBuffer message;
        using (var writer = _connection.GetMessageWriter())
        {
            writer.WriteMethodCallHeader(Service, path, PropertiesInterface, "Get", "ss");
            writer.WriteString(@interface);
            writer.WriteString(name);
            message = writer.CreateMessage();
        }
        return Call(message, $"get {name}", static (Message m, object? _) => m.GetBodyReader().ReadVariantValue());
    }

    private void Call(MessageBuffer message, string what)
    {
        try
        {
            _connection.CallMethodAsync(message).GetAwaiter().GetResult();
        }
        catch (DBusExceptionBase e)
        {
            throw Wrap(e, what);
        }
    }

    private T Call<T>(MessageBuffer message, string what, MessageValueReader<T> reader)
    {
        try
        {
            return _connection.CallMethodAsync(message, reader, null).GetAwaiter().GetResult();
        }
        catch (DBusExceptionBase e)
        {
            throw Wrap(e, what);
        }
    }

    private static CgroupException Wrap(DBusExceptionBase e, string what) => e is DBusErrorReplyException reply
        ? new CgroupException($"systemd cgroup driver: {what}: {reply.ErrorName}: {reply.ErrorMessage}", null, e)
        : new CgroupException($"systemd cgroup driver: {what}: {e.Message}", null, e);

    /// <inheritdoc />
    public void Dispose() => _connection.Dispose();
}
