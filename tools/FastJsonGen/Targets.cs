using OciRuntime.Runtime.ProcessModel;
using OciRuntime.Runtime.State;

namespace OciRuntime.Tools.FastJsonGen;

/// <summary>The generated files: the runtime-spec documents, and the runtime's own messages and state.</summary>
public static class Targets
{
    /// <summary>config.json, process.json, the OCI state, the seccomp listener's container process state and features.json.</summary>
    public static readonly Target Spec = new(
        "src/Spec/Json/SpecFastJson.g.cs", "OciRuntime.Spec.Json", "SpecFastJson", IsPublic: true,
        [typeof(OciRuntime.Spec.Spec).Assembly],
        [typeof(OciRuntime.Spec.Spec), typeof(OciRuntime.Spec.Process), typeof(OciRuntime.Spec.State), typeof(OciRuntime.Spec.ContainerProcessState),
         typeof(OciRuntime.Spec.Features)],
        [typeof(OciRuntime.Spec.Spec), typeof(OciRuntime.Spec.Process)],
        External: null);

    /// <summary>The init's orders and report, state.json (with its cgroup state), the `state`/`list` output and `events`.</summary>
    public static readonly Target Runtime = new(
        "src/Runtime/State/RuntimeFastJson.g.cs", "OciRuntime.Runtime.State", "RuntimeFastJson", IsPublic: false,
        [typeof(ContainerRecord).Assembly, typeof(OciRuntime.Cgroups.CgroupState).Assembly],
        [typeof(ContainerRecord), typeof(ContainerStateOutput), typeof(List<ContainerStateOutput>), typeof(InitOptions), typeof(InitReport),
         typeof(OciRuntime.Cgroups.ContainerEvent)],
        [],
        External: Spec);

    /// <summary>Every target.</summary>
    public static readonly Target[] All = [Spec, Runtime];
}
