using System.Collections;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Mlflow.Client.Artifacts;

/// <summary>
/// JSON text exactly as Python's <c>json.dumps</c> writes it with its defaults (<c>", "</c> and <c>": "</c>
/// separators, <c>ensure_ascii=True</c>: every non-ASCII character as <c>\uXXXX</c>), which is how MLflow writes the
/// values of the tags <c>mlflow.loggedArtifacts</c> and <c>mlflow.log-model.history</c> and a dataset's source,
/// schema and profile. Values: <see langword="null"/>, <see cref="bool"/>, <see cref="string"/>, <see cref="int"/>,
/// <see cref="long"/>, an ordered mapping (<see cref="IEnumerable{T}"/> of string-keyed pairs, written in its order as
/// Python keeps a dict's insertion order), another sequence (a list), or a <see cref="JsonElement"/> (re-written in
/// this style, as Python re-dumps what <c>json.loads</c> read), a <see cref="double"/> (Python's <c>repr</c>;
/// <c>NaN</c>, <c>Infinity</c>) or a <see cref="JsonNode"/>. With <c>ensureAscii: false</c> (how MLflow's tracing
/// writes span attributes and <c>traces.json</c>) characters beyond ASCII are written as they are.
/// </summary>
internal static class PythonJson
{
    public static string Serialize(object? value) => Serialize(value, ensureAscii: true);

    public static string Serialize(object? value, bool ensureAscii)
    {
        var sb = new StringBuilder(256);
        Write(sb, value, ensureAscii);
        return sb.ToString();
    }

    /// <summary>A JSON string as <c>json.dumps</c> with <c>ensure_ascii=True</c> writes it.</summary>
    public static void WriteString(StringBuilder sb, string s) => WriteJsonString(sb, s, ensureAscii: true);

    private static void Write(StringBuilder sb, object? value, bool ensureAscii)
    {
        switch (value)
        {
            case null:
                sb.Append("null");
                break;
            case bool b:
                sb.Append(b ? "true" : "false");
                break;
            case string s:
                WriteJsonString(sb, s, ensureAscii);
                break;
            case double d:
                sb.Append(double.IsNaN(d) ? "NaN" : double.IsPositiveInfinity(d) ? "Infinity" : double.IsNegativeInfinity(d) ? "-Infinity" : FileStore.PythonFloat.Format(d));
                break;
            case JsonObject o:
                WriteMapping(sb, o.Select(p => new KeyValuePair<string, object?>(p.Key, p.Value)), ensureAscii);
                break;
            case JsonArray a:
                Write(sb, a.Select(x => (object?)x).ToList(), ensureAscii);
                break;
            case JsonValue v:
                WriteValue(sb, v, ensureAscii);
                break;
            case int i:
                sb.Append(i.ToString(CultureInfo.InvariantCulture));
                break;
            case long l:
                sb.Append(l.ToString(CultureInfo.InvariantCulture));
                break;
            case JsonElement e:
                WriteElement(sb, e, ensureAscii);
                break;
            case IEnumerable<KeyValuePair<string, object?>> map:
                WriteMapping(sb, map, ensureAscii);
                break;
            case IEnumerable list:
                sb.Append('[');
                var first = true;
                foreach (var item in list)
                {
                    sb.Append(first ? "" : ", ");
                    first = false;
                    Write(sb, item, ensureAscii);
                }

                sb.Append(']');
                break;
            default:
                throw new ArgumentException($"Unsupported JSON value type {value.GetType().Name}.", nameof(value));
        }
    }

    private static void WriteMapping(StringBuilder sb, IEnumerable<KeyValuePair<string, object?>> map, bool ensureAscii)
    {
        sb.Append('{');
        var first = true;
        foreach (var (key, item) in map)
        {
            sb.Append(first ? "" : ", ");
            first = false;
            WriteJsonString(sb, key, ensureAscii);
            sb.Append(": ");
            Write(sb, item, ensureAscii);
        }

        sb.Append('}');
    }

    private static void WriteValue(StringBuilder sb, JsonValue v, bool ensureAscii)
    {
        switch (v.GetValueKind())
        {
            case JsonValueKind.String:
                WriteJsonString(sb, v.GetValue<string>(), ensureAscii);
                break;
            case JsonValueKind.Number when v.TryGetValue<double>(out var d) && !v.TryGetValue<long>(out _) && !v.TryGetValue<JsonElement>(out _):
                Write(sb, d, ensureAscii);
                break;
            default:
                // true, false, null, and numbers read from JSON text (kept as written) or integers.
                sb.Append(v.ToJsonString());
                break;
        }
    }

    private static void WriteElement(StringBuilder sb, JsonElement e, bool ensureAscii)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                WriteMapping(sb, e.EnumerateObject().Select(p => new KeyValuePair<string, object?>(p.Name, p.Value)), ensureAscii);
                break;
            case JsonValueKind.Array:
                Write(sb, e.EnumerateArray().Select(x => (object?)x).ToList(), ensureAscii);
                break;
            case JsonValueKind.String:
                WriteJsonString(sb, e.GetString()!, ensureAscii);
                break;
            case JsonValueKind.True:
            case JsonValueKind.False:
            case JsonValueKind.Null:
            case JsonValueKind.Number:
                // Python writes back the integers and literals it read as they were; floats keep their text unless
                // written in a form Python's repr would change (not produced by MLflow's tags).
                sb.Append(e.GetRawText());
                break;
            default:
                throw new ArgumentException($"Unsupported JSON value kind {e.ValueKind}.", nameof(e));
        }
    }

    /// <summary>
    /// A JSON string as <c>json.dumps</c> writes it: with <paramref name="ensureAscii"/> every character outside
    /// printable ASCII as <c>\uXXXX</c>; without, only control characters (and a lone surrogate, which UTF-8 cannot hold).
    /// </summary>
    private static void WriteJsonString(StringBuilder sb, string s, bool ensureAscii)
    {
        sb.Append('"');
        for (var index = 0; index < s.Length; index++)
        {
            var ch = s[index];
            switch (ch)
            {
                case '"':
                    sb.Append("\\\"");
                    break;
                case '\\':
                    sb.Append("\\\\");
                    break;
                case '\n':
                    sb.Append("\\n");
                    break;
                case '\r':
                    sb.Append("\\r");
                    break;
                case '\t':
                    sb.Append("\\t");
                    break;
                case '\b':
                    sb.Append("\\b");
                    break;
                case '\f':
                    sb.Append("\\f");
                    break;
                default:
                    if (!ensureAscii && ch >= 0x20 && !char.IsSurrogate(ch))
                    {
                        sb.Append(ch);
                    }
                    else if (!ensureAscii && char.IsHighSurrogate(ch) && index + 1 < s.Length && char.IsLowSurrogate(s[index + 1]))
                    {
                        sb.Append(ch).Append(s[++index]);
                    }
                    else if (ch < 0x20 || ch > 0x7e)
                    {
                        sb.Append("\\u").Append(((int)ch).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        sb.Append(ch);
                    }

                    break;
            }
        }

        sb.Append('"');
    }
}
