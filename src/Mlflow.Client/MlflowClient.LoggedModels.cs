using System.Net;
using System.Runtime.CompilerServices;
using Mlflow.Client.Resilience;
using Mlflow.Client.Rest;

namespace Mlflow.Client;

// MLflow 3's logged models (/api/2.0/mlflow/logged-models) and run outputs (runs/outputs). A 2.x server has none of
// these endpoints; its 404 is turned into a message that says so, from the server facts read once per client.
public partial class MlflowClient
{
    /// <summary>Creates a logged model in PENDING status (<c>POST logged-models</c>; MLflow 3 servers).</summary>
    /// <remarks>
    /// Upload its files under <see cref="LoggedModelMetadata.ArtifactUri"/>, then call <see cref="FinalizeLoggedModelAsync"/>
    /// with <see cref="LoggedModelStatus.Ready"/> (or <see cref="LoggedModelStatus.UploadFailed"/>), and link it to the
    /// run with <see cref="LogOutputsAsync"/>. Sent once: a second create makes a second model.
    /// </remarks>
    /// <param name="experimentId">The experiment the model belongs to.</param>
    /// <param name="name">The model's name; the server makes one up when <see langword="null"/>.</param>
    /// <param name="modelType">A free-form type, for example <c>Classifier</c>.</param>
    /// <param name="sourceRunId">The run that produced the model.</param>
    /// <param name="params">Params of the model.</param>
    /// <param name="tags">Tags of the model.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The new model, with its id and artifact location.</returns>
    /// <exception cref="MlflowException">The server refused, or it is not an MLflow 3 server (the message says which version it is).</exception>
    public virtual async Task<LoggedModel> CreateLoggedModelAsync(string experimentId, string? name = null, string? modelType = null, string? sourceRunId = null, IEnumerable<Param>? @params = null, IEnumerable<Tag>? tags = null, CancellationToken cancellationToken = default)
    {
        Require(experimentId, nameof(experimentId));
        var paramList = CheckedParams(@params);
        var request = new CreateLoggedModelRequest(experimentId, NullIfEmpty(name), NullIfEmpty(modelType), NullIfEmpty(sourceRunId), paramList is { Count: > 0 } ? paramList : null, CheckedTags(tags, "logged model tag") is { Count: > 0 } t ? t : null);
        var response = await LoggedModelCallAsync(() => _tracking.CreateLoggedModelAsync(request, cancellationToken), cancellationToken).ConfigureAwait(false);
        return response.Model ?? throw new MlflowException("logged-models create answered without a model.");
    }

    /// <summary>Gets a logged model with its params, tags and linked metrics (<c>GET logged-models/{model_id}</c>; MLflow 3 servers, or the local store's <c>models/m-…</c>).</summary>
    /// <param name="modelId">The model id (<c>m-…</c>).</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The model.</returns>
    /// <exception cref="MlflowException">With <see cref="MlflowErrorCode.ResourceDoesNotExist"/> (HTTP 404) when there is no such model (or it was deleted).</exception>
    public virtual async Task<LoggedModel> GetLoggedModelAsync(string modelId, CancellationToken cancellationToken = default)
    {
        Require(modelId, nameof(modelId));
        if (_local is { } local)
        {
            return local.Store.GetLoggedModel(modelId);
        }

        var response = await LoggedModelCallAsync(() => _tracking.GetLoggedModelAsync(modelId, cancellationToken), cancellationToken).ConfigureAwait(false);
        return response.Model ?? throw new MlflowException("logged-models get answered without a model.");
    }

    /// <summary>Marks a logged model's files complete or failed (<c>PATCH logged-models/{model_id}</c>; MLflow 3 servers).</summary>
    /// <param name="modelId">The model id.</param>
    /// <param name="status"><see cref="LoggedModelStatus.Ready"/> or <see cref="LoggedModelStatus.UploadFailed"/>.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The model as it is now.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="status"/> is neither Ready nor UploadFailed.</exception>
    public virtual async Task<LoggedModel> FinalizeLoggedModelAsync(string modelId, LoggedModelStatus status, CancellationToken cancellationToken = default)
    {
        Require(modelId, nameof(modelId));
        if (status is not (LoggedModelStatus.Ready or LoggedModelStatus.UploadFailed))
        {
            throw new ArgumentOutOfRangeException(nameof(status), status, "A logged model is finalized Ready or UploadFailed.");
        }

        var request = new FinalizeLoggedModelRequest(modelId, status);
        var response = await LoggedModelCallAsync(() => _tracking.FinalizeLoggedModelAsync(modelId, request, cancellationToken), cancellationToken).ConfigureAwait(false);
        return response.Model ?? throw new MlflowException("logged-models finalize answered without a model.");
    }

