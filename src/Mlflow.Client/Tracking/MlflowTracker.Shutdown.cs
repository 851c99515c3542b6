// How the tracker ends: dispose, and process exit or a termination signal, each ending the active runs within the shutdown budget.
using Mlflow.Client.Batching;

namespace Mlflow.Client;

public sealed partial class MlflowTracker
{
    /// <summary>
    /// Ends active runs as FINISHED (waiting while the server takes their entries; what is left after a stall of
    /// <see cref="MlflowBatchingOptions.ShutdownTimeout"/> goes to the offline store), stops the sender and releases the store.
    /// </summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>Ends active runs as FINISHED and releases the tracker, as <see cref="Dispose"/> does.</summary>
    /// <returns>A task that completes when the tracker is shut down.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _processHooks?.Dispose();
        await EndActiveRunsAsync(RunStatus.Finished, ShutdownTimeout).ConfigureAwait(false);
        _batcher.Stop(ShutdownTimeout);
        _batcher.Dispose();
        _offlineLayer?.Dispose();
        _offline?.Dispose();
        _experimentLock.Dispose();
        if (_ownsStore)
        {
            _store.Dispose();
        }
    }

    /// <summary>
    /// Flushes and ends every run still active with <paramref name="status"/>, children first; runs already ending are
    /// waited for. The queued entries are waited for as long as the server takes them; once it took none for
    /// <paramref name="timeout"/>, or when <paramref name="cancellationToken"/> is cancelled (a deadline of the host), what
    /// is left goes to the offline store on disk, in order, and is sent while the tracker lives or by <c>mlflow-sync</c>.
    /// A host calls it when it stops (see <see cref="MlflowTrackerOptions.HandleProcessShutdown"/>); the tracker stays usable.
    /// </summary>
    /// <param name="status">The final status, usually <see cref="RunStatus.Killed"/> (interrupted) or <see cref="RunStatus.Finished"/>.</param>
    /// <param name="timeout">How long the server may take no entry before the rest goes to disk (a stall, not a backlog).</param>
    /// <param name="cancellationToken">Stops waiting for the server: what is still queued goes to disk at once.</param>
    /// <returns>A task that completes when the runs are ended.</returns>
    public async Task EndActiveRunsAsync(RunStatus status, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(timeout, TimeSpan.Zero);
        ActiveRun[] runs;
        lock (_runsLock)
        {
            runs = [.. _activeRuns];
        }

        // Children first (they were started last). Once the server stalled for one run, the others go to disk at once.
        var stall = timeout;
        foreach (var run in Enumerable.Reverse(runs))
        {
            if (await run.EndCoreAsync(status, stall, cancellationToken).ConfigureAwait(false))
            {
                stall = TimeSpan.Zero;
            }
        }
    }

    private void ShutdownForExit(string reason)
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            return;
        }

        int count;
        lock (_runsLock)
        {
            count = _activeRuns.Count;
        }

        if (count > 0)
        {
            TrackingLog.ProcessExiting(Logger, reason, count);
        }

        try
        {
            EndActiveRunsAsync(RunStatus.Killed, ShutdownTimeout).GetAwaiter().GetResult();
            _batcher.Stop(ShutdownTimeout);
            _offlineLayer?.StopDraining(); // the process is going: what is local stays local, for mlflow-sync
        }
#pragma warning disable CA1031 // never throw from a process exit handler
        catch (Exception ex)
#pragma warning restore CA1031
        {
            TrackingLog.SenderFailed(Logger, ex);
        }
    }
}
