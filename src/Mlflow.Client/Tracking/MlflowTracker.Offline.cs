// The offline fallback as the tracker sees it: starting a run offline when the server cannot be reached; the rest (local
// copies, drains, the end of a run while offline) is the offline layer's (OfflineExporter).
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
    /// Creates the run on the server, tagged with a fresh client key; a creation whose answer was lost is found again by
    /// that key instead of repeated. With the server unreachable, the run starts offline: a local run named by the key.
    /// </summary>
    private async Task<ActiveRun> StartRunWithFallbackAsync(string name, Dictionary<string, string> merged, ActiveRun? parent, long startTime, CancellationToken cancellationToken, string? experimentIdOverride = null)
    {
        var key = Guid.NewGuid().ToString("N");
        // Only the client key: mlflow.dotnet.sourceRunId marks runs pushed from a local store (the sync sets it), and a
        // run that never was offline must not carry it (it shows as a column in mlflow.search_runs).
        merged[OfflineMirror.ClientRunKeyTag] = key;
        var tags = merged.Select(kv => new Tag(kv.Key, kv.Value)).ToList();
        var experimentId = experimentIdOverride ?? parent?.ExperimentId;
        string? experimentName = null;
        string reason;
        if (parent?.Mirror is { LocalOnly: true })
        {
            reason = "its parent run started offline";
        }
        else
        {
            // The HTTP retry budget alone can take minutes: the run starts offline once OfflineAfter has passed.
            using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            budget.CancelAfter(_offline!.Options.OfflineAfter);
            var ct = budget.Token;
            // A server that refuses connections is not there: the run starts offline after one connection attempt
            // instead of waiting out the retry budget (the drain creates the server run later).
            using var failFast = RequestScope.Enter(_offline.Options.ThrowOnConnectivityFailure ? RequestFlags.None : RequestFlags.NoRetryWhenRefused);
            try
            {
                experimentId ??= await ResolveExperimentIdAsync(ct).ConfigureAwait(false);
                experimentName = await ExperimentNameAsync(experimentId, ct).ConfigureAwait(false);
                Run created;
                try
                {
                    created = await _store.CreateRunAsync(experimentId, name, startTime, tags, _user, ct).ConfigureAwait(false);
                }
                catch (MlflowException ex) when (ex.OutcomeUnknown)
                {
                    // One retry budget (the HTTP pipeline's): the creation is read back once by its client key, and
                    // created once more only when it is not there. Unknown again: the run starts offline under the key,
                    // which the drain (or mlflow-sync) finds by its client-key tag instead of creating a second run.
                    Run? found;
                    using (RequestScope.Enter(RequestFlags.BypassCircuitBreaker))
                    {
                        found = await FindByClientKeyAsync(experimentId, key, ct).ConfigureAwait(false);
                    }

                    created = found ?? await _store.CreateRunAsync(experimentId, name, startTime, tags, _user, ct).ConfigureAwait(false);
                }

                return Register(created.Info.RunId, experimentId, experimentName, key, created.Info.RunName ?? name);
            }
            catch (MlflowException ex) when (CanGoOffline(ex))
            {
                reason = ex.ShortReason;
            }
            catch (OperationCanceledException) when (budget.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                // A creation sent without an answer may exist on the server: it carries the client key, so the drain
                // (or mlflow-sync) finds it by that tag instead of creating a second run.
                reason = ServerExporter.NoAnswerWithin(_offline.Options.OfflineAfter);
                if (_offline.Options.ThrowOnConnectivityFailure)
                {
                    throw new MlflowException("The tracking server did not answer: " + reason + ".");
                }
            }
        }

        // Offline start: a local run under the client key; a drain (or mlflow-sync) creates its server run later.
        string? localExperimentId = null;
        string? serverExperimentId = null;
        if (parent is not null && parent.Mirror is { LocalOnly: true })
        {
            localExperimentId = parent.ExperimentId;
        }
        else if (experimentId is not null)
        {
            serverExperimentId = experimentId;
        }
        else
        {
            experimentName = Volatile.Read(ref _offlineExperimentName) ?? _options.ExperimentName ?? _env.Get(MlflowEnvironmentVariables.ExperimentName);
            serverExperimentId = experimentName is null ? _options.ExperimentId ?? _env.Get(MlflowEnvironmentVariables.ExperimentId) ?? "0" : null;
        }

        var (mirror, localExperiment) = _offline!.CreateLocalRun(key, localExperimentId, experimentName, serverExperimentId, name, startTime, tags, _user);
        _offline.WarnOnce(_store.Description, key, reason);
        var local = _batcher.Register(key);
        _offlineLayer!.Track(local, null, mirror);
        return new ActiveRun(this, _batcher, local, key, localExperiment, name);

        ActiveRun Register(string runId, string expId, string? expName, string clientKey, string runName)
        {
            var buffer = _batcher.Register(runId);
            _offlineLayer!.Track(buffer, new RunIdentity(clientKey, expId, expName, runName), null);
            return new(this, _batcher, buffer, runId, expId, runName);
        }
    }

    private async Task<Run?> FindByClientKeyAsync(string experimentId, string key, CancellationToken cancellationToken)
    {
        var page = await _store.SearchRunsAsync(new RunSearchOptions
        {
            ExperimentIds = [experimentId],
            Filter = $"tags.`{OfflineMirror.ClientRunKeyTag}` = '{key}'",
            ViewType = ViewType.All,
            MaxResults = 10,
        }, null, cancellationToken).ConfigureAwait(false);
        return page.Items.Count > 0 ? page.Items[0] : null;
    }

    /// <summary>
    /// Sends a run's final status: to the store, or through the offline layer when on (which keeps it in the run's local
    /// copy when the server cannot take it within <paramref name="cancellationToken"/>'s budget).
    /// </summary>
    internal Task EndOnStoreAsync(ActiveRun run, RunStatus status, CancellationToken cancellationToken)
        => _offlineLayer is null
            ? _store.UpdateRunAsync(run.RunId, status, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), null, cancellationToken)
            : _offlineLayer.EndRunAsync(run.Buffer, status, cancellationToken);

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
