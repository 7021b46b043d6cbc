using System.Text.Json.Serialization;

namespace OciRuntime.Spec;

/// <summary><c>linux.seccomp</c>: the seccomp filter (config-linux.md#seccomp). Names follow libseccomp's seccomp.h.</summary>
public sealed class LinuxSeccomp
{
    /// <summary><c>defaultAction</c> (REQUIRED): action for syscalls no rule matches, one of <see cref="SeccompActions.All"/>.</summary>
    [JsonPropertyName("defaultAction")]
    public string DefaultAction { get; set; } = "";

    /// <summary><c>defaultErrnoRet</c>: errno returned by the default action (only SCMP_ACT_ERRNO / SCMP_ACT_TRACE); default EPERM.</summary>
    [JsonPropertyName("defaultErrnoRet")]
    public uint? DefaultErrnoRet { get; set; }

    /// <summary><c>architectures</c>: additional architectures, each one of <see cref="SeccompArchitectures.All"/>.</summary>
    [JsonPropertyName("architectures")]
    public List<string>? Architectures { get; set; }

    /// <summary><c>flags</c>: seccomp(2) filter flags, each one of <see cref="SeccompFlags.All"/>.</summary>
    [JsonPropertyName("flags")]
    public List<string>? Flags { get; set; }

    /// <summary><c>listenerPath</c>: UNIX socket receiving the seccomp notify fd (with SCMP_ACT_NOTIFY).</summary>
    [JsonPropertyName("listenerPath")]
    public string? ListenerPath { get; set; }

    /// <summary><c>listenerMetadata</c>: opaque string sent to the listener as "metadata"; only with <see cref="ListenerPath"/>.</summary>
    [JsonPropertyName("listenerMetadata")]
    public string? ListenerMetadata { get; set; }

    /// <summary><c>syscalls</c>: rules, matched in order.</summary>
    [JsonPropertyName("syscalls")]
    public List<LinuxSyscall>? Syscalls { get; set; }
}

/// <summary>One rule of <c>linux.seccomp.syscalls</c> (config-linux.md#seccomp).</summary>
public sealed class LinuxSyscall
{
    /// <summary><c>names</c> (REQUIRED, at least one entry): syscall names, e.g. "getcwd".</summary>
    [JsonPropertyName("names")]
    public List<string> Names { get; set; } = [];

    /// <summary><c>action</c> (REQUIRED): one of <see cref="SeccompActions.All"/>.</summary>
    [JsonPropertyName("action")]
    public string Action { get; set; } = "";

    /// <summary><c>errnoRet</c>: errno returned (only SCMP_ACT_ERRNO / SCMP_ACT_TRACE); default EPERM.</summary>
    [JsonPropertyName("errnoRet")]
    public uint? ErrnoRet { get; set; }

    /// <summary><c>args</c>: argument conditions, all of which must match.</summary>
    [JsonPropertyName("args")]
    public List<LinuxSeccompArg>? Args { get; set; }
}

/// <summary>One argument condition of a seccomp rule (config-linux.md#seccomp).</summary>
public sealed class LinuxSeccompArg
{
    /// <summary><c>index</c> (REQUIRED): syscall argument index, 0..5.</summary>
    [JsonPropertyName("index")]
    public uint Index { get; set; }

    /// <summary><c>value</c> (REQUIRED): value compared with the argument.</summary>
    [JsonPropertyName("value")]
    public ulong Value { get; set; }

    /// <summary><c>valueTwo</c>: second value (the expected result for SCMP_CMP_MASKED_EQ); absent = 0.</summary>
    [JsonPropertyName("valueTwo")]
    public ulong? ValueTwo { get; set; }

    /// <summary><c>op</c> (REQUIRED): comparison, one of <see cref="SeccompOperators.All"/>.</summary>
    [JsonPropertyName("op")]
    public string Op { get; set; } = "";
}
