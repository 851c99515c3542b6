using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Mlflow.Client.Artifacts;

/// <summary>
/// MLflow's table artifact: the JSON that <c>mlflow.log_table</c> writes with pandas'
/// <c>DataFrame.to_json(orient="split", index=False, date_format="iso")</c>, byte for byte for the value types of
/// <see cref="MlflowTable"/>: compact <c>{"columns":[...],"data":[[...]]}</c>, strings escaped as pandas' ujson does
/// (<c>/</c> as <c>\/</c>, non-ASCII as <c>\uXXXX</c>), floats with pandas' default 10 decimals, NaN and infinities
/// as <c>null</c>, and each column typed as pandas would type it.
/// </summary>
internal static class TableJson
{
    private const int DoublePrecision = 10; // pandas' to_json default double_precision

    private enum ColumnKind
    {
        Integer,
        Float,
        Other,
    }

    public static string Write(MlflowTable table)
    {
        var kinds = Enumerable.Range(0, table.Columns.Count).Select(c => KindOf(table.RowArrays.Select(r => r[c]))).ToArray();
        var sb = new StringBuilder(64 + (table.RowCount * table.Columns.Count * 8));
        sb.Append("{\"columns\":[");
        for (var c = 0; c < table.Columns.Count; c++)
        {
            sb.Append(c == 0 ? "" : ",");
            WriteString(sb, table.Columns[c]);
        }

        sb.Append("],\"data\":[");
        for (var r = 0; r < table.RowCount; r++)
        {
            sb.Append(r == 0 ? "[" : ",[");
            var row = table.RowArrays[r];
            for (var c = 0; c < row.Length; c++)
            {
                sb.Append(c == 0 ? "" : ",");
                WriteValue(sb, row[c], kinds[c]);
            }

            sb.Append(']');
        }

        sb.Append("]}");
        return sb.ToString();
    }

