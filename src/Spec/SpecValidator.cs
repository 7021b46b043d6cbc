using System.Globalization;
using static OciRuntime.Spec.JsonErrors;

namespace OciRuntime.Spec;

/// <summary>
/// Checks a parsed <see cref="Spec"/> against the runtime-spec's MUSTs (config.md, config-linux.md) and runc's stricter rules,
/// reporting each problem with the JSON path of the offending value, e.g. <c>process.capabilities.bounding[3]</c>.
/// Allocation-free for a valid configuration apart from the result list and a few small sets.
/// </summary>
public static class SpecValidator
{
    /// <summary>Validates <paramref name="spec"/> and throws for the first problem found (in document order).</summary>
    /// <param name="spec">The configuration.</param>
    /// <param name="options">Bundle and start context; <see langword="null"/> = defaults (no file system checks).</param>
    /// <exception cref="SpecException">The configuration is invalid; <see cref="SpecException.Errors"/> lists every problem.</exception>
    public static void Validate(Spec spec, ValidationOptions? options = null)
    {
        IReadOnlyList<SpecError> errors = Check(spec, options);
        if (errors.Count > 0)
        {
            throw new SpecException(options?.FileName ?? SpecSerializer.ConfigFileName, errors);
        }
    }

    /// <summary>Returns every problem of <paramref name="spec"/>, in document order; empty when valid.</summary>
    /// <param name="spec">The configuration.</param>
    /// <param name="options">Bundle and start context; <see langword="null"/> = defaults (no file system checks).</param>
    /// <returns>The problems found.</returns>
    public static IReadOnlyList<SpecError> Check(Spec spec, ValidationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var checker = new Checker(spec, options ?? new ValidationOptions());
        checker.Run();
        return checker.Errors;
    }

    /// <summary>
    /// Validates a standalone process document (the <c>--process process.json</c> of <c>exec</c>) with the same rules as
    /// <c>config.json</c>'s <c>process</c>; paths are relative to the document, e.g. <c>args</c>, <c>capabilities.bounding[3]</c>.
    /// Throws for the first problem.
    /// </summary>
    /// <param name="process">The process.</param>
    /// <param name="options">Start context (Detached, HasConsoleSocket, AllowUnknownCapabilities, FileName e.g. "process.json").</param>
    /// <exception cref="SpecException">The process is invalid.</exception>
    public static void ValidateProcess(Process process, ValidationOptions? options = null)
    {
        IReadOnlyList<SpecError> errors = CheckProcess(process, options);
        if (errors.Count > 0)
        {
            throw new SpecException(options?.FileName ?? SpecSerializer.ConfigFileName, errors);
        }
    }

    /// <summary>Returns every problem of a standalone process document; see <see cref="ValidateProcess"/>.</summary>
    /// <param name="process">The process.</param>
    /// <param name="options">Start context.</param>
    /// <returns>The problems found, with paths relative to the process document.</returns>
    public static IReadOnlyList<SpecError> CheckProcess(Process process, ValidationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(process);
        var checker = new Checker(new Spec { Process = process }, options ?? new ValidationOptions(), processPrefix: "");
        checker.RunProcessOnly();
        return checker.Errors;
    }

    private sealed class Checker(Spec spec, ValidationOptions options, string processPrefix = "process.")
    {
        private readonly List<LinuxNamespace> _namespaces = spec.Linux?.Namespaces ?? [];

        // "process." for config.json, "" for a standalone process.json.
        private readonly string _pp = processPrefix;

        public void RunProcessOnly()
        {
            // Generated: allocates nothing unless it finds a null.
            if (Json.SpecFastJson.FindNullProcess(spec.Process!) is { } finding)
            {
                Error(finding.Path, $"must not be null (expected {finding.Expected})");
                return;
            }
            CheckProcess();
        }

        public List<SpecError> Errors { get; } = [];

        private void Error(string path, string message) => Errors.Add(new SpecError(path, message));

        private static string Q(string? value) => Quote(value ?? "");

        private static string Idx(string prefix, int index) => string.Create(CultureInfo.InvariantCulture, $"{prefix}[{index}]");

        private static string Num<T>(T value) where T : IFormattable => value.ToString(null, CultureInfo.InvariantCulture);

        private LinuxNamespace? FindNamespace(string type)
        {
            foreach (LinuxNamespace ns in _namespaces)
            {
                if (ns.Type == type)
                {
                    return ns;
                }
            }
            return null;
        }

        private bool HasNamespace(string type) => FindNamespace(type) is not null;

        public void Run()
        {
            // Null list elements or dictionary values (possible when the Spec was built in code) would break every rule below.
            if (Json.SpecFastJson.FindNullSpec(spec) is { } finding)
            {
                Error(finding.Path, $"must not be null (expected {finding.Expected})");
                return;
            }
            CheckVersion();
            CheckProcess();
            CheckRoot();
            CheckHostnames();
            CheckMounts();
            CheckHooks();
            CheckAnnotations();
            if (spec.Linux is { } linux)
            {
                CheckLinux(linux);
            }
        }

        // ---- ociVersion -----------------------------------------------------------------------------------------------

