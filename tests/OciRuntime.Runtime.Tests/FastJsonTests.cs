using System.Collections;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using OciRuntime.Runtime.ProcessModel;
using OciRuntime.Runtime.State;
using OciRuntime.Spec;
using OciRuntime.Runtime.Tests.Oracle;
using OciRuntime.Spec.Json;
using OciRuntime.Tools.FastJsonGen;

namespace OciRuntime.Runtime.Tests;

/// <summary>
/// The generated readers and writers (<see cref="FastJson"/>) against System.Text.Json, their reference
/// (<see cref="SystemTextJsonOracle"/>: the serializer and error path ocirun used before): on every document (fixtures,
/// a "kitchen sink" with every property set, and thousands of mutations of both) the same value or the same error
/// message; the writers write the same bytes.
/// </summary>
public sealed class FastJsonTests
{
    private static readonly string RepoRoot = FindRoot();

    [Fact]
    public void The_generated_files_are_current()
    {
        foreach (var target in Targets.All)
        {
            var path = Path.Combine(RepoRoot, target.Path);
            File.ReadAllText(path).Should().Be(Generator.Render(target),
                $"{target.Path} must match the model (run `dotnet run --project tools/FastJsonGen`)");
        }
    }

    public static TheoryData<string> Fixtures()
    {
        var data = new TheoryData<string>();
        foreach (var f in Directory.GetFiles(Path.Combine(RepoRoot, "tests/OciRuntime.Spec.Tests/Fixtures"), "*.json").Order())
            data.Add(Path.GetFileName(f));
        return data;
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Fixtures_take_the_fast_path_and_read_and_write_as_System_Text_Json_does(string name)
    {
        var bytes = File.ReadAllBytes(Path.Combine(RepoRoot, "tests/OciRuntime.Spec.Tests/Fixtures", name));
        var fast = FastJson.Read(bytes, SpecFastJson.ReadSpec, "config.json");
        Canonical(fast).Should().Be(Canonical(SystemTextJsonOracle.ParseSpec(bytes)));
        AssertWritesAsSystemTextJson(fast);
    }

    [Fact]
    public void Kitchen_sink_configs_with_every_property_set_read_and_write_as_System_Text_Json_does()
    {
        for (int seed = 0; seed < Samples.Length; seed++)
        {
            var spec = (Spec.Spec)Fill(typeof(Spec.Spec), seed);
            var bytes = JsonSerializer.SerializeToUtf8Bytes(spec, (JsonTypeInfo<Spec.Spec>)SystemTextJsonOracle.Options.GetTypeInfo(typeof(Spec.Spec)));
            var fast = FastJson.Read(bytes, SpecFastJson.ReadSpec, $"seed {seed}");
            Canonical(fast).Should().Be(Encoding.UTF8.GetString(bytes), $"seed {seed}");
            AssertWritesAsSystemTextJson(fast);

            var state = (Spec.State)Fill(typeof(Spec.State), seed);
            SpecSerializer.SerializeState(state, indented: true).Should().Be(
                JsonSerializer.Serialize(state, (JsonTypeInfo<Spec.State>)new JsonSerializerOptions(SystemTextJsonOracle.Options) { IndentCharacter = ' ', IndentSize = 2 }.GetTypeInfo(typeof(Spec.State))));
        }
    }

    [Fact]
    public void Mutated_configs_give_the_same_value_or_the_same_error_as_System_Text_Json()
    {
        int fastReads = 0, documents = 0;
        var bases = new List<byte[]>
        {
            File.ReadAllBytes(Path.Combine(RepoRoot, "tests/OciRuntime.Spec.Tests/Fixtures/full-config.json")),
            JsonSerializer.SerializeToUtf8Bytes((Spec.Spec)Fill(typeof(Spec.Spec), 1), (JsonTypeInfo<Spec.Spec>)SystemTextJsonOracle.Options.GetTypeInfo(typeof(Spec.Spec))),
        };
        foreach (var doc in bases.SelectMany(Mutations))
        {
            documents++;
            var expected = Outcome(() => Canonical(SystemTextJsonOracle.ParseSpec(doc)));
            var actual = Outcome(() => Canonical(SpecSerializer.Parse(doc)));
            actual.Should().Be(expected, $"document: {Encoding.UTF8.GetString(doc)}");
            if (!actual.StartsWith("error", StringComparison.Ordinal)) fastReads++;
        }
        documents.Should().BeGreaterThan(2000);
        fastReads.Should().BeGreaterThan(documents / 10, "many mutations stay valid: both kinds of outcome are compared");
    }

    [Fact]
    public void FindNull_finds_what_the_System_Text_Json_metadata_walk_finds()
    {
        var spec = (Spec.Spec)Fill(typeof(Spec.Spec), 2);
        SpecFastJson.FindNullSpec(spec).Should().BeNull();
        int checkedNulls = 0;
        foreach (var (owner, property, restore) in ReferenceSlots(spec))
        {
            var old = restore();
            property(null);
            var expected = OracleNullCheck.Find(spec, SystemTextJsonOracle.Info<Spec.Spec>(SystemTextJsonOracle.Options));
            var actual = SpecFastJson.FindNullSpec(spec);
            (actual is null ? null : $"{actual.Path}: {actual.Expected}").Should().Be(
                expected is { } e ? $"{e.Path}: {e.Expected}" : null, $"null in {owner}");
            property(old);
            checkedNulls++;
        }
        checkedNulls.Should().BeGreaterThan(100);
        SpecFastJson.FindNullSpec(spec).Should().BeNull();
    }

    [Fact]
    public void Runtime_documents_read_and_write_as_their_System_Text_Json_contexts_do()
    {
        for (int seed = 0; seed < Samples.Length; seed++)
        {
            var record = (ContainerRecord)Fill(typeof(ContainerRecord), seed);
            var recordJson = JsonSerializer.SerializeToUtf8Bytes(record, StateJsonContext.Default.ContainerRecord);
            RuntimeJson.Write(record).Should().Equal(recordJson, $"seed {seed}");
            var readBack = FastJson.Read(recordJson, RuntimeFastJson.ReadContainerRecord, "state.json");
            JsonSerializer.SerializeToUtf8Bytes(readBack, StateJsonContext.Default.ContainerRecord).Should().Equal(recordJson);

            var options = (InitOptions)Fill(typeof(InitOptions), seed);
            var optionsJson = JsonSerializer.SerializeToUtf8Bytes(options, ProcessJsonContext.Default.InitOptions);
            RuntimeJson.Write(options).Should().Equal(optionsJson, $"seed {seed}");
            var options2 = FastJson.Read(optionsJson, RuntimeFastJson.ReadInitOptions, "orders");
            JsonSerializer.SerializeToUtf8Bytes(options2, ProcessJsonContext.Default.InitOptions).Should().Equal(optionsJson);

            var report = (InitReport)Fill(typeof(InitReport), seed);
            RuntimeJson.Write(report).Should().Equal(JsonSerializer.SerializeToUtf8Bytes(report, ProcessJsonContext.Default.InitReport));

            var output = (ContainerStateOutput)Fill(typeof(ContainerStateOutput), seed);
            RuntimeJson.Format(output).Should().Be(JsonSerializer.Serialize(output, StateJsonContext.Default.ContainerStateOutput));
            // list --format json is compact, on one line, as runc's (Go's json.Encoder); "null" for no container.
            RuntimeJson.Format([output, output]).Should().Be(Compact(JsonSerializer.Serialize([output, output], StateJsonContext.Default.ListContainerStateOutput)));
            RuntimeJson.Format([]).Should().Be("null");

            var containerEvent = (Cgroups.ContainerEvent)Fill(typeof(Cgroups.ContainerEvent), seed);
            Lifecycle.ContainerRuntime.FormatEvent(containerEvent).Should().Be(JsonSerializer.Serialize(containerEvent, Cgroups.StatsJsonContext.Default.ContainerEvent), $"seed {seed}");
            var features = (Spec.Features)Fill(typeof(Spec.Features), seed);
            SpecSerializer.SerializeFeatures(features).Should().Be(JsonSerializer.Serialize(features, SystemTextJsonOracle.Info<Spec.Features>(SystemTextJsonOracle.Options)), $"seed {seed}");
            Canonical(SpecSerializer.ParseFeatures(Encoding.UTF8.GetBytes(SpecSerializer.SerializeFeatures(features)))).Should().Be(SpecSerializer.SerializeFeatures(features));
        }
    }

    [Fact]
    public void Mutated_state_files_give_the_same_record_or_an_error_as_System_Text_Json()
    {
        var json = JsonSerializer.SerializeToUtf8Bytes((ContainerRecord)Fill(typeof(ContainerRecord), 3), StateJsonContext.Default.ContainerRecord);
        int documents = 0;
        foreach (var doc in Mutations(json))
        {
            documents++;
            var expected = Outcome(() => Encoding.UTF8.GetString(JsonSerializer.SerializeToUtf8Bytes(
                JsonSerializer.Deserialize(doc, StateJsonContext.Default.ContainerRecord) ?? throw new JsonException("null"), StateJsonContext.Default.ContainerRecord)));
            var actual = Outcome(() => Encoding.UTF8.GetString(JsonSerializer.SerializeToUtf8Bytes(RuntimeJson.ReadRecord(doc), StateJsonContext.Default.ContainerRecord)));
            // Errors: both are errors (the caller turns them into "damaged state"); values: equal. The one difference:
            // the context ignores nullable annotations and takes {"id": null}; ocirun's reader respects them, as for the
            // spec documents, and says so.
            if (expected.StartsWith("error", StringComparison.Ordinal)) actual.Should().StartWith("error", Encoding.UTF8.GetString(doc));
            else if (actual.StartsWith("error", StringComparison.Ordinal)) actual.Should().EndWith("got null", Encoding.UTF8.GetString(doc));
            else actual.Should().Be(expected, Encoding.UTF8.GetString(doc));
        }
        documents.Should().BeGreaterThan(500);
    }

    // ---- helpers ----

    private static void AssertWritesAsSystemTextJson(Spec.Spec spec)
    {
        var tabs = SystemTextJsonOracle.Options;
        SpecSerializer.SerializeToUtf8(spec, indented: true).Should().Equal(
            JsonSerializer.SerializeToUtf8Bytes(spec, (JsonTypeInfo<Spec.Spec>)tabs.GetTypeInfo(typeof(Spec.Spec))));
        var compact = new JsonSerializerOptions(tabs) { WriteIndented = false };
        SpecSerializer.SerializeToUtf8(spec, indented: false).Should().Equal(
            JsonSerializer.SerializeToUtf8Bytes(spec, (JsonTypeInfo<Spec.Spec>)compact.GetTypeInfo(typeof(Spec.Spec))));
        if (spec.Process is { } process)
        {
            SpecSerializer.SerializeProcess(process).Should().Be(JsonSerializer.Serialize(process, (JsonTypeInfo<Spec.Process>)tabs.GetTypeInfo(typeof(Spec.Process))));
        }
    }

    /// <summary>The value as System.Text.Json writes it (independent of the generated writer).</summary>
    private static string Canonical(Spec.Spec spec) =>
        JsonSerializer.Serialize(spec, (JsonTypeInfo<Spec.Spec>)SystemTextJsonOracle.Options.GetTypeInfo(typeof(Spec.Spec)));

    private static string Canonical(Spec.Features features) => SpecSerializer.SerializeFeatures(features);

    private static string Outcome(Func<string> f)
    {
        try { return f(); }
        catch (SpecException e) { return "error: " + e.Message; }
        catch (JsonException e) { return "error(json): " + e.GetType().Name; }
    }

    /// <summary>Values per kind, picked by seed: ordinary, extremes, and strings that need escaping.</summary>
    private static readonly object[][] Samples =
    [
        ["a", true, 1, 1u, (ushort)1, 1L, 1UL],
        ["with \"quotes\" \\ / <tags> & 'x' +1 é 漢字 🙂 \u0001\t\n", false, int.MinValue, uint.MaxValue, ushort.MaxValue, long.MinValue, ulong.MaxValue],
        ["", true, int.MaxValue, 0u, (ushort)0, long.MaxValue, 0UL],
        ["/path/to/x=y", false, -1, 4294967294u, (ushort)65534, -1L, 18446744073709551614UL],
    ];

    /// <summary>An instance of <paramref name="t"/> with every property (deeply) set: lists and maps of two.</summary>
    private static object Fill(Type t, int seed)
    {
        var s = Samples[seed % Samples.Length];
        t = Nullable.GetUnderlyingType(t) ?? t;
        if (t == typeof(string)) return s[0];
        if (t == typeof(bool)) return s[1];
        if (t == typeof(int)) return s[2];
        if (t == typeof(uint)) return s[3];
        if (t == typeof(ushort)) return s[4];
        if (t == typeof(long)) return s[5];
        if (t == typeof(ulong)) return s[6];
        if (t == typeof(DateTimeOffset)) return new DateTimeOffset(2026, 11, 21, 11, 33, 37, TimeSpan.Zero).AddTicks(8114388 + seed);
        if (t.IsArray)
        {
            var e = t.GetElementType()!;
            var a = Array.CreateInstance(e, 2);
            a.SetValue(Fill(e, seed), 0);
            a.SetValue(Fill(e, seed + 1), 1);
            return a;
        }
        if (t.IsGenericType && t.GetGenericTypeDefinition() == typeof(List<>))
        {
            var list = (IList)Activator.CreateInstance(t)!;
            list.Add(Fill(t.GetGenericArguments()[0], seed));
            list.Add(Fill(t.GetGenericArguments()[0], seed + 1));
            return list;
        }
        if (t.IsGenericType && (t.GetGenericTypeDefinition() == typeof(Dictionary<,>) || t.GetGenericTypeDefinition() == typeof(SortedDictionary<,>)))
        {
            var map = (IDictionary)Activator.CreateInstance(t)!;
            map[$"k{seed}"] = Fill(t.GetGenericArguments()[1], seed);
            map[$"é\"{seed + 1}"] = Fill(t.GetGenericArguments()[1], seed + 1);
            return map;
        }
        var o = Activator.CreateInstance(t)!;
        foreach (var p in t.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (p.SetMethod is not { IsPublic: true } || p.GetCustomAttribute<JsonIgnoreAttribute>() is { Condition: JsonIgnoreCondition.Always }) continue;
            p.SetValue(o, Fill(p.PropertyType, seed + p.Name.Length));
        }
        return o;
    }

    /// <summary>Every reference-typed slot (property, list element, dictionary value) of a graph: a setter and a getter.</summary>
    private static IEnumerable<(string Where, Action<object?> Set, Func<object?> Get)> ReferenceSlots(object root)
    {
        var result = new List<(string, Action<object?>, Func<object?>)>();
        void Walk(object o, string path)
        {
            if (o is string) return;
            if (o is IList list)
            {
                for (int i = 0; i < list.Count; i++)
                {
                    int index = i;
                    if (list[i] is { } item && !item.GetType().IsValueType)
                    {
                        result.Add(($"{path}[{i}]", v => list[index] = v, () => list[index]));
                        Walk(item, $"{path}[{i}]");
                    }
                }
                return;
            }
            if (o is IDictionary map)
            {
                foreach (var key in map.Keys.Cast<object>().ToList())
                {
                    if (map[key] is { } item && !item.GetType().IsValueType)
                    {
                        result.Add(($"{path}.{key}", v => map[key] = v, () => map[key]));
                        Walk(item, $"{path}.{key}");
                    }
                }
                return;
            }
            if (o.GetType().IsArray) return;
            foreach (var p in o.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                if (p.PropertyType.IsValueType || p.SetMethod is not { IsPublic: true }) continue;
                if (p.GetValue(o) is { } value)
                {
                    result.Add(($"{path}.{p.Name}", v => p.SetValue(o, v), () => p.GetValue(o)));
                    Walk(value, $"{path}.{p.Name}");
                }
            }
        }
        Walk(root, "$");
        return result;
    }

    private static readonly string[] Replacements =
    [
        "null", "\"x\"", "\"\"", "0", "-1", "1.5", "1e3", "4294967296", "18446744073709551616", "-9223372036854775809",
        "true", "false", "[]", "{}", "[null]", "{\"a\":null}", "[\"a\",1]", "{\"a\":\"b\"}", "[{}]", "\"2026-11-21T11:33:37Z\"",
    ];

    /// <summary>Every value replaced by each of <see cref="Replacements"/>, every property removed, plus textual oddities.</summary>
    private static IEnumerable<byte[]> Mutations(byte[] json)
    {
        var root = JsonNode.Parse(json)!;
        var paths = new List<string>();
        void Collect(JsonNode node, string path)
        {
            paths.Add(path);
            if (node is JsonObject obj) foreach (var (k, v) in obj) { if (v is not null) Collect(v, path + "/" + k); else paths.Add(path + "/" + k); }
            if (node is JsonArray arr) for (int i = 0; i < arr.Count; i++) if (arr[i] is { } v) Collect(v, path + "/" + i);
        }
        Collect(root, "");
        foreach (var path in paths.Skip(1))
        {
            foreach (var replacement in Replacements)
            {
                var copy = JsonNode.Parse(json)!;
                Replace(copy, path, JsonNode.Parse(replacement));
                yield return Encoding.UTF8.GetBytes(copy.ToJsonString());
            }
            var removed = JsonNode.Parse(json)!;
            Replace(removed, path, null, remove: true);
            yield return Encoding.UTF8.GetBytes(removed.ToJsonString());
        }
        var text = Encoding.UTF8.GetString(json).TrimEnd();
        var body = text[1..];
        string[] oddities =
        [
            "{\"unknownKey\":{\"deep\":[1,{\"x\":[[[]]]}]}," + body,
            "{\"oci\\u0056ersion\":\"1.0.0\"," + body,
            "{\"hostname\":\"a\",\"hostname\":\"b\"," + body,
            "{\"annotations\":{\"k\":\"a\",\"k\":\"b\"}," + body,
            "{\"annotations\":{\"k\\u00e9\":\"v\\u00e9\\n\"}," + body,
            "{/* comment */" + body,
            text[..^1] + ",}",
            text + " x",
            text + "\n\t ",
            "[" + text + "]",
            "null",
            "\"x\"",
            "{\"linux\":" + new string('[', 100) + new string(']', 100) + "," + body,
            "{\"unknown\":" + new string('[', 70) + new string(']', 70) + "," + body,
        ];
        foreach (var o in oddities) yield return Encoding.UTF8.GetBytes(o);
        yield return [0xEF, 0xBB, 0xBF, .. json];
        yield return [.. Encoding.UTF8.GetBytes("{\"hostname\":\"a"), 0xC3, 0x28, .. Encoding.UTF8.GetBytes("\"," + body)];
    }

    private static void Replace(JsonNode root, string path, JsonNode? value, bool remove = false)
    {
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        JsonNode parent = root;
        for (int i = 0; i < parts.Length - 1; i++)
            parent = parent is JsonArray a ? a[int.Parse(parts[i])]! : parent[parts[i]]!;
        var last = parts[^1];
        if (parent is JsonArray array)
        {
            int index = int.Parse(last);
            if (remove) array.RemoveAt(index);
            else array[index] = value;
        }
        else if (remove) parent.AsObject().Remove(last);
        else parent[last] = value;
    }

    [Fact]
    public void DefaultJsonEncoder_escapes_every_code_point_as_JavaScriptEncoder_Default_does()
    {
        static string Write(System.Text.Encodings.Web.JavaScriptEncoder? encoder, Action<Utf8JsonWriter> write)
        {
            var buffer = new System.Buffers.ArrayBufferWriter<byte>();
            using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = encoder, SkipValidation = true })) write(writer);
            return Encoding.UTF8.GetString(buffer.WrittenSpan);
        }
        void Same(string text)
        {
            var utf8 = Encoding.UTF8.GetBytes(text);
            foreach (var write in new Action<Utf8JsonWriter>[]
            {
                w => w.WriteStringValue(text),
                w => w.WriteStringValue(utf8),
                w => { w.WriteStartObject(); w.WritePropertyName(text); w.WriteNullValue(); w.WriteEndObject(); },
                w => { w.WriteStartObject(); w.WriteString(utf8, "x" + text); w.WriteEndObject(); },
            })
            {
                Write(DefaultJsonEncoder.Instance, write).Should().Be(Write(null, write), $"the text is \"{text}\"");
            }
        }
        for (var c = 0; c <= 0xFFFF; c++)
        {
            if (c is >= 0xD800 and <= 0xDFFF) continue;
            Same(((char)c).ToString());
            Same("a" + (char)c + "b");
        }
        foreach (var scalar in new[] { 0x10000, 0x1F600, 0x10FFFF, 0xE0001 }) Same("x" + char.ConvertFromUtf32(scalar) + "y");
        Same("lone \uD800 high, lone \uDC00 low, reversed \uDC00\uD800");
        Same("ociVersion /bin/sh \"quoted\" tab\there\nline <html> & 'q' `t` +1 C:\\dir é ü 日本 😀");
        // Invalid UTF-8 is replaced the same way.
        foreach (var bytes in new byte[][] { [0x61, 0xFF, 0x62], [0xC3], [0xE6, 0x97], [0xED, 0xA0, 0x80], [0x80, 0x80] })
        {
            Write(DefaultJsonEncoder.Instance, w => w.WriteStringValue(bytes)).Should().Be(Write(null, w => w.WriteStringValue(bytes)), Convert.ToHexString(bytes));
        }
        DefaultJsonEncoder.Instance.MaxOutputCharactersPerInputCharacter.Should().Be(System.Text.Encodings.Web.JavaScriptEncoder.Default.MaxOutputCharactersPerInputCharacter);
    }

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "OciRuntime.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("OciRuntime.sln not found");
    }

    /// <summary>The same JSON without indentation (System.Text.Json's writer and default encoder).</summary>
    private static string Compact(string json)
    {
        using var doc = JsonDocument.Parse(json);
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer)) doc.WriteTo(writer);
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
