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
internal sealed partial class LogBatcher : IDisposable
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
    private readonly SemaphoreSlim _requests;
    private readonly object _runsLock = new();
    private readonly object _spaceLock = new();
    private readonly CancellationTokenSource _abort = new();
    private readonly Task _loop;
    private RunBuffer[] _runs = [];
    private long _pending;
    private long _sent;
    private long _failed;
    private long _spilled;
    private long _offlineEntries;
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
        _requests = new SemaphoreSlim(options.MaxConcurrentRequests, options.MaxConcurrentRequests);
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
        _requests.Dispose();
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

            // An ended run whose local copy still waits for the server stays here: drains go on while the tracker lives.
            if (run.IsClosed && run.IsDrained && run.Mirror is not { Active: true, Dirty: true })
            {
                lock (_runsLock)
                {
                    _runs = _runs.Where(r => !ReferenceEquals(r, run)).ToArray();
                }

                continue;
            }

            run.Drain = DrainAndFollowUpAsync(run);
        }

        if (_stopping)
        {
            await Task.WhenAll(Volatile.Read(ref _runs).Select(r => r.Drain ?? Task.CompletedTask)).ConfigureAwait(false);
        }

        _offline?.FlushToDisk(force: _stopping);
    }

    /// <summary>One run's turn: what is queued goes out (or to the local copy), then the local copy is drained when due.</summary>
    private async Task DrainAndFollowUpAsync(RunBuffer run)
    {
        await Task.Yield(); // the loop goes on starting the other runs' drains
        try
        {
            await DrainRunAsync(run).ConfigureAwait(false);
            if (run.Mirror is { Active: true } mirror && !_stopping)
            {
                await MaybeDrainMirrorAsync(run, mirror).ConfigureAwait(false);
            }
        }
#pragma warning disable CA1031 // a run's drain must not end the sender; the failure is logged
        catch (Exception ex)
#pragma warning restore CA1031
        {
            TrackingLog.SenderFailed(_logger, ex);
        }

        if (run.PendingCount > 0)
        {
            Signal(); // more came in while this drain ran: take it now, not at the next interval
        }
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
        var (state, error, delivered) = await _offline!.TryDrainAsync(mirror, cancellationToken).ConfigureAwait(false);
        CountDelivered(delivered);
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

    /// <summary>
    /// Entries a drain delivered move from <see cref="MlflowTrackerCounters.Offline"/> to sent. A drain also sends the
    /// tags a run started offline was created with, which were never counted as logged: the move is capped by what is offline.
    /// </summary>
    private void CountDelivered(long delivered)
    {
        while (delivered > 0)
        {
            var offline = Interlocked.Read(ref _offlineEntries);
            var moved = Math.Min(delivered, offline);
            if (moved <= 0)
            {
                return;
            }

            if (Interlocked.CompareExchange(ref _offlineEntries, offline - moved, offline) == offline)
            {
                Interlocked.Add(ref _sent, moved);
                return;
            }
        }
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

    internal static string NoAnswerWithin(TimeSpan budget)
        => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"no answer within {budget.TotalSeconds:0.###} s (MlflowOfflineOptions.OfflineAfter)");
}
