using System.Text;
using OciRuntime.Interop;
using OciRuntime.Runtime.Init;
using OciRuntime.Spec;

namespace OciRuntime.Runtime.Lifecycle;

public sealed partial class ContainerRuntime
{
    /// <summary>
    /// Compiles linux.seccomp here, on the host, before the init exists (errors are create-time errors naming the
    /// field), through ocirun's compiled-profile cache (SeccompCache.DefaultDirectory, not the state root), and hands the program to the init, which only loads it.
    /// </summary>
    /// <exception cref="RuntimeException">libseccomp is missing or a field is refused.</exception>
    private (byte[]? Program, uint Flags) CompileSeccomp(Spec.Spec spec)
    {
        if (spec.Linux?.Seccomp is not { } config) return (null, 0);
        try
        {
            using var filter = SeccompCache.GetOrBuild(config, SeccompCache.DefaultDirectory(Rootless), out var hit);
            if (_log.IsDebug) _log.Debug($"seccomp: {filter.Length} BPF instructions, flags 0x{filter.Flags:x}, {(hit ? "from the cache" : $"compiled in {filter.BuildMicros} µs")}");
            return (filter.ToBytes(), filter.Flags);
        }
        catch (InitException e)
        {
            throw new RuntimeException(e.Message, e);
        }
    }

    /// <summary>Whether the seccomp profile has SCMP_ACT_NOTIFY rules (a listener is then needed).</summary>
    private static bool NeedsSeccompListener(Spec.Spec spec) =>
        spec.Linux?.Seccomp?.Syscalls is { } rules && rules.Exists(r => r.Action == SeccompActions.Notify);

    /// <summary>
    /// When the seccomp profile has SCMP_ACT_NOTIFY rules, connects to <c>linux.seccomp.listenerPath</c> (as the runtime's
    /// caller, as runc does); the init gets the socket and sends the notify fd through it once the filter is loaded.
    /// Returns null when no listener is needed.
    /// </summary>
    /// <exception cref="RuntimeException">the listener cannot be reached (the field is named).</exception>
    private static SafeFd? ConnectSeccompListener(Spec.Spec spec)
    {
        var seccomp = spec.Linux?.Seccomp;
        if (seccomp is null || !NeedsSeccompListener(spec)) return null;
        if (string.IsNullOrEmpty(seccomp.ListenerPath))
            throw new RuntimeException("config.json: linux.seccomp.listenerPath: required with SCMP_ACT_NOTIFY rules");
        try
        {
            return UnixSocket.Connect(seccomp.ListenerPath);
        }
        catch (Exception e) when (e is SyscallException or ArgumentException)
        {
            throw new RuntimeException($"config.json: linux.seccomp.listenerPath: cannot reach the seccomp agent: {e.Message}", e);
        }
    }

    /// <summary>
    /// The container process state runc sends to a seccomp listener (runtime-spec config-linux.md#the-container-process-state):
    /// fds ["seccompFd"], the process's pid, listenerMetadata, and the OCI state with <paramref name="status"/>
    /// ("creating" for the init, as runc; "running" for an exec'd process).
    /// </summary>
    private static string SeccompListenerState(Spec.Spec spec, string id, string bundle, int pid, string status)
    {
        var state = new ContainerProcessState
        {
            OciVersion = SpecVersion,
            Fds = ["seccompFd"],
            Pid = pid,
            Metadata = spec.Linux?.Seccomp?.ListenerMetadata,
            State = new Spec.State
            {
                OciVersion = SpecVersion,
                Id = id,
                Status = status,
                Pid = pid,
                Bundle = bundle,
                Annotations = spec.Annotations is { Count: > 0 } a ? a : null,
            },
        };
        return Encoding.UTF8.GetString(SpecSerializer.SerializeContainerProcessStateToUtf8(state));
    }

    /// <summary>
    /// The seccomp part of <c>features</c> (runtime-spec features.md): enabled when libseccomp loads; every action and
    /// operator; the architectures this libseccomp knows; the flags, and those this kernel and libseccomp accept.
    /// </summary>
    public static FeaturesSeccomp SeccompFeatures()
    {
        if (!Libseccomp.TryLoad(out _)) return new FeaturesSeccomp { Enabled = false };
        var supported = new List<string>();
        var ctx = Libseccomp.seccomp_init(Libseccomp.SCMP_ACT_ALLOW);
        try
        {
            if (Libseccomp.seccomp_attr_set(ctx, Libseccomp.SCMP_FLTATR_CTL_TSYNC, 1) == 0) supported.Add(SeccompFlags.Tsync);
            if (Libseccomp.seccomp_attr_set(ctx, Libseccomp.SCMP_FLTATR_CTL_LOG, 1) == 0) supported.Add(SeccompFlags.Log);
            if (Libseccomp.seccomp_attr_set(ctx, Libseccomp.SCMP_FLTATR_CTL_SSB, 1) == 0) supported.Add(SeccompFlags.SpecAllow);
        }
        finally
        {
            Libseccomp.seccomp_release(ctx);
        }
        if (SeccompFilter.KernelAccepts(SeccompKernel.SECCOMP_FILTER_FLAG_NEW_LISTENER | SeccompKernel.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV))
            supported.Add(SeccompFlags.WaitKillableRecv);
        return new FeaturesSeccomp
        {
            Enabled = true,
            Actions = Sorted(SeccompActions.All),
            Operators = Sorted(SeccompOperators.All),
            Archs = Sorted(SeccompArchitectures.All, a => Libseccomp.seccomp_arch_resolve_name(SeccompFilter.ArchName(a)) != 0),
            KnownFlags = [.. SeccompFlags.All],
            SupportedFlags = supported,
        };
    }

    /// <summary>AppArmor for <c>features</c>: enabled when this host runs it.</summary>
    public static FeaturesEnabled AppArmorFeatures() => new() { Enabled = Lsm.AppArmorEnabled() };

    /// <summary>SELinux for <c>features</c>: enabled when this host runs it.</summary>
    public static FeaturesEnabled SelinuxFeatures() => new() { Enabled = Lsm.SelinuxEnabled() };

    /// <summary>The names (those <paramref name="keep"/> accepts, if given) in ordinal order, for features.json.</summary>
    private static List<string> Sorted(IReadOnlyList<string> names, Func<string, bool>? keep = null)
    {
        var list = new List<string>(names.Count);
        foreach (var name in names)
        {
            if (keep is null || keep(name)) list.Add(name);
        }
        list.Sort(StringComparer.Ordinal);
        return list;
    }
}
