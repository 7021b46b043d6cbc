using System.Text;
using System.Text.Json;
using OciRuntime.Interop;
using Serilog.Core;
using Serilog.Events;
using Serilog.Parsing;

namespace OciRuntime.Runtime.Logging;

/// <summary>The --log-format values (runc's: text is logrus' logfmt, json one object per line).</summary>
public enum LogFormat
{
    /// <summary><c>time="2026-11-21T06:41:00Z" level=error msg="..."</c></summary>
    Text,
    /// <summary><c>{"level":"error","msg":"...","time":"2026-11-21T06:41:00Z"}</c> (what containerd's shim parses).</summary>
    Json,
}

/// <summary>
/// The runtime's log: Serilog events (<see cref="LogEvent"/>) written by a Serilog sink (<see cref="ILogEventSink"/>) as
/// runc-format lines to the --log file (each line one O_APPEND write, so concurrent ocirun processes sharing a file
/// never interleave) or to stderr.
/// </summary>
/// <remarks>
/// This class is the level filter and builds each event itself, with the message as its one scalar property. Serilog's
/// own pipeline (<c>LoggerConfiguration.CreateLogger()</c>) is not used: it exists to capture message-template arguments
/// (a template parser and reflection-based destructuring, with the types it knows as scalars) that a log of plain
/// strings never needs, and it put 0.4 MB of code and type data into the image, about 0.5 MB of resident memory in
/// every ocirun process (benchmarks/README.md, seventh session). The sink is opened on the first event that passes the
/// level, so commands that log nothing pay nothing. Logging is synchronous on the caller's thread: no sink thread may
/// exist when the runtime clones (docs/process-model.md).
/// </remarks>
public sealed class RuntimeLog : IDisposable
{
    /// <summary>The name of the one property of every event: the message, written as the line's msg.</summary>
    internal const string MessageProperty = "Msg";

    private static readonly MessageTemplate MessageTemplate = new([new PropertyToken(MessageProperty, "{" + MessageProperty + "}")]);

    private readonly string? _path;
    private readonly LogFormat _format;
    private readonly LogEventLevel _minimum;
    private RuncLineSink? _sink;

    /// <summary>A log to <paramref name="path"/> (null = stderr) in <paramref name="format"/>; debug events only with <paramref name="debug"/>.</summary>
    public RuntimeLog(string? path, LogFormat format, bool debug)
    {
        _path = string.IsNullOrEmpty(path) ? null : path;
        _format = format;
        _minimum = debug ? LogEventLevel.Debug : LogEventLevel.Information;
    }

    /// <summary>A log that drops everything (for library callers and tests).</summary>
    public static RuntimeLog None { get; } = new(null, LogFormat.Text, debug: false) { Disabled = true };

    private bool Disabled { get; init; }

    /// <summary>True when debug events are written.</summary>
    public bool IsDebug => !Disabled && _minimum <= LogEventLevel.Debug;

    /// <summary>True when the log goes to a file (--log); errors are then written there as well as printed.</summary>
    public bool HasFile => _path is not null;

    /// <summary>Logs at debug level.</summary>
    public void Debug(string message) => Write(LogEventLevel.Debug, message);

    /// <summary>Logs at info level.</summary>
    public void Info(string message) => Write(LogEventLevel.Information, message);

    /// <summary>Logs at warning level.</summary>
    public void Warn(string message) => Write(LogEventLevel.Warning, message);

    /// <summary>Logs at error level.</summary>
    public void Error(string message) => Write(LogEventLevel.Error, message);

    private void Write(LogEventLevel level, string message)
    {
        if (Disabled || level < _minimum) return;
        _sink ??= new RuncLineSink(_path, _format);
        // UTC: the line carries UTC, and local time would cost a time-zone lookup.
        _sink.Emit(new LogEvent(DateTimeOffset.UtcNow, level, null, MessageTemplate,
            [new LogEventProperty(MessageProperty, new ScalarValue(message))]));
    }

    /// <inheritdoc />
    public void Dispose() => _sink?.Dispose();
}

/// <summary>A Serilog sink writing runc/logrus-format lines, one write(2) per line.</summary>
internal sealed class RuncLineSink : ILogEventSink, IDisposable
{
    private readonly LogFormat _format;
    private readonly SafeFd? _fd;

    public RuncLineSink(string? path, LogFormat format)
    {
        _format = format;
        if (path is not null)
        {
            var fd = Libc.open(path, OpenFlags.O_WRONLY | OpenFlags.O_CREAT | OpenFlags.O_APPEND | OpenFlags.O_CLOEXEC, 0x1a4 /* 0644 */);
            _fd = fd >= 0 ? new SafeFd(fd) : null; // an unwritable log must not fail the command
        }
    }

    public void Emit(LogEvent logEvent)
    {
        var message = logEvent.Properties.TryGetValue(RuntimeLog.MessageProperty, out var v) && v is ScalarValue { Value: string s } ? s : logEvent.MessageTemplate.Text;
        var line = Format(_format, Level(logEvent.Level), message, logEvent.Timestamp);
        var bytes = Encoding.UTF8.GetBytes(line);
        try
        {
            Libc.WriteAll(_fd?.Fd ?? 2, bytes, "log");
        }
        catch (SyscallException)
        {
            // Logging never fails a command.
        }
    }

    private static string Level(LogEventLevel level) => level switch
    {
        LogEventLevel.Verbose => "trace",
        LogEventLevel.Debug => "debug",
        LogEventLevel.Information => "info",
        LogEventLevel.Warning => "warning",
        LogEventLevel.Error => "error",
        _ => "fatal",
    };

    /// <summary>One log line (with the trailing newline) in runc's format.</summary>
    public static string Format(LogFormat format, string level, string message, DateTimeOffset time)
    {
        var stamp = Rfc3339.Ticks(time);
        if (format == LogFormat.Json)
        {
            using var buffer = new MemoryStream();
            using (var writer = new Utf8JsonWriter(buffer))
            {
                writer.WriteStartObject();
                writer.WriteString("level", level);
                writer.WriteString("msg", message);
                writer.WriteString("time", stamp);
                writer.WriteEndObject();
            }
            return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
        }
        return $"time=\"{stamp}\" level={level} msg={Quote(message)}\n";
    }

    private static string Quote(string s)
    {
        var sb = new StringBuilder(s.Length + 2).Append('"');
        foreach (var c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\t': sb.Append("\\t"); break;
                default: sb.Append(c); break;
            }
        }
        return sb.Append('"').ToString();
    }

    public void Dispose() => _fd?.Dispose();
}
