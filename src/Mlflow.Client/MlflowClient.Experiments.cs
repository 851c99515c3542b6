using System.Runtime.CompilerServices;
using Mlflow.Client.Resilience;
using Mlflow.Client.Rest;

namespace Mlflow.Client;

public partial class MlflowClient
{
    /// <summary>Creates an experiment (<c>experiments/create</c>).</summary>
    /// <param name="name">Unique experiment name.</param>
    /// <param name="artifactLocation">Where its runs store artifacts; the server decides when <see langword="null"/>.</param>
    /// <param name="tags">Experiment tags.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The new experiment's id.</returns>
    /// <exception cref="MlflowException">With <see cref="MlflowErrorCode.ResourceAlreadyExists"/> (HTTP 400) when the name is taken, also by a deleted experiment on SQL stores.</exception>
    public virtual async Task<string> CreateExperimentAsync(string name, string? artifactLocation = null, IEnumerable<Tag>? tags = null, CancellationToken cancellationToken = default)
    {
        Require(name, nameof(name));
        var response = await CallAsync(() => _tracking.CreateExperimentAsync(new CreateExperimentRequest(name, artifactLocation, CheckedTags(tags, "experiment tag")), cancellationToken), cancellationToken).ConfigureAwait(false);
        return response.ExperimentId ?? throw new MlflowException("experiments/create answered without an experiment_id.");
    }

    /// <summary>Gets an experiment by id, deleted ones included (<c>experiments/get</c>).</summary>
    /// <param name="experimentId">The experiment id.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The experiment.</returns>
    public virtual async Task<Experiment> GetExperimentAsync(string experimentId, CancellationToken cancellationToken = default)
    {
        Require(experimentId, nameof(experimentId));
        if (_local is { } local)
        {
            return await local.Store.GetExperimentAsync(experimentId, cancellationToken).ConfigureAwait(false);
        }

        var response = await CallAsync(() => _tracking.GetExperimentAsync(experimentId, cancellationToken), cancellationToken).ConfigureAwait(false);
        return response.Experiment ?? throw new MlflowException("experiments/get answered without an experiment.");
    }

    /// <summary>Gets an experiment by name (<c>experiments/get-by-name</c>); a deleted one may be returned by SQL stores, so check <see cref="Experiment.LifecycleStage"/>.</summary>
    /// <param name="name">The experiment name.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The experiment, or <see langword="null"/> when none has that name.</returns>
    public virtual async Task<Experiment?> GetExperimentByNameAsync(string name, CancellationToken cancellationToken = default)
    {
        Require(name, nameof(name));
        if (_local is { } local)
        {
            return await local.Store.GetExperimentByNameAsync(name, cancellationToken).ConfigureAwait(false);
        }

        try
        {
            var response = await CallAsync(() => _tracking.GetExperimentByNameAsync(name, cancellationToken), cancellationToken).ConfigureAwait(false);
            return response.Experiment;
        }
        catch (MlflowException ex) when (ex.ErrorCode == MlflowErrorCode.ResourceDoesNotExist)
        {
            return null;
        }
    }

    /// <summary>Searches experiments, one page (<c>experiments/search</c>).</summary>
    /// <param name="options">Filter, order, view type and page size.</param>
    /// <param name="pageToken">The token of the page to read; <see langword="null"/> for the first.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>One page of experiments.</returns>
    public virtual async Task<Page<Experiment>> SearchExperimentsAsync(ExperimentSearchOptions? options = null, string? pageToken = null, CancellationToken cancellationToken = default)
    {
        options ??= new ExperimentSearchOptions();
        if (_local is { } local)
        {
            return await local.Store.SearchExperimentsAsync(options, pageToken, cancellationToken).ConfigureAwait(false);
        }

        var request = new SearchExperimentsRequest(options.MaxResults, pageToken, options.Filter, options.OrderBy, options.ViewType);
        var response = await CallAsync(() => _tracking.SearchExperimentsAsync(request, cancellationToken), cancellationToken).ConfigureAwait(false);
        return new Page<Experiment>(response.Experiments ?? [], NullIfEmpty(response.NextPageToken));
    }

