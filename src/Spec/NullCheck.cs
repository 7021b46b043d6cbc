using System.Collections;
using System.Globalization;
using System.Text;
using System.Text.Json.Serialization.Metadata;

namespace OciRuntime.Spec;

/// <summary>
/// Finds the first <see langword="null"/> where the model does not allow one: array elements (<c>"args": [null]</c>),
/// dictionary values (<c>"sysctl": {"a": null}</c>) and non-nullable properties set to null in code. System.Text.Json's
/// RespectNullableAnnotations covers properties only. The walk uses the source-generated getters (no reflection).
/// </summary>
internal static class NullCheck
{
    public readonly record struct Finding(string Path, string Expected);

    public static Finding? Find(object root, JsonTypeInfo info)
    {
        var path = new StringBuilder();
        return Walk(root, info, path);
    }

    private static Finding? Walk(object value, JsonTypeInfo info, StringBuilder path)
    {
        switch (info.Kind)
        {
            case JsonTypeInfoKind.Object:
                foreach (JsonPropertyInfo property in info.Properties)
                {
                    Type type = property.PropertyType;
                    if (type.IsValueType || property.Get is null)
                    {
                        continue;
                    }
                    object? child = property.Get(value);
                    int length = path.Length;
                    JsonPaths.AppendProperty(path, property.Name);
                    if (child is null)
                    {
                        if (!property.IsGetNullable)
                        {
                            return new Finding(path.ToString(), Describe(info.Options.GetTypeInfo(type)));
                        }
                    }
                    else if (type != typeof(string) && Walk(child, info.Options.GetTypeInfo(type), path) is { } found)
                    {
                        return found;
                    }
                    path.Length = length;
                }
                return null;

            case JsonTypeInfoKind.Enumerable when value is IList list && info.ElementType is { IsValueType: false } elementType:
            {
                JsonTypeInfo elementInfo = info.Options.GetTypeInfo(elementType);
                for (int i = 0; i < list.Count; i++)
                {
                    object? item = list[i];
                    int length = path.Length;
                    path.Append('[').Append(i.ToString(CultureInfo.InvariantCulture)).Append(']');
                    if (item is null)
                    {
                        return new Finding(path.ToString(), Describe(elementInfo));
                    }
                    if (elementInfo.Kind != JsonTypeInfoKind.None && Walk(item, elementInfo, path) is { } found)
                    {
                        return found;
                    }
                    path.Length = length;
                }
                return null;
            }

            case JsonTypeInfoKind.Dictionary when value is IDictionary dictionary && info.ElementType is { IsValueType: false } elementType:
            {
                JsonTypeInfo elementInfo = info.Options.GetTypeInfo(elementType);
                foreach (DictionaryEntry entry in dictionary)
                {
                    int length = path.Length;
                    JsonPaths.AppendProperty(path, (string)entry.Key);
                    if (entry.Value is null)
                    {
                        return new Finding(path.ToString(), Describe(elementInfo));
                    }
                    if (elementInfo.Kind != JsonTypeInfoKind.None && Walk(entry.Value, elementInfo, path) is { } found)
                    {
                        return found;
                    }
                    path.Length = length;
                }
                return null;
            }

            default:
                return null;
        }
    }

    private static string Describe(JsonTypeInfo info) =>
        info.Type == typeof(string) ? "a string"
        : info.Kind == JsonTypeInfoKind.Enumerable ? "an array"
        : "an object";
}
