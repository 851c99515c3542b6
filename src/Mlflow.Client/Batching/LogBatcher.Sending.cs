namespace Mlflow.Client.Batching;

/// <summary>
/// How one run's queued entries reach the store: cut into log-batch requests and sent with up to
/// <see cref="MlflowBatchingOptions.MaxConcurrentRequests"/> requests in flight (shared by all runs of the tracker).
/// </summary>
/// <remarks>
/// Batches of metrics and params overlap: the order of a metric's history rows does not matter to either backend (the
/// latest value is chosen by step, timestamp and value), and a param key is sent once. A batch holding a tag or a tag
/// deletion is a barrier: it goes out alone, after every earlier batch of the run was answered, so the last write of a
/// tag wins as logged. A batch the server could not take (unreachable beyond the retry budget) stops the dispatch when
/// the sink can keep entries (<see cref="ILogSink.CanKeep"/>): it and every entry not yet sent are handed to
/// <see cref="ILogSink.KeepAsync"/>, in order.
/// </remarks>
internal sealed partial class LogBatcher
{
    /// <summary>Why entries go to the outbox when a run's end found the server no longer taking them.</summary>
    internal const string OutboxReason = "the run ended and the server took no entry for MlflowBatchingOptions.ShutdownTimeout";

    /// <summary>Entries [From, To) of a drain that were not delivered and go to the sink's keeping.</summary>
    private readonly record struct KeptRange(int From, int To, bool UnknownOutcome, string Reason);

