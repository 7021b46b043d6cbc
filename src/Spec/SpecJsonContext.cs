using System.Text.Json.Serialization;

namespace OciRuntime.Spec;

/// <summary>
/// Source-generated System.Text.Json metadata for every runtime-spec document type (trim/AOT safe, no reflection).
/// <see cref="JsonSerializerContext"/>'s <c>Default</c> instance writes camelCase, omits null properties and indents with one
/// tab per level like runc. Prefer <see cref="SpecSerializer"/>, which adds size/depth limits and one-line error messages.
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
public partial class SpecJsonContext : JsonSerializerContext
{
}
