namespace OciRuntime.Runtime.Tests.Harness;

/// <summary>
/// Tests that measure the whole test process (open fds, mount table, descendant processes) run alone:
/// xunit runs collections with DisableParallelization after the parallel ones, one test at a time.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialCollection
{
    /// <summary>The collection name.</summary>
    public const string Name = "serial (leak probes)";
}