    /// <summary>Reads a table MLflow wrote (<c>orient="split"</c>): integers as <see cref="long"/>, other numbers as <see cref="double"/>, nested values as their JSON text.</summary>
    /// <exception cref="FormatException">The text is not a table in that form.</exception>
    public static MlflowTable Read(string json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("columns", out var cols) || cols.ValueKind != JsonValueKind.Array
                || !root.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
            {
                throw new FormatException("The artifact is not an MLflow table: it needs \"columns\" and \"data\" arrays.");
            }

            var columns = cols.EnumerateArray().Select(c => c.ValueKind == JsonValueKind.String ? c.GetString()! : c.GetRawText()).ToArray();
            var rows = new List<object?[]>();
            foreach (var row in data.EnumerateArray())
            {
                var values = row.ValueKind == JsonValueKind.Array ? row.EnumerateArray().Select(ReadValue).ToArray() : [];
                if (values.Length != columns.Length)
                {
                    throw new FormatException($"Row {rows.Count} of the table has {values.Length} values for {columns.Length} columns.");
                }

                rows.Add(values);
            }

            return MlflowTable.Create(columns, rows);
        }
        catch (JsonException ex)
        {
            throw new FormatException("The artifact is not valid JSON: " + ex.Message, ex);
        }
    }

    private static object? ReadValue(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Null => null,
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.String => e.GetString(),
        JsonValueKind.Number when e.TryGetInt64(out var l) && e.GetRawText().IndexOfAny(['.', 'e', 'E']) < 0 => l,
        JsonValueKind.Number => e.GetDouble(),
        _ => new RawJson(e.GetRawText()),
    };

    /// <summary>How pandas types a column built from these values (<see cref="PandasColumnTypes"/>: integers with a float or a missing value become <c>float64</c>).</summary>
    private static ColumnKind KindOf(IEnumerable<object?> values) => PandasColumnTypes.Classify(values).Kind switch
    {
        PandasColumnTypes.Kind.Int64 => ColumnKind.Integer,
        PandasColumnTypes.Kind.Float64 => ColumnKind.Float,
        _ => ColumnKind.Other,
    };

    private static bool IsInteger(object v) => PandasColumnTypes.IsWhole(v);

    private static void WriteValue(StringBuilder sb, object? value, ColumnKind kind)
    {
        if (kind == ColumnKind.Float && value is not null)
        {
            WriteDouble(sb, Convert.ToDouble(value, CultureInfo.InvariantCulture));
            return;
        }

        switch (value)
        {
            case null:
                sb.Append("null");
                break;
            case string s:
                WriteString(sb, s);
                break;
            case bool b:
                sb.Append(b ? "true" : "false");
                break;
            case RawJson raw:
                sb.Append(raw.Text);
                break;
            case DateTime dt:
                WriteString(sb, dt.ToString("yyyy-MM-dd'T'HH:mm:ss.fff", CultureInfo.InvariantCulture) + (dt.Kind == DateTimeKind.Utc ? "Z" : ""));
                break;
            case DateTimeOffset dto:
                WriteString(sb, dto.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff", CultureInfo.InvariantCulture) + "Z");
                break;
            case var v when IsInteger(v):
                sb.Append(Convert.ToString(v, CultureInfo.InvariantCulture));
                break;
            case var v when PandasColumnTypes.IsFloating(v):
                WriteDouble(sb, Convert.ToDouble(v, CultureInfo.InvariantCulture));
                break;
            case var v:
                WriteString(sb, Convert.ToString(v, CultureInfo.InvariantCulture) ?? "");
                break;
        }
    }

    /// <summary>
    /// A double as pandas' ujson encoder writes it with 10 decimals: fixed notation with the fraction rounded to 10
    /// digits and its trailing zeros dropped (at least <c>.0</c>); <c>%.10g</c> above 1e16 - 1 and below 1e-15;
    /// NaN and infinities as <c>null</c> (pandas writes missing values so).
    /// </summary>
    internal static void WriteDouble(StringBuilder sb, double value)
    {
        if (double.IsNaN(value) || double.IsInfinity(value))
        {
            sb.Append("null");
            return;
        }

        const double thresMax = 1e16 - 1; // as a double: 1e16
        const double thresMin = 1e-15;
        var neg = value < 0;
        if (neg)
        {
            value = -value;
        }

        if (value > thresMax || (value != 0.0 && value < thresMin))
        {
            sb.Append(neg ? "-" : "").Append(FormatG(value));
            return;
        }

        var pow10 = 1e10;
        var whole = (ulong)value;
        var tmp = (value - whole) * pow10;
        var frac = (ulong)tmp;
        var diff = tmp - frac;
        if (diff > 0.5 || (diff == 0.5 && (frac == 0 || (frac & 1) == 1)))
        {
            ++frac;
        }

        if (frac >= pow10)
        {
            frac = 0;
            ++whole;
        }

        if (neg)
        {
            sb.Append('-');
        }

        sb.Append(whole.ToString(CultureInfo.InvariantCulture)).Append('.');
        if (frac == 0)
        {
            sb.Append('0');
            return;
        }

        var digits = frac.ToString(CultureInfo.InvariantCulture).PadLeft(DoublePrecision, '0').TrimEnd('0');
        sb.Append(digits);
    }

    /// <summary>C's <c>%.10g</c> for a value whose exponent puts it in exponential form (|x| &gt; 1e16 or &lt; 1e-15).</summary>
    private static string FormatG(double value)
    {
        var e = value.ToString("E9", CultureInfo.InvariantCulture); // d.dddddddddE+xxx: 10 significant digits, rounded as C does
        var mantissa = e[..e.IndexOf('E', StringComparison.Ordinal)].TrimEnd('0').TrimEnd('.');
        var exponent = int.Parse(e[(e.IndexOf('E', StringComparison.Ordinal) + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        return mantissa + "e" + (exponent < 0 ? "-" : "+") + Math.Abs(exponent).ToString("00", CultureInfo.InvariantCulture);
    }

    /// <summary>A string as pandas' ujson encoder writes it (<c>ensure_ascii</c>): <c>"</c>, <c>\</c> and <c>/</c> escaped, control characters by name or <c>\u00XX</c>, non-ASCII as <c>\uXXXX</c>.</summary>
    private static void WriteString(StringBuilder sb, string s)
    {
        sb.Append('"');
        foreach (var ch in s)
        {
            switch (ch)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '/': sb.Append("\\/"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    if (ch < 0x20 || ch > 0x7f)
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

    /// <summary>A nested value read from an existing table (a list or an object), written back as it was.</summary>
    internal sealed record RawJson(string Text);
}