        private void CheckVersion()
        {
            string version = spec.OciVersion;
            if (string.IsNullOrEmpty(version))
            {
                Error("ociVersion", "is required");
            }
            else if (!SpecVersion.TryParse(version, out int major, out int minor, out _))
            {
                Error("ociVersion", $"{Q(version)} is not a valid SemVer 2.0.0 version");
            }
            else if (major != SpecVersion.SupportedMajor || (minor > SpecVersion.MaxSupportedMinor && !options.AllowNewerMinorVersion))
            {
                Error("ociVersion", $"unsupported version {Q(version)}: this runtime supports {SpecVersion.Minimum} to 1.{SpecVersion.MaxSupportedMinor}.x");
            }
        }

        // ---- process --------------------------------------------------------------------------------------------------

        private void CheckProcess()
        {
            Process? process = spec.Process;
            if (process is null)
            {
                if (options.RequireProcess)
                {
                    Error("process", "is required");
                }
                return;
            }

            if (process.Terminal && options.Detached && !options.HasConsoleSocket)
            {
                Error(_pp + "terminal", "a terminal was requested for a detached container but no console socket was given");
            }
            else if (!process.Terminal && options.HasConsoleSocket)
            {
                Error(_pp + "terminal", "a console socket was given but process.terminal is false");
            }
            else if (process.Terminal && options.HasConsoleSocket && !options.Detached)
            {
                Error(_pp + "terminal", "a console socket can only be used when the container is detached");
            }

            if (process.User is { Umask: > 0x1FF } user)
            {
                Error(_pp + "user.umask", $"must be at most 0777 (511), got {Num(user.Umask.Value)}");
            }

            if (process.Args is null || process.Args.Count == 0)
            {
                Error(_pp + "args", "must contain at least one entry");
            }
            else if (string.IsNullOrEmpty(process.Args[0]))
            {
                Error(_pp + "args[0]", "must not be empty");
            }

            if (process.Env is { } env)
            {
                for (int i = 0; i < env.Count; i++)
                {
                    string entry = env[i];
                    int eq = entry.IndexOf('=', StringComparison.Ordinal);
                    if (eq < 0)
                    {
                        Error(Idx(_pp + "env", i), $"{Q(entry)} is not of the form KEY=value");
                    }
                    else if (eq == 0)
                    {
                        Error(Idx(_pp + "env", i), $"{Q(entry)} has an empty variable name");
                    }
                    else if (entry.Contains('\0', StringComparison.Ordinal))
                    {
                        Error(Idx(_pp + "env", i), "must not contain a NUL character");
                    }
                }
            }

            if (string.IsNullOrEmpty(process.Cwd))
            {
                Error(_pp + "cwd", "is required");
            }
            else if (!IsAbsolute(process.Cwd))
            {
                Error(_pp + "cwd", $"must be an absolute path, got {Q(process.Cwd)}");
            }

            if (process.Capabilities is { } caps)
            {
                CheckCapabilities(_pp + "capabilities.bounding", caps.Bounding);
                CheckCapabilities(_pp + "capabilities.effective", caps.Effective);
                CheckCapabilities(_pp + "capabilities.inheritable", caps.Inheritable);
                CheckCapabilities(_pp + "capabilities.permitted", caps.Permitted);
                CheckCapabilities(_pp + "capabilities.ambient", caps.Ambient);
            }

            if (process.Rlimits is { } rlimits)
            {
                CheckRlimits(rlimits);
            }

            if (process.OomScoreAdj is { } oom and (< -1000 or > 1000))
            {
                Error(_pp + "oomScoreAdj", $"must be between -1000 and 1000, got {Num(oom)}");
            }

            if (process.Scheduler is { } scheduler)
            {
                CheckScheduler(scheduler);
            }

            if (process.IoPriority is { } io)
            {
                if (string.IsNullOrEmpty(io.Class))
                {
                    Error(_pp + "ioPriority.class", "is required");
                }
                else if (!IoPriorityClasses.IsKnown(io.Class))
                {
                    Error(_pp + "ioPriority.class", $"unknown I/O priority class {Q(io.Class)} (expected IOPRIO_CLASS_RT, IOPRIO_CLASS_BE or IOPRIO_CLASS_IDLE)");
                }
                if (io.Priority is < 0 or > 7)
                {
                    Error(_pp + "ioPriority.priority", $"must be between 0 and 7, got {Num(io.Priority)}");
                }
            }

            if (process.ExecCpuAffinity is { } affinity)
            {
                if (!string.IsNullOrEmpty(affinity.Initial) && !CpuList.IsValid(affinity.Initial))
                {
                    Error(_pp + "execCPUAffinity.initial", $"invalid CPU list {Q(affinity.Initial)}");
                }
                if (!string.IsNullOrEmpty(affinity.Final) && !CpuList.IsValid(affinity.Final))
                {
                    Error(_pp + "execCPUAffinity.final", $"invalid CPU list {Q(affinity.Final)}");
                }
            }
        }

        // An unknown or unavailable capability is not an error (config.md#linux-process: runtimes SHOULD NOT fail on it,
        // runc 1.1 warns and skips it): the runtime logs it (Capabilities.RemoveUnavailable). Only a null or empty name is refused.
        private void CheckCapabilities(string path, List<string>? names)
        {
            if (names is null)
            {
                return;
            }
            for (int i = 0; i < names.Count; i++)
            {
                if (string.IsNullOrEmpty(names[i]))
                {
                    Error(Idx(path, i), "must not be empty");
                }
            }
        }

