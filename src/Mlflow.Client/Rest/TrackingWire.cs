namespace Mlflow.Client.Rest;

// Wire shapes of the tracking endpoints (experiments, runs, metrics). Names map to snake_case through
// MlflowJsonContext; every response field is optional because the server omits unset fields and empty lists.

internal sealed record CreateExperimentRequest(string Name, string? ArtifactLocation, IReadOnlyList<Tag>? Tags);
internal sealed record CreateExperimentResponse(string? ExperimentId);
internal sealed record ExperimentResponse(Experiment? Experiment);
internal sealed record SearchExperimentsRequest(int MaxResults, string? PageToken, string? Filter, IReadOnlyList<string>? OrderBy, ViewType? ViewType);
internal sealed record SearchExperimentsResponse(IReadOnlyList<Experiment>? Experiments, string? NextPageToken);
internal sealed record ExperimentIdRequest(string ExperimentId);
internal sealed record UpdateExperimentRequest(string ExperimentId, string NewName);
internal sealed record SetExperimentTagRequest(string ExperimentId, string Key, string Value);
internal sealed record DeleteExperimentTagRequest(string ExperimentId, string Key);

internal sealed record CreateRunRequest(string ExperimentId, string? UserId, long StartTime, string? RunName, IReadOnlyList<Tag>? Tags);
internal sealed record RunResponse(Run? Run);
internal sealed record UpdateRunRequest(string RunId, RunStatus? Status, long? EndTime, string? RunName);
internal sealed record UpdateRunResponse(RunInfo? RunInfo);
internal sealed record RunIdRequest(string RunId);
internal sealed record SearchRunsRequest(IReadOnlyList<string> ExperimentIds, string? Filter, ViewType? RunViewType, int MaxResults, IReadOnlyList<string>? OrderBy, string? PageToken);
internal sealed record SearchRunsResponse(IReadOnlyList<Run>? Runs, string? NextPageToken);
internal sealed record SetTagRequest(string RunId, string Key, string Value);
internal sealed record DeleteTagRequest(string RunId, string Key);
internal sealed record LogMetricRequest(string RunId, string Key, [property: System.Text.Json.Serialization.JsonConverter(typeof(MetricValueConverter))] double Value, long Timestamp, long Step, string? ModelId = null, string? DatasetName = null, string? DatasetDigest = null);
internal sealed record LogParamRequest(string RunId, string Key, string Value);
[System.Text.Json.Serialization.JsonConverter(typeof(LogBatchRequestConverter))]
internal sealed record LogBatchRequest(string RunId, IReadOnlyList<Metric>? Metrics, IReadOnlyList<Param>? Params, IReadOnlyList<Tag>? Tags);
/// <summary>A log-batch request of the sender: its queued entries as they are (metrics, params and tags; validated when logged).</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(LogEntryBatchRequestConverter))]
internal sealed record LogEntryBatchRequest(string RunId, ReadOnlyMemory<Batching.LogEntry> Entries);
internal sealed record LogInputsRequest(string RunId, IReadOnlyList<DatasetInput> Datasets);
internal sealed record LogModelRequest(string RunId, string ModelJson);

internal sealed record MetricHistoryResponse(IReadOnlyList<Metric>? Metrics, string? NextPageToken);
internal sealed record ListArtifactsResponse(string? RootUri, IReadOnlyList<ArtifactFileInfo>? Files, string? NextPageToken);

/// <summary>The empty answer <c>{}</c> of write endpoints.</summary>
internal sealed record EmptyResponse;

/// <summary>An MLflow error body: <c>{"error_code": "...", "message": "..."}</c>.</summary>
internal sealed record ErrorResponse(string? ErrorCode, string? Message);
