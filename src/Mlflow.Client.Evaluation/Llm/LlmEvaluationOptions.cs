using Microsoft.Extensions.Logging;

namespace Mlflow.Client.Evaluation.Llm;

/// <summary>How an LLM evaluation runs (<see cref="LlmEvaluationRunExtensions.EvaluateAsync(ActiveRun, EvaluationDataset, Func{IReadOnlyDictionary{string, System.Text.Json.Nodes.JsonNode?}, CancellationToken, Task{Prediction}}, IEnumerable{IScorer}, LlmEvaluationOptions?, CancellationToken)"/>).</summary>
public sealed record LlmEvaluationOptions
{
    /// <summary>How many records are predicted and scored at once (1 or more; default 4).</summary>
    public int MaxConcurrency { get; init; } = 4;

    /// <summary>The name of each record's root span and trace (<c>mlflow.traceName</c>); default <c>predict</c>.</summary>
    public string TraceName { get; init; } = "predict";

    /// <summary>
    /// Whether the per-record table is logged as the run artifact <c>eval_results_table.json</c>: <see langword="null"/>
    /// (default) logs it only when the traces cannot be kept (a local store, a run started offline).
    /// </summary>
    public bool? LogResultsTable { get; init; }

    /// <summary>Told how many records are done, after each one (for a progress bar).</summary>
    public IProgress<int>? Progress { get; init; }

    /// <summary>Receives warnings (an assessment the server refused, traces not kept) and debug messages; none when <see langword="null"/>.</summary>
    public ILogger? Logger { get; init; }

    /// <summary>
    /// The activity sources whose spans, started while the application answers a record, nest in the record's trace:
    /// exact names, or a prefix ending with <c>*</c>. By default Microsoft.Extensions.AI's and Semantic Kernel's (as
    /// <see cref="Mlflow.Client.Tracing.MlflowTracingOptions.ActivitySources"/>); manual spans (<see cref="Mlflow.Client.Tracing.MlflowSpan"/>) are always captured.
    /// </summary>
    public IReadOnlyList<string> ActivitySources { get; init; } = [Mlflow.Client.Tracing.MlflowTracingOptions.MicrosoftExtensionsAISource, Mlflow.Client.Tracing.MlflowTracingOptions.SemanticKernelSources];

    /// <summary>
    /// Whether each scorer's call on a record becomes a trace of its own in the run, as MLflow's
    /// <c>MLFLOW_GENAI_EVAL_ENABLE_SCORER_TRACING</c>: an EVALUATOR root named after the scorer with the judge's chat call
    /// under it, tagged <c>mlflow.trace.sourceScorer</c>, its id in the feedback's metadata
    /// (<c>mlflow.assessment.scorerTraceId</c>). Default <see langword="false"/>, as MLflow: scorers are not traced. Either
    /// way they never appear in the record's trace.
    /// </summary>
    public bool TraceScorers { get; init; }

    /// <summary>The clock that times the spans.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}