        private void CheckRlimits(List<PosixRlimit> rlimits)
        {
            for (int i = 0; i < rlimits.Count; i++)
            {
                PosixRlimit rlimit = rlimits[i];
                string Path(string field) => Idx(_pp + "rlimits", i) + field;
                if (string.IsNullOrEmpty(rlimit.Type))
                {
                    Error(Path(".type"), "is required");
                }
                else if (!RlimitTypes.IsKnown(rlimit.Type))
                {
                    Error(Path(".type"), $"unknown rlimit type {Q(rlimit.Type)}");
                }
                else
                {
                    for (int j = 0; j < i; j++)
                    {
                        if (rlimits[j].Type == rlimit.Type)
                        {
                            Error(Path(".type"), $"duplicate rlimit {Q(rlimit.Type)} (also at {_pp}rlimits[{Num(j)}])");
                            break;
                        }
                    }
                }
                if (rlimit.Soft > rlimit.Hard)
                {
                    Error(Path(".soft"), $"soft limit {Num(rlimit.Soft)} is greater than the hard limit {Num(rlimit.Hard)}");
                }
            }
        }

        private void CheckScheduler(Scheduler scheduler)
        {
            if (string.IsNullOrEmpty(scheduler.Policy))
            {
                Error(_pp + "scheduler.policy", "is required");
            }
            else if (!SchedulerPolicies.IsKnown(scheduler.Policy))
            {
                Error(_pp + "scheduler.policy", $"unknown scheduling policy {Q(scheduler.Policy)}");
            }
            if (scheduler.Nice is { } nice and (< -20 or > 19))
            {
                Error(_pp + "scheduler.nice", $"must be between -20 and 19, got {Num(nice)}");
            }
            if (scheduler.Priority is { } priority)
            {
                bool realtime = scheduler.Policy is "SCHED_FIFO" or "SCHED_RR";
                if (realtime && priority is < 1 or > 99)
                {
                    Error(_pp + "scheduler.priority", $"must be between 1 and 99 for {scheduler.Policy}, got {Num(priority)}");
                }
                else if (!realtime && priority != 0)
                {
                    Error(_pp + "scheduler.priority", $"must be 0 for {Q(scheduler.Policy)}, got {Num(priority)}");
                }
            }
            if (scheduler.Flags is { } flags)
            {
                for (int i = 0; i < flags.Count; i++)
                {
                    if (!SchedulerFlags.IsKnown(flags[i]))
                    {
                        Error(Idx(_pp + "scheduler.flags", i), $"unknown scheduler flag {Q(flags[i])}");
                    }
                }
            }
            if (scheduler.Policy == "SCHED_DEADLINE")
            {
                ulong runtime = scheduler.Runtime ?? 0, deadline = scheduler.Deadline ?? 0, period = scheduler.Period ?? 0;
                if (deadline != 0 && runtime > deadline)
                {
                    Error(_pp + "scheduler.runtime", $"must not exceed the deadline ({Num(deadline)} ns), got {Num(runtime)}");
                }
                if (period != 0 && deadline > period)
                {
                    Error(_pp + "scheduler.deadline", $"must not exceed the period ({Num(period)} ns), got {Num(deadline)}");
                }
            }
        }

        // ---- root, hostname, mounts, hooks, annotations ---------------------------------------------------------------

        private void CheckRoot()
        {
            Root? root = spec.Root;
            if (root is null)
            {
                Error("root", "is required");
                return;
            }
            if (string.IsNullOrEmpty(root.Path))
            {
                Error("root.path", "is required");
                return;
            }
            if (options.BundleDir is { } bundle)
            {
                string resolved = Path.IsPathRooted(root.Path) ? root.Path : Path.Combine(bundle, root.Path);
                if (!Directory.Exists(resolved))
                {
                    Error("root.path", File.Exists(resolved)
                        ? $"the root filesystem {Q(resolved)} is not a directory"
                        : $"the root filesystem {Q(resolved)} does not exist");
                }
            }
        }

        private void CheckHostnames()
        {
            CheckUtsName("hostname", spec.Hostname);
            CheckUtsName("domainname", spec.Domainname);
        }

        private void CheckUtsName(string field, string? value)
        {
            if (string.IsNullOrEmpty(value))
            {
                return;
            }
            if (!HasNamespace(NamespaceType.Uts))
            {
                Error(field, $"setting the {field} requires a UTS namespace (linux.namespaces has no \"uts\" entry)");
            }
            else if (System.Text.Encoding.UTF8.GetByteCount(value) > 64)
            {
                Error(field, "must be at most 64 bytes long");
            }
        }

        private void CheckMounts()
        {
            if (spec.Mounts is not { } mounts)
            {
                return;
            }
            for (int i = 0; i < mounts.Count; i++)
            {
                Mount mount = mounts[i];
                string Path(string field) => Idx("mounts", i) + field;
                if (string.IsNullOrEmpty(mount.Destination))
                {
                    Error(Path(".destination"), "is required");
                }
                else if (!IsAbsolute(mount.Destination))
                {
                    Error(Path(".destination"), $"must be an absolute path, got {Q(mount.Destination)}");
                }
                if (string.IsNullOrEmpty(mount.Source) && (mount.Type == "bind" || (mount.Options is { } options && (options.Contains("bind") || options.Contains("rbind")))))
                {
                    Error(Path(".source"), "is required for a bind mount");
                }
                if (mount.UidMappings is not null)
                {
                    CheckMappings(Path(".uidMappings"), mount.UidMappings);
                }
                if (mount.GidMappings is not null)
                {
                    CheckMappings(Path(".gidMappings"), mount.GidMappings);
                }
            }
        }