    /// <summary>Deletes a logged model (<c>DELETE logged-models/{model_id}</c>; MLflow 3 servers); reading it then answers 404.</summary>
    /// <param name="modelId">The model id.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes when the server confirmed.</returns>
    public virtual Task DeleteLoggedModelAsync(string modelId, CancellationToken cancellationToken = default)
    {
        Require(modelId, nameof(modelId));
        return LostAnswerRecovery.SendAsync(
            () => LoggedModelCallAsync(() => _tracking.DeleteLoggedModelAsync(modelId, cancellationToken), cancellationToken),
            () => LostAnswerRecovery.IsGoneAsync(() => GetLoggedModelAsync(modelId, cancellationToken)),
            "logged-models/delete",
            _logger);
    }

    /// <summary>
    /// Searches logged models, one page (<c>POST logged-models/search</c>; MLflow 3 servers). On a local store it lists the
    /// experiments' models, newest first, without a filter, datasets or order (which throw <see cref="NotSupportedException"/> there).
    /// </summary>
    /// <param name="experimentIds">The experiments to search (at least one).</param>
    /// <param name="options">Filter, datasets, order and page size.</param>
    /// <param name="pageToken">The token of the page to read; <see langword="null"/> for the first.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>One page of models.</returns>
    public virtual async Task<Page<LoggedModel>> SearchLoggedModelsAsync(IEnumerable<string> experimentIds, LoggedModelSearchOptions? options = null, string? pageToken = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(experimentIds);
        var ids = experimentIds.ToList();
        if (ids.Count == 0 || ids.Any(string.IsNullOrEmpty))
        {
            throw new ArgumentException("Give at least one experiment id, none empty.", nameof(experimentIds));
        }

        options ??= new LoggedModelSearchOptions();
        if (_local is { } local)
        {
            return Store.LocalLoggedModelSearch.Page(local.Store, ids, options, pageToken);
        }

        var request = new SearchLoggedModelsRequest(
            ids,
            NullIfEmpty(options.Filter),
            options.Datasets is { Count: > 0 } d ? d : null,
            options.MaxResults,
            options.OrderBy is { Count: > 0 } o ? o : null,
            NullIfEmpty(pageToken));
        var response = await LoggedModelCallAsync(() => _tracking.SearchLoggedModelsAsync(request, cancellationToken), cancellationToken).ConfigureAwait(false);
        return new Page<LoggedModel>(response.Models ?? [], NullIfEmpty(response.NextPageToken));
    }

    /// <summary>Searches logged models and follows page tokens to the end.</summary>
    /// <param name="experimentIds">The experiments to search (at least one).</param>
    /// <param name="options">Filter, datasets, order and page size.</param>
    /// <param name="cancellationToken">Cancels the enumeration.</param>
    /// <returns>Every matching model.</returns>
    public virtual async IAsyncEnumerable<LoggedModel> SearchAllLoggedModelsAsync(IEnumerable<string> experimentIds, LoggedModelSearchOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(experimentIds);
        var ids = experimentIds.ToList();
        string? token = null;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        do
        {
            var page = await SearchLoggedModelsAsync(ids, options, token, cancellationToken).ConfigureAwait(false);
            foreach (var item in page.Items)
            {
                yield return item;
            }

            token = NextToken(page.NextPageToken, seen);
        }
        while (token is not null);
    }

    /// <summary>Sets tags on a logged model, replacing values of existing keys (<c>PATCH logged-models/{model_id}/tags</c>; MLflow 3 servers).</summary>
    /// <param name="modelId">The model id.</param>
    /// <param name="tags">The tags (at least one).</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes when the server confirmed.</returns>
    public virtual Task SetLoggedModelTagsAsync(string modelId, IEnumerable<Tag> tags, CancellationToken cancellationToken = default)
    {
        Require(modelId, nameof(modelId));
        ArgumentNullException.ThrowIfNull(tags);
        var list = CheckedTags(tags, "logged model tag")!;
        if (list.Count == 0 || list.Any(t => string.IsNullOrEmpty(t.Key)))
        {
            throw new ArgumentException("Give at least one tag, each with a key.", nameof(tags));
        }

        return LoggedModelCallAsync(() => _tracking.SetLoggedModelTagsAsync(modelId, new SetLoggedModelTagsRequest(modelId, list), cancellationToken), cancellationToken);
    }

