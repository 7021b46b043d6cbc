using System.Globalization;

namespace OciRuntime.Spec;

/// <summary>
/// Container ID rules (runtime.md#state: unique per host; runc's validateID): 1..<see cref="MaxLength"/> characters, each an
/// ASCII letter, digit, '_', '+', '-' or '.', and not ".", ".." or containing "..". Such an ID is safe as a single path
/// component of the state directory.
/// </summary>
public static class ContainerId
{
    /// <summary>The longest accepted ID, in characters: 255 (NAME_MAX: the id names the state directory).</summary>
    public const int MaxLength = 255;

    /// <summary>Throws when <paramref name="id"/> is not a valid container ID.</summary>
    /// <param name="id">The container ID from the command line.</param>
    /// <exception cref="ArgumentException">The ID is invalid; the message says why, e.g. <c>invalid container ID "a/b": character '/' is not allowed ...</c>.</exception>
    public static void Validate(string? id)
    {
        if (TryValidate(id, out string? error))
        {
            return;
        }
        throw new ArgumentException(error);
    }

    /// <summary>Whether <paramref name="id"/> is a valid container ID.</summary>
    /// <param name="id">The container ID.</param>
    /// <returns><see langword="true"/> when valid.</returns>
    public static bool IsValid(string? id) => TryValidate(id, out _);

    /// <summary>Checks <paramref name="id"/> and explains what is wrong.</summary>
    /// <param name="id">The container ID.</param>
    /// <param name="error">A one-line reason when invalid, otherwise <see langword="null"/>.</param>
    /// <returns><see langword="true"/> when valid.</returns>
    public static bool TryValidate(string? id, out string? error)
    {
        if (string.IsNullOrEmpty(id))
        {
            error = "container ID must not be empty";
            return false;
        }
        if (id.Length > MaxLength)
        {
            error = string.Create(CultureInfo.InvariantCulture, $"container ID is too long ({id.Length} characters, the maximum is {MaxLength})");
            return false;
        }
        foreach (char c in id)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '+' or '-' or '.'))
            {
                string shown = c is >= (char)0x21 and <= (char)0x7E ? $"'{c}'" : string.Create(CultureInfo.InvariantCulture, $"U+{(int)c:X4}");
                error = $"invalid container ID {JsonErrors.Quote(id)}: character {shown} is not allowed (use letters, digits, '_', '+', '-' and '.')";
                return false;
            }
        }
        if (id is "." or "..")
        {
            error = $"invalid container ID \"{id}\": must not be \".\" or \"..\"";
            return false;
        }
        if (id.Contains("..", StringComparison.Ordinal))
        {
            error = $"invalid container ID {JsonErrors.Quote(id)}: must not contain \"..\"";
            return false;
        }
        error = null;
        return true;
    }
}
