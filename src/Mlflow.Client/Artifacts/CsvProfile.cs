using System.Globalization;
using System.Text;

namespace Mlflow.Client.Artifacts;

/// <summary>
/// The schema and profile MLflow records for a CSV file read with pandas' <c>read_csv</c> defaults
/// (<c>mlflow.data.from_pandas(pd.read_csv(path))</c>), computed in one streamed pass without keeping the rows: the
/// header names the columns; a column whose values all parse as integers is <c>long</c>, as numbers <c>double</c>, as
/// <c>True</c>/<c>False</c> <c>boolean</c>, else <c>string</c>; an empty cell or one of pandas' missing markers
/// (<c>NA</c>, <c>NaN</c>, <c>null</c>, …) is missing, which makes a column not required and an integer column
/// <c>double</c> (<see cref="PandasColumnTypes"/>), and a boolean column <c>string</c> (pandas keeps it as objects).
/// </summary>
internal static class CsvProfile
{
    private static readonly HashSet<string> MissingMarkers = new(StringComparer.Ordinal)
    {
        "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
    };

    private sealed class Column(string name)
    {
        public string Name { get; } = name;

        public bool AllLong { get; set; } = true;

        public bool AllDouble { get; set; } = true;

        public bool AllBool { get; set; } = true;

        public bool AnyMissing { get; set; }

        public bool AnyValue { get; set; }
    }

    /// <summary>The schema JSON (<see langword="null"/> when the file has no header) and the profile JSON of a CSV file.</summary>
    public static (string? Schema, string Profile) Read(string path)
    {
        using var reader = new StreamReader(path, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        var header = ReadRecord(reader);
        if (header is null)
        {
            return (null, Profile(0, 0));
        }

        var columns = header.Select(h => new Column(h)).ToList();
        long rows = 0;
        while (ReadRecord(reader) is { } record)
        {
            if (record.Count == 1 && record[0].Length == 0)
            {
                continue; // a blank line: pandas skips it
            }

            rows++;
            for (var c = 0; c < columns.Count; c++)
            {
                Observe(columns[c], c < record.Count ? record[c] : "");
            }
        }

        var specs = columns.Select(c => (object?)new List<KeyValuePair<string, object?>>
        {
            new("type", TypeOf(c)), new("name", c.Name), new("required", !c.AnyMissing),
        }).ToList();
        var schema = PythonJson.Serialize(new List<KeyValuePair<string, object?>> { new("mlflow_colspec", specs) });
        return (schema, Profile(rows, rows * columns.Count));
    }

    private static string Profile(long rows, long elements)
        => PythonJson.Serialize(new List<KeyValuePair<string, object?>> { new("num_rows", rows), new("num_elements", elements) });

    private static void Observe(Column column, string cell)
    {
        if (MissingMarkers.Contains(cell))
        {
            column.AnyMissing = true;
            return;
        }

        column.AnyValue = true;
        var text = cell.Trim();
        column.AllLong &= long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _);
        column.AllDouble &= double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _) || text is "inf" or "-inf" or "+inf" or "Infinity" or "-Infinity";
        column.AllBool &= cell is "True" or "False" or "TRUE" or "FALSE" or "true" or "false";
    }

    private static string TypeOf(Column c) => !c.AnyValue ? "double" // only missing values: pandas reads a float64 column of NaN
        : c.AllLong ? PandasColumnTypes.SchemaType("long", c.AnyMissing)
        : c.AllDouble ? "double"
        : c.AllBool && !c.AnyMissing ? "boolean"
        : "string";

    /// <summary>One record (RFC 4180: quoted fields may hold commas, doubled quotes and line breaks); <see langword="null"/> at the end.</summary>
    private static List<string>? ReadRecord(TextReader reader)
    {
        var first = reader.Peek();
        if (first < 0)
        {
            return null;
        }

        var fields = new List<string>();
        var field = new StringBuilder();
        var quoted = false;
        while (true)
        {
            var ch = reader.Read();
            if (ch < 0)
            {
                fields.Add(field.ToString());
                return fields;
            }

            if (quoted)
            {
                if (ch == '"')
                {
                    if (reader.Peek() == '"')
                    {
                        reader.Read();
                        field.Append('"');
                    }
                    else
                    {
                        quoted = false;
                    }
                }
                else
                {
                    field.Append((char)ch);
                }

                continue;
            }

            switch (ch)
            {
                case '"' when field.Length == 0:
                    quoted = true;
                    break;
                case ',':
                    fields.Add(field.ToString());
                    field.Clear();
                    break;
                case '\r':
                    if (reader.Peek() == '\n')
                    {
                        reader.Read();
                    }

                    fields.Add(field.ToString());
                    return fields;
                case '\n':
                    fields.Add(field.ToString());
                    return fields;
                default:
                    field.Append((char)ch);
                    break;
            }
        }
    }
}
