// Draining a run's local copy to the server: the layer's worker (on its schedule, ReconnectInterval), and the end of a run.
using System.Diagnostics;
using Mlflow.Client.Batching;
using Mlflow.Client.Diagnostics;

namespace Mlflow.Client.Offline;

internal sealed partial class OfflineExporter
{
    /// <summary>
    /// The layer's worker, apart from the sender (the shape of OpenTelemetry's batch export worker): wakes when a copy
    /// was written, a drain ended or a run ended, else when the next drain or durable write is due; forces what was kept
    /// to disk every <see cref="MlflowOfflineOptions.DurableWriteInterval"/>, starts the drains that are due and forgets
    /// ended runs once everything they logged is settled and their copy is clean.
    /// </summary>
    private async Task WorkAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            using (var timer = new CancellationTokenSource(NextWake(), _time))
            using (var either = CancellationTokenSource.CreateLinkedTokenSource(timer.Token, _stop.Token))
            {
                try
                {
                    await _wake.WaitAsync(either.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!_stop.IsCancellationRequested)
                {
                    // due
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }

            Volatile.Write(ref _woken, 0);
            try
            {
                Pass();
            }
#pragma warning disable CA1031 // the worker must survive anything; the failure is logged and the next pass tries again
            catch (Exception ex)
#pragma warning restore CA1031
            {
                OfflineLog.DrainFailed(_logger, "-", ex.GetType().Name + ": " + ex.Message);
            }
        }
    }

    /// <summary>One pass of the worker: durable write when due, due drains started, ended runs forgotten.</summary>
    private void Pass()
    {
        _local.FlushToDisk(force: false);
        var now = _time.GetTimestamp();
        foreach (var run in _runs.Values)
        {
            if (run.Drain is { IsCompleted: false })
            {
                continue;
            }

            var mirror = run.Mirror;
            if (run.Ended && run.Buffer.IsDrained && mirror is not { Active: true, Dirty: true })
            {
                _runs.TryRemove(run.Buffer, out _);
                continue;
            }

            // Not while sends of the run are still out: the server just failed them, and a drain would hold the journal
            // their in-flight marks need for as long as it waits on that server (up to OfflineAfter).
            if (mirror is { Active: true, Dirty: true } && _local.CanDrain && now >= mirror.NextAttempt && !_stopping && run.SendsInFlight == 0)
            {
                run.Drain = DrainInBackgroundAsync(run, mirror);
            }
        }
    }

    /// <summary>The longest the worker sleeps: until the next durable write or drain, at most a reconnect interval (an ended run is forgotten by then).</summary>
    private TimeSpan NextWake()
    {
        var wake = _local.Options.ReconnectInterval;
        var now = _time.GetTimestamp();
        foreach (var run in _runs.Values)
        {
            if (run.Mirror is not { Active: true } mirror)
            {
                continue;
            }

            wake = Min(wake, _local.Options.DurableWriteInterval);
            if (mirror.Dirty && _local.CanDrain && run.Drain is not { IsCompleted: false })
            {
                var due = mirror.NextAttempt > now ? _time.GetElapsedTime(now, mirror.NextAttempt) : TimeSpan.Zero;
                wake = Min(wake, due < TimeSpan.FromMilliseconds(10) ? TimeSpan.FromMilliseconds(10) : due);
            }
        }

        return wake;

        static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
    }

    /// <summary>Wakes the worker (something changed that may make work due).</summary>
    private void Wake()
    {
        if (Interlocked.Exchange(ref _woken, 1) == 0 && !_stop.IsCancellationRequested)
        {
            try
            {
                _wake.Release();
            }
            catch (ObjectDisposedException)
            {
                // disposed meanwhile
            }
        }
    }

    /// <summary>Wakes the worker when a drain of <paramref name="mirror"/> is due (just went offline, or spilled).</summary>
    private void WakeWhenDue(RunMirror mirror)
    {
        if (mirror.NextAttempt <= _time.GetTimestamp())
        {
            Wake();
        }
    }

