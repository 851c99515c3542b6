using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Mlflow.Client.Evaluation;

/// <summary>
/// A table of an evaluation (the per-example results, or the confusion matrix): named columns and rows of cells
/// (<see cref="string"/>, numbers, <see cref="bool"/> or <see langword="null"/>).
/// </summary>
public sealed class EvaluationTable
{
    /// <summary>Creates a table.</summary>
    /// <param name="columns">Column names, distinct.</param>
    /// <param name="rows">Rows, each with one cell per column.</param>
    /// <exception cref="ArgumentException">A column repeats or a row has another number of cells.</exception>
    public EvaluationTable(IReadOnlyList<string> columns, IReadOnlyList<IReadOnlyList<object?>> rows)
    {
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentNullException.ThrowIfNull(rows);
        if (columns.Distinct(StringComparer.Ordinal).Count() != columns.Count)
        {
            throw new ArgumentException("Column names repeat.", nameof(columns));
        }

        foreach (var row in rows)
        {
            if (row.Count != columns.Count)
            {
                throw new ArgumentException($"A row has {row.Count} cells for {columns.Count} columns.", nameof(rows));
            }
        }

        Columns = columns;
        Rows = rows;
    }

    /// <summary>The column names.</summary>
    public IReadOnlyList<string> Columns { get; }

    /// <summary>The rows.</summary>
    public IReadOnlyList<IReadOnlyList<object?>> Rows { get; }

    /// <summary>The cells of one column.</summary>
    /// <param name="column">The column name.</param>
    /// <returns>One cell per row.</returns>
    /// <exception cref="KeyNotFoundException">No such column.</exception>
    public IReadOnlyList<object?> Column(string column)
    {
        var index = Columns.ToList().IndexOf(column);
        return index < 0 ? throw new KeyNotFoundException($"No column '{column}'.") : Rows.Select(r => r[index]).ToList();
    }

    /// <summary>
    /// The table as <c>mlflow.log_table</c> writes it (pandas' <c>orient="split"</c> without the index):
    /// <c>{"columns": [...], "data": [[...], ...]}</c>, which MLflow's UI shows in its evaluation view. NaN and infinities
    /// are written as <c>NaN</c>/<c>Infinity</c>/<c>-Infinity</c> as Python's <c>json</c> does.
    /// </summary>
    /// <returns>The JSON text.</returns>
    public string ToMlflowJson()
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("columns");
            foreach (var c in Columns)
            {
                writer.WriteStringValue(c);
            }

            writer.WriteEndArray();
            writer.WriteStartArray("data");
            foreach (var row in Rows)
            {
                writer.WriteStartArray();
                foreach (var cell in row)
                {
                    WriteCell(writer, cell);
                }

                writer.WriteEndArray();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void WriteCell(Utf8JsonWriter writer, object? cell)
    {
        switch (cell)
        {
            case null:
                writer.WriteNullValue();
                break;
            case string s:
                writer.WriteStringValue(s);
                break;
            case bool b:
                writer.WriteBooleanValue(b);
                break;
            case double d when !double.IsFinite(d):
                writer.WriteRawValue(double.IsNaN(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity", skipInputValidation: true);
                break;
            case double d:
                writer.WriteNumberValue(d);
                break;
            case float f:
                WriteCell(writer, (double)f);
                break;
            case int or long or short or byte or uint or ulong or decimal:
                writer.WriteRawValue(Convert.ToString(cell, CultureInfo.InvariantCulture)!);
                break;
            default:
                writer.WriteStringValue(Convert.ToString(cell, CultureInfo.InvariantCulture));
                break;
        }
    }
}
