using Microsoft.Extensions.Logging;
using Mlflow.Client.Store;

namespace Mlflow.Client.Batching;

/// <summary>
/// The background sender of one tracker: one long-running loop that takes each run's queued entries, cuts them into
/// log-batch requests (<see cref="BatchBuilder"/>) and sends the batches of a run strictly in order. It wakes when a
/// batch is full, on the flush interval, on a flush and on shutdown. Transient failures are retried with a short
/// bounded backoff; a batch the server rejects is bisected until the offending entries are isolated, which are then
/// reported through their run while every other entry is delivered.
/// </summary>
internal sealed class LogBatcher : IDisposable
{
    private enum Outcome
    {
        Sent,
        Split,
        FailWhole,
    }

    private readonly ITrackingStore _store;
    private readonly ISpillTarget? _spill;
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
    private long _retried;
    private long _failed;
    private long _spilled;
    private int _signaled;
    private int _spaceWaiters;
    private volatile bool _stopping;

    public LogBatcher(ITrackingStore store, MlflowBatchingOptions options, ISpillTarget? spill, ILogger logger)
    {
        _store = store;
        _spill = options.QueueFullPolicy == QueueFullPolicy.SpillToLocalStore ? spill ?? throw new ArgumentException("SpillToLocalStore needs a spill target.", nameof(spill)) : null;
        _logger = logger;
        _maxQueue = options.MaxQueueEntries;
        _batchSize = options.MaxBatchEntries;
        _interval = options.FlushInterval;
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>Retries of one request after transient failures.</summary>
    internal int MaxTransientRetries { get; set; } = 4;

    /// <summary>First retry delay; doubled per retry, capped at 2 s.</summary>
    internal TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    public MlflowTrackerCounters Counters
    {
        get
        {
            var sent = Interlocked.Read(ref _sent);
            var failed = Interlocked.Read(ref _failed);
            // Clamped: a failed optimistic reservation lifts the counter above the bound for an instant, never the queue.
            var pending = Math.Clamp(Interlocked.Read(ref _pending), 0, _maxQueue);
            return new MlflowTrackerCounters(sent + failed + pending, sent, Interlocked.Read(ref _retried), failed, Interlocked.Read(ref _spilled));
        }
    }

    public RunBuffer Register(string runId)
    {
        var run = new RunBuffer(runId);
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
    public Task FlushRunAsync(RunBuffer run, long target, CancellationToken cancellationToken)
    {
        Signal();
        return run.WaitForAsync(target).WaitAsync(cancellationToken);
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
        if (_spill is not null)
        {
            _spill.Spill(run.RunId, entry);
            Interlocked.Increment(ref _spilled);
            return false;
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
            await _signal.WaitAsync(_interval).ConfigureAwait(false);
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
                return;
            }
        }
    }

    private async Task SendAllAsync()
    {
        foreach (var run in Volatile.Read(ref _runs))
        {
            await DrainRunAsync(run).ConfigureAwait(false);
            if (run.IsClosed && run.IsDrained)
            {
                lock (_runsLock)
                {
                    _runs = _runs.Where(r => !ReferenceEquals(r, run)).ToArray();
                }
            }
        }
    }

    private async Task DrainRunAsync(RunBuffer run)
    {
        var (entries, count) = run.TakeAll();
        if (count == 0)
        {
            return;
        }

        var start = 0;
        try
        {
            while (start < count)
            {
                var end = BatchBuilder.NextBatchEnd(entries.AsSpan(0, count), start, _batchSize, _paramKeys);
                if (entries[start].Kind == LogEntryKind.DeleteTag)
                {
                    var key = entries[start].Key;
                    await SendRangeAsync(run, entries, start, end, ct => _store.DeleteTagAsync(run.RunId, key, ct)).ConfigureAwait(false);
                }
                else
                {
                    await SendRangeAsync(run, entries, start, end, null).ConfigureAwait(false);
                }

                run.Complete(end - start);
                Release(end - start);
                start = end;
            }
        }
        finally
        {
            if (start < count)
            {
                // Only reachable through a bug: account for the rest so flushes do not hang, and say so.
                for (var i = start; i < count; i++)
                {
                    Reject(run, entries[i], "internal error of the background sender");
                }

                run.Complete(count - start);
                Release(count - start);
            }

            run.Return(entries, count);
        }
    }

    private async Task SendRangeAsync(RunBuffer run, LogEntry[] entries, int start, int end, Func<CancellationToken, Task>? call)
    {
        if (call is null)
        {
            var (metrics, @params, tags) = BatchBuilder.ToRequest(entries.AsSpan(start, end - start));
            call = ct => _store.LogBatchAsync(run.RunId, metrics, @params, tags, ct);
        }

        var (outcome, reason) = await TryAsync(run.RunId, end - start, call).ConfigureAwait(false);
        if (outcome == Outcome.Sent)
        {
            Interlocked.Add(ref _sent, end - start);
            return;
        }

        if (outcome == Outcome.Split && end - start > 1)
        {
            // The server validates a whole batch before writing: halves find the offending entries, order is kept.
            var mid = start + ((end - start) / 2);
            await SendRangeAsync(run, entries, start, mid, null).ConfigureAwait(false);
            await SendRangeAsync(run, entries, mid, end, null).ConfigureAwait(false);
            return;
        }

        if (outcome == Outcome.FailWhole && end - start > 1)
        {
            TrackingLog.BatchGaveUp(_logger, end - start, run.RunId, reason);
        }

        for (var i = start; i < end; i++)
        {
            Reject(run, entries[i], reason);
        }
    }

    private void Reject(RunBuffer run, in LogEntry entry, string reason)
    {
        Interlocked.Increment(ref _failed);
        run.AddRejection(new RejectedLogEntry(entry.KindName, entry.Key, reason));
        TrackingLog.EntryRejected(_logger, entry.KindName, entry.Key, run.RunId, reason);
    }

    private async Task<(Outcome Outcome, string Reason)> TryAsync(string runId, int count, Func<CancellationToken, Task> call)
    {
        const string Aborted = "the shutdown timeout passed before the entries were sent";
        for (var attempt = 0; ; attempt++)
        {
            if (_abort.IsCancellationRequested)
            {
                return (Outcome.FailWhole, Aborted);
            }

            try
            {
                await call(_abort.Token).ConfigureAwait(false);
                return (Outcome.Sent, "");
            }
            catch (OperationCanceledException) when (_abort.IsCancellationRequested)
            {
                return (Outcome.FailWhole, Aborted);
            }
            catch (MlflowException ex)
            {
                var reason = Describe(ex);
                var status = ex.StatusCode is { } s ? (int)s : 0;
                var transient = status is 0 or 408 or 429 or >= 500;
                if (transient)
                {
                    if (attempt < MaxTransientRetries)
                    {
                        var delay = TimeSpan.FromMilliseconds(Math.Min(2000, RetryBaseDelay.TotalMilliseconds * (1 << attempt)));
                        Interlocked.Increment(ref _retried);
                        TrackingLog.BatchRetry(_logger, count, runId, reason, attempt + 1, (int)delay.TotalMilliseconds);
                        try
                        {
                            await Task.Delay(delay, _abort.Token).ConfigureAwait(false);
                        }
                        catch (OperationCanceledException)
                        {
                            return (Outcome.FailWhole, Aborted);
                        }

                        continue;
                    }

                    // A 5xx may be a rejection in disguise (the file backend answers 500 for a changed param): isolate it.
                    return (status >= 500 ? Outcome.Split : Outcome.FailWhole, reason);
                }

                // 401/403: nothing in the batch is at fault; 404: the run (or endpoint) is gone.
                return (status is 401 or 403 or 404 ? Outcome.FailWhole : Outcome.Split, reason);
            }
#pragma warning disable CA1031 // a store failure of any kind becomes a reported rejection, never a lost entry
            catch (Exception ex)
#pragma warning restore CA1031
            {
                return (Outcome.FailWhole, ex.GetType().Name + ": " + ex.Message);
            }
        }
    }

    private static string Describe(MlflowException ex)
    {
        var code = ex.RawErrorCode ?? (ex.StatusCode is { } s ? "HTTP " + (int)s : "no response");
        return code + ": " + (ex.ServerMessage ?? ex.Message);
    }
}
