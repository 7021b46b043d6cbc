using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using OciRuntime.Spec;

namespace OciRuntime.Runtime.Tests.Oracle;

/// <summary>
/// System.Text.Json's reading of the runtime-spec documents, as ocirun did it before its generated readers
/// (src/Spec/Json) became the only path: the reference <c>FastJsonTests</c> holds them to, value for value and error
/// message for error message.
/// </summary>
internal static class SystemTextJsonOracle
{
    /// <summary>The options ocirun used: camelCase, nulls omitted, one tab per level, depth 64, nullable annotations respected.</summary>
    public static readonly JsonSerializerOptions Options = CreateOptions(indented: true, '\t', 1);

    public static JsonTypeInfo<T> Info<T>(JsonSerializerOptions options) => (JsonTypeInfo<T>)options.GetTypeInfo(typeof(T));

    /// <summary>Parses config.json the System.Text.Json way; errors as ocirun reported them then.</summary>
    public static Spec.Spec ParseSpec(ReadOnlySpan<byte> json, string fileName = "config.json")
    {
        if (json.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) json = json[3..];
        if (json.IsEmpty) throw new SpecException(fileName, null, "file is empty");
        if (json.IndexOfAnyExcept((ReadOnlySpan<byte>)" \t\r\n"u8) < 0) throw new SpecException(fileName, null, "file contains only whitespace");
        var info = Info<Spec.Spec>(Options);
        Spec.Spec? value;
        try
        {
            value = JsonSerializer.Deserialize(json, info);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException or OverflowException
                                       or ArgumentException or NotSupportedException or System.Text.DecoderFallbackException)
        {
            throw OracleJsonErrors.Translate(ex, json, info, fileName);
        }
        if (value is null) throw new SpecException(fileName, null, "expected a JSON object, got null");
        if (OracleNullCheck.Find(value, info) is { } finding)
        {
            throw new SpecException(fileName, finding.Path, $"expected {finding.Expected}, got null");
        }
        return value;
    }

    private static JsonSerializerOptions CreateOptions(bool indented, char indentCharacter, int indentSize)
    {
        var options = new JsonSerializerOptions
        {
            TypeInfoResolver = SpecJsonContext.Default,
            PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            WriteIndented = indented,
            IndentCharacter = indentCharacter,
            IndentSize = indentSize,
            NewLine = "\n",
            MaxDepth = SpecSerializer.MaxDepth,
            RespectNullableAnnotations = true,
            AllowTrailingCommas = false,
            ReadCommentHandling = JsonCommentHandling.Disallow,
            NumberHandling = JsonNumberHandling.Strict,
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        };
        options.MakeReadOnly();
        return options;
    }
}

/// <summary>System.Text.Json metadata for state.json and the state output (the reference for RuntimeFastJson).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, WriteIndented = true)]
[JsonSerializable(typeof(OciRuntime.Runtime.State.ContainerRecord))]
[JsonSerializable(typeof(OciRuntime.Runtime.State.ContainerStateOutput))]
[JsonSerializable(typeof(List<OciRuntime.Runtime.State.ContainerStateOutput>))]
internal sealed partial class StateJsonContext : JsonSerializerContext
{
}

/// <summary>System.Text.Json metadata for the runtime's own messages (the reference for RuntimeFastJson).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(OciRuntime.Runtime.ProcessModel.InitOptions))]
[JsonSerializable(typeof(OciRuntime.Runtime.ProcessModel.InitReport))]
[JsonSerializable(typeof(OciRuntime.Runtime.ProcessModel.CgroupJoinOptions))]
internal sealed partial class ProcessJsonContext : JsonSerializerContext
{
}
