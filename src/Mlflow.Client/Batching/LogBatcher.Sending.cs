using Mlflow.Client.Offline;

namespace Mlflow.Client.Batching;

/// <summary>
/// How one run's queued entries reach the store: cut into log-batch requests and sent with up to
/// <see cref="MlflowBatchingOptions.MaxConcurrentRequests"/> requests in flight (shared by all runs of the tracker).
/// </summary>
/// <remarks>
/// Batches of metrics and params overlap: the order of a metric's history rows does not matter to either backend (the
/// latest value is chosen by step, timestamp and value), and a param key is sent once. A batch holding a tag or a tag
/// deletion is a barrier: it goes out alone, after every earlier batch of the run was answered, so the last write of a
/// tag wins as logged. A batch the server could not take (unreachable beyond the retry budget) stops the dispatch: it
/// and every entry not yet sent go to the run's local copy, in order.
/// </remarks>
internal sealed partial class LogBatcher
{
    /// <summary>Entries [From, To) of a drain that were not delivered and go to the local copy.</summary>
    private readonly record struct KeptRange(int From, int To, bool UnknownOutcome, string Reason);

    private async Task DrainRunAsync(RunBuffer run)
    {
        var (entries, count) = run.TakeAll();
        if (count == 0)
        {
            return;
        }

        // Every entry taken is settled exactly once: delivered or rejected (released by the batch that sent it), or
        // kept locally (released by the local write); what a failure leaves unsettled is reported, never dropped.
        List<KeptRange> kept = [];
        var written = 0;
        var reason = "internal error of the background sender";
        try
        {
            if (_offline is not null && (run.Mirror is { Active: true } || run.SpillRequested))
            {
                kept.Add(new KeptRange(0, count, UnknownOutcome: false, "queued while the run is offline"));
                var local = run.Mirror is { Active: true } m ? m : EnsureSpillMirror(run);
                run.SpillRequested = false;
                await WriteToMirrorAsync(run, local, entries, 0, count, unknownOutcome: false).ConfigureAwait(false);
                written = 1;
                return;
            }

            kept = await SendConcurrentlyAsync(run, entries, count).ConfigureAwait(false);
            if (kept.Count == 0)
            {
                return;
            }

            // The server is unreachable: what was not acknowledged, and everything after it, goes to the local copy.
            reason = "the server is unreachable and the local store failed";
            var mirror = EnsureMirror(run, kept[0].Reason);
            foreach (var range in kept)
            {
                await WriteToMirrorAsync(run, mirror, entries, range.From, range.To, range.UnknownOutcome).ConfigureAwait(false);
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
                    Reject(run, entries[i], reason);
                }

                Release(range.To - range.From);
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
            kept.Add(new KeptRange(start, count, UnknownOutcome: false, kept[0].Reason));
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
            Func<CancellationToken, Task>? call = null;
            if (entries[start].Kind == LogEntryKind.DeleteTag)
            {
                var key = entries[start].Key;
                call = ct => _store.DeleteTagAsync(run.RunId, key, ct);
            }

            var (failedAt, unknown, reason) = await SendRangeAsync(run, entries, start, end, call).ConfigureAwait(false);
            Release((failedAt < 0 ? end : failedAt) - start);
            return failedAt < 0 ? null : new KeptRange(failedAt, end, unknown, reason);
        }
        finally
        {
            _requests.Release();
        }
    }

    private RunMirror EnsureSpillMirror(RunBuffer run)
    {
        var mirror = EnsureMirror(run, "queue full");
        mirror.ServerDown = false;
        mirror.NextAttempt = 0; // drain right after writing: the server is fine, only slower than the producer
        return mirror;
    }

    /// <summary>Writes entries [from, to) to the local copy and releases their queue space (durable within the durable-write interval).</summary>
    private async Task WriteToMirrorAsync(RunBuffer run, RunMirror mirror, LogEntry[] entries, int from, int to, bool unknownOutcome)
    {
        await mirror.Gate.WaitAsync().ConfigureAwait(false);
        try
        {
            Dictionary<string, long>? before = null;
            if (unknownOutcome)
            {
                before = new Dictionary<string, long>(StringComparer.Ordinal);
                for (var i = from; i < to; i++)
                {
                    if (entries[i].Kind == LogEntryKind.Metric)
                    {
                        before.TryAdd(entries[i].Key, mirror.MetricCounts.GetValueOrDefault(entries[i].Key));
                    }
                }
            }

            var rejected = 0;
            _offline!.Write(mirror, entries, from, to, (entry, why) =>
            {
                rejected++;
                Reject(run, entry, why);
            });
            if (before is not null)
            {
                _offline.MarkInFlight(mirror, before);
            }

            Interlocked.Add(ref _offlineEntries, to - from - rejected);
        }
        finally
        {
            mirror.Gate.Release();
        }

        Release(to - from);
    }

