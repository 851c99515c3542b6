using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Mlflow.Client.Rest;

// Wire shapes of MLflow 3's trace and assessment endpoints (service.proto and assessments.proto of MLflow 3.11.1),
// in protobuf's JSON form as MLflow's Python client sends them: Timestamps and Durations as text, enums by name, maps
// as objects, the update mask as comma-separated camelCase paths. Names map to snake_case through MlflowJsonContext.
// Recorded exchanges: tests/Fixtures/rest-mlflow3-traces.

internal sealed record MlflowExperimentLocationWire(string? ExperimentId);
internal sealed record TraceLocationWire(string? Type, MlflowExperimentLocationWire? MlflowExperiment);

internal sealed record TraceInfoWire(
    string? TraceId,
    string? ClientRequestId,
    TraceLocationWire? TraceLocation,
    string? RequestTime,
    string? ExecutionDuration,
    string? State,
    IReadOnlyDictionary<string, string>? TraceMetadata,
    IReadOnlyList<AssessmentWire>? Assessments,
    IReadOnlyDictionary<string, string>? Tags,
    string? RequestPreview,
    string? ResponsePreview);

internal sealed record TraceWire(TraceInfoWire? TraceInfo);
internal sealed record StartTraceRequest(TraceWire Trace);
internal sealed record TraceResponse(TraceWire? Trace);
internal sealed record SearchTracesRequest(IReadOnlyList<TraceLocationWire> Locations, string? Filter, int MaxResults, IReadOnlyList<string>? OrderBy, string? PageToken);
internal sealed record SearchTracesResponse(IReadOnlyList<TraceInfoWire>? Traces, string? NextPageToken);
internal sealed record DeleteTracesRequest(string ExperimentId, long? MaxTimestampMillis, int? MaxTraces, IReadOnlyList<string>? RequestIds);
internal sealed record DeleteTracesResponse(int? TracesDeleted);
internal sealed record SetTraceTagRequest(string Key, string Value);
internal sealed record DeleteTraceTagRequest(string Key);
internal sealed record LinkTracesToRunRequest(IReadOnlyList<string> TraceIds, string RunId);

internal sealed record AssessmentSourceWire(string? SourceType, string? SourceId);
internal sealed record AssessmentErrorWire(string? ErrorCode, string? ErrorMessage, string? StackTrace);

/// <summary>A feedback value; <c>"value": null</c> is sent with an error, as MLflow's own client does (its server reads an absent value as no value at all).</summary>
internal sealed record FeedbackWire([property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] JsonNode? Value, AssessmentErrorWire? Error);

internal sealed record SerializedValueWire(string? SerializationFormat, string? Value);
internal sealed record ExpectationWire(JsonNode? Value, SerializedValueWire? SerializedValue);

internal sealed record AssessmentWire(
    string? AssessmentId,
    string? AssessmentName,
    string? TraceId,
    string? SpanId,
    AssessmentSourceWire? Source,
    string? CreateTime,
    string? LastUpdateTime,
    FeedbackWire? Feedback,
    ExpectationWire? Expectation,
    string? Rationale,
    IReadOnlyDictionary<string, string>? Metadata,
    string? Overrides,
    bool? Valid);

internal sealed record CreateAssessmentRequest(AssessmentWire Assessment);
internal sealed record AssessmentResponse(AssessmentWire? Assessment);
internal sealed record UpdateAssessmentRequest(AssessmentWire Assessment, string UpdateMask);
