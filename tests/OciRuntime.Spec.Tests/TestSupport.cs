using System.Text;
using System.Text.Json.Nodes;

namespace OciRuntime.Spec.Tests;

/// <summary>Fixture files and JSON editing helpers shared by the tests.</summary>
internal static class TestSupport
{
    public static string FixturePath(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    public static byte[] FixtureBytes(string name) => File.ReadAllBytes(FixturePath(name));

    public static string FixtureText(string name) => File.ReadAllText(FixturePath(name));

    public static JsonObject FixtureNode(string name) => JsonNode.Parse(FixtureText(name))!.AsObject();

    public static bool JsonEquals(string a, string b) => JsonNode.DeepEquals(JsonNode.Parse(a), JsonNode.Parse(b));

    /// <summary>Sets the value at a path such as "linux.resources.memory.limit", "mounts[2].destination" or "linux.sysctl['a.b']",
    /// creating missing objects on the way.</summary>
    public static void Set(JsonNode root, string path, JsonNode? value)
    {
        List<object> segments = ParsePath(path);
        JsonNode parent = Navigate(root, segments, create: true);
        switch (segments[^1])
        {
            case string name:
                parent.AsObject()[name] = value;
                break;
            case int index:
                JsonArray array = parent.AsArray();
                while (array.Count <= index)
                {
                    array.Add(null);
                }
                array[index] = value;
                break;
        }
    }

    public static void Remove(JsonNode root, string path)
    {
        List<object> segments = ParsePath(path);
        JsonNode parent = Navigate(root, segments, create: false);
        switch (segments[^1])
        {
            case string name:
                parent.AsObject().Remove(name);
                break;
            case int index:
                parent.AsArray().RemoveAt(index);
                break;
        }
    }

    public static JsonNode? Get(JsonNode root, string path)
    {
        List<object> segments = ParsePath(path);
        JsonNode parent = Navigate(root, segments, create: false);
        return segments[^1] switch
        {
            string name => parent.AsObject()[name],
            int index => parent.AsArray()[index],
            _ => null,
        };
    }

    private static JsonNode Navigate(JsonNode root, List<object> segments, bool create)
    {
        JsonNode current = root;
        for (int i = 0; i < segments.Count - 1; i++)
        {
            JsonNode? next = segments[i] switch
            {
                string name => current.AsObject()[name],
                int index => current.AsArray()[index],
                _ => null,
            };
            if (next is null)
            {
                if (!create)
                {
                    throw new InvalidOperationException($"no node at {segments[i]}");
                }
                next = segments[i + 1] is int ? new JsonArray() : new JsonObject();
                if (segments[i] is string name)
                {
                    current.AsObject()[name] = next;
                }
                else
                {
                    current.AsArray()[(int)segments[i]] = next;
                }
            }
            current = next;
        }
        return current;
    }

    private static List<object> ParsePath(string path)
    {
        var segments = new List<object>();
        int i = 0;
        while (i < path.Length)
        {
            if (path[i] == '.')
            {
                i++;
            }
            else if (path[i] == '[' && path[i + 1] == '\'')
            {
                int end = path.IndexOf("']", i, StringComparison.Ordinal);
                segments.Add(path[(i + 2)..end]);
                i = end + 2;
            }
            else if (path[i] == '[')
            {
                int end = path.IndexOf(']', i);
                segments.Add(int.Parse(path[(i + 1)..end]));
                i = end + 1;
            }
            else
            {
                int start = i;
                while (i < path.Length && path[i] != '.' && path[i] != '[')
                {
                    i++;
                }
                segments.Add(path[start..i]);
            }
        }
        return segments;
    }

    /// <summary>Parses and validates; returns the SpecException (or fails on any other exception).</summary>
    public static SpecException? ParseAndValidate(byte[] json, ValidationOptions? options = null)
    {
        try
        {
            Spec spec = SpecSerializer.Parse(json);
            SpecValidator.Validate(spec, options);
            return null;
        }
        catch (SpecException ex)
        {
            return ex;
        }
    }

    public static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);
}
