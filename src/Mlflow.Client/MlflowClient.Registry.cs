using System.Runtime.CompilerServices;
using Mlflow.Client.Resilience;
using Mlflow.Client.Rest;

namespace Mlflow.Client;

public partial class MlflowClient
{
    // ---------------------------------------------------------------- registered models

    /// <summary>Creates a registered model (<c>registered-models/create</c>).</summary>
    /// <param name="name">Unique model name.</param>
    /// <param name="description">Optional description.</param>
    /// <param name="tags">Optional model tags.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The new model.</returns>
    /// <exception cref="MlflowException">With <see cref="MlflowErrorCode.ResourceAlreadyExists"/> (HTTP 400) when the name is taken.</exception>
    public virtual async Task<RegisteredModel> CreateRegisteredModelAsync(string name, string? description = null, IEnumerable<Tag>? tags = null, CancellationToken cancellationToken = default)
    {
        Require(name, nameof(name));
        var request = new CreateRegisteredModelRequest(name, CheckedTags(tags, "registered model tag"), description);
        var response = await CallAsync(() => _registry.CreateRegisteredModelAsync(request, cancellationToken), cancellationToken).ConfigureAwait(false);
        return response.RegisteredModel ?? throw new MlflowException("registered-models/create answered without a registered_model.");
    }

    /// <summary>Gets a registered model by name, with its latest versions, tags and aliases (<c>registered-models/get</c>).</summary>
    /// <param name="name">The model name.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The model.</returns>
    /// <exception cref="MlflowException">With <see cref="MlflowErrorCode.ResourceDoesNotExist"/> (HTTP 404) when there is no such model.</exception>
    public virtual async Task<RegisteredModel> GetRegisteredModelAsync(string name, CancellationToken cancellationToken = default)
    {
        Require(name, nameof(name));
        if (_local is { } local)
        {
            return await local.Registry.GetRegisteredModelAsync(name, cancellationToken).ConfigureAwait(false);
        }

        var response = await CallAsync(() => _registry.GetRegisteredModelAsync(name, cancellationToken), cancellationToken).ConfigureAwait(false);
        return response.RegisteredModel ?? throw new MlflowException("registered-models/get answered without a registered_model.");
    }

    /// <summary>Searches registered models, one page (<c>registered-models/search</c>).</summary>
    /// <param name="options">Filter, order and page size.</param>
    /// <param name="pageToken">The token of the page to read; <see langword="null"/> for the first.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>One page of models.</returns>
    public virtual async Task<Page<RegisteredModel>> SearchRegisteredModelsAsync(RegisteredModelSearchOptions? options = null, string? pageToken = null, CancellationToken cancellationToken = default)
    {
        options ??= new RegisteredModelSearchOptions();
        var response = await CallAsync(
            () => _registry.SearchRegisteredModelsAsync(NullIfEmpty(options.Filter), options.MaxResults, NullIfEmptyList(options.OrderBy), NullIfEmpty(pageToken), cancellationToken),
            cancellationToken).ConfigureAwait(false);
        return new Page<RegisteredModel>(response.RegisteredModels ?? [], NullIfEmpty(response.NextPageToken));
    }

    /// <summary>Searches registered models and follows page tokens to the end.</summary>
    /// <param name="options">Filter, order and page size.</param>
    /// <param name="cancellationToken">Cancels the enumeration.</param>
    /// <returns>Every matching model.</returns>
    public virtual async IAsyncEnumerable<RegisteredModel> SearchAllRegisteredModelsAsync(RegisteredModelSearchOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        string? token = null;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        do
        {
            var page = await SearchRegisteredModelsAsync(options, token, cancellationToken).ConfigureAwait(false);
            foreach (var item in page.Items)
            {
                yield return item;
            }

            token = NextToken(page.NextPageToken, seen);
        }
        while (token is not null);
    }

    /// <summary>Renames a registered model; its versions follow (<c>registered-models/rename</c>).</summary>
    /// <param name="name">The current name.</param>
    /// <param name="newName">The new name.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The renamed model.</returns>
    public virtual async Task<RegisteredModel> RenameRegisteredModelAsync(string name, string newName, CancellationToken cancellationToken = default)
    {
        Require(name, nameof(name));
        Require(newName, nameof(newName));
        var response = await CallAsync(() => _registry.RenameRegisteredModelAsync(new RenameRegisteredModelRequest(name, newName), cancellationToken), cancellationToken).ConfigureAwait(false);
        return response.RegisteredModel ?? throw new MlflowException("registered-models/rename answered without a registered_model.");
    }

