using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace OciRuntime.Runtime.Tests.Oracle;

using OciRuntime.Spec;

/// <summary>
/// (Test oracle: the error path ocirun used before its generated readers reported errors themselves.)
/// Turns System.Text.Json failures into one-line <see cref="SpecException"/>s. Only the exception's Path, LineNumber and
/// BytePositionInLine are used (never its message, which is a bare resource key under NativeAOT with UseSystemResourceKeys):
/// syntax errors are located again with <see cref="Utf8JsonReader"/>, the expected type comes from the source-generated
/// metadata and the actual value from the document.
/// </summary>
internal static class OracleJsonErrors
{
    public static SpecException Translate(Exception ex, ReadOnlySpan<byte> json, JsonTypeInfo rootInfo, string fileName)
    {
        var jsonException = ex as JsonException;
        string? rawPath = jsonException?.Path;
        List<Segment>? segments = ParsePath(rawPath);
        string? path = FormatPath(segments);

        OciRuntime.Spec.JsonErrors.SyntaxProblem? syntax = OciRuntime.Spec.JsonErrors.FindSyntaxProblem(json); // the product's: not what the oracle is for
        if (syntax is { } s)
        {
            return new SpecException(fileName, path, $"invalid JSON: {s.Description} at line {s.Line}, column {s.Column}", ex)
            {
                Line = s.Line,
                Column = s.Column,
            };
        }

        long? line = jsonException?.LineNumber + 1;
        long? column = jsonException?.BytePositionInLine + 1;
        string detail;
        if (IsInvalidUtf8(ex))
        {
            detail = "string is not valid UTF-8";
        }
        else if (segments is null)
        {
            detail = "invalid value";
        }
        else
        {
            JsonTypeInfo? expected = ExpectedType(rootInfo, segments);
            Actual actual = ActualValue(json, segments);
            detail = Describe(expected, actual);
        }
        return new SpecException(fileName, path, detail, ex) { Line = line, Column = column };
    }

    private static bool IsInvalidUtf8(Exception? ex)
    {
        for (; ex is not null; ex = ex.InnerException)
        {
            if (ex is DecoderFallbackException)
            {
                return true;
            }
        }
        return false;
    }

    // ---- syntax ---------------------------------------------------------------------------------------------------------

    // ---- paths ----------------------------------------------------------------------------------------------------------

    internal readonly record struct Segment(string? Name, int Index);

    /// <summary>Parses System.Text.Json's "$.a.b[2]['c.d']" form; <see langword="null"/> when absent or unparsable.</summary>
    private static List<Segment>? ParsePath(string? path)
    {
        if (string.IsNullOrEmpty(path) || path[0] != '$')
        {
            return null;
        }
        var segments = new List<Segment>();
        int i = 1;
        while (i < path.Length)
        {
            if (path[i] == '.')
            {
                int start = ++i;
                while (i < path.Length && path[i] != '.' && path[i] != '[')
                {
                    i++;
                }
                segments.Add(new Segment(path[start..i], -1));
            }
            else if (path[i] == '[' && i + 1 < path.Length && path[i + 1] == '\'')
            {
                int end = path.IndexOf("']", i + 2, StringComparison.Ordinal);
                if (end < 0)
                {
                    return null;
                }
                segments.Add(new Segment(path[(i + 2)..end], -1));
                i = end + 2;
            }
            else if (path[i] == '[')
            {
                int end = path.IndexOf(']', i + 1);
                if (end < 0 || !int.TryParse(path.AsSpan(i + 1, end - i - 1), NumberStyles.None, CultureInfo.InvariantCulture, out int index))
                {
                    return null;
                }
                segments.Add(new Segment(null, index));
                i = end + 1;
            }
            else
            {
                return null;
            }
        }
        return segments;
    }

    internal static string? FormatPath(List<Segment>? segments)
    {
        if (segments is null || segments.Count == 0)
        {
            return null;
        }
        var sb = new StringBuilder();
        foreach (Segment segment in segments)
        {
            if (segment.Name is null)
            {
                sb.Append('[').Append(segment.Index.ToString(CultureInfo.InvariantCulture)).Append(']');
            }
            else
            {
                JsonPaths.AppendProperty(sb, segment.Name);
            }
        }
        return sb.ToString();
    }

    // ---- expected type --------------------------------------------------------------------------------------------------