    /// <summary>Deletes one tag of a logged model (<c>DELETE logged-models/{model_id}/tags/{key}</c>; MLflow 3 servers).</summary>
    /// <param name="modelId">The model id.</param>
    /// <param name="key">The tag key. A key with <c>/</c> cannot be deleted this way (MLflow's route takes one path segment), so it is refused.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes when the server confirmed.</returns>
    public virtual Task DeleteLoggedModelTagAsync(string modelId, string key, CancellationToken cancellationToken = default)
    {
        Require(modelId, nameof(modelId));
        Require(key, nameof(key));
        if (key.Contains('/', StringComparison.Ordinal))
        {
            throw new ArgumentException($"The tag key '{key}' holds '/', which MLflow's delete-tag route of logged models cannot take (the key is one path segment).", nameof(key));
        }

        return LostAnswerRecovery.SendAsync(
            () => LoggedModelCallAsync(() => _tracking.DeleteLoggedModelTagAsync(modelId, key, cancellationToken), cancellationToken),
            async () => LostAnswerRecovery.Lacks((await GetLoggedModelAsync(modelId, cancellationToken).ConfigureAwait(false)).Info.Tags, key),
            "logged-models/delete-tag",
            _logger);
    }

    /// <summary>Adds params to a logged model (<c>POST logged-models/{model_id}/params</c>; MLflow 3 servers).</summary>
    /// <param name="modelId">The model id.</param>
    /// <param name="params">The params (at least one).</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes when the server confirmed.</returns>
    /// <remarks>Params are written once: a key the model already has is refused (400), even with the same value. After a lost answer the model is read back rather than the request sent again.</remarks>
    public virtual Task LogLoggedModelParamsAsync(string modelId, IEnumerable<Param> @params, CancellationToken cancellationToken = default)
    {
        Require(modelId, nameof(modelId));
        ArgumentNullException.ThrowIfNull(@params);
        var list = CheckedParams(@params)!;
        if (list.Count == 0 || list.Any(p => string.IsNullOrEmpty(p.Key)))
        {
            throw new ArgumentException("Give at least one param, each with a key.", nameof(@params));
        }

        // A key sent twice answers 400 (3.11.1's sqlite store), so after a lost answer the model is read back instead.
        return LostAnswerRecovery.SendAsync(
            () => LoggedModelCallAsync(() => _tracking.LogLoggedModelParamsAsync(modelId, new LogLoggedModelParamsRequest(modelId, list), cancellationToken), cancellationToken),
            async () =>
            {
                var held = (await GetLoggedModelAsync(modelId, cancellationToken).ConfigureAwait(false)).Data.Params;
                return list.All(p => held.Any(h => string.Equals(h.Key, p.Key, StringComparison.Ordinal) && string.Equals(h.Value, p.Value ?? "", StringComparison.Ordinal)));
            },
            "logged-models/params",
            _logger);
    }

    /// <summary>
    /// Links logged models to the run that produced them (<c>POST runs/outputs</c>; MLflow 3 servers): they then appear
    /// in the run's <see cref="Run.Outputs"/>.
    /// </summary>
    /// <param name="runId">The run id.</param>
    /// <param name="models">The models with the step at which the run produced them (at least one).</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes when the server confirmed.</returns>
    /// <remarks>The server refuses an output it already holds (400), so after a lost answer the run is read back rather than the request sent again.</remarks>
    public virtual Task LogOutputsAsync(string runId, IEnumerable<ModelOutput> models, CancellationToken cancellationToken = default)
    {
        Require(runId, nameof(runId));
        ArgumentNullException.ThrowIfNull(models);
        var list = models.ToList();
        if (list.Count == 0 || list.Any(m => m is null || string.IsNullOrEmpty(m.ModelId)))
        {
            throw new ArgumentException("Give at least one model output, each with a model id.", nameof(models));
        }

        // The same output twice answers 400 (3.11.1's sqlite store), so after a lost answer the run is read back instead.
        return LostAnswerRecovery.SendAsync(
            () => LoggedModelCallAsync(() => _tracking.LogOutputsAsync(new LogOutputsRequest(runId, list), cancellationToken), cancellationToken),
            async () =>
            {
                var held = (await GetRunAsync(runId, cancellationToken).ConfigureAwait(false)).Outputs.ModelOutputs;
                return list.All(held.Contains);
            },
            "runs/outputs",
            _logger);
    }

