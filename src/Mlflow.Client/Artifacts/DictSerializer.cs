using System.Collections;
using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Mlflow.Client.FileStore;

namespace Mlflow.Client.Artifacts;

/// <summary>
/// Writes a dictionary as MLflow's <c>log_dict</c> does: JSON as Python's <c>json.dump(d, f, indent=2)</c> (keys in the
/// given order, non-ASCII as <c>\uXXXX</c>, floats as Python's <c>repr</c>, <c>NaN</c>/<c>Infinity</c>), or YAML when
/// the file name ends in <c>.yaml</c>/<c>.yml</c>, as PyYAML's <c>yaml.dump(d, f, indent=2, default_flow_style=False)</c>
/// (keys sorted, sequences not indented under their key). YAML deviations, still read back to the same values by
/// PyYAML: non-ASCII characters are written as such (PyYAML escapes them) and long strings are not folded at 80 columns.
/// </summary>
/// <remarks>Accepted values: dictionaries (any key type, written as text), sequences, strings, numbers, booleans,
/// <see langword="null"/>, <see cref="JsonNode"/> / <see cref="JsonElement"/>, and any other object through
/// <see cref="JsonSerializer"/> (records and anonymous objects become mappings of their properties).</remarks>
internal static class DictSerializer
{
    private const int MaxDepth = 64;

    /// <summary>Whether <c>log_dict</c> writes YAML for this file name.</summary>
    public static bool IsYaml(string artifactFile)
        => artifactFile.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || artifactFile.EndsWith(".yml", StringComparison.OrdinalIgnoreCase);

    /// <summary>The file's text: YAML for <c>.yaml</c>/<c>.yml</c> names, JSON otherwise.</summary>
    /// <exception cref="ArgumentException">The value is not a mapping, or nests deeper than 64 levels.</exception>
    public static string Serialize(object dictionary, string artifactFile)
    {
        ArgumentNullException.ThrowIfNull(dictionary);
        if (Normalize(dictionary, 0) is not List<KeyValuePair<string, object?>> root)
        {
            throw new ArgumentException($"LogDict needs a dictionary (or an object with properties), not a {dictionary.GetType().Name}.", nameof(dictionary));
        }

        var sb = new StringBuilder(256);
        if (IsYaml(artifactFile))
        {
            if (root.Count == 0)
            {
                return "{}\n";
            }

            WriteYamlMapping(sb, root, 0);
        }
        else
        {
            WriteJson(sb, root, 0);
        }

        return sb.ToString();
    }

    /// <summary>Turns a value into mappings (ordered key/value lists), lists and scalars (string, bool, double, or a number's text).</summary>
    private static object? Normalize(object? value, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new ArgumentException($"The dictionary nests deeper than {MaxDepth} levels (a cycle?).", nameof(value));
        }

