using System.Text.Json.Nodes;

namespace Mlflow.Client.Evaluation.Llm;

/// <summary>What an LLM evaluation found: one row per dataset record, and the aggregates logged onto the run.</summary>
public sealed class LlmEvaluationResult
{
    internal LlmEvaluationResult(string runId, IReadOnlyList<LlmEvaluationRow> rows, IReadOnlyDictionary<string, double> metrics, bool tracesLogged)
    {
        RunId = runId;
        Rows = rows;
        Metrics = metrics;
        TracesLogged = tracesLogged;
    }

    /// <summary>The evaluation run.</summary>
    public string RunId { get; }

    /// <summary>One row per record, in the dataset's order.</summary>
    public IReadOnlyList<LlmEvaluationRow> Rows { get; }

    /// <summary>The aggregates logged onto the run, <c>&lt;feedback name&gt;/&lt;aggregate&gt;</c> (for example <c>correctness/mean</c>).</summary>
    public IReadOnlyDictionary<string, double> Metrics { get; }

    /// <summary>
    /// Whether each record's trace (with its assessments) was kept: on the tracking server, in the local store, or in the
    /// run's offline copy (sent with the run later); <see langword="false"/> where traces cannot be kept (an MLflow 2
    /// server, the in-memory store), where the per-record table is the run artifact <c>eval_results_table.json</c> instead.
    /// </summary>
    public bool TracesLogged { get; }

    /// <summary>
    /// The rows as a table: <c>trace_id</c>, <c>inputs</c>, <c>outputs</c>, <c>expectations</c>, <c>error</c>,
    /// <c>duration_ms</c>, then <c>&lt;name&gt;/value</c> and <c>&lt;name&gt;/rationale</c> per feedback name.
    /// </summary>
    /// <returns>The table (what is logged as <c>eval_results_table.json</c>).</returns>
    public MlflowTable ToTable()
    {
        var names = Rows.SelectMany(r => r.Feedback.Select(f => f.Name)).Distinct(StringComparer.Ordinal).ToList();
        var columns = new List<string> { "trace_id", "inputs", "outputs", "expectations", "error", "duration_ms" };
        foreach (var name in names)
        {
            columns.Add(name + "/value");
            columns.Add(name + "/rationale");
        }

        var rows = Rows.Select(row =>
        {
            var cells = new List<object?>
            {
                row.TraceId,
                Json(row.Record.Inputs),
                ScorerInput.TextOf(row.Outputs),
                Json(row.Record.Expectations),
                row.Error,
                row.Duration.TotalMilliseconds,
            };
            foreach (var name in names)
            {
                var feedback = row.Find(name);
                cells.Add(feedback?.Error is { } e ? "error: " + e.ErrorMessage : feedback?.CellValue());
                cells.Add(feedback?.Rationale);
            }

            return (IReadOnlyList<object?>)cells;
        });
        return MlflowTable.FromRows(columns, rows);
    }

    private static string Json(IReadOnlyDictionary<string, JsonNode?> values)
    {
        var o = new JsonObject();
        foreach (var (key, value) in values)
        {
            o[key] = value?.DeepClone();
        }

        return o.ToJsonString();
    }
}

/// <summary>One record of an LLM evaluation: the record, the answer, its trace and the scorers' feedback.</summary>
public sealed record LlmEvaluationRow
{
    /// <summary>The record's position in the dataset.</summary>
    public int Index { get; init; }

    /// <summary>The dataset record.</summary>
    public required EvaluationRecord Record { get; init; }

    /// <summary>What the application answered; <see langword="null"/> when it failed.</summary>
    public JsonNode? Outputs { get; init; }

    /// <summary>The record's trace (<c>tr-…</c>, the same id once an offline copy is sent); <see langword="null"/> when traces were not kept.</summary>
    public string? TraceId { get; init; }

    /// <summary>How long the application took.</summary>
    public TimeSpan Duration { get; init; }

    /// <summary>Why the application failed for this record, when it did.</summary>
    public string? Error { get; init; }

    /// <summary>The scorers' feedback, in the order of the scorers.</summary>
    public IReadOnlyList<Feedback> Feedback { get; init => field = value ?? []; } = [];

    /// <summary>The feedback of that name, or <see langword="null"/>.</summary>
    /// <param name="name">The feedback (scorer) name.</param>
    /// <returns>The feedback.</returns>
    public Feedback? Find(string name) => Feedback.FirstOrDefault(f => string.Equals(f.Name, name, StringComparison.Ordinal));
}
