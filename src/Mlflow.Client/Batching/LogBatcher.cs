using Microsoft.Extensions.Logging;
using System.Diagnostics;
using Mlflow.Client.Offline;
using Mlflow.Client.Store;

namespace Mlflow.Client.Batching;

/// <summary>
/// The background sender of one tracker: one long-running loop that takes each run's queued entries, cuts them into
/// log-batch requests (<see cref="BatchBuilder"/>) and sends the batches of a run strictly in order. It wakes when a
/// batch is full, on the flush interval, on a flush and on shutdown. Retries are the HTTP pipeline's alone; a batch the
/// server rejects is bisected until the offending entries are isolated, which are then reported through their run
/// while every other entry is delivered.
/// </summary>
internal sealed class LogBatcher : IDisposable
{
    private enum Outcome
    {
        Sent,
        Split,
        FailWhole,
        /// <summary>The server is unreachable (or the send was cut by shutdown): keep the entries in the offline mirror.</summary>
        Offline,
    }

    private readonly ITrackingStore _store;
    private readonly OfflineMirror? _offline;
    private readonly bool _spill;
    private readonly ILogger _logger;
    private readonly int _maxQueue;
    private readonly int _batchSize;
    private readonly TimeSpan _interval;
    private readonly SemaphoreSlim _signal = new(0);
    private readonly object _runsLock = new();
    private readonly object _spaceLock = new();
    private readonly CancellationTokenSource _abort = new();
    private readonly HashSet<string> _paramKeys = new(StringComparer.Ordinal);
    private readonly Task _loop;
    private RunBuffer[] _runs = [];
    private long _pending;
    private long _sent;
    private long _failed;
    private long _spilled;
    private long _offlineEntries;
    private bool _lastFailureUnknown;
    private string _lastFailureReason = "";
    private int _signaled;
    private int _spaceWaiters;
    private volatile bool _stopping;

    public LogBatcher(ITrackingStore store, MlflowBatchingOptions options, OfflineMirror? offline, ILogger logger)
    {
        _store = store;
        _offline = offline;
        _spill = options.QueueFullPolicy == QueueFullPolicy.SpillToLocalStore
            ? offline is not null ? true : throw new ArgumentException("SpillToLocalStore needs the offline store (it is off when the tracker logs to a local store).", nameof(offline))
            : false;
        _logger = logger;
        _maxQueue = options.MaxQueueEntries;
        _batchSize = options.MaxBatchEntries;
        _interval = options.FlushInterval;
        _loop = Task.Run(LoopAsync);
    }

    public MlflowTrackerCounters Counters
    {
        get
        {
            var sent = Interlocked.Read(ref _sent);
            var failed = Interlocked.Read(ref _failed);
            var offline = Interlocked.Read(ref _offlineEntries);
            // Clamped: a failed optimistic reservation lifts the counter above the bound for an instant, never the queue
            // (spilled entries may: they are written to the local store instead of waiting).
            var pending = Math.Clamp(Interlocked.Read(ref _pending), 0, _spill ? long.MaxValue : _maxQueue);
            return new MlflowTrackerCounters(sent + failed + offline + pending, sent, _store.RetriedRequests, failed, Interlocked.Read(ref _spilled)) { Offline = offline };
        }
    }

    /// <summary>The offline fallback, when on.</summary>
    public OfflineMirror? Offline => _offline;

    public RunBuffer Register(string runId, RunIdentity? identity = null, RunMirror? mirror = null)
    {
        var run = new RunBuffer(runId) { Identity = identity, Mirror = mirror };
        lock (_runsLock)
        {
            _runs = [.. _runs, run];
        }

        return run;
    }

    /// <summary>Queues a validated entry: the hot path (one interlocked add, one short lock, no allocation).</summary>
    public void Enqueue(RunBuffer run, in LogEntry entry)
    {
        if (Interlocked.Increment(ref _pending) > _maxQueue)
        {
            Interlocked.Decrement(ref _pending);
            if (!ReserveSlow(run, entry))
            {
                return;
            }
        }

        int count;
        try
        {
            count = run.Append(entry);
        }
        catch
        {
            Release(1);
            throw;
        }

        if (count == _batchSize)
        {
            Signal();
        }
    }

