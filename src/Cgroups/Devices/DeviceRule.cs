using System.Globalization;
using OciRuntime.Spec;

namespace OciRuntime.Cgroups;

/// <summary>
/// One device cgroup rule in the kernel's terms (cgroup-v1/devices.rst): type 'a' (all), 'c' or 'b'; major and minor,
/// -1 for any ("*"); access bits r/w/m; allow or deny. config-linux.md#allowed-device-list.
/// </summary>
/// <param name="Allow">Allow (true) or deny the matching accesses.</param>
/// <param name="Type">'a', 'c' or 'b'.</param>
/// <param name="Major">Major number, -1 = any.</param>
/// <param name="Minor">Minor number, -1 = any.</param>
/// <param name="Access">Access bits: <see cref="Read"/> | <see cref="Write"/> | <see cref="Mknod"/>.</param>
public sealed record DeviceRule(bool Allow, char Type, long Major, long Minor, int Access)
{
    /// <summary>mknod access ("m"; BPF_DEVCG_ACC_MKNOD).</summary>
    public const int Mknod = 1;

    /// <summary>read access ("r"; BPF_DEVCG_ACC_READ).</summary>
    public const int Read = 2;

    /// <summary>write access ("w"; BPF_DEVCG_ACC_WRITE).</summary>
    public const int Write = 4;

    /// <summary>All of r, w, m.</summary>
    public const int All = Read | Write | Mknod;

    /// <summary>The rule as written to devices.allow / devices.deny, e.g. "c 1:3 rwm" or "a *:* rwm".</summary>
    public string CgroupString => $"{Type} {Number(Major)}:{Number(Minor)} {AccessString(Access)}";

    /// <summary>"rwm"-style text of <paramref name="access"/>.</summary>
    public static string AccessString(int access) =>
        ((access & Read) != 0 ? "r" : "") + ((access & Write) != 0 ? "w" : "") + ((access & Mknod) != 0 ? "m" : "");

    private static string Number(long n) => n < 0 ? "*" : n.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// Converts linux.resources.devices[<paramref name="index"/>]: absent type = "a", absent major/minor = any,
    /// absent access = "rwm".
    /// </summary>
    /// <exception cref="CgroupException">a bad type or access letter (names the field).</exception>
    public static DeviceRule FromSpec(LinuxDeviceCgroup d, int index)
    {
        var field = $"linux.resources.devices[{index}]";
        var type = d.Type switch
        {
            null or "" or "a" => 'a',
            "c" => 'c',
            "b" => 'b',
            _ => throw new CgroupException($"type must be \"a\", \"c\" or \"b\", got \"{d.Type}\"", field + ".type"),
        };
        var access = 0;
        foreach (var ch in d.Access is { Length: > 0 } a ? a : "rwm")
        {
            access |= ch switch
            {
                'r' => Read,
                'w' => Write,
                'm' => Mknod,
                _ => throw new CgroupException($"access must combine \"r\", \"w\" and \"m\", got \"{d.Access}\"", field + ".access"),
            };
        }
        if (d.Major is < -1 or > uint.MaxValue) throw new CgroupException($"major {d.Major} is out of range", field + ".major");
        if (d.Minor is < -1 or > uint.MaxValue) throw new CgroupException($"minor {d.Minor} is out of range", field + ".minor");
        return new DeviceRule(d.Allow, type, d.Major ?? -1, d.Minor ?? -1, access);
    }
}
