using System.Globalization;
using System.Text;

namespace Mlflow.Client.Comparison;

/// <summary>Whether a larger or a smaller value of a metric is better.</summary>
public enum MetricGoal
{
    /// <summary>Higher is better (accuracy, F1, ROUGE).</summary>
    Maximize,
    /// <summary>Lower is better (loss, error, latency).</summary>
    Minimize,
}

/// <summary>One run in a <see cref="RunTable"/>.</summary>
public sealed record RunRow
{
    /// <summary>The run id.</summary>
    public required string RunId { get; init; }
    /// <summary>The run name (<c>mlflow.runName</c> when the run info has none).</summary>
    public string? RunName { get; init; }
    /// <summary>The experiment id.</summary>
    public required string ExperimentId { get; init; }
    /// <summary>The status.</summary>
    public RunStatus Status { get; init; }
    /// <summary>When the run started.</summary>
    public DateTimeOffset? StartTime { get; init; }
    /// <summary>When the run ended; <see langword="null"/> while running.</summary>
    public DateTimeOffset? EndTime { get; init; }
    /// <summary>The params.</summary>
    public IReadOnlyDictionary<string, string> Params { get; init; } = new Dictionary<string, string>();
    /// <summary>The latest value of each metric.</summary>
    public IReadOnlyDictionary<string, double> Metrics { get; init; } = new Dictionary<string, double>();
    /// <summary>The tags chosen for the table.</summary>
    public IReadOnlyDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>();
}

/// <summary>
/// Runs side by side: one row per run, with the columns <c>run_id</c>, <c>run_name</c>, <c>status</c>,
/// <c>start_time</c>, <c>end_time</c>, then <c>params.K</c>, <c>metrics.K</c> (latest values) and <c>tags.K</c> over
/// every key any run has (sorted). A run without a key has an empty cell, never 0.
/// </summary>
public sealed class RunTable
{
    private static readonly string[] FixedColumns = ["run_id", "run_name", "status", "start_time", "end_time"];

