using Refit;

namespace Mlflow.Client.Rest;

/// <summary>Refit description of the model registry endpoints. GETs take query parameters; PATCH and DELETE take a JSON body.</summary>
internal interface IRegistryApi
{
    // Registered models
    [Post("/api/2.0/mlflow/registered-models/create")]
    Task<RegisteredModelResponse> CreateRegisteredModelAsync([Body] CreateRegisteredModelRequest request, CancellationToken cancellationToken);

    [Get("/api/2.0/mlflow/registered-models/get")]
    Task<RegisteredModelResponse> GetRegisteredModelAsync([AliasAs("name")] string name, CancellationToken cancellationToken);

    [Get("/api/2.0/mlflow/registered-models/search")]
    Task<SearchRegisteredModelsResponse> SearchRegisteredModelsAsync(
        [AliasAs("filter")] string? filter,
        [AliasAs("max_results")] int? maxResults,
        [AliasAs("order_by"), Query(CollectionFormat.Multi)] IEnumerable<string>? orderBy,
        [AliasAs("page_token")] string? pageToken,
        CancellationToken cancellationToken);

    [Post("/api/2.0/mlflow/registered-models/rename")]
    Task<RegisteredModelResponse> RenameRegisteredModelAsync([Body] RenameRegisteredModelRequest request, CancellationToken cancellationToken);

    [Patch("/api/2.0/mlflow/registered-models/update")]
    Task<RegisteredModelResponse> UpdateRegisteredModelAsync([Body] UpdateRegisteredModelRequest request, CancellationToken cancellationToken);

    [Delete("/api/2.0/mlflow/registered-models/delete")]
    Task DeleteRegisteredModelAsync([Body] RegisteredModelNameRequest request, CancellationToken cancellationToken);

    [Post("/api/2.0/mlflow/registered-models/set-tag")]
    Task SetRegisteredModelTagAsync([Body] SetRegisteredModelTagRequest request, CancellationToken cancellationToken);

    [Delete("/api/2.0/mlflow/registered-models/delete-tag")]
    Task DeleteRegisteredModelTagAsync([Body] DeleteRegisteredModelTagRequest request, CancellationToken cancellationToken);

    [Post("/api/2.0/mlflow/registered-models/alias")]
    Task SetRegisteredModelAliasAsync([Body] SetRegisteredModelAliasRequest request, CancellationToken cancellationToken);

    [Delete("/api/2.0/mlflow/registered-models/alias")]
    Task DeleteRegisteredModelAliasAsync([Body] RegisteredModelAliasRequest request, CancellationToken cancellationToken);

    [Get("/api/2.0/mlflow/registered-models/alias")]
    Task<ModelVersionResponse> GetModelVersionByAliasAsync([AliasAs("name")] string name, [AliasAs("alias")] string alias, CancellationToken cancellationToken);

    [Post("/api/2.0/mlflow/registered-models/get-latest-versions")]
    Task<ModelVersionsResponse> GetLatestVersionsAsync([Body] GetLatestVersionsRequest request, CancellationToken cancellationToken);

    // Model versions
    [Post("/api/2.0/mlflow/model-versions/create")]
    Task<ModelVersionResponse> CreateModelVersionAsync([Body] CreateModelVersionRequest request, CancellationToken cancellationToken);

    [Get("/api/2.0/mlflow/model-versions/get")]
    Task<ModelVersionResponse> GetModelVersionAsync([AliasAs("name")] string name, [AliasAs("version")] string version, CancellationToken cancellationToken);

    [Get("/api/2.0/mlflow/model-versions/search")]
    Task<ModelVersionsResponse> SearchModelVersionsAsync(
        [AliasAs("filter")] string? filter,
        [AliasAs("max_results")] int? maxResults,
        [AliasAs("order_by"), Query(CollectionFormat.Multi)] IEnumerable<string>? orderBy,
        [AliasAs("page_token")] string? pageToken,
        CancellationToken cancellationToken);

    [Patch("/api/2.0/mlflow/model-versions/update")]
    Task<ModelVersionResponse> UpdateModelVersionAsync([Body] UpdateModelVersionRequest request, CancellationToken cancellationToken);

    [Delete("/api/2.0/mlflow/model-versions/delete")]
    Task DeleteModelVersionAsync([Body] ModelVersionRequest request, CancellationToken cancellationToken);

    [Post("/api/2.0/mlflow/model-versions/transition-stage")]
    Task<ModelVersionResponse> TransitionModelVersionStageAsync([Body] TransitionModelVersionStageRequest request, CancellationToken cancellationToken);

    [Post("/api/2.0/mlflow/model-versions/set-tag")]
    Task SetModelVersionTagAsync([Body] SetModelVersionTagRequest request, CancellationToken cancellationToken);

    [Delete("/api/2.0/mlflow/model-versions/delete-tag")]
    Task DeleteModelVersionTagAsync([Body] DeleteModelVersionTagRequest request, CancellationToken cancellationToken);

    [Get("/api/2.0/mlflow/model-versions/get-download-uri")]
    Task<ModelVersionDownloadUriResponse> GetModelVersionDownloadUriAsync([AliasAs("name")] string name, [AliasAs("version")] string version, CancellationToken cancellationToken);
}
