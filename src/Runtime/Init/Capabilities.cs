using OciRuntime.Interop;
using OciRuntime.Spec;

namespace OciRuntime.Runtime.Init;

/// <summary>The five capability sets of a process as bit masks (bit n = capability n), see capabilities(7).</summary>
/// <param name="Bounding">The bounding set.</param>
/// <param name="Effective">The effective set.</param>
/// <param name="Permitted">The permitted set.</param>
/// <param name="Inheritable">The inheritable set.</param>
/// <param name="Ambient">The ambient set.</param>
public readonly record struct CapabilitySets(ulong Bounding, ulong Effective, ulong Permitted, ulong Inheritable, ulong Ambient);

/// <summary>Linux capabilities by name (capability(7)) and their application to the init (config.md#linux-process, capabilities).</summary>
public static class Capabilities
{
    /// <summary>CAP_SYS_ADMIN's number.</summary>
    public const int SysAdmin = 21;

    /// <summary>Capability names in number order (CAP_CHOWN = 0 … CAP_CHECKPOINT_RESTORE = 40): <see cref="CapabilityNames.All"/>.</summary>
    public static IReadOnlyList<string> Names => CapabilityNames.All;

    /// <summary>The bit mask of <paramref name="names"/>; names above the kernel's cap_last_cap are skipped, as runc skips them.</summary>
    /// <exception cref="InitException">an unknown capability name, naming <paramref name="field"/>[index],
    /// e.g. <c>config.json: process.capabilities.bounding[3]: unknown capability "CAP_FOO"</c>.</exception>
    public static ulong Mask(IReadOnlyList<string>? names, int lastCap, string field)
    {
        ulong mask = 0;
        if (names is null) return 0;
        for (var i = 0; i < names.Count; i++)
        {
            var n = IndexOf(names[i]);
            if (n < 0) throw new InitException($"config.json: {field}[{i}]: unknown capability \"{names[i]}\"");
            if (n <= lastCap) mask |= 1UL << n;
        }
        return mask;
    }

    /// <summary>
    /// Removes from every set of <paramref name="caps"/> the names this kernel cannot grant: unknown ones (exact
    /// "CAP_…" names only, as runc) and those above <paramref name="lastCap"/>. runc 1.1 skips them with one warning, and
    /// config.md#linux-process says runtimes SHOULD NOT fail on them.
    /// </summary>
    /// <returns>The removed names, distinct and sorted (runc's warning lists them so), empty when none.</returns>
    public static List<string> RemoveUnavailable(LinuxCapabilities? caps, int lastCap)
    {
        var removed = new SortedSet<string>(StringComparer.Ordinal);
        if (caps is null) return [];
        foreach (var set in new[] { caps.Bounding, caps.Effective, caps.Permitted, caps.Inheritable, caps.Ambient })
        {
            set?.RemoveAll(name =>
            {
                if (CapabilityNames.TryGetNumber(name, out var n) && n <= lastCap) return false;
                removed.Add(name);
                return true;
            });
        }
        return [.. removed];
    }

    /// <summary>runc's warning for <see cref="RemoveUnavailable"/>'s result: <c>ignoring unknown or unavailable capabilities: [CAP_BAR CAP_FOO]</c>.</summary>
    public static string IgnoredWarning(List<string> removed) => $"ignoring unknown or unavailable capabilities: [{string.Join(' ', removed)}]";

    /// <summary>/proc/sys/kernel/cap_last_cap.</summary>
    public static int LastCap() => int.Parse(Libc.ReadFileText("/proc/sys/kernel/cap_last_cap").AsSpan().Trim(), System.Globalization.CultureInfo.InvariantCulture);

    private static int IndexOf(string name)
    {
        var upper = name.StartsWith("CAP_", StringComparison.OrdinalIgnoreCase) ? name.ToUpperInvariant() : "CAP_" + name.ToUpperInvariant();
        return CapabilityNames.TryGetNumber(upper, out var n) ? n : -1;
    }

    /// <summary>
    /// The five sets of <paramref name="caps"/>. No <c>process.capabilities</c> at all means five empty sets, as in runc
    /// (a container without the field runs without capabilities, even as root).
    /// </summary>
    /// <exception cref="InitException">an unknown capability name (the field is named).</exception>
    public static CapabilitySets Resolve(LinuxCapabilities? caps, int lastCap) => new(
        Mask(caps?.Bounding, lastCap, "process.capabilities.bounding"),
        Mask(caps?.Effective, lastCap, "process.capabilities.effective"),
        Mask(caps?.Permitted, lastCap, "process.capabilities.permitted"),
        Mask(caps?.Inheritable, lastCap, "process.capabilities.inheritable"),
        Mask(caps?.Ambient, lastCap, "process.capabilities.ambient"));

    /// <summary>Drops from the bounding set every capability not in <paramref name="keep"/> (before the uid change: needs CAP_SETPCAP).</summary>
    /// <exception cref="SyscallException">PR_CAPBSET_DROP failed.</exception>
    public static void DropBounding(ulong keep, int lastCap)
    {
        for (var c = 0; c <= lastCap; c++)
        {
            if ((keep & (1UL << c)) != 0) continue;
            if (Libc.prctl(Prctl.PR_CAPBSET_DROP, (nuint)c, 0, 0, 0) != 0)
                throw SyscallException.FromLastError($"drop {Names[c]} from the bounding set");
        }
    }

    /// <summary>
    /// Sets effective, permitted and inheritable (capset), then the ambient set. Called after the uid change (with
    /// keep-caps, so permitted survived it). A capability missing from permitted or inheritable cannot be ambient: the
    /// kernel refuses to raise it and, as runc, that is not an error.
    /// </summary>
    /// <exception cref="SyscallException">capset failed (e.g. an inheritable capability outside the bounding set).</exception>
    public static void ApplySets(CapabilitySets sets, int lastCap)
    {
        Libc.CapSet(sets.Effective, sets.Permitted, sets.Inheritable);
        _ = Libc.prctl(Prctl.PR_CAP_AMBIENT, Prctl.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
        for (var c = 0; c <= lastCap; c++)
        {
            if ((sets.Ambient & (1UL << c)) == 0) continue;
            _ = Libc.prctl(Prctl.PR_CAP_AMBIENT, Prctl.PR_CAP_AMBIENT_RAISE, (nuint)c, 0, 0);
        }
    }
}
