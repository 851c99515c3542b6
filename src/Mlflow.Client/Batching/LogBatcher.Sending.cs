namespace Mlflow.Client.Batching;

/// <summary>
/// How one run's queued entries reach the exporter: cut into log-batch requests and exported with up to
/// <see cref="MlflowBatchingOptions.MaxConcurrentRequests"/> requests in flight (shared by all runs of the tracker).
/// </summary>
/// <remarks>
/// Batches of metrics and params overlap: the order of a metric's history rows does not matter to either backend (the
/// latest value is chosen by step, timestamp and value), and a param key is sent once. A batch holding a tag or a tag
/// deletion is a barrier: it goes out alone, after every earlier batch of the run was answered, so the last write of a
/// tag wins as logged. Each batch is settled by the outcome of its one export call: delivered, rejected (bisected when
/// the server names the input, so only the offending entries are reported) or kept on disk by the exporter; where the
/// entries go (the server, or the outbox once the server stopped taking them) is the exporter's decision alone.
/// </remarks>
internal sealed partial class LogBatcher
{
    /// <summary>Why entries go to the outbox when a run's end found the server no longer taking them.</summary>
    internal const string OutboxReason = "the run ended and the server took no entry for MlflowBatchingOptions.ShutdownTimeout";

    private async Task DrainRunAsync(RunBuffer run)
    {
        var (first, count) = run.TakeAll();
        if (count == 0)
        {
            return;
        }

        // Every entry taken is settled exactly once, by the batch that exports it.
        try
        {
            await ExportConcurrentlyAsync(run, new TakenChunks(first, _batchSize)).ConfigureAwait(false);
        }
        finally
        {
            run.Complete(count);
            run.Return(first);
        }
    }

    /// <summary>Exports the taken entries in batches with requests in flight; returns when every batch was settled.</summary>
    private async Task ExportConcurrentlyAsync(RunBuffer run, TakenChunks taken)
    {
        var inFlight = new List<Task>();
        try
        {
            while (taken.HasMore)
            {
                var next = taken.Next();
                if (next.HoldsTagWrites)
                {
                    await Task.WhenAll(inFlight).ConfigureAwait(false);
                    inFlight.Clear();
                }

                await _requests.WaitAsync().ConfigureAwait(false);
                run.TopUpReserve(); // the logging threads' next chunks, allocated here while the sender runs
                var batch = ExportBatchAsync(run, next);
                if (next.HoldsTagWrites)
                {
                    await batch.ConfigureAwait(false);
                }
                else
                {
                    inFlight.Add(batch);
                    inFlight.RemoveAll(t => t.IsCompleted);
                }
            }
        }
        finally
        {
            await Task.WhenAll(inFlight).ConfigureAwait(false);
        }
    }

    /// <summary>Entries of <paramref name="run"/> sent, kept or given up on: room in the queue, and progress for a run's end.</summary>
    private void Settle(RunBuffer run, int n)
    {
        run.AddSettled(n);
        Release(n);
    }

    /// <summary>Exports one batch holding a request slot.</summary>
    private async Task ExportBatchAsync(RunBuffer run, TakenBatch batch)
    {
        LogEntry[]? rented = null;
        try
        {
            var (entries, start, end) = batch.Materialize(out rented);
            await ExportRangeAsync(run, entries, start, end).ConfigureAwait(false);
        }
        finally
        {
            batch.Release(rented);
            _requests.Release();
        }
    }

    /// <summary>Exports entries [start, end) and settles each of them by the outcome, also when the exporter fails (a bug: reported, never left unsettled, or a flush would hang).</summary>
    private async Task ExportRangeAsync(RunBuffer run, LogEntry[] entries, int start, int end)
    {
        ExportResult result;
        try
        {
            result = await _exporter.ExportAsync(run, entries, start, end, run.SendCancellation).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // an exporter failure is a bug: its entries are reported as rejected
        catch (Exception ex)
#pragma warning restore CA1031
        {
            TrackingLog.SenderFailed(_logger, ex);
            result = new ExportResult(ExportOutcome.Rejected, "internal error of the background sender: " + ex.Message);
        }

        switch (result.Outcome)
        {
            case ExportOutcome.Delivered:
                _counters.AddSent(end - start);
                break;
            case ExportOutcome.Kept:
                break; // counted offline (or rejected by the local store) by the exporter
            case ExportOutcome.Rejected when result.InputFault && end - start > 1:
                // The server validates a whole batch before writing: halves find the offending entries, order is kept.
                var mid = start + ((end - start) / 2);
                await ExportRangeAsync(run, entries, start, mid).ConfigureAwait(false);
                await ExportRangeAsync(run, entries, mid, end).ConfigureAwait(false);
                return;
            default:
                if (!result.InputFault && end - start > 1)
                {
                    TrackingLog.BatchGaveUp(_logger, end - start, run.RunId, result.Reason);
                }

                for (var i = start; i < end; i++)
                {
                    _counters.Reject(run, entries[i], result.Reason);
                }

                break;
        }

        Settle(run, end - start);
    }
}