    /// <summary>Sets the description of a registered model (<c>PATCH registered-models/update</c>).</summary>
    /// <param name="name">The model name.</param>
    /// <param name="description">The new description.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The updated model.</returns>
    public virtual async Task<RegisteredModel> UpdateRegisteredModelAsync(string name, string? description, CancellationToken cancellationToken = default)
    {
        Require(name, nameof(name));
        var response = await CallAsync(() => _registry.UpdateRegisteredModelAsync(new UpdateRegisteredModelRequest(name, description), cancellationToken), cancellationToken).ConfigureAwait(false);
        return response.RegisteredModel ?? throw new MlflowException("registered-models/update answered without a registered_model.");
    }

    /// <summary>Deletes a registered model and all its versions, for good (<c>DELETE registered-models/delete</c>).</summary>
    /// <param name="name">The model name.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes when the server confirmed.</returns>
    public virtual Task DeleteRegisteredModelAsync(string name, CancellationToken cancellationToken = default)
    {
        Require(name, nameof(name));
        return LostAnswerRecovery.SendAsync(
            () => CallAsync(() => _registry.DeleteRegisteredModelAsync(new RegisteredModelNameRequest(name), cancellationToken), cancellationToken),
            () => LostAnswerRecovery.IsGoneAsync(() => GetRegisteredModelAsync(name, cancellationToken)),
            "registered-models/delete",
            _logger);
    }

    /// <summary>Sets a tag on a registered model (<c>registered-models/set-tag</c>).</summary>
    /// <param name="name">The model name.</param>
    /// <param name="key">Tag key.</param>
    /// <param name="value">Tag value.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes when the server confirmed.</returns>
    public virtual Task SetRegisteredModelTagAsync(string name, string key, string value, CancellationToken cancellationToken = default)
    {
        Require(name, nameof(name));
        Require(key, nameof(key));
        RefuseLoneSurrogates(key, value, "registered model tag");
        return CallAsync(() => _registry.SetRegisteredModelTagAsync(new SetRegisteredModelTagRequest(name, key, value ?? ""), cancellationToken), cancellationToken);
    }

    /// <summary>Deletes a tag of a registered model (<c>DELETE registered-models/delete-tag</c>).</summary>
    /// <param name="name">The model name.</param>
    /// <param name="key">Tag key.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes when the server confirmed.</returns>
    public virtual Task DeleteRegisteredModelTagAsync(string name, string key, CancellationToken cancellationToken = default)
    {
        Require(name, nameof(name));
        Require(key, nameof(key));
        return LostAnswerRecovery.SendAsync(
            () => CallAsync(() => _registry.DeleteRegisteredModelTagAsync(new DeleteRegisteredModelTagRequest(name, key), cancellationToken), cancellationToken),
            async () => LostAnswerRecovery.Lacks((await GetRegisteredModelAsync(name, cancellationToken).ConfigureAwait(false)).Tags, key),
            "registered-models/delete-tag",
            _logger);
    }

    /// <summary>Points an alias of a registered model at a version, moving it if it exists (<c>POST registered-models/alias</c>; servers from MLflow 2.3).</summary>
    /// <param name="name">The model name.</param>
    /// <param name="alias">The alias, for example <c>champion</c>; <c>v&lt;number&gt;</c> aliases are reserved by the server.</param>
    /// <param name="version">The version number, as text.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes when the server confirmed.</returns>
    public virtual Task SetRegisteredModelAliasAsync(string name, string alias, string version, CancellationToken cancellationToken = default)
    {
        Require(name, nameof(name));
        Require(alias, nameof(alias));
        Require(version, nameof(version));
        return CallAsync(() => _registry.SetRegisteredModelAliasAsync(new SetRegisteredModelAliasRequest(name, alias, version), cancellationToken), cancellationToken);
    }

