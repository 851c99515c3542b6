// Which experiment new runs go to: SetExperiment, resolving the experiment from options and the environment, experiment names.
using Mlflow.Client.Batching;
using Mlflow.Client.Resilience;

namespace Mlflow.Client;

public sealed partial class MlflowTracker
{
    /// <summary>Logs new runs to the experiment with this name, created when missing.</summary>
    /// <param name="name">The experiment name.</param>
    /// <returns>The experiment id.</returns>
    /// <exception cref="MlflowException">An experiment with that name exists but is deleted: restore it (<see cref="MlflowClient.RestoreExperimentAsync"/>) or pick another name; the tracker never reuses or resurrects a deleted experiment silently.</exception>
    public string SetExperiment(string name) => SetExperimentAsync(name).GetAwaiter().GetResult();

    /// <inheritdoc cref="SetExperiment"/>
    /// <param name="name">The experiment name.</param>
    /// <param name="cancellationToken">Cancels the lookup.</param>
    /// <remarks>With the server unreachable (and <see cref="MlflowOfflineOptions.ThrowOnConnectivityFailure"/> off), the
    /// name is kept, runs start offline in a local experiment of that name, and the local experiment id is returned.</remarks>
    public async Task<string> SetExperimentAsync(string name, CancellationToken cancellationToken = default)
    {
        MlflowValidation.ValidateExperimentName(name);
        string id;
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (_offline is not null)
        {
            budget.CancelAfter(_offline.Options.OfflineAfter);
        }

        try
        {
            id = await GetOrCreateExperimentAsync(name, budget.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is MlflowException m ? CanGoOffline(m) : ex is OperationCanceledException && budget.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            if (ex is OperationCanceledException && _offline!.Options.ThrowOnConnectivityFailure)
            {
                throw new MlflowException("The tracking server did not answer: " + ServerExporter.NoAnswerWithin(_offline.Options.OfflineAfter) + ".", ex);
            }

            Volatile.Write(ref _offlineExperimentName, name);
            Volatile.Write(ref _experimentId, null);
            return (await _offline!.Store.GetExperimentByNameAsync(name, cancellationToken).ConfigureAwait(false))?.ExperimentId
                ?? await _offline.Store.CreateExperimentAsync(name, null, null, cancellationToken).ConfigureAwait(false);
        }

        Volatile.Write(ref _offlineExperimentName, null);
        Volatile.Write(ref _experimentId, id);
        return id;
    }

    /// <summary>Logs new runs to the experiment with this id (not checked until a run starts).</summary>
    /// <param name="experimentId">The experiment id.</param>
    public void SetExperimentById(string experimentId)
    {
        MlflowValidation.ValidateExperimentId(experimentId);
        Volatile.Write(ref _offlineExperimentName, null);
        Volatile.Write(ref _experimentId, experimentId);
    }

    private async Task<string> ResolveExperimentIdAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _experimentId) is { } known)
        {
            return known;
        }

        await _experimentLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_experimentId is { } again)
            {
                return again;
            }

            var name = Volatile.Read(ref _offlineExperimentName) ?? _options.ExperimentName ?? _env.Get(MlflowEnvironmentVariables.ExperimentName);
            var id = _options.ExperimentId ?? _env.Get(MlflowEnvironmentVariables.ExperimentId);
            string resolved;
            if (name is not null)
            {
                MlflowValidation.ValidateExperimentName(name);
                resolved = await GetOrCreateExperimentAsync(name, cancellationToken).ConfigureAwait(false);
                if (id is not null && id != resolved)
                {
                    throw new ArgumentException($"The experiment name '{name}' (id {resolved}) and the experiment id {id} disagree ({MlflowEnvironmentVariables.ExperimentName} / {MlflowEnvironmentVariables.ExperimentId}); set one.");
                }
            }
            else
            {
                resolved = id ?? "0";
                MlflowValidation.ValidateExperimentId(resolved);
            }

            _experimentId = resolved;
            return resolved;
        }
        finally
        {
            _experimentLock.Release();
        }
    }

    private async Task<string> GetOrCreateExperimentAsync(string name, CancellationToken cancellationToken)
    {
        var experiment = await _store.GetExperimentByNameAsync(name, cancellationToken).ConfigureAwait(false);
        if (experiment is null)
        {
            // One retry budget (the HTTP pipeline's): a creation whose outcome is unknown is read back once, and created
            // once more only when it is not there.
            string? created;
            try
            {
                (created, experiment) = await CreateExperimentOnceAsync(name, cancellationToken).ConfigureAwait(false);
            }
            catch (MlflowException ex) when (ex.OutcomeUnknown)
            {
                using (RequestScope.Enter(RequestFlags.BypassCircuitBreaker))
                {
                    experiment = await _store.GetExperimentByNameAsync(name, cancellationToken).ConfigureAwait(false);
                }

                (created, experiment) = experiment is null ? await CreateExperimentOnceAsync(name, cancellationToken).ConfigureAwait(false) : (null, experiment);
            }

            if (created is not null)
            {
                _experimentNames[created] = name;
                return created;
            }
        }

        experiment = experiment ?? throw new MlflowException($"Experiment '{name}' was neither created nor found.");
        if (experiment.LifecycleStage == LifecycleStage.Deleted)
        {
            throw new MlflowException($"Experiment '{name}' (id {experiment.ExperimentId}) is deleted. Restore it (MlflowClient.RestoreExperimentAsync) or choose another name: the tracker does not log into a deleted experiment or resurrect it silently.");
        }

        _experimentNames[experiment.ExperimentId] = name;
        return experiment.ExperimentId;
    }

    /// <summary>Creates the experiment; one created meanwhile (or by our own unanswered attempt) is read instead.</summary>
    private async Task<(string? Created, Experiment? Existing)> CreateExperimentOnceAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            return (await _store.CreateExperimentAsync(name, null, null, cancellationToken).ConfigureAwait(false), null);
        }
        catch (MlflowException ex) when (ex.ErrorCode is MlflowErrorCode.ResourceAlreadyExists or MlflowErrorCode.AlreadyExists)
        {
            // Created concurrently, by our own unanswered attempt, or a deleted experiment owns the name (SQL stores): look again.
            return (null, await _store.GetExperimentByNameAsync(name, cancellationToken).ConfigureAwait(false)
                ?? throw new MlflowException($"Experiment '{name}' could not be created: the name is taken, but no experiment with it can be read (a deleted experiment may own it).", ex));
        }
    }

    /// <summary>The name of a server experiment: known from the tracker's own lookups, else read once (best effort).</summary>
    private async Task<string?> ExperimentNameAsync(string experimentId, CancellationToken cancellationToken)
    {
        if (_experimentNames.TryGetValue(experimentId, out var name))
        {
            return name;
        }

        try
        {
            var experiment = await _store.GetExperimentAsync(experimentId, cancellationToken).ConfigureAwait(false);
            _experimentNames[experimentId] = experiment.Name;
            return experiment.Name;
        }
        catch (MlflowException ex) when (!ex.IsTransient)
        {
            return null; // the run creation reports a missing experiment
        }
    }
}