    /// <summary>
    /// Sends entries [start, end); returns -1 when each was delivered or rejected, else the index from which the server
    /// could not be reached, whether that send may have been applied, and why.
    /// </summary>
    private async Task<(int FailedAt, bool Unknown, string Reason)> SendRangeAsync(RunBuffer run, LogEntry[] entries, int start, int end, Func<CancellationToken, Task>? call)
    {
        if (call is null)
        {
            var (metrics, @params, tags) = BatchBuilder.ToRequest(entries.AsSpan(start, end - start));
            call = ct => _store.LogBatchAsync(run.RunId, metrics, @params, tags, ct);
        }

        var (outcome, reason, unknown) = await TryAsync(call).ConfigureAwait(false);
        if (outcome == Outcome.Sent)
        {
            Interlocked.Add(ref _sent, end - start);
            return (-1, false, "");
        }

        if (outcome == Outcome.Offline)
        {
            return (start, unknown, reason);
        }

        if (outcome == Outcome.Split && end - start > 1)
        {
            // The server validates a whole batch before writing: halves find the offending entries, order is kept.
            var mid = start + ((end - start) / 2);
            var first = await SendRangeAsync(run, entries, start, mid, null).ConfigureAwait(false);
            return first.FailedAt >= 0 ? first : await SendRangeAsync(run, entries, mid, end, null).ConfigureAwait(false);
        }

        if (outcome == Outcome.FailWhole && end - start > 1)
        {
            TrackingLog.BatchGaveUp(_logger, end - start, run.RunId, reason);
        }

        for (var i = start; i < end; i++)
        {
            Reject(run, entries[i], reason);
        }

        return (-1, false, "");
    }

    private void Reject(RunBuffer run, in LogEntry entry, string reason)
    {
        Interlocked.Increment(ref _failed);
        run.AddRejection(new RejectedLogEntry(entry.KindName, entry.Key, reason));
        TrackingLog.EntryRejected(_logger, entry.KindName, entry.Key, run.RunId, reason);
    }

    /// <summary>
    /// Sends one request. The HTTP pipeline below is the only retry layer; this decides only: delivered, bisect (the
    /// server rejected something in the batch), give up on the whole batch, or offline (transient beyond the pipeline's
    /// budget, or no answer within <see cref="MlflowOfflineOptions.OfflineAfter"/>).
    /// </summary>
    private async Task<(Outcome Outcome, string Reason, bool Unknown)> TryAsync(Func<CancellationToken, Task> call)
    {
        const string Aborted = "the shutdown timeout passed before the entries were sent";
        var offline = _offline is not null;
        if (_abort.IsCancellationRequested)
        {
            return offline ? (Outcome.Offline, Aborted, false) : (Outcome.FailWhole, Aborted, false);
        }

        // With the offline fallback, one batch waits at most OfflineAfter for the server, HTTP retries included.
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(_abort.Token);
        if (offline)
        {
            deadline.CancelAfter(_offline!.Options.OfflineAfter);
        }

        try
        {
            await call(deadline.Token).ConfigureAwait(false);
            return (Outcome.Sent, "", false);
        }
        catch (OperationCanceledException) when (_abort.IsCancellationRequested)
        {
            return offline ? (Outcome.Offline, Aborted, true) : (Outcome.FailWhole, Aborted, true);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            // The request may have been applied: the kept entries are reconciled with the server's history first.
            return (Outcome.Offline, NoAnswerWithin(_offline!.Options.OfflineAfter), true);
        }
        catch (MlflowException ex) when (ex.IsTransient || ex.Kind == MlflowFailureKind.Cancelled)
        {
            // The pipeline already spent its retry budget. Offline: keep the entries locally (an unknown outcome is
            // reconciled with the server's history before anything is sent again). Else: report them.
            var unknown = ex.Kind is MlflowFailureKind.OutcomeUnknown or MlflowFailureKind.Cancelled;
            return (offline ? Outcome.Offline : Outcome.FailWhole, ex.ShortReason, unknown);
        }
        catch (MlflowException ex)
        {
            // Rejected. Credentials, a missing run or endpoint: nothing in the batch is at fault. Else the server names
            // the input: halves find the offending entries.
            return (ex.RejectsInput ? Outcome.Split : Outcome.FailWhole, ex.ShortReason, false);
        }
#pragma warning disable CA1031 // a store failure of any kind becomes a reported rejection, never a lost entry
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return (Outcome.FailWhole, ex.GetType().Name + ": " + ex.Message, false);
        }
    }
}
