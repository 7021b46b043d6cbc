using System.Globalization;
using OciRuntime.Interop;
using Tmds.DBus.Protocol;

namespace OciRuntime.Cgroups.Systemd;

/// <summary>
/// The calls the systemd cgroup driver makes on systemd's manager (org.freedesktop.systemd1.Manager, over the
/// system bus, or the user's session bus for the user manager), through Tmds.DBus.Protocol. Synchronous: each call
/// waits for its reply. Errors become <see cref="CgroupException"/> with systemd's error name and message.
/// </summary>
public sealed class SystemdManagerClient : IDisposable
{
    private const string Service = "org.freedesktop.systemd1";
    private const string ManagerPath = "/org/freedesktop/systemd1";
    private const string ManagerInterface = "org.freedesktop.systemd1.Manager";
    private const string UnitInterface = "org.freedesktop.systemd1.Unit";
    private const string PropertiesInterface = "org.freedesktop.DBus.Properties";
    private static readonly TimeSpan JobTimeout = TimeSpan.FromSeconds(30);

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
    public static SystemdManagerClient Connect(bool user)
    {
        var address = user ? UserBusAddress() : DBusAddress.System ?? "unix:path=/run/dbus/system_bus_socket";
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

    /// <summary>
    /// StartTransientUnit(<paramref name="unit"/>, "replace", <paramref name="properties"/>), then waits until the unit
    /// is active (its job done).
    /// </summary>
    /// <exception cref="CgroupException">systemd refused, or the unit did not become active within 30 s.</exception>
    public void StartTransientUnit(string unit, IReadOnlyList<KeyValuePair<string, VariantValue>> properties)
    {
        MessageBuffer message;
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
            message = writer.CreateMessage();
        }
        finally
        {
            writer.Dispose();
        }
        Call(message, $"start unit {unit}");
        WaitForState(unit, active: true);
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
    /// StopUnit(<paramref name="unit"/>, "replace") and waits until it is gone or inactive, then ResetFailedUnit. A unit
    /// that is not loaded is already stopped.
    /// </summary>
    /// <exception cref="CgroupException">systemd refused, or the unit did not stop within 30 s.</exception>
    public void StopUnit(string unit)
    {
        MessageBuffer message;
        using (var writer = _connection.GetMessageWriter())
        {
            writer.WriteMethodCallHeader(Service, ManagerPath, ManagerInterface, "StopUnit", "ss");
            writer.WriteString(unit);
            writer.WriteString("replace");
            message = writer.CreateMessage();
        }
        try
        {
            Call(message, $"stop unit {unit}");
        }
        catch (CgroupException e) when (e.InnerException is DBusErrorReplyException { ErrorName: "org.freedesktop.systemd1.NoSuchUnit" })
        {
            return;
        }
        WaitForState(unit, active: false);
        using (var writer = _connection.GetMessageWriter())
        {
            writer.WriteMethodCallHeader(Service, ManagerPath, ManagerInterface, "ResetFailedUnit", "s");
            writer.WriteString(unit);
            message = writer.CreateMessage();
        }
        try
        {
            Call(message, $"reset unit {unit}");
        }
        catch (CgroupException)
        {
            // not failed, or already collected
        }
    }

    /// <summary>The unit's ActiveState ("active", "inactive", "failed", …), or null when systemd has no such unit loaded.</summary>
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
            path = Call(message, $"get unit {unit}", static (Message m, object? _) => m.GetBodyReader().ReadObjectPathAsString());
        }
        catch (CgroupException e) when (e.InnerException is DBusErrorReplyException { ErrorName: "org.freedesktop.systemd1.NoSuchUnit" })
        {
            return null;
        }
        return GetProperty(path, UnitInterface, "ActiveState").GetString();
    }

    private void WaitForState(string unit, bool active)
    {
        var deadline = Environment.TickCount64 + (long)JobTimeout.TotalMilliseconds;
        var delay = 1;
        while (true)
        {
            var state = ActiveState(unit);
            if (active ? state == "active" : state is null or "inactive" or "failed") return;
            if (active && state is "failed" or "inactive" && delay > 16)
                throw new CgroupException($"systemd cgroup driver: unit {unit} is {state} instead of active");
            if (Environment.TickCount64 > deadline)
                throw new CgroupException($"systemd cgroup driver: unit {unit} still {state} after {JobTimeout.TotalSeconds} s");
            Thread.Sleep(delay);
            delay = Math.Min(delay * 2, 50);
        }
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
