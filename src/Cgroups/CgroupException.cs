namespace OciRuntime.Cgroups;

/// <summary>
/// A cgroup operation failed. The message is one line; when a config value is at fault it names the
/// linux.resources field first, e.g. <c>linux.resources.memory.limit: write memory.max = 1024: device or resource busy</c>.
/// </summary>
public sealed class CgroupException : IOException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">The one-line message.</param>
    /// <param name="field">The linux.resources field at fault (e.g. "linux.resources.cpu.shares"), or null.</param>
    /// <param name="inner">The underlying error.</param>
    public CgroupException(string message, string? field = null, Exception? inner = null)
        : base(field is null ? message : $"{field}: {message}", inner)
    {
        Field = field;
    }

    /// <summary>The linux.resources field at fault, or null when none is.</summary>
    public string? Field { get; }
}
