// Shared by the test projects (linked, not referenced).
using System.Text.Json.Serialization;

namespace OciRuntime.Cgroups;

/// <summary>System.Text.Json metadata for stats and events (compact, as runc prints them): the reference for `events`.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(OciRuntime.Cgroups.ContainerEvent))]
[JsonSerializable(typeof(OciRuntime.Cgroups.ContainerStats))]
internal sealed partial class StatsJsonContext : JsonSerializerContext
{
}
