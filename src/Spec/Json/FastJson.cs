using System.Buffers;
using System.Text.Encodings.Web;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace OciRuntime.Spec.Json;

/// <summary>
/// Support for the generated, reflection-free JSON readers and writers (<c>*.FastJson.g.cs</c>, written by
/// <c>tools/FastJsonGen</c> from the model types, the facts System.Text.Json's source generator works from). They are the
/// only JSON (de)serialisation in ocirun: System.Text.Json's serializer builds its type metadata on first use (1.7–3 ms
/// per process in NativeAOT) and its metadata and converters were ≈1 MB of the binary, mapped into every process
/// (benchmarks/README.md); only its <see cref="Utf8JsonReader"/> and <see cref="Utf8JsonWriter"/> are used.
/// <para>
/// The readers read what System.Text.Json reads with the model's options (camelCase names matched exactly, escaped
/// names unescaped, unknown properties skipped, the last of duplicate properties or keys kept, strict numbers, nullable
/// annotations respected, no comments or trailing commas, depth ≤ 64) to the same value, and reject the rest with a
/// <see cref="ValueException"/> that says where (the JSON path, the token's offset) and what: "expected an integer in
/// the range 0..4294967295, got -1", "expected a string, got null". <see cref="Read{T}"/> turns it, or a syntax error,
/// into a one-line <see cref="SpecException"/>. The writers write what System.Text.Json writes for the same
/// <see cref="JsonWriterOptions"/> (property order, null and default omission, escaping).
/// tests/OciRuntime.Runtime.Tests/FastJsonTests.cs holds both claims against System.Text.Json's own serializer.
/// </para>
/// </summary>
public static class FastJson
{
    /// <summary>A generated reader: reads one value starting at the reader's current token.</summary>
    /// <typeparam name="T">The model type.</typeparam>
    /// <param name="reader">Positioned on the value's first token; left on its last token.</param>
    public delegate T Reader<T>(ref Utf8JsonReader reader);

    /// <summary>
    /// Thrown by generated readers at a value the model does not take. The JSON path is built while the exception
    /// passes out through the readers of the enclosing objects, arrays and dictionaries (<see cref="In(string)"/>,
    /// <see cref="At"/>), so reading a valid document costs nothing for it.
    /// </summary>
    public sealed class ValueException : Exception
    {
        private readonly List<(string? Name, int Index)> _innermostFirst = [];

        /// <summary>Creates the exception: what is wrong (<see cref="Detail"/>) at byte offset <paramref name="offset"/>.</summary>
        /// <param name="detail">e.g. "expected a string, got 5".</param>
        /// <param name="offset">Byte offset of the offending token in the document; -1 when unknown.</param>
        public ValueException(string detail, long offset) : base(detail)
        {
            Detail = detail;
            Offset = offset;
        }

        /// <summary>Creates the exception with a detail only.</summary>
        /// <param name="message">The detail.</param>
        public ValueException(string message) : this(message, -1) { }

        /// <summary>Creates the exception with a detail and a cause.</summary>
        /// <param name="message">The detail.</param>
        /// <param name="inner">The cause.</param>
        public ValueException(string message, Exception inner) : base(message, inner)
        {
            Detail = message;
            Offset = -1;
        }

        /// <summary>Creates an exception without detail.</summary>
        public ValueException() : this("invalid value", -1) { }

        /// <summary>A syntax error met by the reader (the inner <see cref="JsonException"/>), to be located with the path.</summary>
        /// <param name="syntax">The reader's exception.</param>
        /// <returns>The exception.</returns>
        public static ValueException Syntax(JsonException syntax) => new("invalid JSON", syntax) { IsSyntax = true };

        /// <summary>Whether this is a syntax error (<see cref="Syntax"/>), not a value the model does not take.</summary>
        public bool IsSyntax { get; private init; }

        /// <summary>What is wrong with the value, without the path.</summary>
        public string Detail { get; }

        /// <summary>Byte offset of the offending token in the document, or -1.</summary>
        public long Offset { get; }

        /// <summary>The value sits in property <paramref name="utf8Name"/> of the enclosing object.</summary>
        /// <param name="utf8Name">The property name, UTF-8.</param>
        /// <returns>This exception (to rethrow).</returns>
        public ValueException In(ReadOnlySpan<byte> utf8Name) => In(Encoding.UTF8.GetString(utf8Name));

