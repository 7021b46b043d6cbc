using OciRuntime.Runtime.Lifecycle;

namespace OciRuntime.Runtime.ProcessModel;

/// <summary>
/// The switches that force a start path, for tests and A/B measurements (docs/process-model.md, "One set of invariants"):
/// <c>OCIRUN_INIT=1</c> takes <c>ocirun init</c> for create and exec; <c>OCIRUN_DIRECT=1</c> takes the direct path or
/// fails with the reason it cannot (never a silent fall-back to the init). Unset: the runtime chooses.
/// </summary>
internal static class PathSwitch
{
    /// <summary>Environment variable forcing <c>ocirun init</c>.</summary>
    public const string InitVariable = "OCIRUN_INIT";

    /// <summary>Environment variable forcing the direct path.</summary>
    public const string DirectVariable = "OCIRUN_DIRECT";

    /// <summary>
    /// Applies the switches to the runtime's choice: returns why the init is taken (null: the direct path).
    /// </summary>
    /// <param name="whyNot">Why the direct path cannot take it (null: it can).</param>
    /// <param name="command">"create" or "exec", for the error.</param>
    /// <exception cref="RuntimeException">both switches are set, or OCIRUN_DIRECT=1 and the direct path cannot be taken.</exception>
    public static string? Apply(string? whyNot, string command)
    {
        var init = Environment.GetEnvironmentVariable(InitVariable) == "1";
        var direct = Environment.GetEnvironmentVariable(DirectVariable) == "1";
        if (init && direct) throw new RuntimeException($"{command}: {InitVariable}=1 and {DirectVariable}=1 contradict each other");
        if (init) return $"{InitVariable}=1";
        if (direct && whyNot is not null) throw new RuntimeException($"{command}: {DirectVariable}=1, but the direct path cannot be taken: {whyNot}");
        return whyNot;
    }
}