    private RunTable(IReadOnlyList<RunRow> rows)
    {
        Rows = rows;
        ParamKeys = rows.SelectMany(r => r.Params.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        MetricKeys = rows.SelectMany(r => r.Metrics.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        TagKeys = rows.SelectMany(r => r.Tags.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        Columns = [.. FixedColumns, .. ParamKeys.Select(k => "params." + k), .. MetricKeys.Select(k => "metrics." + k), .. TagKeys.Select(k => "tags." + k)];
    }

    /// <summary>The rows, in the order of the search.</summary>
    public IReadOnlyList<RunRow> Rows { get; }

    /// <summary>The column names.</summary>
    public IReadOnlyList<string> Columns { get; }

    /// <summary>Param keys of any run.</summary>
    public IReadOnlyList<string> ParamKeys { get; }

    /// <summary>Metric keys of any run.</summary>
    public IReadOnlyList<string> MetricKeys { get; }

    /// <summary>The tag keys shown.</summary>
    public IReadOnlyList<string> TagKeys { get; }

    /// <summary>Builds a table from runs (for example a page of <see cref="MlflowClient.SearchRunsAsync"/>).</summary>
    /// <param name="runs">The runs.</param>
    /// <param name="tagKeys">The tag keys to show as columns; <see langword="null"/> or empty shows no tag column.</param>
    /// <returns>The table.</returns>
    public static RunTable FromRuns(IEnumerable<Run> runs, IEnumerable<string>? tagKeys = null)
    {
        ArgumentNullException.ThrowIfNull(runs);
        var chosen = new HashSet<string>(tagKeys ?? [], StringComparer.Ordinal);
        return new RunTable(runs.Select(r => ToRow(r, chosen)).ToList());
    }

    /// <summary>The text of a cell: empty when the run has no such key or time; numbers in invariant round-trip form; times as ISO 8601 UTC.</summary>
    /// <param name="row">The row.</param>
    /// <param name="column">A column of <see cref="Columns"/>.</param>
    /// <returns>The text.</returns>
    public static string Cell(RunRow row, string column)
    {
        ArgumentNullException.ThrowIfNull(row);
        ArgumentNullException.ThrowIfNull(column);
        return column switch
        {
            "run_id" => row.RunId,
            "run_name" => row.RunName ?? "",
            "status" => row.Status.ToString().ToUpperInvariant(),
            "start_time" => Time(row.StartTime),
            "end_time" => Time(row.EndTime),
            _ when column.StartsWith("params.", StringComparison.Ordinal) => row.Params.GetValueOrDefault(column["params.".Length..]) ?? "",
            _ when column.StartsWith("metrics.", StringComparison.Ordinal) => row.Metrics.TryGetValue(column["metrics.".Length..], out var v) ? v.ToString("R", CultureInfo.InvariantCulture) : "",
            _ when column.StartsWith("tags.", StringComparison.Ordinal) => row.Tags.GetValueOrDefault(column["tags.".Length..]) ?? "",
            _ => throw new ArgumentException($"No column '{column}'.", nameof(column)),
        };
    }

    /// <summary>The run with the best latest value of a metric; runs without it (or with NaN) are skipped; ties keep the first row.</summary>
    /// <param name="metric">The metric key.</param>
    /// <param name="goal">Whether higher or lower is better.</param>
    /// <returns>The row, or <see langword="null"/> when no run has the metric.</returns>
    public RunRow? Best(string metric, MetricGoal goal = MetricGoal.Maximize)
    {
        ArgumentNullException.ThrowIfNull(metric);
        RunRow? best = null;
        var bestValue = 0.0;
        foreach (var row in Rows)
        {
            if (!row.Metrics.TryGetValue(metric, out var value) || double.IsNaN(value))
            {
                continue;
            }

            if (best is null || (goal == MetricGoal.Maximize ? value > bestValue : value < bestValue))
            {
                best = row;
                bestValue = value;
            }
        }

        return best;
    }

    /// <summary>Writes the table as CSV (RFC 4180: comma separated, CRLF line ends, a field with a comma, quote, CR or LF quoted with its quotes doubled), header first.</summary>
    /// <param name="writer">Where to write.</param>
    public void WriteCsv(TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        WriteCsvLine(writer, Columns);
        foreach (var row in Rows)
        {
            WriteCsvLine(writer, Columns.Select(c => Cell(row, c)));
        }
    }

    /// <summary>The table as CSV text (see <see cref="WriteCsv"/>).</summary>
    /// <returns>The CSV.</returns>
    public string ToCsv()
    {
        using var writer = new StringWriter(CultureInfo.InvariantCulture);
        WriteCsv(writer);
        return writer.ToString();
    }

    internal static RunRow ToRow(Run run, IReadOnlySet<string> tagKeys)
    {
        var tags = run.Data.Tags.GroupBy(t => t.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Last().Value, StringComparer.Ordinal);
        return new RunRow
        {
            RunId = run.Info.RunId,
            RunName = run.Info.RunName ?? tags.GetValueOrDefault("mlflow.runName"),
            ExperimentId = run.Info.ExperimentId,
            Status = run.Info.Status,
            StartTime = run.Info.StartTime is { } s ? DateTimeOffset.FromUnixTimeMilliseconds(s) : null,
            EndTime = run.Info.EndTime is { } e ? DateTimeOffset.FromUnixTimeMilliseconds(e) : null,
            Params = run.Data.Params.GroupBy(p => p.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Last().Value, StringComparer.Ordinal),
            Metrics = LatestMetrics(run),
            Tags = tags.Where(t => tagKeys.Contains(t.Key)).ToDictionary(t => t.Key, t => t.Value, StringComparer.Ordinal),
        };
    }

    /// <summary>The latest value of each metric of a run (a run's data holds one per key; should a store send several, the greatest step, then timestamp, wins as in MLflow).</summary>
    internal static Dictionary<string, double> LatestMetrics(Run run)
        => run.Data.Metrics.GroupBy(m => m.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.OrderBy(m => m.Step).ThenBy(m => m.Timestamp).Last().Value, StringComparer.Ordinal);

    private static string Time(DateTimeOffset? time) => time?.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture) ?? "";

    private static void WriteCsvLine(TextWriter writer, IEnumerable<string> fields)
    {
        var first = true;
        var sb = new StringBuilder();
        foreach (var field in fields)
        {
            if (!first)
            {
                sb.Append(',');
            }

            first = false;
            if (field.AsSpan().IndexOfAny(",\"\r\n") >= 0)
            {
                sb.Append('"').Append(field.Replace("\"", "\"\"", StringComparison.Ordinal)).Append('"');
            }
            else
            {
                sb.Append(field);
            }
        }

        sb.Append("\r\n");
        writer.Write(sb.ToString());
    }
}