        /// <summary>The value sits under key or property <paramref name="name"/> of the enclosing object.</summary>
        /// <param name="name">The name.</param>
        /// <returns>This exception (to rethrow).</returns>
        public ValueException In(string name)
        {
            _innermostFirst.Add((name, -1));
            return this;
        }

        /// <summary>The value is element <paramref name="index"/> of the enclosing array.</summary>
        /// <param name="index">0-based.</param>
        /// <returns>This exception (to rethrow).</returns>
        public ValueException At(int index)
        {
            _innermostFirst.Add((null, index));
            return this;
        }

        /// <summary>The JSON path in System.Text.Json's notation without "$." (<c>linux.resources.memory.limit</c>,
        /// <c>process.args[0]</c>, <c>annotations['a.b']</c>); <see langword="null"/> at the root.</summary>
        public string? Path => FormatPath(_innermostFirst);
    }

    /// <summary>A null where the model allows none, found in a model built in code (<c>FindNull*</c>).</summary>
    public sealed class NullFinding
    {
        private readonly List<(string? Name, int Index)> _innermostFirst = [];

        /// <summary>Creates a finding: the value should have been <paramref name="expected"/>.</summary>
        /// <param name="expected">"a string", "an array" or "an object".</param>
        public NullFinding(string expected) => Expected = expected;

        /// <summary>What the model takes there: "a string", "an array" or "an object".</summary>
        public string Expected { get; }

        /// <summary>The JSON path of the null (as <see cref="ValueException.Path"/>).</summary>
        public string Path => FormatPath(_innermostFirst) ?? "";

        /// <summary>The null sits in property (or key) <paramref name="name"/> of the enclosing object.</summary>
        /// <param name="name">The JSON name.</param>
        /// <returns>This finding.</returns>
        public NullFinding In(string name)
        {
            _innermostFirst.Add((name, -1));
            return this;
        }

        /// <summary>The null is element <paramref name="index"/> of the enclosing list.</summary>
        /// <param name="index">0-based.</param>
        /// <returns>This finding.</returns>
        public NullFinding At(int index)
        {
            _innermostFirst.Add((null, index));
            return this;
        }
    }

    private static string? FormatPath(List<(string? Name, int Index)> innermostFirst)
    {
        if (innermostFirst.Count == 0) return null;
        var sb = new StringBuilder();
        for (int i = innermostFirst.Count - 1; i >= 0; i--)
        {
            var (name, index) = innermostFirst[i];
            if (name is null) sb.Append('[').Append(index.ToString(CultureInfo.InvariantCulture)).Append(']');
            else JsonPaths.AppendProperty(sb, name);
        }
        return sb.ToString();
    }

    /// <summary>The reader options System.Text.Json uses for the model: no comments, no trailing commas, depth ≤ 64.</summary>
    public static JsonReaderOptions ReaderOptions => new()
    {
        MaxDepth = SpecSerializer.MaxDepth,
        CommentHandling = JsonCommentHandling.Disallow,
        AllowTrailingCommas = false,
    };

