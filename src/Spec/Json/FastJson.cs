using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace OciRuntime.Spec.Json;

/// <summary>
/// Support for the generated, reflection-free JSON readers and writers (<c>*.FastJson.g.cs</c>, written by
/// <c>tools/FastJsonGen</c>). They exist for start-up time: System.Text.Json builds its type metadata on first use,
/// which costs 1.7–3 ms per process in NativeAOT (reflection over custom attributes), while these read a config.json
/// in about 0.1 ms (benchmarks/README.md).
/// <para>
/// The readers accept only what System.Text.Json would read to the same value, and give up
/// (<see cref="TryRead{T}"/> returns <see langword="false"/>) at anything else: a null where the model has none,
/// a wrong token type, a number out of range, an escaped property name, a duplicate dictionary key, bad UTF-8,
/// trailing data. Callers then take the System.Text.Json path, which produces the value or the precise error, so
/// the fast path never changes what is accepted or what an error says. The writers write what System.Text.Json
/// writes for the same <see cref="JsonWriterOptions"/> (property order, null and default omission, escaping).
/// tests/OciRuntime.Runtime.Tests/FastJsonTests.cs holds both claims against System.Text.Json.
/// </para>
/// </summary>
public static class FastJson
{
    /// <summary>A generated reader: reads one value starting at the reader's current token.</summary>
    /// <typeparam name="T">The model type.</typeparam>
    /// <param name="reader">Positioned on the value's first token; left on its last token.</param>
    public delegate T Reader<T>(ref Utf8JsonReader reader);

    /// <summary>Thrown by generated readers when the document needs the System.Text.Json path.</summary>
    public sealed class GiveUpException : Exception
    {
        /// <summary>Creates the (message-less) exception.</summary>
        public GiveUpException() : base("not on the fast path") { }

        /// <summary>Creates the exception with a message.</summary>
        /// <param name="message">Why.</param>
        public GiveUpException(string message) : base(message) { }

        /// <summary>Creates the exception with a message and a cause.</summary>
        /// <param name="message">Why.</param>
        /// <param name="inner">The cause.</param>
        public GiveUpException(string message, Exception inner) : base(message, inner) { }
    }

    /// <summary>The reader options System.Text.Json uses for the model: no comments, no trailing commas, depth ≤ 64.</summary>
    public static JsonReaderOptions ReaderOptions => new()
    {
        MaxDepth = SpecSerializer.MaxDepth,
        CommentHandling = JsonCommentHandling.Disallow,
        AllowTrailingCommas = false,
    };

    /// <summary>
    /// Reads a whole document with a generated reader. Returns <see langword="false"/> (and no value) when the document
    /// is not exactly one value of the expected shape; the caller then uses System.Text.Json.
    /// </summary>
    /// <typeparam name="T">The model type.</typeparam>
    /// <param name="utf8Json">The document (no BOM).</param>
    /// <param name="read">The generated reader of <typeparamref name="T"/>.</param>
    /// <param name="value">The value read, when the result is <see langword="true"/>.</param>
    /// <returns>Whether the fast path read the document.</returns>
    public static bool TryRead<T>(ReadOnlySpan<byte> utf8Json, Reader<T> read, out T? value)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(read);
        value = null;
        try
        {
            var reader = new Utf8JsonReader(utf8Json, ReaderOptions);
            if (!reader.Read()) return false;
            var result = read(ref reader);
            if (reader.Read()) return false; // trailing data
            value = result;
            return true;
        }
        catch (Exception e) when (e is GiveUpException or JsonException or InvalidOperationException or FormatException
                                       or OverflowException or ArgumentException)
        {
            return false;
        }
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

    /// <summary>Gives up (see <see cref="GiveUpException"/>).</summary>
    /// <returns>Never returns.</returns>
    public static GiveUpException GiveUp() => new();

    /// <summary>Fails unless the current token is <paramref name="type"/>.</summary>
    /// <param name="reader">The reader.</param>
    /// <param name="type">The token expected.</param>
    public static void Expect(ref Utf8JsonReader reader, JsonTokenType type)
    {
        if (reader.TokenType != type) throw GiveUp();
    }

