using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Xunit.Abstractions;
using static OciRuntime.Spec.Tests.TestSupport;

namespace OciRuntime.Spec.Tests;

/// <summary>
/// Seeded mutation fuzzing of valid configurations: random byte edits and random value replacements. Parsing, validating and
/// re-serialising must never throw anything but SpecException and never hang.
/// </summary>
public class FuzzTests(ITestOutputHelper output)
{
    private const int Iterations = 3000;

    private static readonly byte[] s_interesting = Encoding.ASCII.GetBytes("{}[]\",:-0123456789.eE\\ntfu \t\n/")
        .Concat(new byte[] { 0x00, 0x01, 0x7F, 0x80, 0xBF, 0xC3, 0xE2, 0xF0, 0xFF }).ToArray();

    private static readonly Func<Random, JsonNode?>[] s_values =
    [
        _ => null,
        _ => JsonValue.Create(true),
        _ => JsonValue.Create(false),
        _ => JsonValue.Create(0),
        _ => JsonValue.Create(-1),
        _ => JsonValue.Create(long.MinValue),
        _ => JsonValue.Create(ulong.MaxValue),
        _ => JsonNode.Parse("1e400"),
        _ => JsonNode.Parse("18446744073709551616"),
        _ => JsonValue.Create(1.5),
        _ => JsonValue.Create(""),
        _ => JsonValue.Create("/"),
        _ => JsonValue.Create("relative/path"),
        _ => JsonValue.Create("1G"),
        _ => JsonValue.Create("CAP_FOO"),
        _ => JsonValue.Create("\u0000\u2028\ud800"),
        r => JsonValue.Create(new string('x', r.Next(0, 5000))),
        _ => new JsonObject(),
        _ => new JsonArray(),
        _ => new JsonArray(JsonValue.Create(1), null, JsonValue.Create("x")),
        _ => new JsonObject { ["a"] = null, ["b"] = new JsonArray() },
    ];

    [Fact]
    public void Mutated_configs_only_ever_raise_SpecException()
    {
        var random = new Random(20240607);
        byte[][] seeds = [FixtureBytes("runc-spec.json"), FixtureBytes("full-config.json"), FixtureBytes("crun-spec-rootless.json")];
        int parsed = 0, valid = 0, parseErrors = 0, validationErrors = 0;
        var total = Stopwatch.StartNew();
        TimeSpan slowest = TimeSpan.Zero;

        for (int i = 0; i < Iterations; i++)
        {
            byte[] seed = seeds[random.Next(seeds.Length)];
            byte[] input = random.Next(2) == 0 ? MutateBytes(seed, random) : MutateValues(seed, random);

            var watch = Stopwatch.StartNew();
            try
            {
                Spec spec = SpecSerializer.Parse(input);
                parsed++;
                var options = new ValidationOptions { Detached = random.Next(2) == 0, HasConsoleSocket = random.Next(2) == 0 };
                IReadOnlyList<SpecError> errors = SpecValidator.Check(spec, options);
                if (errors.Count == 0)
                {
                    valid++;
                }
                else
                {
                    validationErrors++;
                    errors.Should().OnlyContain(e => !e.Message.Contains('\n'));
                    SpecException thrown = Assert.Throws<SpecException>(() => SpecValidator.Validate(spec, options));
                    thrown.JsonPath.Should().Be(errors[0].JsonPath);
                    thrown.Errors.Should().HaveCount(errors.Count);
                }

                // Whatever parsed must serialise and parse back to the same JSON.
                string json = SpecSerializer.Serialize(spec);
                SpecSerializer.Serialize(SpecSerializer.Parse(json)).Should().Be(json);
            }
            catch (SpecException ex)
            {
                parseErrors++;
                ex.Message.Should().NotContainAny("\n", "\r");
                ex.Message.Should().StartWith("config.json: ");
            }
            catch (Exception ex)
            {
                Assert.Fail($"iteration {i}: {ex.GetType()}: {ex.Message}\ninput: {Encoding.UTF8.GetString(input)}");
            }
            if (watch.Elapsed > slowest)
            {
                slowest = watch.Elapsed;
            }
            watch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(1), $"iteration {i} must not hang");
        }

