using Microsoft.Extensions.Logging;
using Mlflow.Client.Diagnostics;
using Mlflow.Client.Store;

namespace Mlflow.Client.Batching;

/// <summary>
/// The background sender of one tracker: one long-running loop that takes each run's queued entries, cuts them into
/// log-batch requests (<see cref="BatchBuilder"/>) and hands each to its exporter (<see cref="ILogExporter"/>: the server,
/// or the offline layer around it). It wakes when a batch is full, on the flush interval, on a flush and on shutdown. Retries are the HTTP pipeline's alone; a batch the server rejects is bisected until the
/// offending entries are isolated, which are then reported through their run while every other entry is delivered.
/// </summary>
internal sealed partial class LogBatcher : IDisposable, ITelemetryCounted
{
    private readonly ITrackingStore _store;
    private readonly ILogExporter _exporter;
    private readonly LogCounters _counters;
    private readonly TimeProvider _time;
    private readonly bool _spill;
    private readonly ILogger _logger;
    private readonly int _maxQueue;
    private readonly int _batchSize;
    private readonly TimeSpan _interval;
    private readonly SemaphoreSlim _signal = new(0);
    private readonly SemaphoreSlim _requests;
    private readonly object _runsLock = new();
    private readonly object _spaceLock = new();
    private readonly CancellationTokenSource _abort = new();
    private readonly Task _loop;
    private RunBuffer[] _runs = [];
    private long _pending;
    private long _lastProgress;
    private int _signaled;
    private int _spaceWaiters;
    private volatile bool _stopping;

    /// <param name="store">The store (for its retry count).</param>
    /// <param name="exporter">Where batches go.</param>
    /// <param name="counters">The tracker's counters, shared with the exporter.</param>
    /// <param name="options">Queueing and batching settings.</param>
    /// <param name="time">The clock of the flush interval.</param>
    /// <param name="logger">Where failures go.</param>
    public LogBatcher(ITrackingStore store, ILogExporter exporter, LogCounters counters, MlflowBatchingOptions options, TimeProvider time, ILogger logger)
    {
        _store = store;
        _exporter = exporter;
        _counters = counters;
        _time = time;
        _spill = options.QueueFullPolicy == QueueFullPolicy.SpillToLocalStore
            ? exporter.KeepsLocally ? true : throw new ArgumentException("SpillToLocalStore needs the offline store (it is off when the tracker logs to a local store).", nameof(exporter))
            : false;
        _logger = logger;
        _maxQueue = options.MaxQueueEntries;
        _batchSize = options.MaxBatchEntries;
        _interval = options.FlushInterval;
        _requests = new SemaphoreSlim(options.MaxConcurrentRequests, options.MaxConcurrentRequests);
        _loop = Task.Run(LoopAsync);
        MlflowTelemetry.Track(this);
    }

    public MlflowTrackerCounters Counters
    {
        get
        {
            var sent = _counters.Sent;
            var failed = _counters.Failed;
            var offline = _counters.Offline;
            // Clamped: a failed optimistic reservation lifts the counter above the bound for an instant, never the queue
            // (spilled entries may: they are written to the local store instead of waiting).
            var pending = Math.Clamp(Interlocked.Read(ref _pending), 0, _spill ? long.MaxValue : _maxQueue);
            return new MlflowTrackerCounters(sent + failed + offline + pending, sent, _store.RetriedRequests, failed, _counters.Spilled) { Offline = offline };
        }
    }

    /// <summary>The counts the SDK's meter reads (retries are the client's: <see cref="MlflowClient.RetriedRequests"/>).</summary>
    TelemetryCounts ITelemetryCounted.ReadCounts()
    {
        var c = Counters;
        return new TelemetryCounts(c.Queued, c.Sent, 0, c.Failed, c.Offline, c.Spilled, c.Pending);
    }