    /// <summary>Completes when every entry of <paramref name="run"/> up to <paramref name="target"/> was sent or given up on.</summary>
    public async Task FlushRunAsync(RunBuffer run, long target, CancellationToken cancellationToken)
    {
        Signal();
        await run.WaitForAsync(target).WaitAsync(cancellationToken).ConfigureAwait(false);
        if (run.Mirror is not null)
        {
            _offline?.FlushToDisk(force: true); // what went to the local copy is on disk when a flush returns
        }
    }

    /// <summary>Waits for every entry queued so far; <see langword="false"/> when the timeout passed first.</summary>
    public async Task<bool> FlushAllAsync(TimeSpan timeout)
    {
        var runs = Volatile.Read(ref _runs);
        var waits = runs.Select(r => r.WaitForAsync(r.Appended)).ToArray();
        Signal();
        try
        {
            await Task.WhenAll(waits).WaitAsync(timeout).ConfigureAwait(false);
            _offline?.FlushToDisk(force: true);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    /// <summary>Stops the loop: a last pass sends what is queued; at <paramref name="timeout"/> sending is aborted and what is left is reported failed.</summary>
    public bool Stop(TimeSpan timeout)
    {
        _stopping = true;
        try
        {
            _abort.CancelAfter(timeout);
        }
        catch (ObjectDisposedException)
        {
            return true;
        }

        Signal();
        try
        {
            return _loop.Wait(timeout + TimeSpan.FromSeconds(2));
        }
        catch (AggregateException)
        {
            return true;
        }
    }

    public void Dispose()
    {
        Stop(TimeSpan.Zero);
        _abort.Dispose();
        _signal.Dispose();
    }

    private bool ReserveSlow(RunBuffer run, in LogEntry entry)
    {
        if (_spill)
        {
            // Over the bound: queued anyway (no wait, no I/O here) and the sender writes this run's queue to the local
            // store instead of the network, in order, until the local copy is drained to the server.
            Interlocked.Increment(ref _pending);
            Interlocked.Increment(ref _spilled);
            run.SpillRequested = true;
            Signal();
            return true;
        }

        while (true)
        {
            if (_stopping && _abort.IsCancellationRequested)
            {
                throw new ObjectDisposedException(nameof(MlflowTracker), "The tracker was shut down while the log call waited for room in the queue.");
            }

            Signal();
            lock (_spaceLock)
            {
                _spaceWaiters++;
                try
                {
                    if (Interlocked.Read(ref _pending) >= _maxQueue)
                    {
                        Monitor.Wait(_spaceLock, 100);
                    }
                }
                finally
                {
                    _spaceWaiters--;
                }
            }

            var current = Interlocked.Read(ref _pending);
            while (current < _maxQueue)
            {
                var seen = Interlocked.CompareExchange(ref _pending, current + 1, current);
                if (seen == current)
                {
                    return true;
                }

                current = seen;
            }
        }
    }

    private void Release(int n)
    {
        Interlocked.Add(ref _pending, -n);
        if (Volatile.Read(ref _spaceWaiters) > 0)
        {
            lock (_spaceLock)
            {
                Monitor.PulseAll(_spaceLock);
            }
        }
    }

    private void Signal()
    {
        if (Interlocked.Exchange(ref _signaled, 1) == 0)
        {
            _signal.Release();
        }
    }

    private async Task LoopAsync()
    {
        while (true)
        {
            var wait = _offline is not null && Volatile.Read(ref _runs).Any(r => r.Mirror is { Active: true }) && _offline.Options.DurableWriteInterval < _interval
                ? _offline.Options.DurableWriteInterval
                : _interval;
            await _signal.WaitAsync(wait).ConfigureAwait(false);
            Volatile.Write(ref _signaled, 0);
            var stopping = _stopping;
            try
            {
                await SendAllAsync().ConfigureAwait(false);
            }
#pragma warning disable CA1031 // the loop must survive anything; the failure is logged
            catch (Exception ex)
#pragma warning restore CA1031
            {
                TrackingLog.SenderFailed(_logger, ex);
            }

            if (stopping && (_abort.IsCancellationRequested || Volatile.Read(ref _runs).All(r => r.IsDrained)))
            {
                _offline?.FlushToDisk(force: true);
                return;
            }
        }
    }

    private async Task SendAllAsync()
    {
        foreach (var run in Volatile.Read(ref _runs))
        {
            await DrainRunAsync(run).ConfigureAwait(false);
            if (run.Mirror is { Active: true } mirror && !_stopping)
            {
                await MaybeDrainMirrorAsync(run, mirror).ConfigureAwait(false);
            }

            // An ended run whose local copy still waits for the server stays here: drains go on while the tracker lives.
            if (run.IsClosed && run.IsDrained && run.Mirror is not { Active: true, Dirty: true })
            {
                lock (_runsLock)
                {
                    _runs = _runs.Where(r => !ReferenceEquals(r, run)).ToArray();
                }
            }
        }

        _offline?.FlushToDisk(force: _stopping);
    }

    /// <summary>Sends a run's local copy to the server when due (at once after a spill, every reconnect interval while the server is down).</summary>
    private async Task MaybeDrainMirrorAsync(RunBuffer run, RunMirror mirror)
    {
        if (!mirror.Dirty || !_offline!.CanDrain || Stopwatch.GetTimestamp() < mirror.NextAttempt)
        {
            return;
        }

        if (!await mirror.Gate.WaitAsync(0).ConfigureAwait(false))
        {
            return; // the run is being ended: that thread drains
        }

        // A drain runs on the sender: a server that hangs must not hold every other run's sending (and a bounded queue)
        // for the whole HTTP retry budget. What it sent without an answer is in the sync journal as in flight.
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(_abort.Token);
        budget.CancelAfter(_offline.Options.OfflineAfter);
        try
        {
            await DrainMirrorCoreAsync(run, mirror, budget.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_abort.IsCancellationRequested)
        {
            // shutdown: what is local stays local, for mlflow-sync
        }
        catch (OperationCanceledException) when (budget.IsCancellationRequested)
        {
            mirror.ServerDown = true;
            RetryDrainLater(mirror);
            OfflineLog.DrainTimedOut(_logger, run.RunId, _offline.Options.OfflineAfter);
        }
        finally
        {
            mirror.Gate.Release();
        }
    }

    /// <summary>No drain of <paramref name="mirror"/> before one <see cref="MlflowOfflineOptions.ReconnectInterval"/> from now.</summary>
    private void RetryDrainLater(RunMirror mirror)
        => mirror.NextAttempt = Stopwatch.GetTimestamp() + (long)(_offline!.Options.ReconnectInterval.TotalSeconds * Stopwatch.Frequency);

    /// <summary>One drain attempt (the caller holds the mirror's gate): on success a mirrored server run goes back to direct sending.</summary>
    internal async Task<DrainState> DrainMirrorCoreAsync(RunBuffer run, RunMirror mirror, CancellationToken cancellationToken)
    {
        var (state, error) = await _offline!.TryDrainAsync(mirror, cancellationToken).ConfigureAwait(false);
        switch (state)
        {
            case DrainState.Drained:
                mirror.Dirty = false;
                if (mirror.ServerDown)
                {
                    OfflineLog.BackOnline(_logger, run.RunId);
                }

                mirror.ServerDown = false;
                if (!mirror.LocalOnly)
                {
                    mirror.Active = false; // nothing is left locally: the next entries go straight to the server, in order
                }

                break;
            case DrainState.Unreachable:
                mirror.ServerDown = true;
                RetryDrainLater(mirror);
                break;
            default:
                mirror.ServerDown = false;
                RetryDrainLater(mirror);
                if (error is not null && mirror.ReportedErrors.Add(error))
                {
                    OfflineLog.DrainFailed(_logger, run.RunId, error);
                    run.AddRejection(new RejectedLogEntry("local data", "", error));
                }

                break;
        }

        return state;
    }

    /// <summary>Opens the run's local mirror when it has none (server run identity known from registration).</summary>
    internal RunMirror EnsureMirror(RunBuffer run, string reason)
    {
        lock (run)
        {
            if (run.Mirror is { } existing)
            {
                if (!existing.Active)
                {
                    existing.Active = true;
                    existing.ServerDown = true;
                }

                return existing;
            }

            var identity = run.Identity ?? throw new InvalidOperationException($"Run {run.RunId} has no identity for an offline copy.");
            var mirror = _offline!.OpenMirror(identity, run.RunId);
            run.Mirror = mirror;
            _offline.WarnOnce(_store.Description, run.RunId, reason);
            return mirror;
        }
    }

    /// <summary>
    /// Keeps draining the local copy of an ended run while the tracker lives. The run may have left the sender's list
    /// already (closed, nothing queued), or be about to: a closed stand-in sharing its copy is added, and leaves the list
    /// once the copy is drained.
    /// </summary>
    internal void KeepDraining(RunBuffer run)
    {
        var standIn = new RunBuffer(run.RunId) { Identity = run.Identity, Mirror = run.Mirror };
        standIn.Close();
        lock (_runsLock)
        {
            _runs = [.. _runs, standIn];
        }

        Signal();
    }

    private async Task DrainRunAsync(RunBuffer run)
    {
        var (entries, count) = run.TakeAll();
        if (count == 0)
        {
            return;
        }

        var start = 0;
        var reason = "internal error of the background sender";
        try
        {
            if (_offline is not null && (run.Mirror is { Active: true } || run.SpillRequested))
            {
                var mirror = run.Mirror is { Active: true } m ? m : EnsureSpillMirror(run);
                run.SpillRequested = false;
                await WriteToMirrorAsync(run, mirror, entries, 0, count, unknownOutcome: false).ConfigureAwait(false);
                start = count;
                return;
            }

            while (start < count)
            {
                var end = BatchBuilder.NextBatchEnd(entries.AsSpan(0, count), start, _batchSize, _paramKeys);
                int failedAt;
                if (entries[start].Kind == LogEntryKind.DeleteTag)
                {
                    var key = entries[start].Key;
                    failedAt = await SendRangeAsync(run, entries, start, end, ct => _store.DeleteTagAsync(run.RunId, key, ct)).ConfigureAwait(false);
                }
                else
                {
                    failedAt = await SendRangeAsync(run, entries, start, end, null).ConfigureAwait(false);
                }

                if (failedAt >= 0)
                {
                    // The server is unreachable: what was not acknowledged, and everything after it, goes to the local copy.
                    run.Complete(failedAt - start);
                    Release(failedAt - start);
                    start = failedAt;
                    reason = "the server is unreachable and the local store failed";
                    var mirror = EnsureMirror(run, _lastFailureReason);
                    await WriteToMirrorAsync(run, mirror, entries, failedAt, count, _lastFailureUnknown).ConfigureAwait(false);
                    start = count;
                    return;
                }

                run.Complete(end - start);
                Release(end - start);
                start = end;
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or MlflowException or InvalidOperationException && start < count)
        {
            reason += ": " + ex.Message;
        }
        finally
        {
            if (start < count)
            {
                // Only reachable through a bug or a failing disk: account for the rest so flushes do not hang, and say so.
                for (var i = start; i < count; i++)
                {
                    Reject(run, entries[i], reason);
                }

                run.Complete(count - start);
                Release(count - start);
            }

            run.Return(entries, count);
        }
    }

    private RunMirror EnsureSpillMirror(RunBuffer run)
    {
        var mirror = EnsureMirror(run, "queue full");
        mirror.ServerDown = false;
        mirror.NextAttempt = 0; // drain right after writing: the server is fine, only slower than the producer
        return mirror;
    }

    /// <summary>Writes entries [from, to) to the local copy and completes them (they are durable within the durable-write interval).</summary>
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

        run.Complete(to - from);
        Release(to - from);
    }

    /// <summary>Sends entries [start, end); returns -1 when each was delivered or rejected, else the index from which the server could not be reached.</summary>
    private async Task<int> SendRangeAsync(RunBuffer run, LogEntry[] entries, int start, int end, Func<CancellationToken, Task>? call)
    {
        if (call is null)
        {
            var (metrics, @params, tags) = BatchBuilder.ToRequest(entries.AsSpan(start, end - start));
            call = ct => _store.LogBatchAsync(run.RunId, metrics, @params, tags, ct);
        }

        var (outcome, reason) = await TryAsync(call).ConfigureAwait(false);
        if (outcome == Outcome.Sent)
        {
            Interlocked.Add(ref _sent, end - start);
            return -1;
        }

        if (outcome == Outcome.Offline)
        {
            return start;
        }

        if (outcome == Outcome.Split && end - start > 1)
        {
            // The server validates a whole batch before writing: halves find the offending entries, order is kept.
            var mid = start + ((end - start) / 2);
            var first = await SendRangeAsync(run, entries, start, mid, null).ConfigureAwait(false);
            return first >= 0 ? first : await SendRangeAsync(run, entries, mid, end, null).ConfigureAwait(false);
        }

        if (outcome == Outcome.FailWhole && end - start > 1)
        {
            TrackingLog.BatchGaveUp(_logger, end - start, run.RunId, reason);
        }

        for (var i = start; i < end; i++)
        {
            Reject(run, entries[i], reason);
        }

        return -1;
    }

    private void Reject(RunBuffer run, in LogEntry entry, string reason)
    {
        Interlocked.Increment(ref _failed);
        run.AddRejection(new RejectedLogEntry(entry.KindName, entry.Key, reason));
        TrackingLog.EntryRejected(_logger, entry.KindName, entry.Key, run.RunId, reason);
    }

    private (Outcome, string) GoOffline(string reason, bool unknown)
    {
        _lastFailureUnknown = unknown;
        _lastFailureReason = reason;
        return (Outcome.Offline, reason);
    }

    /// <summary>
    /// Sends one request. The HTTP pipeline below is the only retry layer; this decides only: delivered, bisect (the
    /// server rejected something in the batch), give up on the whole batch, or offline (transient beyond the pipeline's
    /// budget, or no answer within <see cref="MlflowOfflineOptions.OfflineAfter"/>).
    /// </summary>
    private async Task<(Outcome Outcome, string Reason)> TryAsync(Func<CancellationToken, Task> call)
    {
        const string Aborted = "the shutdown timeout passed before the entries were sent";
        var offline = _offline is not null;
        if (_abort.IsCancellationRequested)
        {
            return offline ? GoOffline(Aborted, unknown: false) : (Outcome.FailWhole, Aborted);
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
            return (Outcome.Sent, "");
        }
        catch (OperationCanceledException) when (_abort.IsCancellationRequested)
        {
            return offline ? GoOffline(Aborted, unknown: true) : (Outcome.FailWhole, Aborted);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            // The request may have been applied: the kept entries are reconciled with the server's history first.
            return GoOffline(NoAnswerWithin(_offline!.Options.OfflineAfter), unknown: true);
        }
        catch (MlflowException ex) when (ex.IsTransient || ex.Kind == MlflowFailureKind.Cancelled)
        {
            // The pipeline already spent its retry budget. Offline: keep the entries locally (an unknown outcome is
            // reconciled with the server's history before anything is sent again). Else: report them.
            return offline ? GoOffline(ex.ShortReason, unknown: ex.Kind is MlflowFailureKind.OutcomeUnknown or MlflowFailureKind.Cancelled) : (Outcome.FailWhole, ex.ShortReason);
        }
        catch (MlflowException ex)
        {
            // Rejected. Credentials, a missing run or endpoint: nothing in the batch is at fault. Else the server names
            // the input: halves find the offending entries.
            return (ex.RejectsInput ? Outcome.Split : Outcome.FailWhole, ex.ShortReason);
        }
#pragma warning disable CA1031 // a store failure of any kind becomes a reported rejection, never a lost entry
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return (Outcome.FailWhole, ex.GetType().Name + ": " + ex.Message);
        }
    }

    internal static string NoAnswerWithin(TimeSpan budget)
        => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"no answer within {budget.TotalSeconds:0.###} s (MlflowOfflineOptions.OfflineAfter)");
}
