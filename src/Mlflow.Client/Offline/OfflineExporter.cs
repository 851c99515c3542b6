using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Mlflow.Client.Batching;

namespace Mlflow.Client.Offline;

/// <summary>
/// The offline fallback as one layer around the server exporter (the shape of Sentry's <c>CachingTransport</c>): batches
/// go to the server while it answers; what it does not take, and everything a run logs after that, goes to the run's
/// local copy (<see cref="RunMirror"/>, in the <see cref="OfflineMirror"/> store) and is drained to the server by the
/// layer's own worker (<see cref="MlflowOfflineOptions.ReconnectInterval"/>). It owns every offline decision of a run:
/// its local copy, spilling when the queue is full, the outbox at a run's end, files and inputs the server could not
/// take, the end of a run while offline, drain scheduling and the counting of kept entries (offline, then sent when a
/// drain delivers them). A drain never holds up the sender: entries keep reaching the local copy, and the disk every
/// <see cref="MlflowOfflineOptions.DurableWriteInterval"/>, while it waits for the server.
/// </summary>
internal sealed partial class OfflineExporter : ILogExporter, IDisposable
{
    private readonly ServerExporter _server;
    private readonly OfflineMirror _local;
    private readonly LogCounters _counters;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<RunBuffer, TrackedRun> _runs = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _wake = new(0);
    private readonly Task _worker;
    private int _woken;
    private volatile bool _stopping;

    public OfflineExporter(ServerExporter server, OfflineMirror local, LogCounters counters, TimeProvider time, ILogger logger)
    {
        _server = server;
        _local = local;
        _counters = counters;
        _time = time;
        _logger = logger;
        local.Time = time;
        _worker = Task.Run(WorkAsync);
    }

    public bool KeepsLocally => true;

    /// <summary>Follows a run the tracker created on the server (<paramref name="identity"/>) or started offline (<paramref name="mirror"/>, its local run).</summary>
    public void Track(RunBuffer buffer, RunIdentity? identity, RunMirror? mirror)
    {
        _runs[buffer] = new TrackedRun(buffer, identity) { Mirror = mirror };
        if (mirror is not null)
        {
            Wake(); // a run started offline: all of it waits for the server
        }
    }

    /// <summary>The run's local copy, once it has one.</summary>
    public RunMirror? MirrorOf(RunBuffer buffer) => _runs.TryGetValue(buffer, out var run) ? run.Mirror : null;

    public async Task<ExportResult> ExportAsync(RunBuffer run, LogEntry[] entries, int start, int end, CancellationToken cancellationToken)
    {
        if (!_runs.TryGetValue(run, out var tracked))
        {
            return await _server.ExportAsync(run, entries, start, end, cancellationToken).ConfigureAwait(false);
        }

        if (run.OutboxRequested && tracked.CanKeepOffline)
        {
            // The run ended and the server stopped taking its entries: what is left goes to the local copy, in order,
            // drained while the tracker lives (the next attempt after the reconnect interval), else by mlflow-sync.
            return await KeepAsync(tracked, entries, start, end, unknownOutcome: false, LogBatcher.OutboxReason, MirrorEvent.ServerDown).ConfigureAwait(false);
        }

        if (run.SpillRequested && tracked.CanKeepOffline)
        {
            // The queue overflowed: this run's entries go to the local copy, in order, and are drained right after.
            run.SpillRequested = false;
            return await KeepAsync(tracked, entries, start, end, unknownOutcome: false, "queue full", MirrorEvent.Spilled).ConfigureAwait(false);
        }

        if (tracked.Mirror is { Active: true } mirror
            && await WriteAsync(run, mirror, entries, start, end, unknownOutcome: false, activation: null).ConfigureAwait(false))
        {
            return ExportResult.Kept; // the run is offline: its entries go after what is already in its copy
        }

        tracked.AddSendInFlight(1);
        try
        {
            var sent = await _server.SendAsync(run, entries, start, end, cancellationToken).ConfigureAwait(false);
            if (sent.Status == SendStatus.NotDelivered && tracked.CanKeepOffline)
            {
                // The server is unreachable (or the run's end stopped the send): kept, with in-flight marks when the send
                // may have been applied; the run goes offline, so what it logs next follows in order.
                return await KeepAsync(tracked, entries, start, end, sent.Unknown, sent.Reason, MirrorEvent.ServerDown).ConfigureAwait(false);
            }

            return sent.ToExport();
        }
        finally
        {
            tracked.AddSendInFlight(-1);
        }
    }