    /// <summary>Removes an alias of a registered model (<c>DELETE registered-models/alias</c>).</summary>
    /// <param name="name">The model name.</param>
    /// <param name="alias">The alias.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes when the server confirmed.</returns>
    public virtual Task DeleteRegisteredModelAliasAsync(string name, string alias, CancellationToken cancellationToken = default)
    {
        Require(name, nameof(name));
        Require(alias, nameof(alias));
        return LostAnswerRecovery.SendAsync(
            () => CallAsync(() => _registry.DeleteRegisteredModelAliasAsync(new RegisteredModelAliasRequest(name, alias), cancellationToken), cancellationToken),
            async () => !(await GetRegisteredModelAsync(name, cancellationToken).ConfigureAwait(false)).Aliases.Any(a => string.Equals(a.Alias, alias, StringComparison.Ordinal)),
            "registered-models/alias",
            _logger);
    }

    /// <summary>Gets the model version an alias points at (<c>GET registered-models/alias</c>).</summary>
    /// <param name="name">The model name.</param>
    /// <param name="alias">The alias.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The version.</returns>
    public virtual async Task<ModelVersion> GetModelVersionByAliasAsync(string name, string alias, CancellationToken cancellationToken = default)
    {
        Require(name, nameof(name));
        Require(alias, nameof(alias));
        if (_local is { } local)
        {
            return await local.Registry.GetModelVersionByAliasAsync(name, alias, cancellationToken).ConfigureAwait(false);
        }

        var response = await CallAsync(() => _registry.GetModelVersionByAliasAsync(name, alias, cancellationToken), cancellationToken).ConfigureAwait(false);
        return response.ModelVersion ?? throw new MlflowException("registered-models/alias answered without a model_version.");
    }

    /// <summary>Gets the newest version of each stage, or of the given stages (<c>registered-models/get-latest-versions</c>; stages are deprecated by MLflow 2.9).</summary>
    /// <param name="name">The model name.</param>
    /// <param name="stages">Stages to look at (<c>None</c>, <c>Staging</c>, <c>Production</c>, <c>Archived</c>); all when <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The versions, possibly none.</returns>
    public virtual async Task<IReadOnlyList<ModelVersion>> GetLatestModelVersionsAsync(string name, IEnumerable<string>? stages = null, CancellationToken cancellationToken = default)
    {
        Require(name, nameof(name));
        if (_local is { } local)
        {
            return await local.GetLatestVersionsAsync(name, stages, cancellationToken).ConfigureAwait(false);
        }

        var request = new GetLatestVersionsRequest(name, stages?.ToList());
        var response = await CallAsync(() => _registry.GetLatestVersionsAsync(request, cancellationToken), cancellationToken).ConfigureAwait(false);
        return response.ModelVersions ?? [];
    }

    // ---------------------------------------------------------------- model versions

    /// <summary>Registers a new version of a model (<c>model-versions/create</c>).</summary>
    /// <param name="name">The registered model's name (it must exist).</param>
    /// <param name="source">Where the model files are, for example <c>mlflow-artifacts:/1/&lt;run id&gt;/artifacts/model</c>, or an MLflow 3 logged model, <c>models:/m-&lt;id&gt;</c> (then sent as the version's <c>model_id</c> too, as MLflow's Python <c>register_model</c> does).</param>
    /// <param name="runId">The run that produced the model, if any.</param>
    /// <param name="description">Optional description.</param>
    /// <param name="tags">Optional version tags.</param>
    /// <param name="runLink">A link to the run when it lives on another server.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The new version; its number is assigned by the server.</returns>
    public virtual async Task<ModelVersion> CreateModelVersionAsync(string name, string source, string? runId = null, string? description = null, IEnumerable<Tag>? tags = null, string? runLink = null, CancellationToken cancellationToken = default)
    {
        Require(name, nameof(name));
        Require(source, nameof(source));
        var request = new CreateModelVersionRequest(name, source, NullIfEmpty(runId), CheckedTags(tags, "model version tag"), runLink, description, ModelUri.LoggedModelIdOf(source));
        var response = await CallAsync(() => _registry.CreateModelVersionAsync(request, cancellationToken), cancellationToken).ConfigureAwait(false);
        return response.ModelVersion ?? throw new MlflowException("model-versions/create answered without a model_version.");
    }

