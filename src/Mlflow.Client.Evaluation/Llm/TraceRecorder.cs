using Mlflow.Client.Tracing;

namespace Mlflow.Client.Evaluation.Llm;

/// <summary>
/// Where an evaluation puts the trace of one record. The seam between the evaluation loop and trace writing: today
/// <see cref="ClientTraceRecorder"/> logs the spans the loop built (a root span per prediction, the application's
/// reported spans, the judges' chat calls); span capture from OpenTelemetry can take its place later.
/// </summary>
internal interface ITraceRecorder
{
    /// <summary>Records one record's trace, linked to the run through its metadata; returns the trace id as stored.</summary>
    /// <exception cref="MlflowException">The trace could not be recorded.</exception>
    Task<string> RecordAsync(RecordTrace trace, CancellationToken cancellationToken);
}

/// <summary>One record's trace: its id, experiment and run, the spans (root first) and the tags of the record.</summary>
internal sealed record RecordTrace(string TraceId, string ExperimentId, string RunId, IReadOnlyList<TraceSpan> Spans, IReadOnlyDictionary<string, string> Tags);

/// <summary>Logs traces through the tracking server's client, as MLflow's exporter does without OTLP (<see cref="MlflowClient.LogTraceAsync"/>).</summary>
internal sealed class ClientTraceRecorder : ITraceRecorder
{
    private readonly MlflowClient _client;

    public ClientTraceRecorder(MlflowClient client) => _client = client;

    public async Task<string> RecordAsync(RecordTrace trace, CancellationToken cancellationToken)
    {
        var info = new TraceInfo
        {
            TraceId = trace.TraceId,
            ExperimentId = trace.ExperimentId,
            Metadata = new Dictionary<string, string>(StringComparer.Ordinal) { [TraceKeys.SourceRunMetadata] = trace.RunId },
            Tags = trace.Tags,
        };
        var logged = await _client.LogTraceAsync(info, trace.Spans, cancellationToken).ConfigureAwait(false);
        return logged.TraceId;
    }
}