        private void CheckHooks()
        {
            if (spec.Hooks is not { } hooks)
            {
                return;
            }
            CheckHookList("hooks.prestart", hooks.Prestart);
            CheckHookList("hooks.createRuntime", hooks.CreateRuntime);
            CheckHookList("hooks.createContainer", hooks.CreateContainer);
            CheckHookList("hooks.startContainer", hooks.StartContainer);
            CheckHookList("hooks.poststart", hooks.Poststart);
            CheckHookList("hooks.poststop", hooks.Poststop);
        }

        private void CheckHookList(string prefix, List<Hook>? hooks)
        {
            if (hooks is null)
            {
                return;
            }
            for (int i = 0; i < hooks.Count; i++)
            {
                Hook hook = hooks[i];
                string Path(string field) => Idx(prefix, i) + field;
                if (string.IsNullOrEmpty(hook.Path))
                {
                    Error(Path(".path"), "is required");
                }
                else if (!IsAbsolute(hook.Path))
                {
                    Error(Path(".path"), $"must be an absolute path, got {Q(hook.Path)}");
                }
                if (hook.Timeout is { } timeout and <= 0)
                {
                    Error(Path(".timeout"), $"must be greater than zero, got {Num(timeout)}");
                }
            }
        }

        private void CheckAnnotations()
        {
            if (spec.Annotations is { } annotations && annotations.ContainsKey(""))
            {
                Error("annotations['']", "keys must not be empty");
            }
        }

        // ---- linux ----------------------------------------------------------------------------------------------------

        private void CheckLinux(Linux linux)
        {
            CheckNamespaces();
            CheckUserNamespaceMappings(linux);
            if (linux.CgroupsPath is { Length: > 0 } cgroupsPath)
            {
                CheckCgroupsPath(cgroupsPath);
            }
            if (linux.Sysctl is { } sysctl)
            {
                CheckSysctl(sysctl);
            }
            if (linux.Resources is { } resources)
            {
                CheckResources(resources);
            }
            CheckDevices(linux.Devices);
            if (linux.NetDevices is { } netDevices)
            {
                CheckNetDevices(netDevices);
            }
            if (linux.Seccomp is { } seccomp)
            {
                CheckSeccomp(seccomp);
            }
            if (linux.RootfsPropagation is { Length: > 0 } propagation && !RootfsPropagationModes.IsKnown(propagation))
            {
                Error("linux.rootfsPropagation", $"unknown propagation mode {Q(propagation)} (expected one of {string.Join(", ", RootfsPropagationModes.All)})");
            }
            CheckAbsoluteList("linux.maskedPaths", linux.MaskedPaths);
            CheckAbsoluteList("linux.readonlyPaths", linux.ReadonlyPaths);
            if (linux.IntelRdt is { } rdt)
            {
                CheckIntelRdt(rdt);
            }
            if (linux.Personality is { } personality)
            {
                CheckPersonality(personality);
            }
            if (linux.TimeOffsets is { } offsets)
            {
                CheckTimeOffsets(offsets);
            }
            if (linux.MemoryPolicy is { } policy)
            {
                CheckMemoryPolicy(policy);
            }
        }

        private void CheckNamespaces()
        {
            for (int i = 0; i < _namespaces.Count; i++)
            {
                LinuxNamespace ns = _namespaces[i];
                string Path(string field) => Idx("linux.namespaces", i) + field;
                if (string.IsNullOrEmpty(ns.Type))
                {
                    Error(Path(".type"), "is required");
                    continue;
                }
                if (!NamespaceType.IsKnown(ns.Type))
                {
                    Error(Path(".type"), $"unknown namespace type {Q(ns.Type)} (expected one of {string.Join(", ", NamespaceType.All)})");
                    continue;
                }
                for (int j = 0; j < i; j++)
                {
                    if (_namespaces[j].Type == ns.Type)
                    {
                        Error(Path(".type"), $"duplicate namespace {Q(ns.Type)} (also at linux.namespaces[{Num(j)}])");
                        break;
                    }
                }
                if (!string.IsNullOrEmpty(ns.Path) && !IsAbsolute(ns.Path))
                {
                    Error(Path(".path"), $"must be an absolute path, got {Q(ns.Path)}");
                }
            }
        }

        // A cgroupsPath names directories: a NUL would cut the path handed to the kernel, a control character or an
        // unpaired surrogate (no UTF-8 form) cannot be a cgroup name that the runtime finds again.
        private void CheckCgroupsPath(string path)
        {
            for (var i = 0; i < path.Length; i++)
            {
                var c = path[i];
                string? what = c == '\0' ? "a NUL character"
                    : c < 0x20 || c == 0x7F ? string.Create(CultureInfo.InvariantCulture, $"the control character U+{(int)c:X4}")
                    : char.IsHighSurrogate(c) && i + 1 < path.Length && char.IsLowSurrogate(path[i + 1]) ? null
                    : char.IsSurrogate(c) ? "an unpaired surrogate (not valid UTF-8)"
                    : null;
                if (what is not null)
                {
                    Error("linux.cgroupsPath", $"must not contain {what}");
                    return;
                }
                if (char.IsHighSurrogate(c)) i++;
            }
        }

