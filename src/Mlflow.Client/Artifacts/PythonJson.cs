using System.Collections;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Mlflow.Client.Artifacts;

/// <summary>
/// JSON text exactly as Python's <c>json.dumps</c> writes it with its defaults (<c>", "</c> and <c>": "</c>
/// separators, <c>ensure_ascii=True</c>: every non-ASCII character as <c>\uXXXX</c>), which is how MLflow writes the
/// values of the tags <c>mlflow.loggedArtifacts</c> and <c>mlflow.log-model.history</c> and a dataset's source,
/// schema and profile. Values: <see langword="null"/>, <see cref="bool"/>, <see cref="string"/>, <see cref="int"/>,
/// <see cref="long"/>, an ordered mapping (<see cref="IEnumerable{T}"/> of string-keyed pairs, written in its order as
/// Python keeps a dict's insertion order), another sequence (a list), or a <see cref="JsonElement"/> (re-written in
/// this style, as Python re-dumps what <c>json.loads</c> read).
/// </summary>
internal static class PythonJson
{
    public static string Serialize(object? value)
    {
        var sb = new StringBuilder(256);
        Write(sb, value);
        return sb.ToString();
    }

    private static void Write(StringBuilder sb, object? value)
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
                WriteString(sb, s);
                break;
            case int i:
                sb.Append(i.ToString(CultureInfo.InvariantCulture));
                break;
            case long l:
                sb.Append(l.ToString(CultureInfo.InvariantCulture));
                break;
            case JsonElement e:
                WriteElement(sb, e);
                break;
            case IEnumerable<KeyValuePair<string, object?>> map:
                WriteMapping(sb, map);
                break;
            case IEnumerable list:
                sb.Append('[');
                var first = true;
                foreach (var item in list)
                {
                    sb.Append(first ? "" : ", ");
                    first = false;
                    Write(sb, item);
                }

                sb.Append(']');
                break;
            default:
                throw new ArgumentException($"Unsupported JSON value type {value.GetType().Name}.", nameof(value));
        }
    }

    private static void WriteMapping(StringBuilder sb, IEnumerable<KeyValuePair<string, object?>> map)
    {
        sb.Append('{');
        var first = true;
        foreach (var (key, item) in map)
        {
            sb.Append(first ? "" : ", ");
            first = false;
            WriteString(sb, key);
            sb.Append(": ");
            Write(sb, item);
        }

        sb.Append('}');
    }

    private static void WriteElement(StringBuilder sb, JsonElement e)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                WriteMapping(sb, e.EnumerateObject().Select(p => new KeyValuePair<string, object?>(p.Name, p.Value)));
                break;
            case JsonValueKind.Array:
                Write(sb, e.EnumerateArray().Select(x => (object?)x).ToList());
                break;
            case JsonValueKind.String:
                WriteString(sb, e.GetString()!);
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

    /// <summary>A JSON string as <c>json.dumps</c> with <c>ensure_ascii=True</c> writes it.</summary>
    public static void WriteString(StringBuilder sb, string s)
    {
        sb.Append('"');
        foreach (var ch in s)
        {
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
                    if (ch < 0x20 || ch > 0x7e)
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
