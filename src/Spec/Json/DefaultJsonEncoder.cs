using System.Text.Encodings.Web;

namespace OciRuntime.Spec.Json;

/// <summary>
/// Escapes exactly as <see cref="JavaScriptEncoder.Default"/> does (System.Text.Json's escaping when no encoder is
/// given), without touching it: printable ASCII passes except <c>" &amp; ' + &lt; &gt; \ `</c>; \b \t \n \f \r and \\
/// get their short escapes; everything else, non-ASCII included, becomes \uXXXX (upper-case hex, a surrogate pair
/// for a supplementary character; invalid UTF-8 or a lone surrogate becomes \uFFFD).
/// </summary>
/// <remarks>
/// Why: JavaScriptEncoder.Default lives in DefaultJavaScriptEncoder, whose class constructor also builds
/// UnsafeRelaxedJsonEscaping's tables by checking every UTF-16 code unit against the Unicode data: ≈0.2 ms in each
/// NativeAOT process that writes any JSON string (the runtime, and the init for its report). FastJsonTests compare this
/// encoder with JavaScriptEncoder.Default over every code point.
/// </remarks>
public sealed class DefaultJsonEncoder : JavaScriptEncoder
{
    /// <summary>The instance.</summary>
    public static readonly DefaultJsonEncoder Instance = new();

    private DefaultJsonEncoder()
    {
    }

    /// <inheritdoc />
    public override int MaxOutputCharactersPerInputCharacter => 6; // \uXXXX per UTF-16 code unit

    /// <inheritdoc />
    public override bool WillEncode(int unicodeScalar) => !IsAllowed(unicodeScalar);

    private static bool IsAllowed(int c) =>
        c is >= 0x20 and <= 0x7E and not ('"' or '&' or '\'' or '+' or '<' or '>' or '\\' or '`');

    /// <inheritdoc />
    public override unsafe int FindFirstCharacterToEncode(char* text, int textLength)
    {
        for (var i = 0; i < textLength; i++)
        {
            if (!IsAllowed(text[i])) return i;
        }
        return -1;
    }

    /// <inheritdoc />
    public override int FindFirstCharacterToEncodeUtf8(ReadOnlySpan<byte> utf8Text)
    {
        // Every byte of a non-ASCII scalar (and every invalid byte) is >= 0x80, so the first one not allowed starts the
        // first scalar to encode.
        for (var i = 0; i < utf8Text.Length; i++)
        {
            if (!IsAllowed(utf8Text[i])) return i;
        }
        return -1;
    }

    /// <inheritdoc />
    public override unsafe bool TryEncodeUnicodeScalar(int unicodeScalar, char* buffer, int bufferLength, out int numberOfCharactersWritten)
    {
        numberOfCharactersWritten = 0;
        if (IsAllowed(unicodeScalar))
        {
            if (bufferLength < 1) return false;
            buffer[0] = (char)unicodeScalar;
            numberOfCharactersWritten = 1;
            return true;
        }
        var shortForm = unicodeScalar switch
        {
            '\b' => 'b',
            '\t' => 't',
            '\n' => 'n',
            '\f' => 'f',
            '\r' => 'r',
            '\\' => '\\',
            _ => '\0',
        };
        if (shortForm != '\0')
        {
            if (bufferLength < 2) return false;
            buffer[0] = '\\';
            buffer[1] = shortForm;
            numberOfCharactersWritten = 2;
            return true;
        }
        if (unicodeScalar > 0xFFFF)
        {
            if (bufferLength < 12) return false;
            var v = unicodeScalar - 0x10000;
            Hex(buffer, 0xD800 + (v >> 10));
            Hex(buffer + 6, 0xDC00 + (v & 0x3FF));
            numberOfCharactersWritten = 12;
            return true;
        }
        if (bufferLength < 6) return false;
        Hex(buffer, unicodeScalar);
        numberOfCharactersWritten = 6;
        return true;
    }

    private static unsafe void Hex(char* p, int value)
    {
        const string digits = "0123456789ABCDEF";
        p[0] = '\\';
        p[1] = 'u';
        p[2] = digits[(value >> 12) & 0xF];
        p[3] = digits[(value >> 8) & 0xF];
        p[4] = digits[(value >> 4) & 0xF];
        p[5] = digits[value & 0xF];
    }
}