        private void CheckUserNamespaceMappings(Linux linux)
        {
            bool hasUserNs = HasNamespace(NamespaceType.User);
            if (!hasUserNs && linux.UidMappings is { Count: > 0 })
            {
                Error("linux.uidMappings", "user namespace mappings require a user namespace (linux.namespaces has no \"user\" entry)");
            }
            if (!hasUserNs && linux.GidMappings is { Count: > 0 })
            {
                Error("linux.gidMappings", "user namespace mappings require a user namespace (linux.namespaces has no \"user\" entry)");
            }
            CheckMappings("linux.uidMappings", linux.UidMappings);
            CheckMappings("linux.gidMappings", linux.GidMappings);
        }

        private void CheckMappings(string prefix, List<LinuxIdMapping>? mappings)
        {
            if (mappings is null)
            {
                return;
            }
            for (int i = 0; i < mappings.Count; i++)
            {
                LinuxIdMapping mapping = mappings[i];
                if (mapping.Size == 0)
                {
                    Error(Idx(prefix, i) + ".size", "must be greater than zero");
                }
                else if ((ulong)mapping.ContainerId + mapping.Size > 1UL << 32 || (ulong)mapping.HostId + mapping.Size > 1UL << 32)
                {
                    Error(Idx(prefix, i) + ".size", $"the mapped range exceeds the 32-bit ID space (containerID {Num(mapping.ContainerId)}, hostID {Num(mapping.HostId)}, size {Num(mapping.Size)})");
                }
            }
        }

        private void CheckSysctl(Dictionary<string, string> sysctl)
        {
            foreach (string key in sysctl.Keys)
            {
                string path = JsonPaths.Property("linux.sysctl", key);
                string name = key.Replace('/', '.');
                if (name.Length == 0)
                {
                    Error(path, "sysctl names must not be empty");
                }
                else if (name.StartsWith("kernel.shm", StringComparison.Ordinal) || name.StartsWith("kernel.msg", StringComparison.Ordinal) ||
                         name.StartsWith("kernel.sem", StringComparison.Ordinal) || name.StartsWith("fs.mqueue.", StringComparison.Ordinal))
                {
                    if (!HasNamespace(NamespaceType.Ipc))
                    {
                        Error(path, $"sysctl {Q(key)} requires an IPC namespace (it cannot be set in the host's IPC namespace)");
                    }
                }
                else if (name.StartsWith("net.", StringComparison.Ordinal))
                {
                    if (!HasNamespace(NamespaceType.Network))
                    {
                        Error(path, $"sysctl {Q(key)} requires a network namespace (it cannot be set in the host's network namespace)");
                    }
                }
                else if (name is "kernel.hostname" or "kernel.domainname")
                {
                    if (!HasNamespace(NamespaceType.Uts))
                    {
                        Error(path, $"sysctl {Q(key)} requires a UTS namespace");
                    }
                    else if ((name == "kernel.hostname" ? spec.Hostname : spec.Domainname) is { Length: > 0 } field && field != sysctl[key])
                    {
                        // Two different values: which would win depends on the order the runtime applies them (runc 1.1
                        // refuses kernel.hostname outright); the same value twice is no conflict.
                        string fieldName = name == "kernel.hostname" ? "hostname" : "domainname";
                        Error(path, $"sysctl {Q(key)} conflicts with {fieldName} {Q(field)} (set one of them)");
                    }
                }
                else
                {
                    Error(path, $"sysctl {Q(key)} is not namespaced and cannot be set for a container");
                }
            }
        }

        private void CheckDevices(List<LinuxDevice>? devices)
        {
            if (devices is null)
            {
                return;
            }
            for (int i = 0; i < devices.Count; i++)
            {
                LinuxDevice device = devices[i];
                string Path(string field) => Idx("linux.devices", i) + field;
                if (string.IsNullOrEmpty(device.Path))
                {
                    Error(Path(".path"), "is required");
                }
                else if (!IsAbsolute(device.Path))
                {
                    Error(Path(".path"), $"must be an absolute path, got {Q(device.Path)}");
                }
                else if (device.Path.Trim('/').Length == 0)
                {
                    // Anywhere in the container (runc 1.1 and crun make it where it says, resolved inside the rootfs), not "/".
                    Error(Path(".path"), $"must name a file in the container, got {Q(device.Path)}");
                }
                else
                {
                    for (int j = 0; j < i; j++)
                    {
                        if (devices[j].Path == device.Path)
                        {
                            Error(Path(".path"), $"duplicate device {Q(device.Path)} (also at linux.devices[{Num(j)}])");
                            break;
                        }
                    }
                }
                if (device.Type is not ("c" or "b" or "u" or "p"))
                {
                    Error(Path(".type"), string.IsNullOrEmpty(device.Type) ? "is required (one of c, b, u or p)" : $"must be one of c, b, u or p, got {Q(device.Type)}");
                }
                else if (device.Type != "p")
                {
                    if (device.Major < 0)
                    {
                        Error(Path(".major"), $"must not be negative, got {Num(device.Major)}");
                    }
                    if (device.Minor < 0)
                    {
                        Error(Path(".minor"), $"must not be negative, got {Num(device.Minor)}");
                    }
                }
            }
        }