    private async Task DrainRunAsync(RunBuffer run)
    {
        var (entries, count) = run.TakeAll();
        if (count == 0)
        {
            return;
        }

        // Every entry taken is settled exactly once: delivered or rejected (released by the batch that sent it), or
        // kept by the sink (released here); what a failure leaves unsettled is reported, never dropped.
        List<KeptRange> kept = [];
        var written = 0;
        var reason = "internal error of the background sender";
        try
        {
            kept.Add(new KeptRange(0, count, UnknownOutcome: false, "queued while the run is offline"));
            if (await _sink.TryTakeAsync(run, entries, count).ConfigureAwait(false))
            {
                Settle(run, count);
                written = 1;
                return;
            }

            kept.Clear();
            kept = await SendConcurrentlyAsync(run, entries, count).ConfigureAwait(false);
            if (kept.Count == 0)
            {
                return;
            }

            // The server is unreachable: what was not acknowledged, and everything after it, is kept by the sink.
            reason = "the server is unreachable and the local store failed";
            foreach (var range in kept)
            {
                await _sink.KeepAsync(run, entries, range.From, range.To, range.UnknownOutcome, range.Reason).ConfigureAwait(false);
                Settle(run, range.To - range.From);
                written++;
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or MlflowException or InvalidOperationException)
        {
            reason += ": " + ex.Message;
        }
        finally
        {
            // Only reachable through a bug or a failing disk: account for the rest so flushes do not hang, and say so.
            foreach (var range in kept.Skip(written))
            {
                for (var i = range.From; i < range.To; i++)
                {
                    _counters.Reject(run, entries[i], reason);
                }

                Settle(run, range.To - range.From);
            }

            run.Complete(count);
            run.Return(entries, count);
        }
    }

    /// <summary>
    /// Sends entries [0, count) in batches with requests in flight; returns the ranges that were not delivered (the
    /// server is unreachable), in order, empty when every entry was delivered or rejected.
    /// </summary>
    private async Task<List<KeptRange>> SendConcurrentlyAsync(RunBuffer run, LogEntry[] entries, int count)
    {
        var inFlight = new List<Task<KeptRange?>>();
        var kept = new List<KeptRange>();
        var paramKeys = new HashSet<string>(StringComparer.Ordinal);
        var start = 0;
        while (start < count)
        {
            if (run.OutboxRequested && _sink.CanKeep)
            {
                break; // the run ended and the server stopped taking entries: the rest goes to the outbox, in order
            }

            var end = BatchBuilder.NextBatchEnd(entries.AsSpan(0, count), start, _batchSize, paramKeys);
            var barrier = HoldsTagWrites(entries, start, end);
            if (barrier)
            {
                await SettleAsync(inFlight, kept, all: true).ConfigureAwait(false);
            }

            if (kept.Count > 0)
            {
                break;
            }

            await _requests.WaitAsync().ConfigureAwait(false);
            inFlight.Add(SendBatchAsync(run, entries, start, end));
            start = end;
            await SettleAsync(inFlight, kept, all: barrier).ConfigureAwait(false);
            if (kept.Count > 0)
            {
                break;
            }
        }

        await SettleAsync(inFlight, kept, all: true).ConfigureAwait(false);
        if (start < count)
        {
            kept.Add(new KeptRange(start, count, UnknownOutcome: false, kept.Count > 0 ? kept[0].Reason : OutboxReason));
        }

        kept.Sort((a, b) => a.From.CompareTo(b.From));
        return kept;
    }

    /// <summary>Collects the answered batches (all of them when <paramref name="all"/>), adding those that were not delivered to <paramref name="kept"/>.</summary>
    private static async Task SettleAsync(List<Task<KeptRange?>> inFlight, List<KeptRange> kept, bool all)
    {
        if (all)
        {
            await Task.WhenAll(inFlight).ConfigureAwait(false);
        }

        for (var i = inFlight.Count - 1; i >= 0; i--)
        {
            if (inFlight[i].IsCompleted)
            {
                if (await inFlight[i].ConfigureAwait(false) is { } range)
                {
                    kept.Add(range);
                }

                inFlight.RemoveAt(i);
            }
        }
    }

    /// <summary>Entries of <paramref name="run"/> sent, kept or given up on: room in the queue, and progress for a run's end.</summary>
    private void Settle(RunBuffer run, int n)
    {
        run.AddSettled(n);
        Release(n);
    }

    private static bool HoldsTagWrites(LogEntry[] entries, int start, int end)
    {
        for (var i = start; i < end; i++)
        {
            if (entries[i].Kind is LogEntryKind.Tag or LogEntryKind.DeleteTag)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Sends one batch holding a request slot; returns what was not delivered, or <see langword="null"/>.</summary>
    private async Task<KeptRange?> SendBatchAsync(RunBuffer run, LogEntry[] entries, int start, int end)
    {
        try
        {
            var (failedAt, unknown, reason) = await SendRangeAsync(run, entries, start, end).ConfigureAwait(false);
            Settle(run, (failedAt < 0 ? end : failedAt) - start);
            return failedAt < 0 ? null : new KeptRange(failedAt, end, unknown, reason);
        }
        finally
        {
            _requests.Release();
        }
    }

    /// <summary>
    /// Sends entries [start, end); returns -1 when each was delivered or rejected, else the index from which the server
    /// could not be reached, whether that send may have been applied, and why.
    /// </summary>
    private async Task<(int FailedAt, bool Unknown, string Reason)> SendRangeAsync(RunBuffer run, LogEntry[] entries, int start, int end)
    {
        var result = await _sink.SendAsync(run, entries, start, end, run.SendCancellation).ConfigureAwait(false);
        switch (result.Status)
        {
            case SendStatus.Delivered:
                _counters.AddSent(end - start);
                return (-1, false, "");
            case SendStatus.NotDelivered when _sink.CanKeep:
                return (start, result.Unknown, result.Reason);
            case SendStatus.Rejected when result.InputFault && end - start > 1:
                // The server validates a whole batch before writing: halves find the offending entries, order is kept.
                var mid = start + ((end - start) / 2);
                var first = await SendRangeAsync(run, entries, start, mid).ConfigureAwait(false);
                return first.FailedAt >= 0 ? first : await SendRangeAsync(run, entries, mid, end).ConfigureAwait(false);
            default:
                if (!result.InputFault && end - start > 1)
                {
                    TrackingLog.BatchGaveUp(_logger, end - start, run.RunId, result.Reason);
                }

                for (var i = start; i < end; i++)
                {
                    _counters.Reject(run, entries[i], result.Reason);
                }

                return (-1, false, "");
        }
    }
}