    /// <summary>
    /// Reads a whole document (no BOM, not empty) with a generated reader: exactly one value of the expected shape.
    /// </summary>
    /// <typeparam name="T">The model type.</typeparam>
    /// <param name="utf8Json">The document.</param>
    /// <param name="read">The generated reader of <typeparamref name="T"/>.</param>
    /// <param name="fileName">The name used in error messages.</param>
    /// <returns>The value.</returns>
    /// <exception cref="SpecException">A syntax error (<c>invalid JSON: unexpected character 'x' at line 3, column 7</c>,
    /// reported before any other), a root of null, or a value the model does not take
    /// (<c>config.json: linux.resources.memory.limit: expected an integer, got "1G"</c>); Line and Column are set.</exception>
    public static T Read<T>(ReadOnlySpan<byte> utf8Json, Reader<T> read, string fileName)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(read);
        try
        {
            var reader = new Utf8JsonReader(utf8Json, ReaderOptions);
            reader.Read();
            if (reader.TokenType == JsonTokenType.Null && !reader.Read())
            {
                throw new SpecException(fileName, null, "expected a JSON object, got null");
            }
            var value = read(ref reader);
            reader.Read(); // throws at trailing data
            return value;
        }
        catch (ValueException e)
        {
            // A syntax error anywhere wins over a value error (System.Text.Json stops at either, and its message was
            // built the same way: the path where reading stopped, the first bad byte of the document).
            if (JsonErrors.FindSyntaxProblem(utf8Json) is { } syntax) throw JsonErrors.SyntaxError(fileName, e.Path, syntax, e);
            if (e.IsSyntax && e.InnerException is JsonException je) throw JsonErrors.SyntaxError(fileName, e.Path, Located(je), e);
            var (line, column) = e.Offset < 0 ? ((long?)null, (long?)null) : JsonErrors.LineAndColumn(utf8Json, e.Offset);
            throw new SpecException(fileName, e.Path, e.Detail, e) { Line = line, Column = column };
        }
        catch (JsonException e)
        {
            throw JsonErrors.SyntaxError(fileName, null, JsonErrors.FindSyntaxProblem(utf8Json) ?? Located(e), e);
        }