    /// <summary>Searches experiments and follows page tokens to the end.</summary>
    /// <param name="options">Filter, order, view type and page size.</param>
    /// <param name="cancellationToken">Cancels the enumeration.</param>
    /// <returns>Every matching experiment.</returns>
    public virtual async IAsyncEnumerable<Experiment> SearchAllExperimentsAsync(ExperimentSearchOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        string? token = null;
        do
        {
            var page = await SearchExperimentsAsync(options, token, cancellationToken).ConfigureAwait(false);
            foreach (var item in page.Items)
            {
                yield return item;
            }

            token = NextToken(token, page.NextPageToken, "experiments/search");
        }
        while (token is not null);
    }

    /// <summary>Renames an experiment (<c>experiments/update</c>).</summary>
    /// <param name="experimentId">The experiment id.</param>
    /// <param name="newName">The new name.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes when the server confirmed.</returns>
    public virtual Task RenameExperimentAsync(string experimentId, string newName, CancellationToken cancellationToken = default)
    {
        Require(experimentId, nameof(experimentId));
        Require(newName, nameof(newName));
        return CallAsync(() => _tracking.UpdateExperimentAsync(new UpdateExperimentRequest(experimentId, newName), cancellationToken), cancellationToken);
    }

    /// <summary>Soft-deletes an experiment and its runs (<c>experiments/delete</c>).</summary>
    /// <param name="experimentId">The experiment id.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes when the server confirmed.</returns>
    public virtual Task DeleteExperimentAsync(string experimentId, CancellationToken cancellationToken = default)
    {
        Require(experimentId, nameof(experimentId));
        return LostAnswerRecovery.SendAsync(
            () => CallAsync(() => _tracking.DeleteExperimentAsync(new ExperimentIdRequest(experimentId), cancellationToken), cancellationToken),
            async () => (await GetExperimentAsync(experimentId, cancellationToken).ConfigureAwait(false)).LifecycleStage == LifecycleStage.Deleted,
            "experiments/delete",
            _logger);
    }

    /// <summary>Restores a deleted experiment (<c>experiments/restore</c>).</summary>
    /// <param name="experimentId">The experiment id.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes when the server confirmed.</returns>
    public virtual Task RestoreExperimentAsync(string experimentId, CancellationToken cancellationToken = default)
    {
        Require(experimentId, nameof(experimentId));
        return LostAnswerRecovery.SendAsync(
            () => CallAsync(() => _tracking.RestoreExperimentAsync(new ExperimentIdRequest(experimentId), cancellationToken), cancellationToken),
            async () => (await GetExperimentAsync(experimentId, cancellationToken).ConfigureAwait(false)).LifecycleStage == LifecycleStage.Active,
            "experiments/restore",
            _logger);
    }

    /// <summary>Sets an experiment tag (<c>experiments/set-experiment-tag</c>).</summary>
    /// <param name="experimentId">The experiment id.</param>
    /// <param name="key">Tag key.</param>
    /// <param name="value">Tag value (at most 5000 characters).</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes when the server confirmed.</returns>
    public virtual Task SetExperimentTagAsync(string experimentId, string key, string value, CancellationToken cancellationToken = default)
    {
        Require(experimentId, nameof(experimentId));
        Require(key, nameof(key));
        RefuseLoneSurrogates(key, value, "experiment tag");
        return CallAsync(() => _tracking.SetExperimentTagAsync(new SetExperimentTagRequest(experimentId, key, value ?? ""), cancellationToken), cancellationToken);
    }

    /// <summary>Deletes an experiment tag (<c>experiments/delete-experiment-tag</c>; servers from MLflow 3.2).</summary>
    /// <param name="experimentId">The experiment id.</param>
    /// <param name="key">Tag key.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes when the server confirmed.</returns>
    public virtual Task DeleteExperimentTagAsync(string experimentId, string key, CancellationToken cancellationToken = default)
    {
        Require(experimentId, nameof(experimentId));
        Require(key, nameof(key));
        return LostAnswerRecovery.SendAsync(
            () => CallAsync(() => _tracking.DeleteExperimentTagAsync(new DeleteExperimentTagRequest(experimentId, key), cancellationToken), cancellationToken),
            async () => LostAnswerRecovery.Lacks((await GetExperimentAsync(experimentId, cancellationToken).ConfigureAwait(false)).Tags, key),
            "experiments/delete-experiment-tag",
            _logger);
    }

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;
}
