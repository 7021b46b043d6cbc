namespace OciRuntime.Spec;

/// <summary>The runtime-spec version implemented by this model, and SemVer 2.0.0 parsing of <c>ociVersion</c> (config.md#specification-version).</summary>
public static class SpecVersion
{
    /// <summary>The runtime-spec version this model implements and writes into new states: "1.2.1".</summary>
    public const string Current = "1.2.1";

    /// <summary>The lowest accepted version: "1.0.0" (any 1.0.0 pre-release such as "1.0.0-rc5" is accepted too).</summary>
    public const string Minimum = "1.0.0";

    /// <summary>The only accepted major version.</summary>
    public const int SupportedMajor = 1;

    /// <summary>The highest accepted minor version of <see cref="SupportedMajor"/> (1.2.x).</summary>
    public const int MaxSupportedMinor = 2;

    /// <summary>Parses a SemVer 2.0.0 version "MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]" without allocating.</summary>
    /// <param name="version">The text, e.g. "1.0.2-dev".</param>
    /// <param name="major">The major number.</param>
    /// <param name="minor">The minor number.</param>
    /// <param name="patch">The patch number.</param>
    /// <returns><see langword="true"/> when <paramref name="version"/> is valid SemVer 2.0.0.</returns>
    public static bool TryParse(ReadOnlySpan<char> version, out int major, out int minor, out int patch)
    {
        major = minor = patch = 0;
        int pos = 0;
        if (!TryNumber(version, ref pos, out major) || !Expect(version, ref pos, '.') ||
            !TryNumber(version, ref pos, out minor) || !Expect(version, ref pos, '.') ||
            !TryNumber(version, ref pos, out patch))
        {
            return false;
        }
        if (pos < version.Length && version[pos] == '-')
        {
            pos++;
            if (!TryIdentifiers(version, ref pos, numericNoLeadingZero: true))
            {
                return false;
            }
        }
        if (pos < version.Length && version[pos] == '+')
        {
            pos++;
            if (!TryIdentifiers(version, ref pos, numericNoLeadingZero: false))
            {
                return false;
            }
        }
        return pos == version.Length;
    }

    /// <summary>Whether <paramref name="version"/> is valid SemVer with major 1 and minor 0..<see cref="MaxSupportedMinor"/>.</summary>
    /// <param name="version">An <c>ociVersion</c> value.</param>
    /// <returns><see langword="true"/> when supported.</returns>
    public static bool IsSupported(string? version) =>
        version is not null && TryParse(version, out int major, out int minor, out _) && major == SupportedMajor && minor <= MaxSupportedMinor;

    private static bool Expect(ReadOnlySpan<char> s, ref int pos, char c)
    {
        if (pos < s.Length && s[pos] == c)
        {
            pos++;
            return true;
        }
        return false;
    }

    private static bool TryNumber(ReadOnlySpan<char> s, ref int pos, out int value)
    {
        value = 0;
        int start = pos;
        while (pos < s.Length && char.IsAsciiDigit(s[pos]))
        {
            if (value > (int.MaxValue - 9) / 10)
            {
                return false;
            }
            value = (value * 10) + (s[pos] - '0');
            pos++;
        }
        int length = pos - start;
        return length > 0 && (length == 1 || s[start] != '0');
    }

    private static bool TryIdentifiers(ReadOnlySpan<char> s, ref int pos, bool numericNoLeadingZero)
    {
        while (true)
        {
            int start = pos;
            bool allDigits = true;
            while (pos < s.Length && (char.IsAsciiLetterOrDigit(s[pos]) || s[pos] == '-'))
            {
                allDigits &= char.IsAsciiDigit(s[pos]);
                pos++;
            }
            int length = pos - start;
            if (length == 0 || (numericNoLeadingZero && allDigits && length > 1 && s[start] == '0'))
            {
                return false;
            }
            if (pos < s.Length && s[pos] == '.')
            {
                pos++;
                continue;
            }
            return true;
        }
    }
}

/// <summary>
/// The Linux cpuset list syntax used by <c>cpu.cpus</c>, <c>cpu.mems</c>, <c>execCPUAffinity</c> and <c>memoryPolicy.nodes</c>:
/// comma-separated numbers or inclusive ranges, e.g. "0-3,5,8-11"; a range may carry the kernel's stride suffix "0-15:2/4".
/// </summary>
public static class CpuList
{
    /// <summary>Whether <paramref name="list"/> is a non-empty, well-formed list (each range has first &lt;= last).</summary>
    /// <param name="list">The list text.</param>
    /// <returns><see langword="true"/> when well-formed.</returns>
    public static bool IsValid(ReadOnlySpan<char> list) => TryParse(list, null);

    /// <summary>Parses <paramref name="list"/> into inclusive ranges, in the order written.</summary>
    /// <param name="list">The list text, e.g. "0-3,7".</param>
    /// <param name="ranges">The ranges, e.g. [(0, 3), (7, 7)]; empty on failure. Stride suffixes are not expanded.</param>
    /// <returns><see langword="true"/> when well-formed.</returns>
    public static bool TryParse(string? list, out IReadOnlyList<(int First, int Last)> ranges)
    {
        var result = new List<(int, int)>();
        if (list is null || !TryParse(list, result))
        {
            ranges = [];
            return false;
        }
        ranges = result;
        return true;
    }

    private static bool TryParse(ReadOnlySpan<char> s, List<(int, int)>? ranges)
    {
        if (s.IsEmpty)
        {
            return false;
        }
        int pos = 0;
        while (true)
        {
            if (!TryNumber(s, ref pos, out int first))
            {
                return false;
            }
            int last = first;
            if (pos < s.Length && s[pos] == '-')
            {
                pos++;
                if (!TryNumber(s, ref pos, out last) || last < first)
                {
                    return false;
                }
                if (pos < s.Length && s[pos] == ':')
                {
                    pos++;
                    if (!TryNumber(s, ref pos, out int used) || pos >= s.Length || s[pos] != '/')
                    {
                        return false;
                    }
                    pos++;
                    if (!TryNumber(s, ref pos, out int group) || used == 0 || group == 0 || used > group)
                    {
                        return false;
                    }
                }
            }
            ranges?.Add((first, last));
            if (pos == s.Length)
            {
                return true;
            }
            if (s[pos] != ',')
            {
                return false;
            }
            pos++;
        }
    }

    private static bool TryNumber(ReadOnlySpan<char> s, ref int pos, out int value)
    {
        value = 0;
        int start = pos;
        while (pos < s.Length && char.IsAsciiDigit(s[pos]))
        {
            if (value > (int.MaxValue - 9) / 10)
            {
                return false;
            }
            value = (value * 10) + (s[pos] - '0');
            pos++;
        }
        return pos > start;
    }
}
