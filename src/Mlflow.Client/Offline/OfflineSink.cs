using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Mlflow.Client.Batching;

namespace Mlflow.Client.Offline;

/// <summary>
/// The offline fallback as one layer around the server sink (the shape of Sentry's <c>CachingTransport</c>): batches go
/// to the server while it answers; what it does not take, and everything a run logs after that, goes to the run's local
/// copy (<see cref="RunMirror"/>, in the <see cref="OfflineMirror"/> store) and is drained to the server on the
/// layer's own schedule (<see cref="MlflowOfflineOptions.ReconnectInterval"/>). It owns the local copy of each run,
/// spilling when the queue is full, drain scheduling, the end of a run while offline and the counting of kept entries
/// (offline, then sent when a drain delivers them). A drain never holds up the sender: entries keep reaching the local
/// copy, and the disk every <see cref="MlflowOfflineOptions.DurableWriteInterval"/>, while it waits for the server.
/// </summary>
internal sealed partial class OfflineSink : ILogSink, IDisposable
{
    private readonly ServerSink _server;
    private readonly OfflineMirror _local;
    private readonly LogCounters _counters;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<RunBuffer, TrackedRun> _runs = new();
    private readonly CancellationTokenSource _stop = new();
    private Action _wakeSender = static () => { };
    private volatile bool _stopping;

    public OfflineSink(ServerSink server, OfflineMirror local, LogCounters counters, TimeProvider time, ILogger logger)
    {
        _server = server;
        _local = local;
        _counters = counters;
        _time = time;
        _logger = logger;
        local.Time = time;
    }

    /// <summary>The local store and its settings.</summary>
    public OfflineMirror Local => _local;

    public bool CanKeep => true;

    public TimeSpan? NextWake
    {
        get
        {
            TimeSpan? wake = null;
            var now = _time.GetTimestamp();
            foreach (var run in _runs.Values)
            {
                if (run.Mirror is not { Active: true } mirror)
                {
                    continue;
                }

                wake = Min(wake, _local.Options.DurableWriteInterval);
                if (mirror.Dirty && _local.CanDrain && run.Drain is not { IsCompleted: false })
                {
                    var due = mirror.NextAttempt > now ? _time.GetElapsedTime(now, mirror.NextAttempt) : TimeSpan.Zero;
                    wake = Min(wake, due < TimeSpan.FromMilliseconds(10) ? TimeSpan.FromMilliseconds(10) : due);
                }
            }

            return wake;

            static TimeSpan Min(TimeSpan? a, TimeSpan b) => a is { } x && x < b ? x : b;
        }
    }

    public void Attach(Action wakeSender) => _wakeSender = wakeSender;

    /// <summary>Follows a run the tracker created on the server (<paramref name="identity"/>) or started offline (<paramref name="mirror"/>, its local run).</summary>
    public void Track(RunBuffer buffer, RunIdentity? identity, RunMirror? mirror)
    {
        if (mirror is not null)
        {
            mirror.Dirty = true; // a run started offline: all of it waits for the server
            mirror.Generation++;
        }

        _runs[buffer] = new TrackedRun(buffer, identity) { Mirror = mirror };
        if (mirror is not null)
        {
            _wakeSender();
        }
    }

    /// <summary>The run's local copy, once it has one.</summary>
    public RunMirror? MirrorOf(RunBuffer buffer) => _runs.TryGetValue(buffer, out var run) ? run.Mirror : null;

    public async Task<bool> TryTakeAsync(RunBuffer run, LogEntry[] entries, int count)
    {
        if (!_runs.TryGetValue(run, out var tracked))
        {
            return false;
        }

        if (run.OutboxRequested && tracked.CanKeepOffline)
        {
            // The run ended and the server stopped taking its entries: what is left goes to the local copy, in order,
            // drained while the tracker lives (the next attempt after the reconnect interval), else by mlflow-sync.
            var outbox = EnsureMirror(tracked, LogBatcher.OutboxReason);
            return await WriteAsync(run, outbox, entries, 0, count, unknownOutcome: false, activate: Activation.ServerDown).ConfigureAwait(false);
        }

        if (run.SpillRequested)
        {
            // The queue overflowed: this run's entries go to the local copy, in order, and are drained right after.
            run.SpillRequested = false;
            var spill = EnsureMirror(tracked, "queue full");
            return await WriteAsync(run, spill, entries, 0, count, unknownOutcome: false, activate: Activation.Spill).ConfigureAwait(false);
        }

        return tracked.Mirror is { Active: true } mirror
            && await WriteAsync(run, mirror, entries, 0, count, unknownOutcome: false, activate: Activation.None).ConfigureAwait(false);
    }

