using OciRuntime.Interop;

namespace OciRuntime.Runtime.Init;

/// <summary>
/// AppArmor and SELinux labels of the container (runtime-spec config.md#linux-process apparmorProfile and selinuxLabel,
/// config-linux.md#mount-label). Applied when the LSM is enabled; asking for a label on a host without that LSM is an
/// error naming the field (never silently ignored).
/// </summary>
internal static class Lsm
{
    /// <summary>SELINUX_MAGIC, the f_type of selinuxfs.</summary>
    private const long SelinuxMagic = 0xf97cff8c;

    /// <summary>AppArmor is enabled: /sys/module/apparmor/parameters/enabled says "Y" (runc's test).</summary>
    public static bool AppArmorEnabled()
    {
        try
        {
            return Libc.ReadFileText("/sys/module/apparmor/parameters/enabled").StartsWith('Y');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>SELinux is enabled: selinuxfs is mounted on /sys/fs/selinux and this process has a label other than "kernel" (go-selinux's test).</summary>
    public static bool SelinuxEnabled()
    {
        try
        {
            if (Libc.FsType("/sys/fs/selinux") != SelinuxMagic) return false;
            var current = Libc.ReadFileText("/proc/thread-self/attr/current").TrimEnd('\0', '\n');
            return current.Length > 0 && current != "kernel";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Refuses a label for an LSM this host does not run. Call before any setup (create-time error).</summary>
    /// <exception cref="InitException">e.g. <c>config.json: process.apparmorProfile: AppArmor is not enabled on this host</c>.</exception>
    public static void CheckSupported(Spec.Spec spec)
    {
        if (!string.IsNullOrEmpty(spec.Process?.ApparmorProfile) && !AppArmorEnabled())
            throw new InitException("config.json: process.apparmorProfile: AppArmor is not enabled on this host");
        var selinuxLabel = !string.IsNullOrEmpty(spec.Process?.SelinuxLabel);
        var mountLabel = !string.IsNullOrEmpty(spec.Linux?.MountLabel);
        if ((selinuxLabel || mountLabel) && !SelinuxEnabled())
        {
            throw new InitException(selinuxLabel
                ? "config.json: process.selinuxLabel: SELinux is not enabled on this host"
                : "config.json: linux.mountLabel: SELinux is not enabled on this host");
        }
    }

    /// <summary>An AppArmor profile or an SELinux process label is asked for.</summary>
    public static bool WantsExecLabel(Spec.Spec spec) =>
        !string.IsNullOrEmpty(spec.Process?.ApparmorProfile) || !string.IsNullOrEmpty(spec.Process?.SelinuxLabel);

    /// <summary>
    /// Sets the labels the next execve of this thread takes: "exec PROFILE" into attr/apparmor/exec (attr/exec before
    /// Linux 5.1), the SELinux label into attr/exec; both through the trusted procfs handle (CVE-2019-16884).
    /// Must run on the thread that calls execve.
    /// </summary>
    /// <exception cref="InitException">the write failed.</exception>
    public static void SetExecLabels(Spec.Spec spec, ProcFs procfs)
    {
        var thread = ProcFs.ThreadSelf;
        if (spec.Process?.ApparmorProfile is { Length: > 0 } profile)
        {
            try
            {
                try
                {
                    procfs.Write($"{thread}/attr/apparmor/exec", "exec " + profile);
                }
                catch (SyscallException e) when (e.Errno == Errno.ENOENT)
                {
                    procfs.Write($"{thread}/attr/exec", "exec " + profile);
                }
            }
            catch (SyscallException e)
            {
                throw new InitException($"config.json: process.apparmorProfile: apply \"{profile}\": {e.Message}", e);
            }
        }
        if (spec.Process?.SelinuxLabel is { Length: > 0 } label)
        {
            try
            {
                procfs.Write($"{thread}/attr/exec", label);
            }
            catch (SyscallException e)
            {
                throw new InitException($"config.json: process.selinuxLabel: set \"{label}\": {e.Message}", e);
            }
        }
    }

    /// <summary>
    /// The mount data of a mount with linux.mountLabel as its SELinux context (runc's label.FormatMountLabel), for the
    /// file systems runc labels that way: not bind mounts, proc, sysfs, cgroup, cgroup2 or mqueue.
    /// </summary>
    public static string? WithMountLabel(string? data, string? fsType, bool isBind, string? mountLabel)
    {
        if (string.IsNullOrEmpty(mountLabel) || isBind || fsType is "proc" or "sysfs" or "cgroup" or "cgroup2" or "mqueue" or "bind") return data;
        var context = $"context=\"{mountLabel}\"";
        return string.IsNullOrEmpty(data) ? context : data + "," + context;
    }
}