    /// <summary>
    /// One drain started by the sender's pass, off the sender: bounded by <see cref="MlflowOfflineOptions.OfflineAfter"/>
    /// (a server that hangs gets the next attempt after the reconnect interval). The run's new entries keep reaching its
    /// local copy meanwhile.
    /// </summary>
    private async Task DrainInBackgroundAsync(TrackedRun run, RunMirror mirror)
    {
        await Task.Yield();
        if (!await mirror.DrainLock.WaitAsync(0).ConfigureAwait(false))
        {
            return; // the run is being ended (that thread drains), or a journal write is under way
        }

        using var budget = new CancellationTokenSource(_local.Options.OfflineAfter, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token, budget.Token);
        try
        {
            await DrainHeldAsync(run, mirror, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // shutdown: what is local stays local, for mlflow-sync
        }
        catch (OperationCanceledException) when (budget.IsCancellationRequested)
        {
            // What it sent without an answer is in the sync journal as in flight.
            await ApplyAsync(mirror, MirrorEvent.DrainUnreachable).ConfigureAwait(false);
            OfflineLog.DrainTimedOut(_logger, run.Buffer.RunId, _local.Options.OfflineAfter);
        }
#pragma warning disable CA1031 // a drain must not end the process; the failure is logged and the drain tried again later
        catch (Exception ex)
#pragma warning restore CA1031
        {
            await ApplyAsync(mirror, MirrorEvent.DrainCrashed).ConfigureAwait(false);
            OfflineLog.DrainFailed(_logger, run.Buffer.RunId, ex.GetType().Name + ": " + ex.Message);
        }
        finally
        {
            mirror.DrainLock.Release();
            Wake(); // the next attempt (or the next drain) is scheduled by the worker
        }
    }

    /// <summary>One <see cref="MlflowOfflineOptions.ReconnectInterval"/> from now: when a failed drain is tried again.</summary>
    private long RetryAt() => _time.GetTimestamp() + (long)(_local.Options.ReconnectInterval.TotalSeconds * _time.TimestampFrequency);

    /// <summary>Applies a drain failure to <paramref name="mirror"/> under its gate (outside the drain's own locked section).</summary>
    private async Task ApplyAsync(RunMirror mirror, MirrorEvent change)
    {
        await mirror.Gate.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            mirror.Apply(change, RetryAt());
        }
        finally
        {
            mirror.Gate.Release();
        }
    }

    /// <summary>
    /// One drain attempt (the caller holds the copy's drain lock). Delivered: a copy of a server run goes back to direct
    /// sending, unless entries came in while the drain ran (then it drains again at once).
    /// </summary>
    private async Task<DrainState> DrainHeldAsync(TrackedRun run, RunMirror mirror, CancellationToken cancellationToken)
    {
        using var activity = MlflowTelemetry.Source.StartActivity("mlflow.offline.drain", ActivityKind.Internal);
        activity?.SetTag("mlflow.run_id", run.Buffer.RunId);
        var (state, error, delivered, generation) = await _local.TryDrainAsync(mirror, cancellationToken).ConfigureAwait(false);
        if (activity is not null)
        {
            activity.SetTag("mlflow.entries", delivered);
            activity.SetTag("mlflow.outcome", state.ToString());
            if (state != DrainState.Drained)
            {
                activity.SetStatus(ActivityStatusCode.Error, error ?? state.ToString());
            }
        }

        _counters.MoveOfflineToSent(delivered);
        await mirror.Gate.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            switch (state)
            {
                case DrainState.Drained:
                    if (mirror.Apply(MirrorEvent.Drained, generationRead: generation) == MirrorMode.Offline)
                    {
                        OfflineLog.BackOnline(_logger, run.Buffer.RunId);
                    }

                    break;
                case DrainState.Unreachable:
                    mirror.Apply(MirrorEvent.DrainUnreachable, RetryAt());
                    break;
                default:
                    mirror.Apply(MirrorEvent.DrainRefused, RetryAt());
                    if (error is not null && mirror.ReportedErrors.Add(error))
                    {
                        OfflineLog.DrainFailed(_logger, run.Buffer.RunId, error);
                        run.Buffer.AddRejection(new RejectedLogEntry("local data", "", error));
                    }

                    break;
            }
        }
        finally
        {
            mirror.Gate.Release();
        }