    /// <summary>Advances to the next token; at a property name, returns its unescaped UTF-8 bytes.</summary>
    /// <param name="reader">The reader, inside an object.</param>
    /// <param name="name">The property name; empty at the end of the object.</param>
    /// <returns><see langword="false"/> at the object's end.</returns>
    public static bool NextProperty(ref Utf8JsonReader reader, out ReadOnlySpan<byte> name)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.EndObject)
        {
            name = default;
            return false;
        }
        // System.Text.Json matches escaped names after unescaping: leave those to it.
        if (reader.TokenType != JsonTokenType.PropertyName || reader.ValueIsEscaped) throw GiveUp();
        name = reader.ValueSpan;
        reader.Read();
        return true;
    }

    /// <summary>Advances to the next dictionary entry; returns its key (unescaped) or null at the object's end.</summary>
    /// <param name="reader">The reader, inside an object.</param>
    /// <returns>The key, with the reader on the value's first token; null at the end.</returns>
    public static string? NextKey(ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.EndObject) return null;
        var key = reader.GetString() ?? throw GiveUp();
        reader.Read();
        return key;
    }

    /// <summary>Advances to the next array element; <see langword="false"/> at the array's end.</summary>
    /// <param name="reader">The reader, inside an array.</param>
    /// <returns>Whether there is an element (the reader is on its first token).</returns>
    public static bool NextElement(ref Utf8JsonReader reader)
    {
        reader.Read();
        return reader.TokenType != JsonTokenType.EndArray;
    }

    /// <summary>Whether the current token is JSON null.</summary>
    /// <param name="reader">The reader.</param>
    /// <returns><see langword="true"/> for null.</returns>
    public static bool IsNull(ref Utf8JsonReader reader) => reader.TokenType == JsonTokenType.Null;

    /// <summary>A JSON string (not null).</summary>
    /// <param name="reader">The reader.</param>
    /// <returns>The unescaped string.</returns>
    public static string ReadString(ref Utf8JsonReader reader)
    {
        Expect(ref reader, JsonTokenType.String);
        return reader.GetString()!;
    }

    /// <summary>A JSON true or false.</summary>
    /// <param name="reader">The reader.</param>
    /// <returns>The value.</returns>
    public static bool ReadBoolean(ref Utf8JsonReader reader) => reader.TokenType switch
    {
        JsonTokenType.True => true,
        JsonTokenType.False => false,
        _ => throw GiveUp(),
    };

    /// <summary>A JSON number that is an <see cref="int"/>.</summary>
    /// <param name="reader">The reader.</param>
    /// <returns>The value.</returns>
    public static int ReadInt32(ref Utf8JsonReader reader)
    {
        Expect(ref reader, JsonTokenType.Number);
        return reader.TryGetInt32(out var v) ? v : throw GiveUp();
    }

    /// <summary>A JSON number that is a <see cref="uint"/>.</summary>
    /// <param name="reader">The reader.</param>
    /// <returns>The value.</returns>
    public static uint ReadUInt32(ref Utf8JsonReader reader)
    {
        Expect(ref reader, JsonTokenType.Number);
        return reader.TryGetUInt32(out var v) ? v : throw GiveUp();
    }

    /// <summary>A JSON number that is a <see cref="ushort"/>.</summary>
    /// <param name="reader">The reader.</param>
    /// <returns>The value.</returns>
    public static ushort ReadUInt16(ref Utf8JsonReader reader)
    {
        Expect(ref reader, JsonTokenType.Number);
        return reader.TryGetUInt16(out var v) ? v : throw GiveUp();
    }

    /// <summary>A JSON number that is a <see cref="long"/>.</summary>
    /// <param name="reader">The reader.</param>
    /// <returns>The value.</returns>
    public static long ReadInt64(ref Utf8JsonReader reader)
    {
        Expect(ref reader, JsonTokenType.Number);
        return reader.TryGetInt64(out var v) ? v : throw GiveUp();
    }

    /// <summary>A JSON number that is a <see cref="ulong"/>.</summary>
    /// <param name="reader">The reader.</param>
    /// <returns>The value.</returns>
    public static ulong ReadUInt64(ref Utf8JsonReader reader)
    {
        Expect(ref reader, JsonTokenType.Number);
        return reader.TryGetUInt64(out var v) ? v : throw GiveUp();
    }

    /// <summary>A JSON string in ISO 8601 form, as System.Text.Json reads a <see cref="System.DateTimeOffset"/>.</summary>
    /// <param name="reader">The reader.</param>
    /// <returns>The value.</returns>
    public static DateTimeOffset ReadDateTimeOffset(ref Utf8JsonReader reader)
    {
        Expect(ref reader, JsonTokenType.String);
        return reader.TryGetDateTimeOffset(out var v) ? v : throw GiveUp();
    }
}
