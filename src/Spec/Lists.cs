namespace OciRuntime.Spec;

/// <summary>
/// The few list helpers the runtime needs, written as loops: the shipped code uses no LINQ (Directory.Build.targets), whose
/// generic iterator classes cost every process ≈0.7 MB of mapped code and type data.
/// </summary>
public static class Lists
{
    /// <summary>Whether <paramref name="list"/> holds <paramref name="value"/> (ordinal comparison).</summary>
    /// <param name="list">The list; <see langword="null"/> holds nothing.</param>
    /// <param name="value">The string looked for.</param>
    /// <returns><see langword="true"/> when an element equals <paramref name="value"/>.</returns>
    public static bool ContainsOrdinal(IReadOnlyList<string>? list, string value)
    {
        if (list is null) return false;
        for (int i = 0; i < list.Count; i++)
        {
            if (string.Equals(list[i], value, StringComparison.Ordinal)) return true;
        }
        return false;
    }

    /// <summary>Whether two lists hold the same strings in the same order (ordinal comparison).</summary>
    /// <param name="a">One list.</param>
    /// <param name="b">The other list.</param>
    /// <returns><see langword="true"/> when equal element by element.</returns>
    public static bool SequenceEqualOrdinal(IReadOnlyList<string> a, IReadOnlyList<string> b)
    {
        if (a.Count != b.Count) return false;
        for (int i = 0; i < a.Count; i++)
        {
            if (!string.Equals(a[i], b[i], StringComparison.Ordinal)) return false;
        }
        return true;
    }

    /// <summary>Appends each of <paramref name="items"/> that <paramref name="list"/> does not hold yet (ordinal).</summary>
    /// <param name="list">The list appended to.</param>
    /// <param name="items">The candidates, in order.</param>
    public static void AddMissing(List<string> list, IEnumerable<string> items)
    {
        foreach (var item in items)
        {
            if (!list.Contains(item)) list.Add(item);
        }
    }
}