        switch (value)
        {
            case null:
                return null;
            case string or bool:
                return value;
            case char c:
                return c.ToString();
            case double or float:
                return Convert.ToDouble(value, CultureInfo.InvariantCulture);
            case sbyte or byte or short or ushort or int or uint or long or ulong or BigInteger or decimal:
                return new NumberText(Convert.ToString(value, CultureInfo.InvariantCulture)!);
            case JsonElement element:
                return FromElement(element, depth);
            case JsonNode node:
                return FromElement(JsonSerializer.SerializeToElement(node), depth);
            case IDictionary dict:
            {
                var entries = new List<KeyValuePair<string, object?>>(dict.Count);
                foreach (DictionaryEntry e in dict)
                {
                    entries.Add(new(KeyText(e.Key), Normalize(e.Value, depth + 1)));
                }

                return entries;
            }

            case IEnumerable sequence when IsKeyValueSequence(value.GetType()):
            {
                var entries = new List<KeyValuePair<string, object?>>();
                foreach (var item in sequence)
                {
                    var type = item!.GetType();
                    entries.Add(new(KeyText(type.GetProperty("Key")!.GetValue(item)), Normalize(type.GetProperty("Value")!.GetValue(item), depth + 1)));
                }

                return entries;
            }

            case IEnumerable sequence:
            {
                var items = new List<object?>();
                foreach (var item in sequence)
                {
                    items.Add(Normalize(item, depth + 1));
                }

                return items;
            }

            default:
                return FromElement(JsonSerializer.SerializeToElement(value, value.GetType()), depth);
        }
    }

    private static object? FromElement(JsonElement element, int depth)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                return element.EnumerateObject().Select(p => new KeyValuePair<string, object?>(p.Name, FromElement(p.Value, depth + 1))).ToList();
            case JsonValueKind.Array:
                return element.EnumerateArray().Select(e => FromElement(e, depth + 1)).ToList();
            case JsonValueKind.String:
                return element.GetString();
            case JsonValueKind.Number:
                return new NumberText(element.GetRawText());
            case JsonValueKind.True:
                return true;
            case JsonValueKind.False:
                return false;
            default:
                return null;
        }
    }

    private static bool IsKeyValueSequence(Type type)
        => type.GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>)
            && i.GetGenericArguments()[0] is { IsGenericType: true } arg && arg.GetGenericTypeDefinition() == typeof(KeyValuePair<,>));

    private static string KeyText(object? key) => key switch
    {
        null => "null",
        string s => s,
        bool b => b ? "true" : "false",
        double d => PythonFloat.Format(d),
        float f => PythonFloat.Format(f),
        _ => Convert.ToString(key, CultureInfo.InvariantCulture) ?? "",
    };

    private static void WriteJson(StringBuilder sb, object? value, int indent)
    {
        switch (value)
        {
            case List<KeyValuePair<string, object?>> map:
                if (map.Count == 0)
                {
                    sb.Append("{}");
                    return;
                }

                sb.Append('{');
                for (var i = 0; i < map.Count; i++)
                {
                    sb.Append(i == 0 ? "\n" : ",\n").Append(' ', indent + 2);
                    JsonString(sb, map[i].Key);
                    sb.Append(": ");
                    WriteJson(sb, map[i].Value, indent + 2);
                }

                sb.Append('\n').Append(' ', indent).Append('}');
                return;
            case List<object?> list:
                if (list.Count == 0)
                {
                    sb.Append("[]");
                    return;
                }

                sb.Append('[');
                for (var i = 0; i < list.Count; i++)
                {
                    sb.Append(i == 0 ? "\n" : ",\n").Append(' ', indent + 2);
                    WriteJson(sb, list[i], indent + 2);
                }

                sb.Append('\n').Append(' ', indent).Append(']');
                return;
            default:
                sb.Append(JsonScalar(value));
                return;
        }
    }

    private static string JsonScalar(object? value) => value switch
    {
        null => "null",
        bool b => b ? "true" : "false",
        double d when double.IsNaN(d) => "NaN",
        double d when double.IsPositiveInfinity(d) => "Infinity",
        double d when double.IsNegativeInfinity(d) => "-Infinity",
        double d => PythonFloat.Format(d),
        NumberText n => n.Text,
        string s => JsonString(new StringBuilder(s.Length + 2), s).ToString(),
        _ => throw new InvalidOperationException("unexpected value"),
    };

    /// <summary>A JSON string as Python's <c>json</c> writes it with <c>ensure_ascii=True</c> (the one writer: <see cref="PythonJson.WriteString"/>).</summary>
    private static StringBuilder JsonString(StringBuilder sb, string s)
    {
        PythonJson.WriteString(sb, s);
        return sb;
    }

    private static void WriteYamlMapping(StringBuilder sb, List<KeyValuePair<string, object?>> map, int indent)
    {
        var first = true;
        foreach (var (key, value) in map.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            if (!first)
            {
                sb.Append(' ', indent);
            }

            first = false;
            sb.Append(MiniYaml.Scalar(key, simpleKey: true)).Append(':');
            WriteYamlValue(sb, value, indent, inSequence: false);
        }
    }

    private static void WriteYamlSequence(StringBuilder sb, List<object?> list, int indent)
    {
        var first = true;
        foreach (var item in list)
        {
            if (!first)
            {
                sb.Append(' ', indent);
            }

            first = false;
            sb.Append('-');
            WriteYamlValue(sb, item, indent, inSequence: true);
        }
    }

    /// <summary>Writes the value after a key's ':' or an item's '-', and the line break(s).</summary>
    private static void WriteYamlValue(StringBuilder sb, object? value, int indent, bool inSequence)
    {
        switch (value)
        {
            case List<KeyValuePair<string, object?>> { Count: > 0 } map when inSequence:
                sb.Append(' ');
                WriteYamlMapping(sb, map, indent + 2);
                return;
            case List<KeyValuePair<string, object?>> { Count: > 0 } map:
                sb.Append('\n').Append(' ', indent + 2);
                WriteYamlMapping(sb, map, indent + 2);
                return;
            case List<object?> { Count: > 0 } list when inSequence:
                sb.Append(' ');
                WriteYamlSequence(sb, list, indent + 2);
                return;
            case List<object?> { Count: > 0 } list:
                // PyYAML writes a mapping's sequence at the key's own indentation.
                sb.Append('\n').Append(' ', indent);
                WriteYamlSequence(sb, list, indent);
                return;
            default:
                sb.Append(' ').Append(YamlScalar(value)).Append('\n');
                return;
        }
    }

    private static string YamlScalar(object? value) => value switch
    {
        null => "null",
        bool b => b ? "true" : "false",
        List<KeyValuePair<string, object?>> => "{}",
        List<object?> => "[]",
        double d when double.IsNaN(d) => ".nan",
        double d when double.IsPositiveInfinity(d) => ".inf",
        double d when double.IsNegativeInfinity(d) => "-.inf",
        double d => YamlFloat(PythonFloat.Format(d)),
        NumberText n => n.Text,
        string s => MiniYaml.Scalar(s),
        _ => throw new InvalidOperationException("unexpected value"),
    };

    /// <summary>PyYAML's float text: Python's repr, with <c>.0</c> before an exponent that has no point (<c>1.0e-05</c>).</summary>
    private static string YamlFloat(string repr)
    {
        var lower = repr.ToLowerInvariant();
        var e = lower.IndexOf('e', StringComparison.Ordinal);
        return e >= 0 && !lower.Contains('.', StringComparison.Ordinal) ? lower[..e] + ".0" + lower[e..] : lower;
    }

    /// <summary>An integer or a number already in text (from JSON), written as is.</summary>
    private sealed record NumberText(string Text);
}
