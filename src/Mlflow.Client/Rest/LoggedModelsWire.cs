namespace Mlflow.Client.Rest;

// Wire shapes of MLflow 3's logged-model endpoints and runs/outputs (service.proto of MLflow 3.11.1). Names map to
// snake_case through MlflowJsonContext; unset request fields are omitted. Requests whose path carries the model id
// repeat it in the body: 3.11.1 refuses a finalize or log-params body without model_id (400 INVALID_PARAMETER_VALUE).

internal sealed record CreateLoggedModelRequest(string ExperimentId, string? Name, string? ModelType, string? SourceRunId, IReadOnlyList<Param>? Params, IReadOnlyList<Tag>? Tags);
internal sealed record LoggedModelResponse(LoggedModel? Model);
internal sealed record FinalizeLoggedModelRequest(string ModelId, LoggedModelStatus Status);
internal sealed record SearchLoggedModelsRequest(IReadOnlyList<string> ExperimentIds, string? Filter, IReadOnlyList<LoggedModelDatasetFilter>? Datasets, int? MaxResults, IReadOnlyList<LoggedModelOrderBy>? OrderBy, string? PageToken);
internal sealed record SearchLoggedModelsResponse(IReadOnlyList<LoggedModel>? Models, string? NextPageToken);
internal sealed record SetLoggedModelTagsRequest(string ModelId, IReadOnlyList<Tag> Tags);
internal sealed record LogLoggedModelParamsRequest(string ModelId, IReadOnlyList<Param> Params);
internal sealed record LogOutputsRequest(string RunId, IReadOnlyList<ModelOutput> Models);

/// <summary>Answer of <c>GET logged-models/{model_id}/artifacts/directories</c>: paths relative to the model's artifact root.</summary>
internal sealed record ListLoggedModelArtifactsResponse(string? RootUri, IReadOnlyList<ArtifactFileInfo>? Files, string? NextPageToken);

/// <summary>Answer of <c>GET /api/3.0/mlflow/server-info</c> (MLflow 3).</summary>
internal sealed record ServerInfoResponse(string? StoreType, bool? WorkspacesEnabled);
