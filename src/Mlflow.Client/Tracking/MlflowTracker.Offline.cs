// The offline fallback as the tracker sees it: what it hands the offline layer (OfflineExporter), which decides every
// offline matter of a run: its start, log batches, files, inputs, its end, local copies and drains.
using Mlflow.Client.Batching;
using Mlflow.Client.Offline;
using Mlflow.Client.Resilience;
using Mlflow.Client.Sync;

namespace Mlflow.Client;

public sealed partial class MlflowTracker
{
    /// <summary>Whether the offline fallback takes over after <paramref name="ex"/> (on, not told to throw, and transient: the server did not refuse the request itself).</summary>
    private bool CanGoOffline(MlflowException ex) => _offline is not null && !_offline.Options.ThrowOnConnectivityFailure && ex.IsTransient;

    /// <summary>
    /// Starts a run through the offline layer (<see cref="OfflineExporter.StartRunAsync"/>), tagged with a fresh client
    /// key: on the server, or offline when it cannot be reached.
    /// </summary>
    private async Task<ActiveRun> StartRunWithFallbackAsync(string name, Dictionary<string, string> merged, ActiveRun? parent, long startTime, CancellationToken cancellationToken, string? experimentIdOverride = null)
    {
        var key = Guid.NewGuid().ToString("N");
        // Only the client key: mlflow.dotnet.sourceRunId marks runs pushed from a local store (the sync sets it), and a
        // run that never was offline must not carry it (it shows as a column in mlflow.search_runs).
        merged[OfflineMirror.ClientRunKeyTag] = key;
        var tags = merged.Select(kv => new Tag(kv.Key, kv.Value)).ToList();
        var start = new RunStart(name, key, tags, startTime, _user, experimentIdOverride ?? parent?.ExperimentId, parent?.Mirror is { LocalOnly: true });
        var started = await _offlineLayer!.StartRunAsync(start, this, cancellationToken).ConfigureAwait(false);
        return new ActiveRun(this, _batcher, started.Buffer, started.RunId, started.ExperimentId, started.RunName);
    }

    Task<string> IRunHost.ResolveExperimentIdAsync(CancellationToken cancellationToken) => ResolveExperimentIdAsync(cancellationToken);

    Task<string?> IRunHost.ExperimentNameAsync(string experimentId, CancellationToken cancellationToken) => ExperimentNameAsync(experimentId, cancellationToken);

    (string? Name, string? Id) IRunHost.OfflineExperiment
        => (Volatile.Read(ref _offlineExperimentName) ?? _options.ExperimentName ?? _env.Get(MlflowEnvironmentVariables.ExperimentName),
            _options.ExperimentId ?? _env.Get(MlflowEnvironmentVariables.ExperimentId));

    RunBuffer IRunHost.Register(string runId) => _batcher.Register(runId);

    /// <summary>
    /// Sends a run's final status: to the store, or through the offline layer when on (which keeps it in the run's local
    /// copy when the server cannot take it within <paramref name="cancellationToken"/>'s budget).
    /// </summary>
    internal Task EndOnStoreAsync(ActiveRun run, RunStatus status, CancellationToken cancellationToken)
        => _offlineLayer is null
            ? _store.UpdateRunAsync(run.RunId, status, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), null, cancellationToken)
            : _offlineLayer.EndRunAsync(run.Buffer, status, cancellationToken);

    /// <summary>
    /// Writes a logged model into the run's offline copy through the offline layer (under the copy's gate, like its
    /// entries; forced to disk, and the copy marked for the drain, which pushes the model).
    /// </summary>
    /// <param name="run">The run, kept offline.</param>
    /// <param name="write">Makes the model, given the copy's store and local run id; returns it and the metric points it appended to the run.</param>
    /// <param name="cancellationToken">Cancels the wait for the copy's gate.</param>
    internal Task<LoggedModelInfo> KeepLoggedModelOfflineAsync(ActiveRun run, Func<FileStore.LocalFileStore, string, (LoggedModelInfo Model, IReadOnlyList<Metric> Appended)> write, CancellationToken cancellationToken)
        => _offlineLayer!.KeepInCopyAsync(run.Buffer, write, cancellationToken);

    /// <summary>Whether what is left of a run can go to the outbox (the offline store): the fallback is on and follows the run.</summary>
    internal bool CanKeepOffline(ActiveRun run) => _offlineLayer?.CanKeepOffline(run.Buffer) == true;

    /// <summary>Throws when the run is offline and <see cref="MlflowOfflineOptions.ThrowOnConnectivityFailure"/> asks for it.</summary>
    internal void ThrowIfOffline(ActiveRun run)
    {
        if (_offline is { Options.ThrowOnConnectivityFailure: true } && run.IsOffline)
        {
            throw new MlflowException($"Run {run.RunId} is offline: the tracking server {_store.Description} cannot be reached. What it logged is kept in {_offline.Root} and sent when the server answers (or with mlflow-sync).");
        }
    }
}
