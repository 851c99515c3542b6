// Starting a run with options (experiment id, description) and reopening an existing run (ResumeRun, StartRunOptions.RunId,
// MLFLOW_RUN_ID), as MLflow's start_run(run_id=...) does.
using Mlflow.Client.Batching;
using Mlflow.Client.Offline;
using Mlflow.Client.Resilience;

namespace Mlflow.Client;

public sealed partial class MlflowTracker
{
    /// <summary>The tag MLflow's UI shows as the run's description.</summary>
    internal const string NoteTag = "mlflow.note.content";

    private int _environmentRunIdTaken;

    /// <summary>
    /// Starts a run as <paramref name="options"/> say: a new run (in <see cref="StartRunOptions.ExperimentId"/> or the
    /// current experiment, with a description), or an existing run reopened (<see cref="StartRunOptions.RunId"/>).
    /// </summary>
    /// <param name="options">The run id to reopen, name, experiment id, description and tags.</param>
    /// <returns>The run; dispose it to end it.</returns>
    /// <exception cref="MlflowException">The run to reopen does not exist, is deleted, belongs to another experiment, or the server cannot be reached to reopen it.</exception>
    public ActiveRun StartRun(StartRunOptions options) => StartRunAsync(options).GetAwaiter().GetResult();

    /// <inheritdoc cref="StartRun(StartRunOptions)"/>
    /// <param name="options">The run id to reopen, name, experiment id, description and tags.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    public Task<ActiveRun> StartRunAsync(StartRunOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.ExperimentId is not null)
        {
            MlflowValidation.ValidateExperimentId(options.ExperimentId);
        }

        var tags = WithDescription(options.Tags, options.Description);
        return options.RunId is { } runId
            ? ResumeRunCoreAsync(runId, options.ExperimentId, tags, cancellationToken)
            : StartRunCoreAsync(options.RunName, tags, null, cancellationToken, options.ExperimentId);
    }

    /// <summary>
    /// Reopens an existing run, as <c>mlflow.start_run(run_id=...)</c>: its status goes back to RUNNING (its end time
    /// stays until it ends again), its params, metrics and tags stay, and logging adds to them. Dispose the run to end it
    /// again (FINISHED), or end it with another status.
    /// </summary>
    /// <param name="runId">The run to reopen.</param>
    /// <returns>The run; dispose it to end it.</returns>
    /// <exception cref="MlflowException">The run does not exist, is deleted, or the tracking server cannot be reached (nothing is queued: reopening needs the run's state).</exception>
    /// <exception cref="InvalidOperationException">This tracker already has the run open.</exception>
    public ActiveRun ResumeRun(string runId) => ResumeRunAsync(runId).GetAwaiter().GetResult();

    /// <inheritdoc cref="ResumeRun"/>
    /// <param name="runId">The run to reopen.</param>
    /// <param name="cancellationToken">Cancels the reopening.</param>
    public Task<ActiveRun> ResumeRunAsync(string runId, CancellationToken cancellationToken = default)
        => ResumeRunCoreAsync(runId, null, null, cancellationToken);

    /// <summary><c>MLFLOW_RUN_ID</c> the first time a top-level run starts, as MLflow reads it once (and then removes it).</summary>
    private string? TakeEnvironmentRunId()
        => Volatile.Read(ref _environmentRunIdTaken) == 0 && _env.Get(MlflowEnvironmentVariables.RunId) is { } id && Interlocked.Exchange(ref _environmentRunIdTaken, 1) == 0
            ? id
            : null;

    private static IEnumerable<KeyValuePair<string, string>>? WithDescription(IEnumerable<KeyValuePair<string, string>>? tags, string? description)
    {
        if (string.IsNullOrEmpty(description))
        {
            return tags;
        }

        var list = tags?.ToList() ?? [];
        if (list.Any(t => t.Key == NoteTag))
        {
            throw new ArgumentException($"The description is also given as tag {NoteTag}; give one.", nameof(description));
        }

        list.Add(new(NoteTag, description));
        return list;
    }

    private async Task<ActiveRun> ResumeRunCoreAsync(string runId, string? experimentId, IEnumerable<KeyValuePair<string, string>>? tags, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        MlflowValidation.ValidateRunId(runId);
        lock (_runsLock)
        {
            if (_activeRuns.Any(r => r.RunId == runId || r.ServerRunId == runId))
            {
                throw new InvalidOperationException($"Run {runId} is already active in this tracker: end it before reopening it.");
            }
        }

        var checkedTags = new List<Tag>();
        foreach (var (key, value) in tags ?? [])
        {
            FileStore.FileStorePaths.ValidateKey(key, "tag key", KeysAreFileNames);
            checkedTags.Add(new Tag(key, CheckValue(value, MlflowLimits.MaxTagValueLength, key, "tag")));
        }

        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (_offline is not null)
        {
            budget.CancelAfter(_offline.Options.OfflineAfter);
        }

        // A server that refuses connections is reported at once instead of after the whole retry budget.
        using var failFast = RequestScope.Enter(_offline is null ? RequestFlags.None : RequestFlags.NoRetryWhenRefused);
        Run run;
        try
        {
            run = await _store.GetRunAsync(runId, budget.Token).ConfigureAwait(false);
            var info = run.Info;
            if (info.LifecycleStage == LifecycleStage.Deleted)
            {
                throw new MlflowException($"Cannot reopen run {runId}: it is deleted. Restore it first (MlflowClient.RestoreRunAsync).");
            }

            if (experimentId is not null && experimentId != info.ExperimentId)
            {
                throw new MlflowException($"Cannot reopen run {runId}: it belongs to experiment {info.ExperimentId}, not to experiment {experimentId} that the options name.");
            }

            // As MLflow: RUNNING again, the end time kept until the run ends again; then the tags (and description).
            await _store.UpdateRunAsync(runId, RunStatus.Running, info.EndTime, null, budget.Token).ConfigureAwait(false);
            if (checkedTags.Count > 0)
            {
                await _store.LogBatchAsync(runId, [], [], checkedTags, budget.Token).ConfigureAwait(false);
            }
        }
        catch (MlflowException ex) when (ex.IsTransient)
        {
            throw Unreachable(runId, ex.ShortReason, ex);
        }
        catch (OperationCanceledException ex) when (budget.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw Unreachable(runId, ServerExporter.NoAnswerWithin(_offline!.Options.OfflineAfter), ex);
        }

        var runName = run.Info.RunName ?? "";
        var buffer = _batcher.Register(runId);
        if (_offlineLayer is not null)
        {
            // A later outage keeps its data in a local copy named by a fresh client key; the copy's journal names this server run.
            var identity = new RunIdentity(Guid.NewGuid().ToString("N"), run.Info.ExperimentId, await ExperimentNameAsync(run.Info.ExperimentId, cancellationToken).ConfigureAwait(false), runName);
            _offlineLayer.Track(buffer, identity, null);
        }

        var active = new ActiveRun(this, _batcher, buffer, runId, run.Info.ExperimentId, runName);
        Track(active);
        return active;
    }

    private MlflowException Unreachable(string runId, string reason, Exception inner)
        => new($"Run {runId} cannot be reopened: the tracking server {_store.Description} did not answer ({reason}). Reopening reads the run and sets it RUNNING on the server, so it is not queued offline; try again when the server answers.", MlflowFailureKind.Unreachable, inner);
}
