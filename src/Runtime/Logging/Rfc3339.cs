namespace OciRuntime.Runtime.Logging;

/// <summary>
/// RFC 3339 timestamps in UTC (<c>2026-11-21T07:09:38.1724750Z</c>), written digit by digit.
/// </summary>
/// <remarks>
/// <see cref="DateTime"/>'s custom format strings would do the same, but their formatter carries the time-zone code
/// ('z', 'K'), and with it <c>TimeZoneInfo</c> and the tzfile reader, into every ocirun process; these two shapes are
/// all ocirun prints (log lines, <c>state</c>'s created).
/// </remarks>
public static class Rfc3339
{
    /// <summary>
    /// <paramref name="time"/> in UTC with exactly seven fractional digits (100 ns ticks), as .NET's
    /// <c>yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'</c>: the time field of the log lines.
    /// </summary>
    public static string Ticks(DateTimeOffset time) => Format(time.UtcDateTime, nano: false);

    /// <summary>
    /// <paramref name="time"/> in UTC as Go's <c>time.RFC3339Nano</c> prints it: nanoseconds with trailing zeros trimmed,
    /// no fraction at all for a whole second (e.g. <c>2026-11-21T07:09:38.172475Z</c>); <c>state</c>'s created, as runc.
    /// </summary>
    public static string Nano(DateTimeOffset time) => Format(time.UtcDateTime, nano: true);

    private static string Format(DateTime utc, bool nano)
    {
        Span<char> s = stackalloc char[30]; // yyyy-MM-ddTHH:mm:ss.fffffffffZ
        Digits(s[..4], utc.Year);
        s[4] = '-';
        Digits(s.Slice(5, 2), utc.Month);
        s[7] = '-';
        Digits(s.Slice(8, 2), utc.Day);
        s[10] = 'T';
        Digits(s.Slice(11, 2), utc.Hour);
        s[13] = ':';
        Digits(s.Slice(14, 2), utc.Minute);
        s[16] = ':';
        Digits(s.Slice(17, 2), utc.Second);
        s[19] = '.';
        var ticks = (int)(utc.Ticks % TimeSpan.TicksPerSecond);
        int length;
        if (nano)
        {
            Digits(s.Slice(20, 9), ticks * 100);
            length = 29;
            while (s[length - 1] == '0') length--;
            if (length == 20) length = 19; // a whole second: no '.'
        }
        else
        {
            Digits(s.Slice(20, 7), ticks);
            length = 27;
        }
        s[length++] = 'Z';
        return new string(s[..length]);
    }

    /// <summary>Writes <paramref name="value"/> (≥ 0) zero-padded into all of <paramref name="into"/>.</summary>
    private static void Digits(Span<char> into, int value)
    {
        for (var i = into.Length - 1; i >= 0; i--)
        {
            into[i] = (char)('0' + value % 10);
            value /= 10;
        }
    }
}