        private void CheckNetDevices(Dictionary<string, LinuxNetDevice> netDevices)
        {
            if (netDevices.Count > 0 && FindNamespace(NamespaceType.Network) is null)
            {
                Error("linux.netDevices", "moving network devices requires a network namespace (linux.namespaces has no \"network\" entry)");
            }
            HashSet<string>? names = null;
            foreach ((string hostName, LinuxNetDevice device) in netDevices)
            {
                string path = JsonPaths.Property("linux.netDevices", hostName);
                if (!IsValidInterfaceName(hostName))
                {
                    Error(path, $"invalid network interface name {Q(hostName)}");
                }
                string target = string.IsNullOrEmpty(device.Name) ? hostName : device.Name;
                if (!string.IsNullOrEmpty(device.Name) && !IsValidInterfaceName(device.Name))
                {
                    Error(path + ".name", $"invalid network interface name {Q(device.Name)}");
                }
                else if (!(names ??= new HashSet<string>(StringComparer.Ordinal)).Add(target))
                {
                    Error(path + ".name", $"duplicate interface name {Q(target)} in the container");
                }
            }
        }

        private static bool IsValidInterfaceName(string name)
        {
            if (name.Length is 0 or > 15 || name is "." or "..")
            {
                return false;
            }
            foreach (char c in name)
            {
                if (c is '/' or ':' or '\0' || char.IsWhiteSpace(c) || c > 0x7E)
                {
                    return false;
                }
            }
            return true;
        }

        private void CheckResources(LinuxResources resources)
        {
            if (resources.Devices is { } rules)
            {
                for (int i = 0; i < rules.Count; i++)
                {
                    LinuxDeviceCgroup rule = rules[i];
                    string Path(string field) => Idx("linux.resources.devices", i) + field;
                    if (rule.Type is { Length: > 0 } type && type is not ("a" or "c" or "b"))
                    {
                        Error(Path(".type"), $"must be one of a, c or b, got {Q(type)}");
                    }
                    if (rule.Access is { } access && access.AsSpan().IndexOfAnyExcept("rwm") >= 0)
                    {
                        Error(Path(".access"), $"must contain only the characters r, w and m, got {Q(access)}");
                    }
                }
            }

            if (resources.Memory is { } memory)
            {
                CheckMemoryValue("limit", memory.Limit);
                CheckMemoryValue("reservation", memory.Reservation);
                CheckMemoryValue("swap", memory.Swap);
                CheckMemoryValue("kernel", memory.Kernel);
                CheckMemoryValue("kernelTCP", memory.KernelTcp);
                if (memory is { Limit: > 0, Swap: > 0 } && memory.Swap < memory.Limit)
                {
                    Error("linux.resources.memory.swap", $"must be greater than or equal to memory.limit ({Num(memory.Limit.Value)}), got {Num(memory.Swap.Value)}");
                }
                if (memory.Swappiness is > 100)
                {
                    Error("linux.resources.memory.swappiness", $"must be between 0 and 100, got {Num(memory.Swappiness.Value)}");
                }
            }

            if (resources.Cpu is { } cpu)
            {
                if (!string.IsNullOrEmpty(cpu.Cpus) && !CpuList.IsValid(cpu.Cpus))
                {
                    Error("linux.resources.cpu.cpus", $"invalid CPU list {Q(cpu.Cpus)} (expected e.g. \"0-3,5\")");
                }
                if (!string.IsNullOrEmpty(cpu.Mems) && !CpuList.IsValid(cpu.Mems))
                {
                    Error("linux.resources.cpu.mems", $"invalid memory node list {Q(cpu.Mems)} (expected e.g. \"0-1\")");
                }
                if (cpu is { Quota: > 0, Burst: { } burst } && burst > (ulong)cpu.Quota.Value)
                {
                    Error("linux.resources.cpu.burst", $"must not exceed cpu.quota ({Num(cpu.Quota.Value)}), got {Num(burst)}");
                }
                if (cpu.Idle is { } idle and not (0 or 1))
                {
                    Error("linux.resources.cpu.idle", $"must be 0 or 1, got {Num(idle)}");
                }
            }

            if (resources.BlockIO?.WeightDevice is { } weights)
            {
                for (int i = 0; i < weights.Count; i++)
                {
                    if (weights[i] is { Weight: null, LeafWeight: null })
                    {
                        Error(Idx("linux.resources.blockIO.weightDevice", i), "at least one of weight or leafWeight is required");
                    }
                }
            }

            if (resources.HugepageLimits is { } hugepages)
            {
                for (int i = 0; i < hugepages.Count; i++)
                {
                    if (!IsValidPageSize(hugepages[i].PageSize))
                    {
                        Error(Idx("linux.resources.hugepageLimits", i) + ".pageSize", $"invalid page size {Q(hugepages[i].PageSize)} (expected <size><unit>B, e.g. \"2MB\" or \"1GB\")");
                    }
                }
            }

            if (resources.Network?.Priorities is { } priorities)
            {
                for (int i = 0; i < priorities.Count; i++)
                {
                    if (string.IsNullOrEmpty(priorities[i].Name))
                    {
                        Error(Idx("linux.resources.network.priorities", i) + ".name", "is required");
                    }
                }
            }

            if (resources.Rdma is { } rdma)
            {
                foreach ((string device, LinuxRdma limits) in rdma)
                {
                    if (limits is { HcaHandles: null, HcaObjects: null })
                    {
                        Error(JsonPaths.Property("linux.resources.rdma", device), "at least one of hcaHandles or hcaObjects is required");
                    }
                }
            }

            if (resources.Unified is { } unified)
            {
                foreach (string key in unified.Keys)
                {
                    int dot = key.IndexOf('.', StringComparison.Ordinal);
                    if (dot <= 0 || dot == key.Length - 1 || key.Contains('/', StringComparison.Ordinal) || key.Contains('\0', StringComparison.Ordinal))
                    {
                        Error(JsonPaths.Property("linux.resources.unified", key), $"invalid cgroup v2 file name {Q(key)} (expected <controller>.<file>, e.g. \"memory.high\")");
                    }
                }
            }
        }