    /// <summary>Gets one version of a model (<c>model-versions/get</c>).</summary>
    /// <param name="name">The model name.</param>
    /// <param name="version">The version number, as text.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The version.</returns>
    /// <exception cref="MlflowException">With <see cref="MlflowErrorCode.ResourceDoesNotExist"/> (HTTP 404) when there is no such version.</exception>
    public virtual async Task<ModelVersion> GetModelVersionAsync(string name, string version, CancellationToken cancellationToken = default)
    {
        Require(name, nameof(name));
        Require(version, nameof(version));
        if (_local is { } local)
        {
            return await local.Registry.GetModelVersionAsync(name, version, cancellationToken).ConfigureAwait(false);
        }

        var response = await CallAsync(() => _registry.GetModelVersionAsync(name, version, cancellationToken), cancellationToken).ConfigureAwait(false);
        return response.ModelVersion ?? throw new MlflowException("model-versions/get answered without a model_version.");
    }

    /// <summary>Searches model versions, one page (<c>model-versions/search</c>).</summary>
    /// <param name="options">Filter, order and page size.</param>
    /// <param name="pageToken">The token of the page to read; <see langword="null"/> for the first.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>One page of versions.</returns>
    public virtual async Task<Page<ModelVersion>> SearchModelVersionsAsync(ModelVersionSearchOptions? options = null, string? pageToken = null, CancellationToken cancellationToken = default)
    {
        options ??= new ModelVersionSearchOptions();
        var response = await CallAsync(
            () => _registry.SearchModelVersionsAsync(NullIfEmpty(options.Filter), options.MaxResults, NullIfEmptyList(options.OrderBy), NullIfEmpty(pageToken), cancellationToken),
            cancellationToken).ConfigureAwait(false);
        return new Page<ModelVersion>(response.ModelVersions ?? [], NullIfEmpty(response.NextPageToken));
    }

    /// <summary>Searches model versions and follows page tokens to the end.</summary>
    /// <param name="options">Filter, order and page size.</param>
    /// <param name="cancellationToken">Cancels the enumeration.</param>
    /// <returns>Every matching version.</returns>
    public virtual async IAsyncEnumerable<ModelVersion> SearchAllModelVersionsAsync(ModelVersionSearchOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        string? token = null;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        do
        {
            var page = await SearchModelVersionsAsync(options, token, cancellationToken).ConfigureAwait(false);
            foreach (var item in page.Items)
            {
                yield return item;
            }

            token = NextToken(page.NextPageToken, seen);
        }
        while (token is not null);
    }

    /// <summary>Sets the description of a model version (<c>PATCH model-versions/update</c>).</summary>
    /// <param name="name">The model name.</param>
    /// <param name="version">The version number, as text.</param>
    /// <param name="description">The new description.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The updated version.</returns>
    public virtual async Task<ModelVersion> UpdateModelVersionAsync(string name, string version, string? description, CancellationToken cancellationToken = default)
    {
        Require(name, nameof(name));
        Require(version, nameof(version));
        var response = await CallAsync(() => _registry.UpdateModelVersionAsync(new UpdateModelVersionRequest(name, version, description), cancellationToken), cancellationToken).ConfigureAwait(false);
        return response.ModelVersion ?? throw new MlflowException("model-versions/update answered without a model_version.");
    }

    /// <summary>Deletes a model version, for good (<c>DELETE model-versions/delete</c>).</summary>
    /// <param name="name">The model name.</param>
    /// <param name="version">The version number, as text.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes when the server confirmed.</returns>
    public virtual Task DeleteModelVersionAsync(string name, string version, CancellationToken cancellationToken = default)
    {
        Require(name, nameof(name));
        Require(version, nameof(version));
        return LostAnswerRecovery.SendAsync(
            () => CallAsync(() => _registry.DeleteModelVersionAsync(new ModelVersionRequest(name, version), cancellationToken), cancellationToken),
            () => LostAnswerRecovery.IsGoneAsync(() => GetModelVersionAsync(name, version, cancellationToken)),
            "model-versions/delete",
            _logger);
    }

