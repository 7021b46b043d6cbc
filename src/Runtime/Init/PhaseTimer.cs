using System.Diagnostics;
using OciRuntime.Runtime.ProcessModel;

namespace OciRuntime.Runtime.Init;

/// <summary>Records the duration of each lifecycle phase in microseconds (for the --debug trace).</summary>
public sealed class PhaseTimer
{
    private long _last = Stopwatch.GetTimestamp();

    /// <summary>Phases marked so far, in order.</summary>
    public List<PhaseTiming> Phases { get; } = [];

    /// <summary>The runtime's phases followed by those another process reported (the init's, when it sent any).</summary>
    /// <param name="own">This process's phases.</param>
    /// <param name="reported">The other process's phases, or <see langword="null"/>.</param>
    /// <returns>Both lists, in that order.</returns>
    public static List<PhaseTiming> Both(List<PhaseTiming> own, List<PhaseTiming>? reported)
    {
        var all = new List<PhaseTiming>(own);
        if (reported is not null) all.AddRange(reported);
        return all;
    }

    /// <summary>Ends the current phase under <paramref name="name"/> and starts the next.</summary>
    public void Mark(string name)
    {
        var now = Stopwatch.GetTimestamp();
        Phases.Add(new PhaseTiming { Name = name, Micros = (now - _last) * 1_000_000 / Stopwatch.Frequency });
        _last = now;
    }
}

/// <summary>A container setup failure inside the init; its message is one line that names the config field at fault.</summary>
public sealed class InitException(string message, Exception? inner = null) : Exception(message, inner);
