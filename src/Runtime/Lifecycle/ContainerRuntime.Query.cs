using System.Globalization;
using System.Runtime.InteropServices;
using OciRuntime.Cgroups;
using OciRuntime.Interop;
using OciRuntime.Runtime.Init;
using OciRuntime.Runtime.State;
using OciRuntime.Spec;

namespace OciRuntime.Runtime.Lifecycle;

public sealed partial class ContainerRuntime
{
    /// <summary>ps: the host pids of every process of the container, ascending.</summary>
    /// <exception cref="ContainerNotFoundException">no such container.</exception>
    public IReadOnlyList<int> Processes(string id)
    {
        using var dir = _store.Open(id);
        var record = dir.Load();
        return StatusOf(dir, record) == ContainerStatus.Stopped ? [] : ProcessesOf(record);
    }

    /// <summary>
    /// The container's processes: from its cgroup when it has one (not in rootless mode), else every process in the
    /// init's pid namespace (when the container has its own), else the init alone.
    /// </summary>
    internal static List<int> ProcessesOf(ContainerRecord record)
    {
        var fromCgroup = CgroupOf(record)?.GetPids() ?? [];
        if (fromCgroup.Count > 0)
        {
            var sorted = new List<int>(fromCgroup);
            sorted.Sort();
            return sorted;
        }
        if (!record.OwnPidNamespace) return [record.InitPid];
        var ns = NamespaceOf(record.InitPid);
        if (ns is null) return [];
        var result = new List<int>();
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            var name = Path.GetFileName(entry);
            if (!int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var pid)) continue;
            if (NamespaceOf(pid) == ns) result.Add(pid);
        }
        result.Sort();
        return result;
    }

    private static string? NamespaceOf(int pid) => SecurePath.ReadLink($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/ns/pid");

    /// <summary>
    /// list: the state of every container in the root, read without the containers' locks as runc does (a create or
    /// delete in progress is not waited for); containers removed while listing, or not yet written, are skipped. A create
    /// killed half-way shows as stopped (its record has no live init); a damaged state.json is one warning line.
    /// </summary>
    public IReadOnlyList<ContainerStateOutput> List()
    {
        var result = new List<ContainerStateOutput>();
        string? passwd = null;
        foreach (var id in _store.List())
        {
            try
            {
                if (_store.TryReadRecord(id) is not { } record) continue;
                var output = StateOutput(record, Path.Combine(_store.Root, id, "exec.fifo"));
                output.Owner = ListOwner(Path.Combine(_store.Root, id), ref passwd);
                result.Add(output);
            }
            catch (DamagedStateException e)
            {
                // As runc's list for a container it cannot load: one line on stderr, the others listed.
                _log.Warn(e.Message);
            }
            catch (IOException e)
            {
                _log.Debug($"list: skipping {id}: {e.Message}");
            }
        }
        return result;
    }

    /// <summary>
    /// list's OWNER, as runc's: the user name of the owner of the container's state directory from the host's
    /// /etc/passwd (read once per list), "#UID" when it has no entry (or cannot be read); "" when the directory is gone.
    /// </summary>
    private static string ListOwner(string directory, ref string? passwd)
    {
        FileOwner st;
        try
        {
            st = Libc.StatPath(directory);
        }
        catch (SyscallException)
        {
            return "";
        }
        passwd ??= Libc.TryReadFileText("/etc/passwd", out _) ?? "";
        return Init.UserHome.Field(passwd, st.Uid, 0) ?? "#" + st.Uid.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// features: what this build of ocirun really implements (runtime-spec features.md). Lists only what works:
    /// seccomp when libseccomp loads, AppArmor and SELinux when this host runs them.
    /// </summary>
    public static Features Features() => new()
    {
        OciVersionMin = "1.0.0",
        OciVersionMax = SpecVersion,
        Hooks = [.. HookRunner.Kinds],
        MountOptions = [.. MountOptions.KnownOptions],
        Linux = new FeaturesLinux
        {
            Namespaces = ["cgroup", "ipc", "mount", "network", "pid", "user", "uts"],
            Capabilities = [.. Capabilities.Names],
            Seccomp = SeccompFeatures(),
            Apparmor = AppArmorFeatures(),
            Selinux = SelinuxFeatures(),
            MountExtensions = new FeaturesMountExtensions { IdMap = new FeaturesEnabled { Enabled = true } },
            // Drivers: cgroupfs on v1/hybrid and v2; systemd (system and user managers, --systemd-cgroup) on v2.
            Cgroup = new FeaturesCgroup { V1 = true, V2 = true, Systemd = true, SystemdUser = true },
        },
        Annotations = new Dictionary<string, string>
        {
            ["org.opencontainers.runtime-spec.features.ocirun.version"] = BuildInfo.Version,
            // runc's key (podman and containerd read it): checkpoint/restore works when a criu is installed (docs/checkpoint.md).
            ["org.opencontainers.runc.checkpoint.enabled"] = OciRuntime.Runtime.Checkpoint.CriuSwrk.FindExecutable() is null ? "false" : "true",
        },
    };
}
