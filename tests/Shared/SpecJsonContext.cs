// Shared by the test projects and the benchmarks (linked, not referenced).
using System.Text.Json.Serialization;

namespace OciRuntime.Spec;

/// <summary>
/// System.Text.Json's source-generated metadata for the runtime-spec documents: the reference the tests hold ocirun's
/// generated readers and writers (src/Spec/Json) to. Test-only since ocirun itself no longer carries System.Text.Json's
/// serializer (benchmarks/README.md). camelCase, null properties omitted, one tab per level, like runc.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    WriteIndented = true,
    IndentCharacter = '\t',
    IndentSize = 1,
    NewLine = "\n",
    MaxDepth = SpecSerializer.MaxDepth,
    RespectNullableAnnotations = true,
    AllowTrailingCommas = false,
    ReadCommentHandling = System.Text.Json.JsonCommentHandling.Disallow)]
[JsonSerializable(typeof(Spec))]
[JsonSerializable(typeof(Process))]
[JsonSerializable(typeof(State))]
[JsonSerializable(typeof(ContainerProcessState))]
[JsonSerializable(typeof(Features))]
internal sealed partial class SpecJsonContext : JsonSerializerContext
{
}