    /// <summary>
    /// Lists a folder of a logged model's artifacts (<c>GET logged-models/{model_id}/artifacts/directories</c>; MLflow 3
    /// servers), wherever its artifact store is; on a local store (<see cref="IsLocal"/>), the model's artifact folder.
    /// </summary>
    /// <param name="modelId">The model id (<c>m-…</c>).</param>
    /// <param name="path">Folder relative to the model's artifact root; the root when <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>Files and folders, with paths relative to the model's artifact root (like <see cref="ListArtifactsAsync"/>); empty for a missing folder.</returns>
    /// <exception cref="MlflowValidationException">The path is absolute or contains <c>..</c>, <c>\</c>, <c>#</c>, NUL or a drive letter; nothing was sent.</exception>
    /// <exception cref="MlflowException">With <see cref="MlflowErrorCode.ResourceDoesNotExist"/> when there is no such model.</exception>
    public virtual async Task<IReadOnlyList<ArtifactFileInfo>> ListLoggedModelArtifactsAsync(string modelId, string? path = null, CancellationToken cancellationToken = default)
    {
        Require(modelId, nameof(modelId));
        if (_local is { } local)
        {
            return await local.Store.LoggedModelArtifacts(modelId).ListAsync(Artifacts.ArtifactPaths.CheckFolder(path), cancellationToken).ConfigureAwait(false);
        }

        var segments = ArtifactLocation.SplitRelativePath(path, allowEmpty: true);
        var folder = segments.Count == 0 ? null : string.Join('/', segments);
        var all = new List<ArtifactFileInfo>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        string? token = null;
        do
        {
            var sent = token;
            var page = await LoggedModelCallAsync(() => _tracking.ListLoggedModelArtifactsAsync(modelId, folder, sent, cancellationToken), cancellationToken).ConfigureAwait(false);
            all.AddRange(page.Files ?? []);
            token = NextToken(NullIfEmpty(page.NextPageToken), seen);
        }
        while (token is not null);

        return all;
    }

    /// <summary>The params as a list, each checked by <see cref="RefuseLoneSurrogates"/>; <see langword="null"/> stays null.</summary>
    private static List<Param>? CheckedParams(IEnumerable<Param>? @params)
    {
        var list = @params?.ToList();
        foreach (var p in list ?? [])
        {
            ArgumentNullException.ThrowIfNull(p, nameof(@params));
            RefuseLoneSurrogates(p.Key, p.Value, "logged model param");
        }

        return list;
    }

    /// <inheritdoc cref="LoggedModelCallAsync{T}"/>
    private async Task LoggedModelCallAsync(Func<Task> call, CancellationToken cancellationToken)
        => await LoggedModelCallAsync(async () =>
        {
            await call().ConfigureAwait(false);
            return true;
        }, cancellationToken).ConfigureAwait(false);

    /// <summary><see cref="Mlflow3CallAsync{T}"/> for the logged-model endpoints.</summary>
    private Task<T> LoggedModelCallAsync<T>(Func<Task<T>> call, CancellationToken cancellationToken)
        => Mlflow3CallAsync(call, "Logged models", "Log the model as run artifacts instead, or upgrade the server.", cancellationToken);

    /// <summary>
    /// <see cref="CallAsync{T}(Func{Task{T}}, CancellationToken)"/> for an MLflow 3 endpoint: a 404 that is not MLflow's
    /// RESOURCE_DOES_NOT_EXIST (the route itself is missing) asks the server facts, read once per client, and says the
    /// server is too old when it is.
    /// </summary>
    /// <param name="call">The REST call.</param>
    /// <param name="feature">What needs MLflow 3, for the message (<c>Logged models</c>).</param>
    /// <param name="advice">What to do instead, for the message.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    private async Task<T> Mlflow3CallAsync<T>(Func<Task<T>> call, string feature, string advice, CancellationToken cancellationToken)
    {
        try
        {
            return await CallAsync(call, cancellationToken).ConfigureAwait(false);
        }
        catch (MlflowException ex) when (ex.StatusCode == HttpStatusCode.NotFound && ex.RawErrorCode is null)
        {
            MlflowServerInfo? info = null;
            try
            {
                info = await GetServerInfoAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (MlflowException)
            {
                // The facts cannot be read either: the original answer says enough.
            }

            if (info is { SupportsLoggedModels: false })
            {
                throw new MlflowException(
                    HttpStatusCode.NotFound, null,
                    $"{feature} need an MLflow 3 tracking server; {TrackingUri} runs MLflow {info.Version ?? "older than 3 (it does not say which)"}. {advice}",
                    ex.Method, ex.Path, ex, MlflowFailureKind.Rejected);
            }

            throw;
        }
    }
}