        static JsonErrors.SyntaxProblem Located(JsonException e) =>
            new("invalid JSON", (e.LineNumber ?? 0) + 1, (e.BytePositionInLine ?? 0) + 1);
    }

    /// <summary>Writes one value with a generated writer and returns the UTF-8 bytes.</summary>
    /// <typeparam name="T">The model type.</typeparam>
    /// <param name="value">The value.</param>
    /// <param name="options">Indentation, new line and encoder, as System.Text.Json would take them from its options.</param>
    /// <param name="write">The generated writer of <typeparamref name="T"/>.</param>
    /// <returns>The JSON text.</returns>
    public static byte[] Write<T>(T value, JsonWriterOptions options, Action<Utf8JsonWriter, T> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer, options))
        {
            write(writer, value);
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Compact, with System.Text.Json's built-in escaping (non-ASCII and HTML-sensitive characters as \uXXXX, through
    /// <see cref="DefaultJsonEncoder"/>): the runtime's own documents (the init's orders and report, deep copies) and
    /// what System.Text.Json's default options write (<c>events</c>, as runc prints them).
    /// </summary>
    public static readonly JsonWriterOptions CompactWriter = WriterOptions(indented: false, relaxed: false);

    /// <summary>Writer options: indented with <paramref name="indentCharacter"/> × <paramref name="indentSize"/>, "\n" line breaks.</summary>
    /// <param name="indented">Whether to indent.</param>
    /// <param name="indentCharacter">' ' or '\t'.</param>
    /// <param name="indentSize">Characters per level.</param>
    /// <param name="relaxed">Non-ASCII and HTML-sensitive characters unescaped (<see cref="JavaScriptEncoder.UnsafeRelaxedJsonEscaping"/>), as config.json is written; otherwise System.Text.Json's default escaping (through <see cref="DefaultJsonEncoder"/>, which writes the same bytes without building the default encoder's tables).</param>
    /// <returns>The options.</returns>
    public static JsonWriterOptions WriterOptions(bool indented, char indentCharacter = ' ', int indentSize = 2, bool relaxed = true) => new()
    {
        Indented = indented,
        IndentCharacter = indentCharacter,
        IndentSize = indentSize,
        NewLine = "\n",
        Encoder = relaxed ? JavaScriptEncoder.UnsafeRelaxedJsonEscaping : DefaultJsonEncoder.Instance,
        MaxDepth = SpecSerializer.MaxDepth,
    };

    /// <summary>"expected {<paramref name="expected"/>}, got {the current token}" at the current token.</summary>
    /// <param name="reader">The reader, on the offending token.</param>
    /// <param name="expected">"a string", "an object", …</param>
    /// <returns>The exception to throw.</returns>
    public static ValueException Mismatch(ref Utf8JsonReader reader, string expected) =>
        new($"expected {expected}{Got(ref reader)}", reader.TokenStartIndex);

    /// <summary>A non-nullable property that is absent (its default is null): "expected …, got null" at it.</summary>
    /// <param name="reader">The reader, at the end of the enclosing object.</param>
    /// <param name="jsonName">The property's JSON name.</param>
    /// <param name="expected">"a string", "an array" or "an object".</param>
    /// <returns>The exception to throw.</returns>
    public static ValueException Missing(ref Utf8JsonReader reader, string jsonName, string expected) =>
        new ValueException($"expected {expected}, got null", reader.TokenStartIndex).In(jsonName);

    private static ValueException IntegerMismatch(ref Utf8JsonReader reader, string min, string max)
    {
        if (reader.TokenType == JsonTokenType.Number)
        {
            var text = Encoding.UTF8.GetString(reader.ValueSpan);
            var shown = JsonErrors.Truncate(text);
            return new(text.AsSpan().IndexOfAny('.', 'e', 'E') < 0
                ? $"expected an integer in the range {min}..{max}, got {shown}"
                : $"expected an integer, got {shown}", reader.TokenStartIndex);
        }
        return Mismatch(ref reader, "an integer");
    }

    // ", got <value>": strings quoted (and truncated), numbers as written, "an object", "an array".
    private static string Got(ref Utf8JsonReader reader)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.String:
                try
                {
                    return ", got " + JsonErrors.Quote(reader.GetString() ?? "");
                }
                catch (InvalidOperationException)
                {
                    return ""; // not valid UTF-8: nothing to show
                }
            case JsonTokenType.Number: return ", got " + JsonErrors.Truncate(Encoding.UTF8.GetString(reader.ValueSpan));
            case JsonTokenType.True: return ", got true";
            case JsonTokenType.False: return ", got false";
            case JsonTokenType.Null: return ", got null";
            case JsonTokenType.StartObject: return ", got an object";
            case JsonTokenType.StartArray: return ", got an array";
            default: return "";
        }
    }

    /// <summary>Fails unless the current token starts an object.</summary>
    /// <param name="reader">The reader.</param>
    public static void ExpectObject(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject) throw Mismatch(ref reader, "an object");
    }

    /// <summary>Fails unless the current token starts an array.</summary>
    /// <param name="reader">The reader.</param>
    public static void ExpectArray(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartArray) throw Mismatch(ref reader, "an array");
    }

    /// <summary>Advances to the next token; at a property name, returns its unescaped UTF-8 bytes.</summary>
    /// <param name="reader">The reader, inside an object.</param>
    /// <param name="name">The property name; empty at the end of the object.</param>
    /// <returns><see langword="false"/> at the object's end.</returns>
    public static bool NextProperty(ref Utf8JsonReader reader, out ReadOnlySpan<byte> name)
    {
        ReadOrSyntax(ref reader);
        if (reader.TokenType == JsonTokenType.EndObject)
        {
            name = default;
            return false;
        }
        // System.Text.Json matches escaped names after unescaping ("\u0065nv" is "env").
        name = reader.ValueIsEscaped ? Encoding.UTF8.GetBytes(GetString(ref reader)) : reader.ValueSpan;
        try
        {
            reader.Read();
        }
        catch (JsonException e)
        {
            throw ValueException.Syntax(e).In(name); // a bad value: located at its property
        }
        return true;
    }

    private static void ReadOrSyntax(ref Utf8JsonReader reader)
    {
        try
        {
            reader.Read();
        }
        catch (JsonException e)
        {
            throw ValueException.Syntax(e);
        }
    }

    /// <summary>Advances to the next dictionary entry; returns its key (unescaped) or null at the object's end.</summary>
    /// <param name="reader">The reader, inside an object.</param>
    /// <returns>The key, with the reader on the value's first token; null at the end.</returns>
    public static string? NextKey(ref Utf8JsonReader reader)
    {
        ReadOrSyntax(ref reader);
        if (reader.TokenType == JsonTokenType.EndObject) return null;
        var key = GetString(ref reader);
        try
        {
            reader.Read();
        }
        catch (JsonException e)
        {
            throw ValueException.Syntax(e).In(key);
        }
        return key;
    }

    /// <summary>Advances to the next array element; <see langword="false"/> at the array's end.</summary>
    /// <param name="reader">The reader, inside an array.</param>
    /// <param name="index">The element's index (where a syntax error is located).</param>
    /// <returns>Whether there is an element (the reader is on its first token).</returns>
    public static bool NextElement(ref Utf8JsonReader reader, int index)
    {
        try
        {
            reader.Read();
        }
        catch (JsonException e)
        {
            throw ValueException.Syntax(e).At(index);
        }
        return reader.TokenType != JsonTokenType.EndArray;
    }

    /// <summary>Skips the current value (an unknown property's), reporting a syntax error in it as a <see cref="ValueException"/>.</summary>
    /// <param name="reader">The reader, on the value's first token.</param>
    public static void Skip(ref Utf8JsonReader reader)
    {
        try
        {
            reader.Skip();
        }
        catch (JsonException e)
        {
            throw ValueException.Syntax(e);
        }
    }

    /// <summary>Whether the current token is JSON null.</summary>
    /// <param name="reader">The reader.</param>
    /// <returns><see langword="true"/> for null.</returns>
    public static bool IsNull(ref Utf8JsonReader reader) => reader.TokenType == JsonTokenType.Null;

    private static string GetString(ref Utf8JsonReader reader)
    {
        try
        {
            return reader.GetString()!;
        }
        catch (InvalidOperationException e)
        {
            throw new ValueException("string is not valid UTF-8", e);
        }
    }

    /// <summary>A JSON string (not null).</summary>
    /// <param name="reader">The reader.</param>
    /// <returns>The unescaped string.</returns>
    public static string ReadString(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.String) throw Mismatch(ref reader, "a string");
        return GetString(ref reader);
    }

    /// <summary>A JSON true or false.</summary>
    /// <param name="reader">The reader.</param>
    /// <returns>The value.</returns>
    public static bool ReadBoolean(ref Utf8JsonReader reader) => reader.TokenType switch
    {
        JsonTokenType.True => true,
        JsonTokenType.False => false,
        _ => throw Mismatch(ref reader, "a boolean"),
    };

    /// <summary>A JSON number that is an <see cref="int"/>.</summary>
    /// <param name="reader">The reader.</param>
    /// <returns>The value.</returns>
    public static int ReadInt32(ref Utf8JsonReader reader) =>
        reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var v) ? v : throw IntegerMismatch(ref reader, "-2147483648", "2147483647");

    /// <summary>A JSON number that is a <see cref="uint"/>.</summary>
    /// <param name="reader">The reader.</param>
    /// <returns>The value.</returns>
    public static uint ReadUInt32(ref Utf8JsonReader reader) =>
        reader.TokenType == JsonTokenType.Number && reader.TryGetUInt32(out var v) ? v : throw IntegerMismatch(ref reader, "0", "4294967295");

    /// <summary>A JSON number that is a <see cref="ushort"/>.</summary>
    /// <param name="reader">The reader.</param>
    /// <returns>The value.</returns>
    public static ushort ReadUInt16(ref Utf8JsonReader reader) =>
        reader.TokenType == JsonTokenType.Number && reader.TryGetUInt16(out var v) ? v : throw IntegerMismatch(ref reader, "0", "65535");

    /// <summary>A JSON number that is a <see cref="long"/>.</summary>
    /// <param name="reader">The reader.</param>
    /// <returns>The value.</returns>
    public static long ReadInt64(ref Utf8JsonReader reader) =>
        reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var v) ? v : throw IntegerMismatch(ref reader, "-9223372036854775808", "9223372036854775807");

    /// <summary>A JSON number that is a <see cref="ulong"/>.</summary>
    /// <param name="reader">The reader.</param>
    /// <returns>The value.</returns>
    public static ulong ReadUInt64(ref Utf8JsonReader reader) =>
        reader.TokenType == JsonTokenType.Number && reader.TryGetUInt64(out var v) ? v : throw IntegerMismatch(ref reader, "0", "18446744073709551615");

    /// <summary>A JSON string in ISO 8601 form, as System.Text.Json reads a <see cref="System.DateTimeOffset"/>.</summary>
    /// <param name="reader">The reader.</param>
    /// <returns>The value.</returns>
    public static DateTimeOffset ReadDateTimeOffset(ref Utf8JsonReader reader) =>
        reader.TokenType == JsonTokenType.String && reader.TryGetDateTimeOffset(out var v) ? v : throw Mismatch(ref reader, "a date and time (ISO 8601)");
}
