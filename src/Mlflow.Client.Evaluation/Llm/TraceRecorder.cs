using Mlflow.Client.Tracing;

namespace Mlflow.Client.Evaluation.Llm;

/// <summary>
/// Where an evaluation puts the trace of one record. The seam between the evaluation loop and trace writing: today
/// <see cref="StoreTraceRecorder"/> logs the spans the loop built (a root span per prediction, the application's
/// reported spans, the judges' chat calls); span capture from OpenTelemetry can take its place later.
/// </summary>
internal interface ITraceRecorder
{
    /// <summary>Records one record's trace, linked to the run through its metadata; returns the trace id as stored.</summary>
    /// <exception cref="MlflowException">The trace could not be recorded.</exception>
    /// <exception cref="NotSupportedException">The store keeps no traces (a local store, today).</exception>
    Task<string> RecordAsync(RecordTrace trace, CancellationToken cancellationToken);
}

/// <summary>One record's trace: its id, experiment and run, the spans (root first) and the tags of the record.</summary>
internal sealed record RecordTrace(string TraceId, string ExperimentId, string RunId, IReadOnlyList<TraceSpan> Spans, IReadOnlyDictionary<string, string> Tags);

/// <summary>Logs traces through the tracker's store (its trace seam: a server's client, as MLflow's exporter does without OTLP).</summary>
internal sealed class StoreTraceRecorder : ITraceRecorder
{
    private readonly Store.ITrackingStore _store;

    public StoreTraceRecorder(Store.ITrackingStore store) => _store = store;

    public async Task<string> RecordAsync(RecordTrace trace, CancellationToken cancellationToken)
    {
        var info = new TraceInfo
        {
            TraceId = trace.TraceId,
            ExperimentId = trace.ExperimentId,
            Metadata = new Dictionary<string, string>(StringComparer.Ordinal) { [TraceKeys.SourceRunMetadata] = trace.RunId },
            Tags = trace.Tags,
        };
        var logged = await _store.LogTraceAsync(info, trace.Spans, cancellationToken).ConfigureAwait(false);
        return logged.TraceId;
    }
}