    /// <summary>Keeps entries [from, to) in the run's local copy (opened when needed); a local store that fails makes them rejected, with both reasons.</summary>
    private async Task<ExportResult> KeepAsync(TrackedRun tracked, LogEntry[] entries, int from, int to, bool unknownOutcome, string reason, MirrorEvent activation)
    {
        try
        {
            var mirror = EnsureMirror(tracked, reason);
            await WriteAsync(tracked.Buffer, mirror, entries, from, to, unknownOutcome, activation).ConfigureAwait(false);
            return ExportResult.Kept;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or MlflowException or InvalidOperationException)
        {
            return new ExportResult(ExportOutcome.Rejected, reason + "; the local store failed: " + ex.Message);
        }
    }

    public void Flush() => _local.FlushToDisk(force: true);

    /// <summary>Whether the run can be kept offline: created on the server by this tracker, or already with a local copy.</summary>
    public bool CanKeepOffline(RunBuffer run) => _runs.TryGetValue(run, out var t) && t.CanKeepOffline;

    /// <summary>
    /// Writes entries [from, to) to the run's local copy and counts them as offline (durable within the durable-write
    /// interval); <see langword="false"/> when the copy is not active and no <paramref name="activation"/> switches it.
    /// </summary>
    private async Task<bool> WriteAsync(RunBuffer run, RunMirror mirror, LogEntry[] entries, int from, int to, bool unknownOutcome, MirrorEvent? activation)
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
                if (activation is { } change)
                {
                    mirror.Apply(change);
                }
                else if (!mirror.Active)
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
                    mirror.Apply(MirrorEvent.Written);
                }

                _counters.AddOffline(to - from - rejected);
                WakeWhenDue(mirror); // a drain is due (just went offline, or spilled)

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
            var mirror = _local.OpenMirror(identity, run.Buffer.RunId); // direct until the write that needs it, under the gate
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

    /// <summary>Starts no drain from now on (the process is exiting): what is local stays local, for <c>mlflow-sync</c>.</summary>
    public void StopDraining() => _stopping = true;

    /// <summary>Stops the worker and the drains (what is local stays local, for <c>mlflow-sync</c>) and waits for them briefly.</summary>
    public void Dispose()
    {
        _stopping = true;
        _stop.Cancel();
        var running = _runs.Values.Select(r => r.Drain).OfType<Task>().Append(_worker).ToArray();
        try
        {
            Task.WaitAll(running, TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // logged by the drain
        }

        _stop.Dispose();
        _wake.Dispose();
    }

    /// <summary>A run the layer follows: who it is on the server, its local copy once it has one, its drain.</summary>
    private sealed class TrackedRun(RunBuffer buffer, RunIdentity? identity)
    {
        private volatile RunMirror? _mirror;
        private volatile bool _ended;
        private int _sendsInFlight;

        public RunBuffer Buffer { get; } = buffer;

        public RunIdentity? Identity { get; } = identity;

        public RunMirror? Mirror { get => _mirror; set => _mirror = value; }

        /// <summary>Created on the server by this tracker (a copy can be opened), or already with a local copy.</summary>
        public bool CanKeepOffline => Identity is not null || _mirror is not null;

        /// <summary>The run ended: the layer forgets it once its copy is drained.</summary>
        public bool Ended { get => _ended; set => _ended = value; }

        /// <summary>The drain of its copy now running, if any (started by the layer's worker).</summary>
        public Task? Drain { get; set; }

        /// <summary>Batches sent to the server and not yet settled (delivered, or kept with their in-flight marks): no drain starts meanwhile.</summary>
        public int SendsInFlight => Volatile.Read(ref _sendsInFlight);

        public void AddSendInFlight(int n) => Interlocked.Add(ref _sendsInFlight, n);
    }
}
