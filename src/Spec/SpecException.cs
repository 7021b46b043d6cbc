namespace OciRuntime.Spec;

/// <summary>
/// A config.json (or state.json / features.json) that cannot be read, parsed or validated. <see cref="Exception.Message"/> is
/// always one line of the form <c>config.json: linux.resources.memory.limit: expected an integer, got "1G"</c>
/// (<see cref="File"/>, then <see cref="JsonPath"/> when known, then <see cref="Detail"/>).
/// </summary>
public sealed class SpecException : Exception
{
    /// <summary>Creates an exception for <paramref name="file"/> with an optional JSON path.</summary>
    /// <param name="file">The file name shown first in the message, e.g. "config.json".</param>
    /// <param name="jsonPath">The JSON path of the offending value, e.g. "mounts[2].destination", or <see langword="null"/>.</param>
    /// <param name="detail">What is wrong, e.g. "must be an absolute path, got \"proc\"".</param>
    /// <param name="innerException">The underlying exception, if any.</param>
    public SpecException(string file, string? jsonPath, string detail, Exception? innerException = null)
        : base(Format(file, jsonPath, detail), innerException)
    {
        File = file;
        JsonPath = jsonPath;
        Detail = detail;
        Errors = [];
    }

    /// <summary>Creates a validation exception: the first of <paramref name="errors"/> forms the message.</summary>
    /// <param name="file">The file name shown first in the message, e.g. "config.json".</param>
    /// <param name="errors">All validation errors; must not be empty.</param>
    public SpecException(string file, IReadOnlyList<SpecError> errors)
        : base(Format(file, First(errors).JsonPath, First(errors).Message))
    {
        File = file;
        JsonPath = errors[0].JsonPath;
        Detail = errors[0].Message;
        Errors = errors;
    }

    /// <summary>Creates an exception for "config.json" with the detail "invalid configuration".</summary>
    public SpecException()
        : this("config.json", null, "invalid configuration")
    {
    }

    /// <summary>Creates an exception for "config.json" with <paramref name="message"/> as its detail.</summary>
    /// <param name="message">The detail text.</param>
    public SpecException(string message)
        : this("config.json", null, message)
    {
    }

    /// <summary>Creates an exception for "config.json" with <paramref name="message"/> as its detail.</summary>
    /// <param name="message">The detail text.</param>
    /// <param name="innerException">The underlying exception.</param>
    public SpecException(string message, Exception innerException)
        : this("config.json", null, message, innerException)
    {
    }

    /// <summary>The file name as shown in the message, e.g. "config.json" or a path given to <see cref="SpecSerializer.Load"/>.</summary>
    public string File { get; }

    /// <summary>
    /// The JSON path of the offending value without the leading "$.", e.g. "mounts[2].destination" or
    /// "linux.sysctl['net.ipv4.ip_forward']"; <see langword="null"/> for whole-file problems (missing, empty, syntax at the top).
    /// </summary>
    public string? JsonPath { get; }

    /// <summary>The message without the file and path prefixes.</summary>
    public string Detail { get; }

    /// <summary>1-based line of a JSON syntax or type error, when known.</summary>
    public long? Line { get; init; }

    /// <summary>1-based byte column of a JSON syntax or type error, when known.</summary>
    public long? Column { get; init; }

    /// <summary>All validation errors when thrown by <see cref="SpecValidator.Validate"/>; empty for read and parse errors.</summary>
    public IReadOnlyList<SpecError> Errors { get; }

    private static SpecError First(IReadOnlyList<SpecError> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (errors.Count == 0)
        {
            throw new ArgumentException("at least one error is required", nameof(errors));
        }
        return errors[0];
    }

    private static string Format(string file, string? jsonPath, string detail)
    {
        string text = string.IsNullOrEmpty(jsonPath) ? $"{file}: {detail}" : $"{file}: {jsonPath}: {detail}";
        return OneLine(text);
    }

    /// <summary>Replaces line breaks and other control characters so that the message stays on one line.</summary>
    internal static string OneLine(string text)
    {
        foreach (char c in text)
        {
            if (char.IsControl(c))
            {
                var sb = new System.Text.StringBuilder(text.Length + 8);
                foreach (char d in text)
                {
                    _ = d switch
                    {
                        '\n' => sb.Append("\\n"),
                        '\r' => sb.Append("\\r"),
                        '\t' => sb.Append("\\t"),
                        _ when char.IsControl(d) => sb.Append(System.Globalization.CultureInfo.InvariantCulture, $"\\u{(int)d:x4}"),
                        _ => sb.Append(d),
                    };
                }
                return sb.ToString();
            }
        }
        return text;
    }
}

/// <summary>One validation error: the JSON path of the offending value and what is wrong with it.</summary>
public sealed class SpecError
{
    /// <summary>Creates an error.</summary>
    /// <param name="jsonPath">The JSON path, e.g. "process.capabilities.bounding[3]".</param>
    /// <param name="message">What is wrong, e.g. "unknown capability \"CAP_FOO\"".</param>
    public SpecError(string jsonPath, string message)
    {
        JsonPath = jsonPath;
        Message = message;
    }

    /// <summary>The JSON path of the offending value without "$.", e.g. "mounts[2].destination"; "" for the whole document.</summary>
    public string JsonPath { get; }

    /// <summary>What is wrong, e.g. "must be an absolute path, got \"proc\"".</summary>
    public string Message { get; }

    /// <summary>"path: message", as used after the file name in <see cref="SpecException"/> messages.</summary>
    /// <returns>The formatted error.</returns>
    public override string ToString() => string.IsNullOrEmpty(JsonPath) ? Message : $"{JsonPath}: {Message}";
}
