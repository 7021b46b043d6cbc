using System.Globalization;
using OciRuntime.Interop;

namespace OciRuntime.Runtime.Lifecycle;

/// <summary>
/// runc's global <c>--rootless auto|true|false</c>: whether ocirun runs without host privileges. Rootless mode changes
/// two things: the default state root ($XDG_RUNTIME_DIR/ocirun instead of /run/ocirun) and cgroups (not created: the
/// container stays in the caller's cgroup, see <see cref="ContainerRuntime.Rootless"/>). User namespaces, id maps and
/// the mount fallbacks do not depend on it: they follow config.json and the kernel's answers.
/// </summary>
public static class RootlessMode
{
    /// <summary>The state root of a privileged ocirun.</summary>
    public const string PrivilegedRoot = "/run/ocirun";

    /// <summary>
    /// Resolves a --rootless value: "true" and "false" as given; "auto" (or null) is true when the effective uid is not 0,
    /// or when ocirun itself runs in a user namespace that does not map the whole id range (a rootless podman or a
    /// nested container), as runc decides.
    /// </summary>
    /// <exception cref="ArgumentException">any other value.</exception>
    public static bool Resolve(string? value) => value switch
    {
        null or "" or "auto" => Libc.geteuid() != 0 || InPartialUserNamespace(),
        "true" => true,
        "false" => false,
        _ => throw new ArgumentException($"--rootless: invalid value \"{value}\" (auto, true or false)"),
    };

    /// <summary>
    /// The default state root: $XDG_RUNTIME_DIR/ocirun when <paramref name="rootless"/> and XDG_RUNTIME_DIR is set
    /// (a directory the user owns), else /run/ocirun. An explicit --root always wins over this.
    /// </summary>
    public static string DefaultRoot(bool rootless, string? xdgRuntimeDir)
    {
        if (rootless && !string.IsNullOrEmpty(xdgRuntimeDir)) return Path.Combine(xdgRuntimeDir, "ocirun");
        return PrivilegedRoot;
    }

    /// <summary>True when this process's user namespace maps less than the full 32-bit range (it is not the host's).</summary>
    public static bool InPartialUserNamespace()
    {
        try
        {
            var lines = Libc.ReadFileLines("/proc/self/uid_map");
            if (lines.Length != 1) return true;
            var fields = lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return !(fields.Length == 3 && fields[0] == "0" && fields[1] == "0"
                     && uint.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out var size) && size == uint.MaxValue);
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }
}
