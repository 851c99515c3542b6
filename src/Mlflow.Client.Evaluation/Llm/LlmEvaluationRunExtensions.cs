using System.Text.Json.Nodes;

namespace Mlflow.Client.Evaluation.Llm;

/// <summary>
/// Evaluates an LLM application on a run, the MLflow 3 way (<c>mlflow.genai.evaluate</c>): the application is called for
/// each record of the dataset, each call becomes a trace linked to the run, every scorer's feedback and the record's
/// expectations become assessments on that trace, and the aggregates per scorer (<c>&lt;name&gt;/mean</c>...) go onto the run.
/// </summary>
/// <remarks>
/// Also logged on the run: the tag <c>mlflow.runType</c> = <c>genai_evaluate</c> and the dataset as a run input. Each
/// record's call runs under the root span of its own trace: the spans the application emits inside <c>predict</c>
/// (an <c>IChatClient</c> with <c>UseOpenTelemetry()</c>, Semantic Kernel with its GenAI telemetry switched on,
/// <see cref="Mlflow.Client.Tracing.MlflowSpan"/>; <see cref="LlmEvaluationOptions.ActivitySources"/>) nest in that trace
/// with their types, messages and token usage, whatever the concurrency. The scorers and judges run outside it, as in
/// MLflow. The traces need an MLflow 3 tracking server or a local store (MLflow 3's file layout); while the run is
/// offline, or when the server cannot take a trace, the trace and its assessments are kept in the run's offline copy and
/// sent with the run (by the tracker when the server answers, else by <c>mlflow-sync</c>). Where traces cannot be kept
/// (an MLflow 2 server, the in-memory store) the evaluation still runs, logs the metrics, and keeps the per-record table
/// as the run artifact <c>eval_results_table.json</c> instead (<see cref="LlmEvaluationResult.TracesLogged"/> says
/// which). A failing application call is recorded for its record (its trace has state ERROR) and the evaluation goes
/// on; so does a failing scorer or judge (feedback with an error).
/// </remarks>
public static class LlmEvaluationRunExtensions
{
    /// <summary>Runs the application over the dataset and scores each answer.</summary>
    /// <param name="run">The evaluation run.</param>
    /// <param name="dataset">The records.</param>
    /// <param name="predict">Calls the application with a record's inputs; returns its answer (a string or JSON converts to a <see cref="Prediction"/>).</param>
    /// <param name="scorers">The scorers and judges (names unique).</param>
    /// <param name="options">Concurrency, trace name, progress, logger.</param>
    /// <param name="cancellationToken">Cancels the evaluation.</param>
    /// <returns>One row per record and the aggregates.</returns>
    /// <exception cref="ArgumentException">Two scorers have the same name.</exception>
    public static Task<LlmEvaluationResult> EvaluateAsync(this ActiveRun run, EvaluationDataset dataset, Func<IReadOnlyDictionary<string, JsonNode?>, CancellationToken, Task<Prediction>> predict, IEnumerable<IScorer> scorers, LlmEvaluationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(run);
        var store = run.Tracker.SearchStore;
        return LlmEvaluator.RunAsync(run, dataset, predict, scorers, options, store, new RunTraceRecorder(run), cancellationToken);
    }

    /// <inheritdoc cref="EvaluateAsync(ActiveRun, EvaluationDataset, Func{IReadOnlyDictionary{string, JsonNode?}, CancellationToken, Task{Prediction}}, IEnumerable{IScorer}, LlmEvaluationOptions?, CancellationToken)"/>
    public static Task<LlmEvaluationResult> EvaluateAsync(this ActiveRun run, EvaluationDataset dataset, Func<IReadOnlyDictionary<string, JsonNode?>, Task<Prediction>> predict, IEnumerable<IScorer> scorers, LlmEvaluationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(predict);
        return EvaluateAsync(run, dataset, (inputs, _) => predict(inputs), scorers, options, cancellationToken);
    }

    /// <summary>Runs a synchronous application over the dataset and scores each answer (calls run on the thread pool, <see cref="LlmEvaluationOptions.MaxConcurrency"/> at a time).</summary>
    /// <param name="run">The evaluation run.</param>
    /// <param name="dataset">The records.</param>
    /// <param name="predict">Calls the application with a record's inputs; returns its answer.</param>
    /// <param name="scorers">The scorers and judges (names unique).</param>
    /// <param name="options">Concurrency, trace name, progress, logger.</param>
    /// <returns>One row per record and the aggregates.</returns>
    public static LlmEvaluationResult Evaluate(this ActiveRun run, EvaluationDataset dataset, Func<IReadOnlyDictionary<string, JsonNode?>, Prediction> predict, IEnumerable<IScorer> scorers, LlmEvaluationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(predict);
        return EvaluateAsync(run, dataset, (inputs, ct) => Task.Run(() => predict(inputs), ct), scorers, options).GetAwaiter().GetResult();
    }
}