        private void CheckMemoryValue(string name, long? value)
        {
            if (value is < -1)
            {
                Error("linux.resources.memory." + name, $"must be -1 (unlimited) or a number of bytes, got {Num(value.Value)}");
            }
        }

        private static bool IsValidPageSize(string pageSize)
        {
            // <size><K|M|G|T|P>B, e.g. 64KB, 2MB, 1GB.
            int digits = 0;
            while (digits < pageSize.Length && char.IsAsciiDigit(pageSize[digits]))
            {
                digits++;
            }
            return digits > 0 && pageSize.Length == digits + 2 && pageSize[digits] is 'K' or 'M' or 'G' or 'T' or 'P' && pageSize[digits + 1] == 'B'
                   && pageSize.AsSpan(0, digits).IndexOfAnyExcept('0') >= 0;
        }

        private void CheckSeccomp(LinuxSeccomp seccomp)
        {
            const string prefix = "linux.seccomp";
            if (string.IsNullOrEmpty(seccomp.DefaultAction))
            {
                Error(prefix + ".defaultAction", "is required");
            }
            else if (!SeccompActions.IsKnown(seccomp.DefaultAction))
            {
                Error(prefix + ".defaultAction", $"unknown seccomp action {Q(seccomp.DefaultAction)}");
            }
            else if (seccomp.DefaultAction == SeccompActions.Notify)
            {
                Error(prefix + ".defaultAction", "SCMP_ACT_NOTIFY cannot be used as the default action");
            }
            if (seccomp.DefaultErrnoRet is not null && !SeccompActions.TakesErrno(seccomp.DefaultAction) && SeccompActions.IsKnown(seccomp.DefaultAction))
            {
                Error(prefix + ".defaultErrnoRet", $"is only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not {Q(seccomp.DefaultAction)}");
            }
            if (seccomp.Architectures is { } arches)
            {
                for (int i = 0; i < arches.Count; i++)
                {
                    if (!SeccompArchitectures.IsKnown(arches[i]))
                    {
                        Error(Idx(prefix + ".architectures", i), $"unknown seccomp architecture {Q(arches[i])}");
                    }
                }
            }
            if (seccomp.Flags is { } flags)
            {
                for (int i = 0; i < flags.Count; i++)
                {
                    if (!SeccompFlags.IsKnown(flags[i]))
                    {
                        Error(Idx(prefix + ".flags", i), $"unknown seccomp flag {Q(flags[i])}");
                    }
                }
            }
            bool hasListener = !string.IsNullOrEmpty(seccomp.ListenerPath);
            if (!string.IsNullOrEmpty(seccomp.ListenerMetadata) && !hasListener)
            {
                Error(prefix + ".listenerMetadata", "must not be set without linux.seccomp.listenerPath");
            }
            if (seccomp.Syscalls is not { } syscalls)
            {
                return;
            }
            for (int i = 0; i < syscalls.Count; i++)
            {
                LinuxSyscall rule = syscalls[i];
                string Path(string field) => Idx(prefix + ".syscalls", i) + field;
                if (rule.Names.Count == 0)
                {
                    Error(Path(".names"), "must contain at least one syscall name");
                }
                for (int j = 0; j < rule.Names.Count; j++)
                {
                    if (string.IsNullOrEmpty(rule.Names[j]))
                    {
                        Error(Idx(Path(".names"), j), "must not be empty");
                    }
                }
                if (string.IsNullOrEmpty(rule.Action))
                {
                    Error(Path(".action"), "is required");
                }
                else if (!SeccompActions.IsKnown(rule.Action))
                {
                    Error(Path(".action"), $"unknown seccomp action {Q(rule.Action)}");
                }
                else if (rule.Action == SeccompActions.Notify)
                {
                    if (!hasListener)
                    {
                        Error(Path(".action"), "SCMP_ACT_NOTIFY requires linux.seccomp.listenerPath");
                    }
                    else if (Lists.ContainsOrdinal(rule.Names, "write"))
                    {
                        Error(Path(".action"), "SCMP_ACT_NOTIFY cannot be used for the write syscall");
                    }
                }
                if (rule.ErrnoRet is not null && SeccompActions.IsKnown(rule.Action) && !SeccompActions.TakesErrno(rule.Action))
                {
                    Error(Path(".errnoRet"), $"is only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not {Q(rule.Action)}");
                }
                if (rule.Args is not { } args)
                {
                    continue;
                }
                for (int j = 0; j < args.Count; j++)
                {
                    LinuxSeccompArg arg = args[j];
                    string ArgPath(string field) => Idx(Path(".args"), j) + field;
                    if (arg.Index > 5)
                    {
                        Error(ArgPath(".index"), $"must be between 0 and 5, got {Num(arg.Index)}");
                    }
                    if (string.IsNullOrEmpty(arg.Op))
                    {
                        Error(ArgPath(".op"), "is required");
                    }
                    else if (!SeccompOperators.IsKnown(arg.Op))
                    {
                        Error(ArgPath(".op"), $"unknown seccomp operator {Q(arg.Op)}");
                    }
                }
            }
        }

