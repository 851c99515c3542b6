// The offline fallback: starting a run offline when the server cannot be reached, and ending a run on the server or in its local copy.
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
        merged[OfflineMirror.ClientRunKeyTag] = key;
        merged[RunSynchronizer.SourceRunIdTag] = key;
        var tags = merged.Select(kv => new Tag(kv.Key, kv.Value)).ToList();
        var experimentId = experimentIdOverride ?? parent?.ExperimentId;
        string? experimentName = null;
        string reason;
        if (parent?.Buffer.Mirror is { LocalOnly: true })
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
                for (var attempt = 1; ; attempt++)
                {
                    try
                    {
                        var created = await _store.CreateRunAsync(experimentId, name, startTime, tags, _user, ct).ConfigureAwait(false);
                        return Register(created.Info.RunId, experimentId, experimentName, key, created.Info.RunName ?? name);
                    }
                    catch (MlflowException ex) when (ex.OutcomeUnknown && attempt < 3)
                    {
                        using var readBack = RequestScope.Enter(RequestFlags.BypassCircuitBreaker);
                        if (await FindByClientKeyAsync(experimentId, key, ct).ConfigureAwait(false) is { } found)
                        {
                            return Register(found.Info.RunId, experimentId, experimentName, key, found.Info.RunName ?? name);
                        }
                    }
                }
            }
            catch (MlflowException ex) when (CanGoOffline(ex))
            {
                reason = ex.ShortReason;
            }
            catch (OperationCanceledException) when (budget.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                // A creation sent without an answer may exist on the server: it carries the client key, so the drain
                // (or mlflow-sync) finds it by its source tag instead of creating a second run.
                reason = LogBatcher.NoAnswerWithin(_offline.Options.OfflineAfter);
                if (_offline.Options.ThrowOnConnectivityFailure)
                {
                    throw new MlflowException("The tracking server did not answer: " + reason + ".");
                }
            }
        }

        // Offline start: a local run under the client key; a drain (or mlflow-sync) creates its server run later.
        string? localExperimentId = null;
        string? serverExperimentId = null;
        if (parent is not null && parent.Buffer.Mirror is { LocalOnly: true })
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
        return new ActiveRun(this, _batcher, _batcher.Register(key, null, mirror), key, localExperiment, name);

        ActiveRun Register(string runId, string expId, string? expName, string clientKey, string runName)
            => new(this, _batcher, _batcher.Register(runId, new RunIdentity(clientKey, expId, expName, runName)), runId, expId, runName);
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
    /// Sends a run's final status: directly, or through its local copy (sent last, after the data) when it has one. The end
    /// is data like any other: when the server cannot take it within <paramref name="cancellationToken"/>'s budget (a
    /// transient failure, or the budget ran out), the status and end time are kept in the run's local copy (opened when
    /// needed, forced to disk), which the sender drains while the tracker lives and <c>mlflow-sync</c> completes later;
    /// a warning says so. A local copy always ends with the final status, also when the server took it directly.
    /// </summary>
    internal async Task EndOnStoreAsync(ActiveRun run, RunStatus status, CancellationToken cancellationToken)
    {
        var endTime = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var mirror = run.Buffer.Mirror;
        if (_offline is null || mirror is not { Active: true })
        {
            string reason;
            try
            {
                await _store.UpdateRunAsync(run.RunId, status, endTime, null, cancellationToken).ConfigureAwait(false);
                if (mirror is not null)
                {
                    await RecordEndLocallyAsync(mirror, status, endTime, onServer: true).ConfigureAwait(false);
                }

                return;
            }
            catch (Exception ex) when (_offline is not null && run.Buffer.Identity is not null && KeepsEndOffline(ex, cancellationToken, out reason))
            {
            }

            mirror = _batcher.EnsureMirror(run.Buffer, reason);
        }

        await RecordEndLocallyAsync(mirror, status, endTime, onServer: false).ConfigureAwait(false);
        // Entries still with the sender reach the local copy first: then the sender drains them, and the status last.
        if (run.Buffer.IsDrained)
        {
            await DrainEndAsync(run, mirror, status, endTime, cancellationToken).ConfigureAwait(false);
        }

        if (mirror.Dirty)
        {
            OfflineLog.EndedOffline(Logger, run.RunId, status.ToString().ToUpperInvariant(), _offline.Root);
            _batcher.KeepDraining(run.Buffer);
        }
    }

    /// <summary>
    /// Writes the final status into the run's local copy and forces it to disk. The copy's gate is waited for whatever
    /// budget is left: its holder (a drain, bounded by <see cref="MlflowOfflineOptions.OfflineAfter"/>, or a local write)
    /// lets go, and the end must not be lost.
    /// </summary>
    private async Task RecordEndLocallyAsync(RunMirror mirror, RunStatus status, long endTime, bool onServer)
    {
        await mirror.Gate.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            _offline!.SetStatus(mirror, status, endTime, onServer);
            _offline.FlushToDisk(force: true);
        }
        finally
        {
            mirror.Gate.Release();
        }
    }

    /// <summary>
    /// Within the end budget, sends the run's local copy (its status last) to a server that is back, or whose circuit
    /// breaker is about to close: a drain attempt every ReconnectInterval until one gets through or the budget is spent.
    /// The copy stays dirty when the status did not reach the server.
    /// </summary>
    private async Task DrainEndAsync(ActiveRun run, RunMirror mirror, RunStatus status, long endTime, CancellationToken cancellationToken)
    {
        try
        {
            await mirror.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return; // the sender is draining it
        }

        try
        {
            var state = DrainState.Unreachable;
            while (mirror.Dirty)
            {
                state = await _batcher.DrainMirrorCoreAsync(run.Buffer, mirror, cancellationToken).ConfigureAwait(false);
                if (state != DrainState.Unreachable)
                {
                    break;
                }

                await Task.Delay(_offline!.Options.ReconnectInterval, cancellationToken).ConfigureAwait(false);
            }

            if (state == DrainState.Failed && !mirror.LocalOnly)
            {
                // The data went as far as the server accepts it (the refusals are reported): the status goes directly.
                await _store.UpdateRunAsync(run.RunId, status, endTime, null, cancellationToken).ConfigureAwait(false);
                mirror.Dirty = false;
            }
        }
        catch (Exception ex) when (KeepsEndOffline(ex, cancellationToken, out _))
        {
            // out of time, or the server went away again: the status is kept locally
        }
        finally
        {
            mirror.Gate.Release();
        }
    }

    /// <summary>
    /// Whether a failed end is kept offline: a transient failure, or the end budget ran out (the update may have been
    /// applied; sending the same status and end time again is harmless).
    /// </summary>
    private static bool KeepsEndOffline(Exception ex, CancellationToken budget, out string reason)
    {
        switch (ex)
        {
            case MlflowException m when m.IsTransient || m.Kind == MlflowFailureKind.Cancelled:
                reason = m.ShortReason;
                return true;
            case OperationCanceledException when budget.IsCancellationRequested:
                reason = "no answer within the end budget (MlflowBatchingOptions.ShutdownTimeout)";
                return true;
            default:
                reason = "";
                return false;
        }
    }

    /// <summary>Throws when the run is offline and <see cref="MlflowOfflineOptions.ThrowOnConnectivityFailure"/> asks for it.</summary>
    internal void ThrowIfOffline(ActiveRun run)
    {
        if (_offline is { Options.ThrowOnConnectivityFailure: true } && run.IsOffline)
        {
            throw new MlflowException($"Run {run.RunId} is offline: the tracking server {_store.Description} cannot be reached. What it logged is kept in {_offline.Root} and sent when the server answers (or with mlflow-sync).");
        }
    }
}