        return state;
    }

    /// <summary>
    /// Sends a run's final status: directly, or through its local copy (sent last, after the data) when it has one. The end
    /// is data like any other: when the server cannot take it within <paramref name="cancellationToken"/>'s budget (a
    /// transient failure, or the budget ran out), the status and end time are kept in the run's local copy (opened when
    /// needed, forced to disk), which is drained while the tracker lives and <c>mlflow-sync</c> completes later; a
    /// warning says so. A local copy always ends with the final status, also when the server took it directly.
    /// </summary>
    public async Task EndRunAsync(RunBuffer buffer, RunStatus status, CancellationToken cancellationToken)
    {
        var endTime = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        if (!_runs.TryGetValue(buffer, out var run))
        {
            await _server.Store.UpdateRunAsync(buffer.RunId, status, endTime, null, cancellationToken).ConfigureAwait(false);
            return;
        }

        try
        {
            var mirror = run.Mirror;
            if (mirror is not { Active: true })
            {
                string reason;
                try
                {
                    await _server.Store.UpdateRunAsync(buffer.RunId, status, endTime, null, cancellationToken).ConfigureAwait(false);
                    if (mirror is not null)
                    {
                        await RecordEndLocallyAsync(mirror, status, endTime, onServer: true).ConfigureAwait(false);
                    }

                    return;
                }
                catch (Exception ex) when (run.Identity is not null && KeepsEndOffline(ex, cancellationToken, out reason))
                {
                }

                mirror = EnsureMirror(run, reason);
            }

            await RecordEndLocallyAsync(mirror, status, endTime, onServer: false).ConfigureAwait(false);
            // Entries still with the sender reach the local copy first: then they are drained, and the status last.
            if (buffer.IsDrained)
            {
                await DrainEndAsync(run, mirror, status, endTime, cancellationToken).ConfigureAwait(false);
            }

            if (mirror.Dirty)
            {
                OfflineLog.EndedOffline(_logger, buffer.RunId, status.ToString().ToUpperInvariant(), _local.Root);
            }
        }
        finally
        {
            run.Ended = true; // drained on the layer's schedule while the tracker lives, then forgotten
            Wake();
        }
    }

    /// <summary>
    /// Writes the final status into the run's local copy (switching the run to it when not on the server) and forces it to
    /// disk. The locks are waited for whatever budget is left: their holder (a drain, bounded by
    /// <see cref="MlflowOfflineOptions.OfflineAfter"/>, or a local write) lets go, and the end must not be lost.
    /// </summary>
    private async Task RecordEndLocallyAsync(RunMirror mirror, RunStatus status, long endTime, bool onServer)
    {
        if (onServer)
        {
            await mirror.DrainLock.WaitAsync(CancellationToken.None).ConfigureAwait(false); // the journal says it is on the server
        }

        try
        {
            await mirror.Gate.WaitAsync(CancellationToken.None).ConfigureAwait(false);
            try
            {
                _local.SetStatus(mirror, status, endTime, onServer);
                if (!onServer)
                {
                    mirror.Apply(MirrorEvent.ServerDown); // the status waits in the copy: so does what the run logs after
                    mirror.Apply(MirrorEvent.Written);
                }
            }
            finally
            {
                mirror.Gate.Release();
            }
        }
        finally
        {
            if (onServer)
            {
                mirror.DrainLock.Release();
            }
        }

        _local.FlushToDisk(force: true);
    }

    /// <summary>
    /// Within the end budget, sends the run's local copy (its status last) to a server that is back: a drain attempt every
    /// ReconnectInterval until one gets through or the budget is spent. The copy stays dirty when the status did not reach the server.
    /// </summary>
    private async Task DrainEndAsync(TrackedRun run, RunMirror mirror, RunStatus status, long endTime, CancellationToken cancellationToken)
    {
        if (!_local.CanDrain)
        {
            return;
        }

        try
        {
            await mirror.DrainLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return; // a drain holds it past the budget: the copy is drained later
        }

        try
        {
            var state = DrainState.Unreachable;
            while (mirror.Dirty)
            {
                state = await DrainHeldAsync(run, mirror, cancellationToken).ConfigureAwait(false);
                if (state == DrainState.Failed)
                {
                    break;
                }

                if (state == DrainState.Unreachable)
                {
                    await Task.Delay(_local.Options.ReconnectInterval, _time, cancellationToken).ConfigureAwait(false);
                }
            }

            if (state == DrainState.Failed && !mirror.LocalOnly)
            {
                // The data went as far as the server accepts it (the refusals are reported): the status goes directly.
                await _server.Store.UpdateRunAsync(run.Buffer.RunId, status, endTime, null, cancellationToken).ConfigureAwait(false);
                await ApplyAsync(mirror, MirrorEvent.EndedOnServer).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (KeepsEndOffline(ex, cancellationToken, out _))
        {
            // out of time, or the server went away again: the status is kept locally
        }
        finally
        {
            mirror.DrainLock.Release();
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
}