        private void CheckAbsoluteList(string prefix, List<string>? paths)
        {
            if (paths is null)
            {
                return;
            }
            for (int i = 0; i < paths.Count; i++)
            {
                if (!IsAbsolute(paths[i]))
                {
                    Error(Idx(prefix, i), $"must be an absolute path, got {Q(paths[i])}");
                }
            }
        }

        private void CheckIntelRdt(LinuxIntelRdt rdt)
        {
            if (rdt.ClosId is { } closId && (closId.Length == 0 || closId is "." or ".." || closId.Contains('/', StringComparison.Ordinal) || closId.Contains('\n', StringComparison.Ordinal)))
            {
                Error("linux.intelRdt.closID", $"must be a valid directory name, got {Q(closId)}");
            }
            if (rdt.MemBwSchema is { Length: > 0 } mb && (!mb.StartsWith("MB:", StringComparison.Ordinal) || mb.Contains('\n', StringComparison.Ordinal)))
            {
                Error("linux.intelRdt.memBwSchema", $"must start with \"MB:\" and be a single line, got {Q(mb)}");
            }
        }

        private void CheckPersonality(LinuxPersonality personality)
        {
            if (personality.Domain is not (PersonalityDomains.Linux or PersonalityDomains.Linux32))
            {
                Error("linux.personality.domain", string.IsNullOrEmpty(personality.Domain)
                    ? "is required (LINUX or LINUX32)"
                    : $"unknown personality domain {Q(personality.Domain)} (expected LINUX or LINUX32)");
            }
            if (personality.Flags is { Count: > 0 } flags)
            {
                Error("linux.personality.flags[0]", $"unknown personality flag {Q(flags[0])} (no flags are defined)");
            }
        }

        private void CheckTimeOffsets(Dictionary<string, LinuxTimeOffset> offsets)
        {
            if (offsets.Count > 0 && !HasNamespace(NamespaceType.Time))
            {
                Error("linux.timeOffsets", "time offsets require a time namespace (linux.namespaces has no \"time\" entry)");
            }
            foreach ((string clock, LinuxTimeOffset offset) in offsets)
            {
                string path = JsonPaths.Property("linux.timeOffsets", clock);
                if (clock is not ("monotonic" or "boottime"))
                {
                    Error(path, $"unknown clock {Q(clock)} (expected monotonic or boottime)");
                }
                if (offset.Nanosecs is >= 1_000_000_000)
                {
                    Error(path + ".nanosecs", $"must be less than 1000000000, got {Num(offset.Nanosecs.Value)}");
                }
            }
        }

        private void CheckMemoryPolicy(LinuxMemoryPolicy policy)
        {
            const string prefix = "linux.memoryPolicy";
            if (string.IsNullOrEmpty(policy.Mode))
            {
                Error(prefix + ".mode", "is required");
            }
            else if (!MemoryPolicyModes.IsKnown(policy.Mode))
            {
                Error(prefix + ".mode", $"unknown memory policy mode {Q(policy.Mode)}");
            }
            else if (policy.Mode is "MPOL_DEFAULT" or "MPOL_LOCAL")
            {
                if (!string.IsNullOrEmpty(policy.Nodes))
                {
                    Error(prefix + ".nodes", $"must be empty for {policy.Mode}");
                }
            }
            else if (string.IsNullOrEmpty(policy.Nodes))
            {
                Error(prefix + ".nodes", $"is required for {policy.Mode}");
            }
            if (!string.IsNullOrEmpty(policy.Nodes) && !CpuList.IsValid(policy.Nodes))
            {
                Error(prefix + ".nodes", $"invalid NUMA node list {Q(policy.Nodes)}");
            }
            if (policy.Flags is { } flags)
            {
                for (int i = 0; i < flags.Count; i++)
                {
                    if (!MemoryPolicyFlags.IsKnown(flags[i]))
                    {
                        Error(Idx(prefix + ".flags", i), $"unknown memory policy flag {Q(flags[i])}");
                    }
                }
            }
        }

        // ---- helpers --------------------------------------------------------------------------------------------------

        private static bool IsAbsolute(string? path) => path is { Length: > 0 } && path[0] == '/';

    }
}
