// How the tracker ends: dispose, and process exit or a termination signal, each ending the active runs within the shutdown budget.
using Mlflow.Client.Batching;

namespace Mlflow.Client;

public sealed partial class MlflowTracker
{
    /// <summary>Ends active runs as FINISHED (bounded by the shutdown timeout), stops the sender and releases the store.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>Ends active runs as FINISHED (bounded by the shutdown timeout), stops the sender and releases the store.</summary>
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
        _offlineSink?.Dispose();
        _offline?.Dispose();
        _experimentLock.Dispose();
        if (_ownsStore)
        {
            _store.Dispose();
        }
    }

    /// <summary>
    /// Flushes and ends every run still active with <paramref name="status"/>, children first, all within one budget
    /// (each run's final status update is still given at least a second); runs already ending are skipped. A host calls
    /// it when it stops (see <see cref="MlflowTrackerOptions.HandleProcessShutdown"/>); the tracker stays usable.
    /// </summary>
    /// <param name="status">The final status, usually <see cref="RunStatus.Killed"/> (interrupted) or <see cref="RunStatus.Finished"/>.</param>
    /// <param name="timeout">How long to wait for the runs' queued entries, in all.</param>
    /// <returns>A task that completes when the runs are ended.</returns>
    public async Task EndActiveRunsAsync(RunStatus status, TimeSpan timeout)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(timeout, TimeSpan.Zero);
        ActiveRun[] runs;
        lock (_runsLock)
        {
            runs = [.. _activeRuns];
        }

        // Children first (they were started last), all within one shutdown budget.
        var started = DateTime.UtcNow;
        foreach (var run in Enumerable.Reverse(runs))
        {
            var left = timeout - (DateTime.UtcNow - started);
            await run.EndCoreAsync(status, left > TimeSpan.Zero ? left : TimeSpan.Zero).ConfigureAwait(false);
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
        }
#pragma warning disable CA1031 // never throw from a process exit handler
        catch (Exception ex)
#pragma warning restore CA1031
        {
            TrackingLog.SenderFailed(Logger, ex);
        }
    }
}