        output.WriteLine($"{Iterations} iterations in {total.ElapsedMilliseconds} ms (slowest {slowest.TotalMilliseconds:F1} ms): " +
                         $"{parsed} parsed ({valid} valid, {validationErrors} with validation errors), {parseErrors} parse errors");
        parseErrors.Should().BePositive();
        validationErrors.Should().BePositive();
        total.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(60));
    }

    private static byte[] MutateBytes(byte[] seed, Random random)
    {
        var data = new List<byte>(seed);
        int edits = random.Next(1, 4);
        for (int e = 0; e < edits && data.Count > 0; e++)
        {
            int at = random.Next(data.Count);
            switch (random.Next(6))
            {
                case 0: // flip to a random byte
                    data[at] = (byte)random.Next(256);
                    break;
                case 1: // replace with an interesting byte
                    data[at] = s_interesting[random.Next(s_interesting.Length)];
                    break;
                case 2: // insert
                    data.Insert(at, s_interesting[random.Next(s_interesting.Length)]);
                    break;
                case 3: // delete a range
                    data.RemoveRange(at, Math.Min(random.Next(1, 40), data.Count - at));
                    break;
                case 4: // truncate
                    data.RemoveRange(at, data.Count - at);
                    break;
                case 5: // duplicate a range
                    int length = Math.Min(random.Next(1, 200), data.Count - at);
                    data.InsertRange(random.Next(data.Count), data.GetRange(at, length));
                    break;
            }
        }
        return data.ToArray();
    }

    private static byte[] MutateValues(byte[] seed, Random random)
    {
        JsonNode root = JsonNode.Parse(seed)!;
        int edits = random.Next(1, 4);
        for (int e = 0; e < edits; e++)
        {
            var nodes = new List<JsonNode>();
            Collect(root, nodes);
            if (nodes.Count == 0)
            {
                break;
            }
            JsonNode target = nodes[random.Next(nodes.Count)];
            JsonNode? replacement = random.Next(2) == 0 ? SameKindValue(target, random) : s_values[random.Next(s_values.Length)](random);
            switch (target.Parent)
            {
                case JsonObject parent:
                    string key = target.GetPropertyName();
                    if (random.Next(8) == 0)
                    {
                        parent.Remove(key);
                    }
                    else
                    {
                        parent[key] = replacement;
                    }
                    break;
                case JsonArray array:
                    int index = target.GetElementIndex();
                    if (random.Next(8) == 0)
                    {
                        array.RemoveAt(index);
                    }
                    else
                    {
                        array[index] = replacement;
                    }
                    break;
            }
        }
        return Encoding.UTF8.GetBytes(root.ToJsonString());
    }

    private static readonly string[] s_strings =
    [
        "", "/", "relative/path", "/dev/../etc/passwd", "CAP_FOO", "CAP_SYS_ADMIN", "SCMP_ACT_NOTIFY", "SCMP_ACT_KILL",
        "SCMP_CMP_EQ", "0-3,a", "3-1", "0-3", "RLIMIT_NOFILE", "pid", "user", "time", "network", "c", "p", "rwm", "x",
        "net.ipv4.ip_forward", "vm.swappiness", "1.0.2-dev", "2.0.0", "MPOL_BIND", "LINUX32", "a=b", "=", "日本語", "\u0000",
    ];

    private static readonly long[] s_numbers = [0, 1, -1, -2, 5, 6, 100, 101, 1000, 1001, -1001, 65535, 4294967295, long.MaxValue];

    /// <summary>A replacement of the same JSON kind, so that the document still parses and the validator is exercised.</summary>
    private static JsonNode? SameKindValue(JsonNode target, Random random)
    {
        switch (target.GetValueKind())
        {
            case System.Text.Json.JsonValueKind.String:
                return JsonValue.Create(s_strings[random.Next(s_strings.Length)]);
            case System.Text.Json.JsonValueKind.Number:
                long n = s_numbers[random.Next(s_numbers.Length)];
                return JsonValue.Create(n < 0 && target.ToJsonString().StartsWith('-') is false && random.Next(2) == 0 ? -n : n);
            case System.Text.Json.JsonValueKind.True:
            case System.Text.Json.JsonValueKind.False:
                return JsonValue.Create(random.Next(2) == 0);
            case System.Text.Json.JsonValueKind.Array:
                JsonArray array = target.AsArray().DeepClone().AsArray();
                if (array.Count > 0 && random.Next(2) == 0)
                {
                    array.Add(array[random.Next(array.Count)]?.DeepClone());
                }
                else if (array.Count > 0)
                {
                    array.RemoveAt(random.Next(array.Count));
                }
                return array;
            default:
                JsonObject obj = target.DeepClone().AsObject();
                if (obj.Count > 0)
                {
                    obj.Remove(obj.ElementAt(random.Next(obj.Count)).Key);
                }
                return obj;
        }
    }

    private static void Collect(JsonNode node, List<JsonNode> nodes)
    {
        if (node.Parent is not null)
        {
            nodes.Add(node);
        }
        switch (node)
        {
            case JsonObject obj:
                foreach (KeyValuePair<string, JsonNode?> property in obj)
                {
                    if (property.Value is not null)
                    {
                        Collect(property.Value, nodes);
                    }
                }
                break;
            case JsonArray array:
                foreach (JsonNode? item in array)
                {
                    if (item is not null)
                    {
                        Collect(item, nodes);
                    }
                }
                break;
        }
    }
}
