using Mlflow.Client.Tracing;

namespace Mlflow.Client.Evaluation.Llm;

/// <summary>
/// Where an evaluation puts the trace of one record and its assessments. The seam between the evaluation loop and
/// trace writing: <see cref="RunTraceRecorder"/> logs them through the run's tracker, to its store or, while the run is
/// offline (or the server cannot take them), into the run's offline copy, which the drain and <c>mlflow-sync</c> push.
/// </summary>
internal interface ITraceRecorder
{
    /// <summary>Records one record's trace, linked to the run through its metadata; returns where it went.</summary>
    /// <exception cref="MlflowException">The trace could not be recorded.</exception>
    /// <exception cref="NotSupportedException">The store keeps no traces (the in-memory store).</exception>
    Task<RunTrace> RecordAsync(RecordTrace trace, CancellationToken cancellationToken);

    /// <summary>Logs an assessment of a recorded trace where the trace went.</summary>
    /// <exception cref="MlflowException">The assessment was refused.</exception>
    Task LogAssessmentAsync(RunTrace trace, Assessment assessment, CancellationToken cancellationToken);
}

/// <summary>One record's trace: its id, the spans (root first) and the tags of the record.</summary>
internal sealed record RecordTrace(string TraceId, IReadOnlyList<TraceSpan> Spans, IReadOnlyDictionary<string, string> Tags);

/// <summary>Logs a record's trace as MLflow's Python logs one inside a run (user, source, token usage, the run), through the run's tracker.</summary>
internal sealed class RunTraceRecorder : ITraceRecorder
{
    private readonly ActiveRun _run;

    public RunTraceRecorder(ActiveRun run) => _run = run;

    public Task<RunTrace> RecordAsync(RecordTrace trace, CancellationToken cancellationToken)
    {
        var info = TracePipeline.BuildInfo(new CompletedTrace(trace.TraceId, trace.Spans), _run.ExperimentId, _run.RunId, _run.Tracker.User) with { Tags = trace.Tags };
        return _run.Tracker.LogRunTraceAsync(_run, info, trace.Spans, cancellationToken);
    }

    public Task LogAssessmentAsync(RunTrace trace, Assessment assessment, CancellationToken cancellationToken)
        => _run.Tracker.LogRunAssessmentAsync(_run, trace, assessment, cancellationToken);
}
