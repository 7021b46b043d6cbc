using System.Collections;
using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json.Serialization.Metadata;

namespace OciRuntime.Runtime.Tests.Oracle;

using OciRuntime.Spec;

/// <summary>
/// (Test oracle: what ocirun used before the generated FindNull methods.)
/// Finds the first <see langword="null"/> where the model does not allow one: array elements (<c>"args": [null]</c>),
/// dictionary values (<c>"sysctl": {"a": null}</c>) and non-nullable properties set to null in code. System.Text.Json's
/// RespectNullableAnnotations covers properties only. The walk uses the source-generated getters (no reflection) and
/// builds the JSON path only once a null is found.
/// </summary>
internal static class OracleNullCheck
{
    public readonly record struct Finding(string Path, string Expected);


    /// <summary>Per-type walk plan: only the reference-typed properties, with their metadata resolved once.</summary>
    private sealed record PropertyPlan(string Name, Func<object, object?> Get, JsonTypeInfo Info, bool Nullable, bool IsString);

    private static readonly ConcurrentDictionary<JsonTypeInfo, PropertyPlan[]> s_plans = new();

    public static Finding? Find(object root, JsonTypeInfo info)
    {
        var stack = new List<OracleJsonErrors.Segment>(8);
        return Walk(root, info, stack);
    }

    private static PropertyPlan[] PlanFor(JsonTypeInfo info) => s_plans.GetOrAdd(info, static info =>
    {
        var plans = new List<PropertyPlan>();
        foreach (JsonPropertyInfo property in info.Properties)
        {
            if (!property.PropertyType.IsValueType && property.Get is { } get)
            {
                plans.Add(new PropertyPlan(property.Name, get, info.Options.GetTypeInfo(property.PropertyType),
                    property.IsGetNullable, property.PropertyType == typeof(string)));
            }
        }
        return [.. plans];
    });

    private static Finding? Walk(object value, JsonTypeInfo info, List<OracleJsonErrors.Segment> stack)
    {
        switch (info.Kind)
        {
            case JsonTypeInfoKind.Object:
                foreach (PropertyPlan plan in PlanFor(info))
                {
                    object? child = plan.Get(value);
                    if (child is null)
                    {
                        if (!plan.Nullable)
                        {
                            stack.Add(new OracleJsonErrors.Segment(plan.Name, -1));
                            return new Finding(Format(stack), Describe(plan.Info));
                        }
                    }
                    else if (!plan.IsString)
                    {
                        stack.Add(new OracleJsonErrors.Segment(plan.Name, -1));
                        if (Walk(child, plan.Info, stack) is { } found)
                        {
                            return found;
                        }
                        stack.RemoveAt(stack.Count - 1);
                    }
                }
                return null;

            case JsonTypeInfoKind.Enumerable when value is IList list && info.ElementType is { IsValueType: false } elementType:
            {
                JsonTypeInfo elementInfo = info.Options.GetTypeInfo(elementType);
                bool recurse = elementInfo.Kind != JsonTypeInfoKind.None;
                for (int i = 0; i < list.Count; i++)
                {
                    object? item = list[i];
                    if (item is null)
                    {
                        stack.Add(new OracleJsonErrors.Segment(null, i));
                        return new Finding(Format(stack), Describe(elementInfo));
                    }
                    if (recurse)
                    {
                        stack.Add(new OracleJsonErrors.Segment(null, i));
                        if (Walk(item, elementInfo, stack) is { } found)
                        {
                            return found;
                        }
                        stack.RemoveAt(stack.Count - 1);
                    }
                }
                return null;
            }

            case JsonTypeInfoKind.Dictionary when value is IDictionary dictionary && info.ElementType is { IsValueType: false } elementType:
            {
                JsonTypeInfo elementInfo = info.Options.GetTypeInfo(elementType);
                bool recurse = elementInfo.Kind != JsonTypeInfoKind.None;
                IDictionaryEnumerator entries = dictionary.GetEnumerator();
                while (entries.MoveNext())
                {
                    if (entries.Value is null)
                    {
                        stack.Add(new OracleJsonErrors.Segment((string)entries.Key, -1));
                        return new Finding(Format(stack), Describe(elementInfo));
                    }
                    if (recurse)
                    {
                        stack.Add(new OracleJsonErrors.Segment((string)entries.Key, -1));
                        if (Walk(entries.Value, elementInfo, stack) is { } found)
                        {
                            return found;
                        }
                        stack.RemoveAt(stack.Count - 1);
                    }
                }
                return null;
            }

            default:
                return null;
        }
    }

    private static string Format(List<OracleJsonErrors.Segment> stack) => OracleJsonErrors.FormatPath(stack)!;

    private static string Describe(JsonTypeInfo info) =>
        info.Type == typeof(string) ? "a string"
        : info.Kind == JsonTypeInfoKind.Enumerable ? "an array"
        : "an object";
}
