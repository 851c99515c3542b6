namespace Mlflow.Client.Store;

/// <summary>
/// The model registry calls <see cref="MlflowModelRegistry"/> uses: a tracking server's registry
/// (<see cref="RestModelRegistryStore"/>) or the file-based registry of a local store
/// (<see cref="FileStore.LocalModelRegistry"/>, MLflow's own format). Errors carry the codes the server answers
/// (<see cref="MlflowErrorCode.ResourceAlreadyExists"/>, <see cref="MlflowErrorCode.ResourceDoesNotExist"/>...).
/// </summary>
internal interface IModelRegistryStore
{
    Task<RegisteredModel> CreateRegisteredModelAsync(string name, CancellationToken cancellationToken);

    Task<RegisteredModel> GetRegisteredModelAsync(string name, CancellationToken cancellationToken);

    Task<RegisteredModel> UpdateRegisteredModelAsync(string name, string? description, CancellationToken cancellationToken);

    Task<ModelVersion> CreateModelVersionAsync(string name, string source, string? runId, IReadOnlyList<Tag> tags, string? description, CancellationToken cancellationToken);

    Task<ModelVersion> GetModelVersionAsync(string name, string version, CancellationToken cancellationToken);

    Task<ModelVersion> UpdateModelVersionAsync(string name, string version, string? description, CancellationToken cancellationToken);

    /// <summary>The newest version of each stage (all stages).</summary>
    Task<IReadOnlyList<ModelVersion>> GetLatestVersionsAsync(string name, CancellationToken cancellationToken);

    Task SetAliasAsync(string name, string alias, string version, CancellationToken cancellationToken);

    Task DeleteAliasAsync(string name, string alias, CancellationToken cancellationToken);

    Task<ModelVersion> GetModelVersionByAliasAsync(string name, string alias, CancellationToken cancellationToken);

    Task SetModelVersionTagAsync(string name, string version, string key, string value, CancellationToken cancellationToken);

    Task DeleteModelVersionTagAsync(string name, string version, string key, CancellationToken cancellationToken);

    /// <summary>Where the version's files are (the storage location, else the source).</summary>
    Task<string> GetModelVersionDownloadUriAsync(string name, string version, CancellationToken cancellationToken);
}

/// <summary>The registry of a tracking server: a thin adapter over <see cref="MlflowClient"/>'s registry calls.</summary>
internal sealed class RestModelRegistryStore(MlflowClient client) : IModelRegistryStore
{
    public MlflowClient Client => client;

    public Task<RegisteredModel> CreateRegisteredModelAsync(string name, CancellationToken cancellationToken)
        => client.CreateRegisteredModelAsync(name, null, null, cancellationToken);

    public Task<RegisteredModel> GetRegisteredModelAsync(string name, CancellationToken cancellationToken)
        => client.GetRegisteredModelAsync(name, cancellationToken);

    public Task<RegisteredModel> UpdateRegisteredModelAsync(string name, string? description, CancellationToken cancellationToken)
        => client.UpdateRegisteredModelAsync(name, description, cancellationToken);

    public Task<ModelVersion> CreateModelVersionAsync(string name, string source, string? runId, IReadOnlyList<Tag> tags, string? description, CancellationToken cancellationToken)
        => client.CreateModelVersionAsync(name, source, runId, description, tags, null, cancellationToken);

    public Task<ModelVersion> GetModelVersionAsync(string name, string version, CancellationToken cancellationToken)
        => client.GetModelVersionAsync(name, version, cancellationToken);

    public Task<ModelVersion> UpdateModelVersionAsync(string name, string version, string? description, CancellationToken cancellationToken)
        => client.UpdateModelVersionAsync(name, version, description, cancellationToken);

    public Task<IReadOnlyList<ModelVersion>> GetLatestVersionsAsync(string name, CancellationToken cancellationToken)
        => client.GetLatestModelVersionsAsync(name, null, cancellationToken);

    public Task SetAliasAsync(string name, string alias, string version, CancellationToken cancellationToken)
        => client.SetRegisteredModelAliasAsync(name, alias, version, cancellationToken);

    public Task DeleteAliasAsync(string name, string alias, CancellationToken cancellationToken)
        => client.DeleteRegisteredModelAliasAsync(name, alias, cancellationToken);

    public Task<ModelVersion> GetModelVersionByAliasAsync(string name, string alias, CancellationToken cancellationToken)
        => client.GetModelVersionByAliasAsync(name, alias, cancellationToken);

    public Task SetModelVersionTagAsync(string name, string version, string key, string value, CancellationToken cancellationToken)
        => client.SetModelVersionTagAsync(name, version, key, value, cancellationToken);

    public Task DeleteModelVersionTagAsync(string name, string version, string key, CancellationToken cancellationToken)
        => client.DeleteModelVersionTagAsync(name, version, key, cancellationToken);

    public Task<string> GetModelVersionDownloadUriAsync(string name, string version, CancellationToken cancellationToken)
        => client.GetModelVersionDownloadUriAsync(name, version, cancellationToken);
}
