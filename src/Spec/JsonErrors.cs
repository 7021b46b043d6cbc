using System.Globalization;
using System.Text;
using System.Text.Json;

namespace OciRuntime.Spec;

/// <summary>
/// The parts of a JSON error message that do not come from the model (<see cref="Json.FastJson.Read{T}"/> has the rest):
/// locating a syntax error with <see cref="Utf8JsonReader"/> (its exception messages are bare resource keys under
/// NativeAOT with UseSystemResourceKeys, so the bad byte is described here), line and column of a byte offset, and
/// the quoting of values shown in messages.
/// </summary>
internal static class JsonErrors
{
    private const int MaxShownLength = 64;

    /// <summary>"[path: ]invalid JSON: {description} at line L, column C" with Line and Column set.</summary>
    public static SpecException SyntaxError(string fileName, string? path, SyntaxProblem problem, Exception inner) =>
        new(fileName, path, $"invalid JSON: {problem.Description} at line {problem.Line}, column {problem.Column}", inner)
        {
            Line = problem.Line,
            Column = problem.Column,
        };

    /// <summary>1-based line and column (in bytes) of byte <paramref name="offset"/> of <paramref name="json"/>.</summary>
    public static (long? Line, long? Column) LineAndColumn(ReadOnlySpan<byte> json, long offset)
    {
        var before = json[..(int)Math.Min(offset, json.Length)];
        long line = before.Count((byte)'\n') + 1;
        long column = before.Length - before.LastIndexOf((byte)'\n');
        return (line, column);
    }

    // ---- syntax ---------------------------------------------------------------------------------------------------------

    /// <summary>A syntax error: what, and its 1-based line and column.</summary>
    public readonly record struct SyntaxProblem(string Description, long Line, long Column);

    /// <summary>The first syntax error of <paramref name="json"/>, or <see langword="null"/> when it is well-formed JSON.</summary>
    public static SyntaxProblem? FindSyntaxProblem(ReadOnlySpan<byte> json)
    {
        var options = new JsonReaderOptions { MaxDepth = SpecSerializer.MaxDepth, CommentHandling = JsonCommentHandling.Disallow };

        // Pass 1 treats the input as possibly incomplete: it throws only for bytes that can never be valid JSON.
        var partial = new Utf8JsonReader(json, isFinalBlock: false, new JsonReaderState(options));
        try
        {
            while (partial.Read())
            {
            }
        }
        catch (JsonException e)
        {
            long line = (e.LineNumber ?? 0) + 1;
            long column = (e.BytePositionInLine ?? 0) + 1;
            int offset = OffsetOf(json, e.LineNumber ?? 0, e.BytePositionInLine ?? 0);
            return new SyntaxProblem(DescribeBadByte(json, offset), line, column);
        }

        // Pass 2: the input is complete; an error now means it ended too early (or a final literal/number is cut).
        var complete = new Utf8JsonReader(json, options);
        try
        {
            while (complete.Read())
            {
            }
        }
        catch (JsonException e)
        {
            return new SyntaxProblem("unexpected end of input", (e.LineNumber ?? 0) + 1, (e.BytePositionInLine ?? 0) + 1);
        }
        return null;
    }

    private static int OffsetOf(ReadOnlySpan<byte> json, long lineNumber, long bytePositionInLine)
    {
        int lineStart = 0;
        for (long line = 0; line < lineNumber; line++)
        {
            int next = json[lineStart..].IndexOf((byte)'\n');
            if (next < 0)
            {
                break;
            }
            lineStart += next + 1;
        }
        return (int)Math.Min(lineStart + bytePositionInLine, json.Length);
    }

    private static string DescribeBadByte(ReadOnlySpan<byte> json, int offset)
    {
        if (offset >= json.Length)
        {
            return "unexpected end of input";
        }
        byte b = json[offset];
        if ((b == (byte)'[' || b == (byte)'{') && DepthAt(json, offset) >= SpecSerializer.MaxDepth)
        {
            return $"nesting is deeper than the maximum of {SpecSerializer.MaxDepth} levels";
        }
        return b is >= 0x21 and <= 0x7E
            ? $"unexpected character '{(char)b}'"
            : string.Create(CultureInfo.InvariantCulture, $"unexpected byte 0x{b:X2}");
    }

    /// <summary>Number of arrays/objects open before <paramref name="offset"/>, ignoring brackets inside strings.</summary>
    private static int DepthAt(ReadOnlySpan<byte> json, int offset)
    {
        int depth = 0;
        bool inString = false;
        for (int i = 0; i < offset; i++)
        {
            byte b = json[i];
            if (inString)
            {
                if (b == (byte)'\\')
                {
                    i++;
                }
                else if (b == (byte)'"')
                {
                    inString = false;
                }
            }
            else if (b == (byte)'"')
            {
                inString = true;
            }
            else if (b is (byte)'[' or (byte)'{')
            {
                depth++;
            }
            else if (b is (byte)']' or (byte)'}')
            {
                depth--;
            }
        }
        return depth;
    }

    /// <summary>JSON-style quoting of a value for messages: escapes quotes, backslashes and control characters; truncates.</summary>
    internal static string Quote(string value)
    {
        var sb = new StringBuilder(Math.Min(value.Length, MaxShownLength) + 8);
        sb.Append('"');
        int shown = 0;
        foreach (char c in value)
        {
            if (shown++ == MaxShownLength)
            {
                sb.Append("...");
                break;
            }
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (char.IsControl(c) || char.IsSurrogate(c) || c is '\u2028' or '\u2029')
                    {
                        sb.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
                    }
                    else
                    {
                        sb.Append(c);
                    }
                    break;
            }
        }
        return sb.Append('"').ToString();
    }

    /// <summary>A number as shown in messages: at most 64 characters.</summary>
    internal static string Truncate(string text) => text.Length <= MaxShownLength ? text : text[..MaxShownLength] + "...";
}

/// <summary>Builds JSON paths in the System.Text.Json notation used by error messages (without the leading "$").</summary>
internal static class JsonPaths
{
    // The characters for which System.Text.Json switches to the ['name'] form.
    private static readonly System.Buffers.SearchValues<char> s_special =
        System.Buffers.SearchValues.Create(".'/\"[]() \t\n\r\f\b\\\u0085\u2028\u2029");

    public static void AppendProperty(StringBuilder sb, string name)
    {
        if (name.Length == 0 || name.AsSpan().IndexOfAny(s_special) >= 0)
        {
            sb.Append("['").Append(name).Append("']");
        }
        else
        {
            if (sb.Length > 0)
            {
                sb.Append('.');
            }
            sb.Append(name);
        }
    }

    /// <summary>"prefix.name" or "prefix['na.me']".</summary>
    public static string Property(string prefix, string name)
    {
        var sb = new StringBuilder(prefix.Length + name.Length + 4).Append(prefix);
        AppendProperty(sb, name);
        return sb.ToString();
    }
}
