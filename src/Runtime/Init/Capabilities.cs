using OciRuntime.Interop;
using OciRuntime.Spec;

namespace OciRuntime.Runtime.Init;

/// <summary>Linux capabilities by name (capability(7)) and their application to the init (config.md#linux-process, capabilities).</summary>
public static class Capabilities
{
    /// <summary>Capability names in number order (CAP_CHOWN = 0 … CAP_CHECKPOINT_RESTORE = 40): <see cref="CapabilityNames.All"/>.</summary>
    public static IReadOnlyList<string> Names => CapabilityNames.All;

    /// <summary>The bit mask of <paramref name="names"/>; names above the kernel's cap_last_cap are skipped, as runc skips them.</summary>
    /// <exception cref="ArgumentException">an unknown capability name, naming <paramref name="field"/>[index].</exception>
    public static ulong Mask(IReadOnlyList<string>? names, int lastCap, string field)
    {
        ulong mask = 0;
        if (names is null) return 0;
        for (var i = 0; i < names.Count; i++)
        {
            var n = IndexOf(names[i]);
            if (n < 0) throw new ArgumentException($"config.json: {field}[{i}]: unknown capability \"{names[i]}\"");
            if (n <= lastCap) mask |= 1UL << n;
        }
        return mask;
    }

    private static int IndexOf(string name)
    {
        var upper = name.StartsWith("CAP_", StringComparison.OrdinalIgnoreCase) ? name.ToUpperInvariant() : "CAP_" + name.ToUpperInvariant();
        return CapabilityNames.TryGetNumber(upper, out var n) ? n : -1;
    }

    /// <summary>Drops from the bounding set every capability not in <paramref name="caps"/>.bounding (before the uid change).</summary>
    public static void DropBounding(LinuxCapabilities caps, int lastCap)
    {
        var keep = Mask(caps.Bounding, lastCap, "process.capabilities.bounding");
        for (var c = 0; c <= lastCap; c++)
        {
            if ((keep & (1UL << c)) != 0) continue;
            if (Libc.prctl(Prctl.PR_CAPBSET_DROP, (nuint)c, 0, 0, 0) != 0)
                throw SyscallException.FromLastError($"drop {Names[c]} from the bounding set");
        }
    }

    /// <summary>Sets effective, permitted and inheritable (capset) and the ambient set (after the uid change, with keep-caps).</summary>
    public static void ApplySets(LinuxCapabilities caps, int lastCap)
    {
        var effective = Mask(caps.Effective, lastCap, "process.capabilities.effective");
        var permitted = Mask(caps.Permitted, lastCap, "process.capabilities.permitted");
        var inheritable = Mask(caps.Inheritable, lastCap, "process.capabilities.inheritable");
        Libc.CapSet(effective, permitted, inheritable);
        var ambient = Mask(caps.Ambient, lastCap, "process.capabilities.ambient");
        _ = Libc.prctl(Prctl.PR_CAP_AMBIENT, Prctl.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
        for (var c = 0; c <= lastCap; c++)
        {
            if ((ambient & (1UL << c)) == 0) continue;
            // A capability missing from permitted or inheritable cannot be ambient: the kernel refuses, runc ignores it.
            _ = Libc.prctl(Prctl.PR_CAP_AMBIENT, Prctl.PR_CAP_AMBIENT_RAISE, (nuint)c, 0, 0);
        }
    }
}