    private static JsonTypeInfo? ExpectedType(JsonTypeInfo root, List<Segment> segments)
    {
        JsonTypeInfo? info = root;
        foreach (Segment segment in segments)
        {
            if (info is null)
            {
                return null;
            }
            Type? next = null;
            switch (info.Kind)
            {
                case JsonTypeInfoKind.Object when segment.Name is not null:
                    foreach (JsonPropertyInfo property in info.Properties)
                    {
                        if (property.Name == segment.Name)
                        {
                            next = property.PropertyType;
                            break;
                        }
                    }
                    break;
                case JsonTypeInfoKind.Dictionary when segment.Name is not null:
                case JsonTypeInfoKind.Enumerable when segment.Name is null:
                    next = info.ElementType;
                    break;
            }
            info = next is null ? null : info.Options.GetTypeInfo(next);
        }
        return info;
    }

    // ---- actual value ---------------------------------------------------------------------------------------------------

    private readonly record struct Actual(JsonValueKind Kind, string Text);

    private static Actual ActualValue(ReadOnlySpan<byte> json, List<Segment> segments)
    {
        try
        {
            using JsonDocument document = JsonDocument.Parse(json.ToArray(), new JsonDocumentOptions { MaxDepth = SpecSerializer.MaxDepth });
            JsonElement element = document.RootElement;
            foreach (Segment segment in segments)
            {
                if (segment.Name is not null && element.ValueKind == JsonValueKind.Object && element.TryGetProperty(segment.Name, out JsonElement child))
                {
                    element = child;
                }
                else if (segment.Name is null && element.ValueKind == JsonValueKind.Array && segment.Index < element.GetArrayLength())
                {
                    element = element[segment.Index];
                }
                else
                {
                    return new Actual(JsonValueKind.Undefined, "");
                }
            }
            return element.ValueKind switch
            {
                JsonValueKind.String => new Actual(JsonValueKind.String, OciRuntime.Spec.JsonErrors.Quote(element.GetString() ?? "")),
                JsonValueKind.Number => new Actual(JsonValueKind.Number, OciRuntime.Spec.JsonErrors.Truncate(element.GetRawText())),
                JsonValueKind.True => new Actual(JsonValueKind.True, "true"),
                JsonValueKind.False => new Actual(JsonValueKind.False, "false"),
                JsonValueKind.Null => new Actual(JsonValueKind.Null, "null"),
                JsonValueKind.Object => new Actual(JsonValueKind.Object, "an object"),
                JsonValueKind.Array => new Actual(JsonValueKind.Array, "an array"),
                _ => new Actual(JsonValueKind.Undefined, ""),
            };
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or ArgumentException)
        {
            return new Actual(JsonValueKind.Undefined, "");
        }
    }

    private static string Describe(JsonTypeInfo? expected, Actual actual)
    {
        string got = actual.Kind == JsonValueKind.Undefined ? "" : $", got {actual.Text}";
        if (expected is null)
        {
            return actual.Kind == JsonValueKind.Undefined ? "invalid value" : $"invalid value {actual.Text}";
        }
        Type type = Nullable.GetUnderlyingType(expected.Type) ?? expected.Type;
        if (IntegerRange(type) is { } range)
        {
            if (actual.Kind == JsonValueKind.Number)
            {
                bool isInteger = actual.Text.AsSpan().IndexOfAny('.', 'e', 'E') < 0;
                return isInteger
                    ? $"expected an integer in the range {range.Min}..{range.Max}{got}"
                    : $"expected an integer{got}";
            }
            return $"expected an integer{got}";
        }
        string what = type == typeof(string) ? "a string"
            : type == typeof(bool) ? "a boolean"
            : expected.Kind == JsonTypeInfoKind.Enumerable ? "an array"
            : expected.Kind is JsonTypeInfoKind.Object or JsonTypeInfoKind.Dictionary ? "an object"
            : "a different value";
        return $"expected {what}{got}";
    }

    private static (string Min, string Max)? IntegerRange(Type type) =>
        type == typeof(long) ? (long.MinValue.ToString(CultureInfo.InvariantCulture), long.MaxValue.ToString(CultureInfo.InvariantCulture))
        : type == typeof(ulong) ? ("0", ulong.MaxValue.ToString(CultureInfo.InvariantCulture))
        : type == typeof(int) ? (int.MinValue.ToString(CultureInfo.InvariantCulture), int.MaxValue.ToString(CultureInfo.InvariantCulture))
        : type == typeof(uint) ? ("0", uint.MaxValue.ToString(CultureInfo.InvariantCulture))
        : type == typeof(ushort) ? ("0", ushort.MaxValue.ToString(CultureInfo.InvariantCulture))
        : type == typeof(short) ? (short.MinValue.ToString(CultureInfo.InvariantCulture), short.MaxValue.ToString(CultureInfo.InvariantCulture))
        : null;

}