    public Task<SendResult> SendAsync(RunBuffer run, LogEntry[] entries, int start, int end, CancellationToken cancellationToken)
        => _server.SendAsync(run, entries, start, end, cancellationToken);

    public async Task KeepAsync(RunBuffer run, LogEntry[] entries, int from, int to, bool unknownOutcome, string reason)
    {
        var tracked = _runs.TryGetValue(run, out var t) ? t : throw new InvalidOperationException($"Run {run.RunId} is not followed by the offline layer.");
        var mirror = EnsureMirror(tracked, reason);
        await WriteAsync(run, mirror, entries, from, to, unknownOutcome, Activation.ServerDown).ConfigureAwait(false);
    }

    public void Persist() => _local.FlushToDisk(force: true);

    /// <summary>Whether the run can be kept offline: created on the server by this tracker, or already with a local copy.</summary>
    public bool CanKeepOffline(RunBuffer run) => _runs.TryGetValue(run, out var t) && t.CanKeepOffline;

    /// <summary>
    /// Writes something that is not a log entry (an artifact file, dataset inputs) into the run's local copy (opened when
    /// needed; the run's data then goes there until a drain), forces it to disk and marks the copy for the drain, which
    /// sends it once: the one way such data reaches the offline layer.
    /// </summary>
    /// <param name="run">The run.</param>
    /// <param name="reason">Why the data is kept offline (for the one-time warning).</param>
    /// <param name="write">Writes it, given the local store and the local run id; called under the copy's gate.</param>
    /// <param name="cancellationToken">Cancels the wait for the gate and the write.</param>
    public async Task KeepLocallyAsync(RunBuffer run, string reason, Func<FileStore.LocalFileStore, string, Task> write, CancellationToken cancellationToken)
    {
        var tracked = _runs.TryGetValue(run, out var t) ? t : throw new InvalidOperationException($"Run {run.RunId} is not followed by the offline layer.");
        var mirror = EnsureMirror(tracked, reason);
        await mirror.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Activate(mirror, Activation.ServerDown);
            try
            {
                await write(_local.Store, mirror.LocalRunId).ConfigureAwait(false);
            }
            finally
            {
                mirror.Dirty = true;
                mirror.Generation++;
            }

            _local.FlushToDisk(force: true);

            if (mirror.NextAttempt <= _time.GetTimestamp())
            {
                _wakeSender();
            }
        }
        finally
        {
            mirror.Gate.Release();
        }
    }


    public void AfterPass(bool stopping)
    {
        _local.FlushToDisk(force: false);
        if (stopping)
        {
            _stopping = true;
            return;
        }

        var now = _time.GetTimestamp();
        foreach (var run in _runs.Values)
        {
            if (run.Drain is { IsCompleted: false })
            {
                continue;
            }

            var mirror = run.Mirror;
            if (run.Ended && run.Buffer.IsDrained && mirror is not { Active: true, Dirty: true })
            {
                _runs.TryRemove(run.Buffer, out _);
                continue;
            }

            if (mirror is { Active: true, Dirty: true } && _local.CanDrain && now >= mirror.NextAttempt && !_stopping)
            {
                run.Drain = DrainInBackgroundAsync(run, mirror);
            }
        }
    }

    /// <summary>How a write may switch a run to its local copy.</summary>
    private enum Activation
    {
        /// <summary>Only while the copy is active (the run is offline): else the entries are sent.</summary>
        None,
        /// <summary>The server could not take them: the run goes offline.</summary>
        ServerDown,
        /// <summary>The queue overflowed (the server is fine): drained right after.</summary>
        Spill,
    }

    /// <summary>
    /// Writes entries [from, to) to the run's local copy and counts them as offline (durable within the durable-write
    /// interval); <see langword="false"/> when the copy is not active and <paramref name="activate"/> says not to switch.
    /// </summary>
    private async Task<bool> WriteAsync(RunBuffer run, RunMirror mirror, LogEntry[] entries, int from, int to, bool unknownOutcome, Activation activate)
    {
        // In-flight marks and tag deletions go to the run's sync journal, which a running drain rewrites: they wait for it.
        var journal = unknownOutcome || HoldsTagDelete(entries, from, to);
        if (journal)
        {
            await mirror.DrainLock.WaitAsync().ConfigureAwait(false);
        }

        try
        {
            await mirror.Gate.WaitAsync().ConfigureAwait(false);
            try
            {
                if (!Activate(mirror, activate))
                {
                    return false;
                }

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
                try
                {
                    _local.Write(mirror, entries, from, to, (entry, why) =>
                    {
                        rejected++;
                        _counters.Reject(run, entry, why);
                    });
                    if (before is not null)
                    {
                        _local.MarkInFlight(mirror, before);
                    }
                }
                finally
                {
                    mirror.Dirty = true;
                    mirror.Generation++;
                }

                _counters.AddOffline(to - from - rejected);
                if (mirror.NextAttempt <= _time.GetTimestamp())
                {
                    _wakeSender(); // a drain is due (just went offline, or spilled): the sender's pass starts it
                }

                return true;
            }
            finally
            {
                mirror.Gate.Release();
            }
        }
        finally
        {
            if (journal)
            {
                mirror.DrainLock.Release();
            }
        }
    }

    /// <summary>Switches the run to its local copy as asked (the caller holds the gate); whether entries go there.</summary>
    private static bool Activate(RunMirror mirror, Activation activate)
    {
        switch (activate)
        {
            case Activation.ServerDown when !mirror.Active:
                mirror.Active = true;
                mirror.ServerDown = true;
                return true;
            case Activation.Spill:
                mirror.Active = true;
                mirror.ServerDown = false;
                mirror.NextAttempt = 0; // drain right after writing: the server is fine, only slower than the producer
                return true;
            default:
                return mirror.Active;
        }
    }

    /// <summary>Opens the run's local copy when it has none (server run identity known from its creation). It is activated by the first write.</summary>
    private RunMirror EnsureMirror(TrackedRun run, string reason)
    {
        lock (run)
        {
            if (run.Mirror is { } existing)
            {
                return existing;
            }

            var identity = run.Identity ?? throw new InvalidOperationException($"Run {run.Buffer.RunId} has no identity for an offline copy.");
            var mirror = _local.OpenMirror(identity, run.Buffer.RunId);
            mirror.Active = false; // until the write that needs it, under the gate
            run.Mirror = mirror;
            _local.WarnOnce(_server.Store.Description, run.Buffer.RunId, reason);
            return mirror;
        }
    }

    private static bool HoldsTagDelete(LogEntry[] entries, int from, int to)
    {
        for (var i = from; i < to; i++)
        {
            if (entries[i].Kind == LogEntryKind.DeleteTag)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Stops drains (what is local stays local, for <c>mlflow-sync</c>) and waits for them briefly.</summary>
    public void Dispose()
    {
        _stopping = true;
        _stop.Cancel();
        var drains = _runs.Values.Select(r => r.Drain).OfType<Task>().ToArray();
        try
        {
            Task.WaitAll(drains, TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // logged by the drain
        }

        _stop.Dispose();
    }

    /// <summary>A run the layer follows: who it is on the server, its local copy once it has one, its drain.</summary>
    private sealed class TrackedRun(RunBuffer buffer, RunIdentity? identity)
    {
        private volatile RunMirror? _mirror;
        private volatile bool _ended;

        public RunBuffer Buffer { get; } = buffer;

        public RunIdentity? Identity { get; } = identity;

        public RunMirror? Mirror { get => _mirror; set => _mirror = value; }

        /// <summary>Created on the server by this tracker (a copy can be opened), or already with a local copy.</summary>
        public bool CanKeepOffline => Identity is not null || _mirror is not null;

        /// <summary>The run ended: the layer forgets it once its copy is drained.</summary>
        public bool Ended { get => _ended; set => _ended = value; }

        /// <summary>The drain of its copy now running, if any (started by the sender's pass).</summary>
        public Task? Drain { get; set; }
    }
}
