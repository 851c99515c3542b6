namespace Mlflow.Client.Rest;

// Wire shapes of the model registry and artifact proxy endpoints. Names map to snake_case through
// MlflowRegistryJsonContext; every response field is optional because the server omits unset fields and empty lists.

internal sealed record CreateRegisteredModelRequest(string Name, IReadOnlyList<Tag>? Tags, string? Description);
internal sealed record RegisteredModelResponse(RegisteredModel? RegisteredModel);
internal sealed record SearchRegisteredModelsResponse(IReadOnlyList<RegisteredModel>? RegisteredModels, string? NextPageToken);
internal sealed record RenameRegisteredModelRequest(string Name, string NewName);
internal sealed record UpdateRegisteredModelRequest(string Name, string? Description);
internal sealed record RegisteredModelNameRequest(string Name);
internal sealed record SetRegisteredModelTagRequest(string Name, string Key, string Value);
internal sealed record DeleteRegisteredModelTagRequest(string Name, string Key);
internal sealed record SetRegisteredModelAliasRequest(string Name, string Alias, string Version);
internal sealed record RegisteredModelAliasRequest(string Name, string Alias);
internal sealed record GetLatestVersionsRequest(string Name, IReadOnlyList<string>? Stages);

/// <summary>model-versions/create; <c>ModelId</c> is MLflow 3's <c>model_id</c> (the logged model a <c>models:/m-…</c> source names), omitted when null so a 2.x server gets the body it always got.</summary>
internal sealed record CreateModelVersionRequest(string Name, string Source, string? RunId, IReadOnlyList<Tag>? Tags, string? RunLink, string? Description, string? ModelId = null);
internal sealed record ModelVersionResponse(ModelVersion? ModelVersion);
internal sealed record ModelVersionsResponse(IReadOnlyList<ModelVersion>? ModelVersions, string? NextPageToken);
internal sealed record ModelVersionRequest(string Name, string Version);
internal sealed record UpdateModelVersionRequest(string Name, string Version, string? Description);
internal sealed record TransitionModelVersionStageRequest(string Name, string Version, string Stage, bool ArchiveExistingVersions);
internal sealed record SetModelVersionTagRequest(string Name, string Version, string Key, string Value);
internal sealed record DeleteModelVersionTagRequest(string Name, string Version, string Key);
internal sealed record ModelVersionDownloadUriResponse(string? ArtifactUri);

/// <summary>Answer of <c>GET mlflow-artifacts/artifacts?path=</c>: paths are relative to the listed folder.</summary>
internal sealed record ProxiedArtifactListResponse(IReadOnlyList<ArtifactFileInfo>? Files);

/// <summary>Answer of <c>GET mlflow-artifacts/presigned/&lt;path&gt;</c> (MLflow 3): a plain JSON object, not a proto message.</summary>
internal sealed record PresignedDownloadUrlResponse(string? Url, Dictionary<string, string>? Headers, long? FileSize);