    /// <summary>Moves a model version to another stage (<c>model-versions/transition-stage</c>; deprecated by MLflow 2.9, prefer aliases).</summary>
    /// <param name="name">The model name.</param>
    /// <param name="version">The version number, as text.</param>
    /// <param name="stage"><c>None</c>, <c>Staging</c>, <c>Production</c> or <c>Archived</c> (the server ignores case and refuses others).</param>
    /// <param name="archiveExistingVersions">Whether the versions now in that stage move to <c>Archived</c>.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The version in its new stage.</returns>
    public virtual async Task<ModelVersion> TransitionModelVersionStageAsync(string name, string version, string stage, bool archiveExistingVersions = false, CancellationToken cancellationToken = default)
    {
        Require(name, nameof(name));
        Require(version, nameof(version));
        Require(stage, nameof(stage));
        var request = new TransitionModelVersionStageRequest(name, version, stage, archiveExistingVersions);
        var response = await CallAsync(() => _registry.TransitionModelVersionStageAsync(request, cancellationToken), cancellationToken).ConfigureAwait(false);
        return response.ModelVersion ?? throw new MlflowException("model-versions/transition-stage answered without a model_version.");
    }

    /// <summary>Sets a tag on a model version (<c>model-versions/set-tag</c>).</summary>
    /// <param name="name">The model name.</param>
    /// <param name="version">The version number, as text.</param>
    /// <param name="key">Tag key.</param>
    /// <param name="value">Tag value.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes when the server confirmed.</returns>
    public virtual Task SetModelVersionTagAsync(string name, string version, string key, string value, CancellationToken cancellationToken = default)
    {
        Require(name, nameof(name));
        Require(version, nameof(version));
        Require(key, nameof(key));
        RefuseLoneSurrogates(key, value, "model version tag");
        return CallAsync(() => _registry.SetModelVersionTagAsync(new SetModelVersionTagRequest(name, version, key, value ?? ""), cancellationToken), cancellationToken);
    }

    /// <summary>Deletes a tag of a model version (<c>DELETE model-versions/delete-tag</c>).</summary>
    /// <param name="name">The model name.</param>
    /// <param name="version">The version number, as text.</param>
    /// <param name="key">Tag key.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes when the server confirmed.</returns>
    public virtual Task DeleteModelVersionTagAsync(string name, string version, string key, CancellationToken cancellationToken = default)
    {
        Require(name, nameof(name));
        Require(version, nameof(version));
        Require(key, nameof(key));
        return LostAnswerRecovery.SendAsync(
            () => CallAsync(() => _registry.DeleteModelVersionTagAsync(new DeleteModelVersionTagRequest(name, version, key), cancellationToken), cancellationToken),
            async () => LostAnswerRecovery.Lacks((await GetModelVersionAsync(name, version, cancellationToken).ConfigureAwait(false)).Tags, key),
            "model-versions/delete-tag",
            _logger);
    }

    /// <summary>Gets where a model version's files can be downloaded from (<c>model-versions/get-download-uri</c>).</summary>
    /// <param name="name">The model name.</param>
    /// <param name="version">The version number, as text.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The artifact URI, for example <c>mlflow-artifacts:/1/&lt;run id&gt;/artifacts/model</c>.</returns>
    public virtual async Task<string> GetModelVersionDownloadUriAsync(string name, string version, CancellationToken cancellationToken = default)
    {
        Require(name, nameof(name));
        Require(version, nameof(version));
        if (_local is { } local)
        {
            return await local.Registry.GetModelVersionDownloadUriAsync(name, version, cancellationToken).ConfigureAwait(false);
        }

        var response = await CallAsync(() => _registry.GetModelVersionDownloadUriAsync(name, version, cancellationToken), cancellationToken).ConfigureAwait(false);
        return response.ArtifactUri ?? throw new MlflowException("model-versions/get-download-uri answered without an artifact_uri.");
    }

    private static IReadOnlyList<string>? NullIfEmptyList(IReadOnlyList<string>? list) => list is { Count: > 0 } ? list : null;

    /// <summary>The next page token, or <see langword="null"/> at the end; a token seen before ends the loop instead of cycling forever.</summary>
    private static string? NextToken(string? token, HashSet<string> seen)
    {
        if (token is null)
        {
            return null;
        }

        if (!seen.Add(token))
        {
            throw new MlflowException("The server answered a page token it had already sent; stopping to avoid an endless loop.");
        }

        return token;
    }
}
