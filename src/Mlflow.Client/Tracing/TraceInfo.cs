using System.Diagnostics;

namespace Mlflow.Client.Tracing;

/// <summary>
/// What MLflow records about one trace (its <c>TraceInfoV3</c>): id, experiment, timing, state, previews of the request
/// and response, metadata, tags and the assessments attached to it. The spans themselves are <see cref="TraceSpan"/>s.
/// </summary>
[DebuggerDisplay("Trace {TraceId} {State} in {ExperimentId}")]
public sealed record TraceInfo
{
    /// <summary>The trace id: <c>tr-</c> and the 32 hex digits of the OpenTelemetry trace id (<see cref="TraceIds.NewTraceId"/>).</summary>
    public string TraceId { get; init => field = value ?? ""; } = "";

    /// <summary>The experiment the trace belongs to (its location, <c>MLFLOW_EXPERIMENT</c>).</summary>
    public string ExperimentId { get; init => field = value ?? ""; } = "";

    /// <summary>When the trace started (its root span started), in milliseconds since the Unix epoch.</summary>
    public long RequestTimeMs { get; init; }

    /// <summary>How long the trace took, in milliseconds; <see langword="null"/> while unknown.</summary>
    public long? ExecutionDurationMs { get; init; }

    /// <summary>Whether the traced call succeeded.</summary>
    public TraceState State { get; init; }

    /// <summary>The request (root span inputs) as JSON text, cut to 1,000 characters as MLflow does; the UI's Request column.</summary>
    public string? RequestPreview { get; init; }

    /// <summary>The response (root span outputs) as JSON text, cut to 1,000 characters; the UI's Response column.</summary>
    public string? ResponsePreview { get; init; }

    /// <summary>An id the application gave the request (for example a session or request id of a web app).</summary>
    public string? ClientRequestId { get; init; }

    /// <summary>Immutable facts about the trace (<c>trace_metadata</c>): <c>mlflow.sourceRun</c>, <c>mlflow.traceInputs</c>, the schema version...</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; init => field = value ?? Empty; } = Empty;

    /// <summary>Tags, which may change after the trace was logged: <c>mlflow.traceName</c>, and the server's <c>mlflow.artifactLocation</c>.</summary>
    public IReadOnlyDictionary<string, string> Tags { get; init => field = value ?? Empty; } = Empty;

    /// <summary>Feedback and expectations attached to the trace (filled in by reads; not sent when logging a trace).</summary>
    public IReadOnlyList<Assessment> Assessments { get; init => field = value ?? []; } = [];

    /// <summary>Where the trace's span data (<c>traces.json</c>) lives: the <c>mlflow.artifactLocation</c> tag the store set.</summary>
    public string? ArtifactLocation => Tags.TryGetValue(TraceKeys.ArtifactLocationTag, out var location) ? location : null;

    /// <summary>The run the trace was logged under (metadata <c>mlflow.sourceRun</c>), if any.</summary>
    public string? SourceRunId => Metadata.TryGetValue(TraceKeys.SourceRunMetadata, out var run) ? run : null;

    private static readonly IReadOnlyDictionary<string, string> Empty = new Dictionary<string, string>();
}

/// <summary>The state of a trace (MLflow's <c>TraceState</c>).</summary>
public enum TraceState
{
    /// <summary>Not given (<c>STATE_UNSPECIFIED</c>).</summary>
    Unspecified = 0,
    /// <summary>The traced call succeeded (<c>OK</c>).</summary>
    Ok = 1,
    /// <summary>The traced call failed (<c>ERROR</c>).</summary>
    Error = 2,
    /// <summary>Still running (<c>IN_PROGRESS</c>).</summary>
    InProgress = 3,
}

/// <summary>A trace with its spans, as <see cref="MlflowClient.GetTraceAsync"/> reads it.</summary>
/// <param name="Info">What MLflow records about the trace.</param>
/// <param name="Spans">The spans, in the order they were stored (MLflow's exporter writes the root first).</param>
public sealed record MlflowTrace(TraceInfo Info, IReadOnlyList<TraceSpan> Spans)
{
    /// <summary>The span without a parent, if there is one.</summary>
    public TraceSpan? RootSpan => Spans.FirstOrDefault(s => s.ParentSpanId is null);
}

/// <summary>What a trace search looks for (MLflow's <c>traces/search</c>).</summary>
public sealed record TraceSearchOptions
{
    /// <summary>Filter expression, for example <c>tags.mlflow.traceName = 'answer'</c> or <c>trace.status = 'OK'</c>.</summary>
    public string? Filter { get; init; }

    /// <summary>Page size (the server allows 1 to 500; default 100).</summary>
    public int MaxResults { get; init; } = 100;

    /// <summary>Order, for example <c>timestamp_ms DESC</c> (the server's default).</summary>
    public IReadOnlyList<string>? OrderBy { get; init; }
}

/// <summary>Keys MLflow gives a meaning to in trace tags, trace metadata and assessment metadata.</summary>
internal static class TraceKeys
{
    public const string ArtifactLocationTag = "mlflow.artifactLocation";
    public const string TraceNameTag = "mlflow.traceName";
    public const string SpansLocationTag = "mlflow.trace.spansLocation";
    public const string SpansInTrackingStore = "TRACKING_STORE";
    public const string SourceRunMetadata = "mlflow.sourceRun";
    public const string InputsMetadata = "mlflow.traceInputs";
    public const string OutputsMetadata = "mlflow.traceOutputs";
    public const string SchemaVersionMetadata = "mlflow.trace_schema.version";
    public const string SchemaVersion = "3";
    public const string SizeBytesMetadata = "mlflow.trace.sizeBytes";
    public const string AssessmentSourceRunMetadata = "mlflow.assessment.sourceRunId";
    public const string TraceDataFileName = "traces.json";

    /// <summary>Longest request/response preview MLflow keeps for a non-Databricks server.</summary>
    public const int MaxPreviewLength = 1000;

    /// <summary>Longest metadata value every MLflow store keeps.</summary>
    public const int MaxMetadataValueLength = 250;
}
