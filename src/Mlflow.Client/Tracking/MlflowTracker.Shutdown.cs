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
        await EndActiveRunsAsync(RunStatus.Finished).ConfigureAwait(false);
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

    private async Task EndActiveRunsAsync(RunStatus status)
    {
        ActiveRun[] runs;
        lock (_runsLock)
        {
            runs = [.. _activeRuns];
        }

        // Children first (they were started last), all within one shutdown budget.
        var started = DateTime.UtcNow;
        foreach (var run in Enumerable.Reverse(runs))
        {
            var left = ShutdownTimeout - (DateTime.UtcNow - started);
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
            EndActiveRunsAsync(RunStatus.Killed).GetAwaiter().GetResult();
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