    public RunBuffer Register(string runId)
    {
        var run = new RunBuffer(runId, abort: _abort.Token);
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

    /// <summary>
    /// Completes when every entry of <paramref name="run"/> up to <paramref name="target"/> was delivered, kept by the
    /// exporter (and forced to disk) or given up on. Never waits for the exporter's own work (a drain of a local copy).
    /// </summary>
    public async Task FlushRunAsync(RunBuffer run, long target, CancellationToken cancellationToken)
    {
        Signal();
        await run.WaitForAsync(target).WaitAsync(cancellationToken).ConfigureAwait(false);
        _exporter.Flush(); // what was kept locally is on disk when a flush returns
    }

    /// <summary>
    /// Waits until every entry of <paramref name="run"/> up to <paramref name="target"/> was delivered, kept by the exporter
    /// (and forced to disk) or given up on, for as long as the sender makes progress: <see langword="false"/> once no
    /// entry of the tracker was settled for <paramref name="stall"/> (the server stopped taking them), or when
    /// <paramref name="deadline"/> is cancelled. A healthy server slower than the caller is waited for, however long its
    /// backlog.
    /// </summary>
    public async Task<bool> SettleRunAsync(RunBuffer run, long target, TimeSpan stall, CancellationToken deadline)
    {
        Signal();
        var done = run.WaitForAsync(target);
        var since = _time.GetTimestamp();
        while (!done.IsCompleted && !deadline.IsCancellationRequested)
        {
            var idle = _time.GetElapsedTime(Math.Max(since, Interlocked.Read(ref _lastProgress)));
            if (idle >= stall)
            {
                return false;
            }

            using var wake = CancellationTokenSource.CreateLinkedTokenSource(deadline);
            var timer = Task.Delay(stall - idle, _time, wake.Token);
            await Task.WhenAny(done, timer).ConfigureAwait(false);
            await wake.CancelAsync().ConfigureAwait(false);
        }

        if (!done.IsCompleted)
        {
            return false;
        }

        _exporter.Flush();
        return true;
    }

    /// <summary>
    /// Sends what is left of <paramref name="run"/> to the exporter's keeping (the outbox on disk) instead of the server:
    /// its queue, and its sends in flight (cancelled; kept with an unknown outcome). <see langword="false"/> when the
    /// exporter keeps nothing.
    /// </summary>
    public bool MoveToOutbox(RunBuffer run)
    {
        if (!_exporter.KeepsLocally)
        {
            return false;
        }

        run.RequestOutbox();
        Signal();
        return true;
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
            _exporter.Flush();
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
        MlflowTelemetry.Retire(this);
        _abort.Dispose();
        _signal.Dispose();
        _requests.Dispose();
    }

    private bool ReserveSlow(RunBuffer run, in LogEntry entry)
    {
        if (_spill)
        {
            // Over the bound: queued anyway (no wait, no I/O here) and the sender writes this run's queue to the local
            // store instead of the network, in order, until the local copy is drained to the server.
            Interlocked.Increment(ref _pending);
            _counters.AddSpilled();
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
        if (n > 0)
        {
            Interlocked.Exchange(ref _lastProgress, _time.GetTimestamp()); // progress: what a run's end waits on
        }

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
            await WaitForSignalAsync(_interval).ConfigureAwait(false);
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
                _exporter.Flush();
                return;
            }
        }
    }

    /// <summary>Waits for a signal or <paramref name="wait"/> on the tracker's clock.</summary>
    private async Task WaitForSignalAsync(TimeSpan wait)
    {
        using var timer = new CancellationTokenSource(wait, _time);
        try
        {
            await _signal.WaitAsync(timer.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timer.IsCancellationRequested)
        {
            // the interval passed
        }
    }

    /// <summary>
    /// Starts a drain for every run that has none running; drains of different runs proceed side by side and share
    /// <see cref="MlflowBatchingOptions.MaxConcurrentRequests"/> requests in flight. While stopping, waits for them.
    /// </summary>
    private async Task SendAllAsync()
    {
        foreach (var run in Volatile.Read(ref _runs))
        {
            if (run.Drain is { IsCompleted: false })
            {
                continue;
            }

            if (run.IsClosed && run.IsDrained)
            {
                lock (_runsLock)
                {
                    _runs = _runs.Where(r => !ReferenceEquals(r, run)).ToArray();
                }

                run.Forget();

                continue;
            }

            run.Drain = DrainAndFollowUpAsync(run);
        }

        if (_stopping)
        {
            await Task.WhenAll(Volatile.Read(ref _runs).Select(r => r.Drain ?? Task.CompletedTask)).ConfigureAwait(false);
        }
    }

    /// <summary>One run's turn: what is queued goes to the exporter.</summary>
    private async Task DrainAndFollowUpAsync(RunBuffer run)
    {
        await Task.Yield(); // the loop goes on starting the other runs' drains
        try
        {
            await DrainRunAsync(run).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // a run's drain must not end the sender; the failure is logged
        catch (Exception ex)
#pragma warning restore CA1031
        {
            TrackingLog.SenderFailed(_logger, ex);
        }

        if (run.WantsTurnNow(_batchSize, _stopping))
        {
            // A batch's worth came in while this drain ran, or entries someone waits for: take them now. A few entries
            // nobody waits for wait for the next batch or interval instead: taking every handful as it comes kept the
            // sender contending with the logging thread for the run's lock and chunks (BDN LogMetric 51-102 ns over six
            // runs, iterations up to 200 ns; 41-55 ns with this).
            Signal();
        }
    }
}
