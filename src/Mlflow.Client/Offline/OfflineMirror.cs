using Microsoft.Extensions.Logging;
using Mlflow.Client.Batching;
using Mlflow.Client.FileStore;
using Mlflow.Client.Sync;

namespace Mlflow.Client.Offline;

/// <summary>
/// The offline fallback of one tracker: a local store in MLflow's format (created on first use) that keeps what the
/// tracking server has not acknowledged, and drains it to the server with <see cref="RunSynchronizer"/>.
/// </summary>
/// <remarks>
/// <para>Identity: every run the tracker creates on the server carries tag <see cref="ClientRunKeyTag"/> = a client key
/// (32 hex digits). The local mirror of that run has the client key as its run id, so a sync (this drain, or a later
/// <c>mlflow-sync</c> with or without the journal) finds the server run by that tag (or by <c>mlflow.dotnet.sourceRunId</c>,
/// which a sync sets on the runs it pushes) and never creates a second one. A run started with the server unreachable exists only locally under
/// its client key until a drain creates its server run, exactly as <c>mlflow-sync</c> would.</para>
/// <para>Exactly once: the mirror holds only what the server did not acknowledge. Points whose send had an unknown
/// outcome are recorded as in flight in the sync journal, so the drain compares them with the server's history before
/// sending (a file-backed server appends duplicates).</para>
/// <para>All I/O happens on the tracker's background sender, a drain, or the thread that ends a run; never on a log
/// call. This class does the local store's work; when to write, drain and flip a run's flags is the offline layer's
/// (<see cref="OfflineExporter"/>).</para>
/// </remarks>
internal sealed class OfflineMirror : IDisposable
{
    /// <summary>The client-side key of a run: lets the tracker find a run whose creation answer was lost.</summary>
    internal const string ClientRunKeyTag = "mlflow.dotnet.clientRunKey";
    private const string RunNameTag = "mlflow.runName";

    private readonly object _storeLock = new();
    private readonly object _diskFlushLock = new();
    private readonly MlflowClient? _drainClient;
    private readonly bool _ownsDrainClient;
    private readonly ILogger _logger;
    private LocalFileStore? _store;
    private int _warned;
    private int _unsyncedToDisk;
    private long _lastDiskFlush = -1;

    /// <param name="root">The local store folder (created on first use).</param>
    /// <param name="options">The offline settings.</param>
    /// <param name="drainClient">The server client drains use; <see langword="null"/>: data is kept locally only (for <c>mlflow-sync</c>).</param>
    /// <param name="ownsDrainClient">Whether disposing this disposes <paramref name="drainClient"/>.</param>
    /// <param name="targetKey">The server URI without credentials (names the sync journal, as <c>mlflow-sync</c> does).</param>
    /// <param name="logger">Where warnings go.</param>
    public OfflineMirror(string root, MlflowOfflineOptions options, MlflowClient? drainClient, bool ownsDrainClient, string targetKey, ILogger logger)
    {
        Root = root;
        Options = options;
        _drainClient = drainClient;
        _ownsDrainClient = ownsDrainClient;
        TargetKey = targetKey;
        _logger = logger;
    }

    public string Root { get; }

    public MlflowOfflineOptions Options { get; }

    public string TargetKey { get; }

    public bool CanDrain => _drainClient is not null;

    /// <summary>The clock of the durable-write interval and the drain's waits (the tracker's).</summary>
    internal TimeProvider Time { get; set; } = TimeProvider.System;

    /// <summary>How long a server that answers again gets to apply requests it held while it hung, before a drain reads its history (at most a quarter of the drain's budget).</summary>
    internal static readonly TimeSpan SettleDelay = TimeSpan.FromSeconds(1);

    /// <summary>Settings of a drain (its retries are the drain client's pipeline, one budget per request).</summary>
    private static readonly SyncOptions DrainSettings = new();

    internal LocalFileStore Store
    {
        get
        {
            lock (_storeLock)
            {
                // Params, tags, meta.yaml files and journals are forced to disk with the metric files at each durable write.
                return _store ??= new LocalFileStore(Root, _logger) { TrackFilesForFlushToDisk = true };
            }
        }
    }

    /// <summary>Logs the "went offline" warning the first time only.</summary>
    public void WarnOnce(string server, string runId, string reason)
    {
        if (Interlocked.Exchange(ref _warned, 1) == 0)
        {
            OfflineLog.WentOffline(_logger, server, reason, runId, Root);
        }
    }

    /// <summary>Creates a run that starts offline: a local run named by its client key, synced later as a whole.</summary>
    /// <returns>The mirror and the local experiment id.</returns>
    public (RunMirror Mirror, string LocalExperimentId) CreateLocalRun(string clientKey, string? localExperimentId, string? experimentName, string? serverExperimentId, string runName, long startTime, IReadOnlyList<Tag> tags, string? user)
    {
        var (experimentId, pinned) = localExperimentId is not null ? (localExperimentId, null) : LocalExperiment(experimentName, serverExperimentId);
        var localTags = tags.Where(t => t.Key != RunSynchronizer.SourceRunIdTag).ToList();
        Store.CreateRunWithId(clientKey, experimentId, runName, startTime, localTags, user);
        if (pinned is not null)
        {
            var path = JournalPath(clientKey);
            var journal = SyncJournal.Load(path);
            journal.Target = TargetKey;
            journal.PinnedExperimentId = pinned;
            SaveJournal(journal, path);
        }

        Volatile.Write(ref _unsyncedToDisk, 1);
        return (new RunMirror(clientKey, null, localOnly: true), experimentId);
    }

    /// <summary>Creates (or reopens) the local mirror of a server run, with a journal that already names the server run.</summary>
    public RunMirror OpenMirror(RunIdentity identity, string serverRunId)
    {
        var (experimentId, _) = LocalExperiment(identity.ExperimentName, identity.ExperimentId);
        var tags = new List<Tag> { new(ClientRunKeyTag, identity.ClientKey), new(RunNameTag, identity.RunName) };
        Store.CreateRunWithId(identity.ClientKey, experimentId, identity.RunName, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), tags, null);
        var path = JournalPath(identity.ClientKey);
        var journal = SyncJournal.Load(path);
        journal.Target = TargetKey;
        journal.ServerRunId ??= serverRunId;
        journal.ServerExperimentId ??= identity.ExperimentId;
        journal.PinnedExperimentId = identity.ExperimentId;
        foreach (var t in tags)
        {
            // Already on the server since its creation: not sent again (a later rename must not be undone).
            journal.Tags[t.Key] = SyncJournal.Hash(t.Value);
        }

        SaveJournal(journal, path);
        return new RunMirror(identity.ClientKey, serverRunId, localOnly: false) { Journal = journal, JournalStamp = JournalStampOf(path) };
    }

    /// <summary>Writes entries to the local run, in order; entries the local store refuses are passed to <paramref name="reject"/>. The caller holds the mirror's gate (and its drain lock when a tag deletion is among them).</summary>
    public void Write(RunMirror mirror, LogEntry[] entries, int from, int to, Action<LogEntry, string> reject)
    {
        var store = Store;
        var paramKeys = new HashSet<string>(StringComparer.Ordinal);
        var start = from;
        while (start < to)
        {
            var end = start + BatchBuilder.NextBatchEnd(entries.AsSpan(start, to - start), 0, MlflowLimits.MaxEntitiesPerBatch, paramKeys);
            if (entries[start].Kind == LogEntryKind.DeleteTag)
            {
                var key = entries[start].Key;
                // Recorded before the local file goes: killed in between, the tag is still local and the deletion is
                // dropped by the sync as a whole (never a tag gone locally but kept on the server for good).
                RecordTagDelete(mirror, key);
                try
                {
                    store.DeleteTagAsync(mirror.LocalRunId, key, CancellationToken.None).GetAwaiter().GetResult();
                }
                catch (MlflowException ex) when (ex.ErrorCode == MlflowErrorCode.ResourceDoesNotExist)
                {
                    // not set while offline: it may still be on the server
                }
            }
            else
            {
                try
                {
                    WriteBatch(store, mirror, entries.AsSpan(start, end - start));
                }
                catch (MlflowException) when (end - start > 1)
                {
                    // One entry is refused (a param changing value): write them one by one to find it.
                    for (var i = start; i < end; i++)
                    {
                        try
                        {
                            WriteBatch(store, mirror, entries.AsSpan(i, 1));
                        }
                        catch (MlflowException one)
                        {
                            reject(entries[i], one.Message);
                        }
                    }
                }
                catch (MlflowException one)
                {
                    reject(entries[start], one.Message);
                }
            }

            start = end;
        }

        Volatile.Write(ref _unsyncedToDisk, 1);
    }

    /// <summary>
    /// Records a tag deletion in the run's sync journal (<see cref="SyncJournal.TagDeletes"/>): the drain, or a later
    /// <c>mlflow-sync</c> after a crash, deletes it on the server unless it is set again locally. The caller holds the mirror's gate.
    /// </summary>
    private void RecordTagDelete(RunMirror mirror, string key)
    {
        var journal = JournalOf(mirror);
        if (journal.TagDeletes.Contains(key, StringComparer.Ordinal))
        {
            return;
        }

        journal.Target = TargetKey;
        journal.TagDeletes.Add(key);
        SaveJournal(mirror, journal);
    }

    private static void WriteBatch(LocalFileStore store, RunMirror mirror, ReadOnlySpan<LogEntry> entries)
    {
        var (metrics, @params, tags) = BatchBuilder.ToRequest(entries);
        store.LogBatchAsync(mirror.LocalRunId, metrics, @params, tags, CancellationToken.None).GetAwaiter().GetResult();
        foreach (var m in metrics)
        {
            mirror.MetricCounts[m.Key] = mirror.MetricCounts.GetValueOrDefault(m.Key) + 1;
        }
    }

    /// <summary>Records metric ranges of the local run whose send had an unknown outcome: the drain checks them against the server first. The caller holds the mirror's drain lock.</summary>
    public void MarkInFlight(RunMirror mirror, Dictionary<string, long> countsBefore)
    {
        if (countsBefore.Count == 0)
        {
            return;
        }

        var journal = JournalOf(mirror);
        journal.Target = TargetKey;
        journal.InFlight ??= new Dictionary<string, long[]>(StringComparer.Ordinal);
        foreach (var (key, before) in countsBefore)
        {
            var after = mirror.MetricCounts.GetValueOrDefault(key);
            if (after <= before)
            {
                continue;
            }

            // From what the server acknowledged at most, so no unsent point is ever skipped.
            var from = Math.Min(before, journal.Metrics.GetValueOrDefault(key));
            journal.InFlight[key] = journal.InFlight.TryGetValue(key, out var r) ? [Math.Min(r[0], from), Math.Max(r[1], after)] : [from, after];
        }

        SaveJournal(mirror, journal);
    }

    /// <summary>
    /// Records the final status in the local run's <c>meta.yaml</c>, so the local copy never stays RUNNING. Not on the server
    /// yet: the drain (or <c>mlflow-sync</c>) sends it last, after the data. Already on the server
    /// (<paramref name="onServer"/>): the run's journal says so, and no sync sends it again. The caller holds the mirror's
    /// gate (and its drain lock when <paramref name="onServer"/>).
    /// </summary>
    public void SetStatus(RunMirror mirror, RunStatus status, long endTime, bool onServer = false)
    {
        Store.UpdateRunAsync(mirror.LocalRunId, status, endTime, null, CancellationToken.None).GetAwaiter().GetResult();
        if (onServer)
        {
            var journal = JournalOf(mirror);
            journal.Target = TargetKey;
            journal.Status = (int)status;
            journal.EndTime = endTime;
            SaveJournal(mirror, journal);
        }

        Volatile.Write(ref _unsyncedToDisk, 1);
    }

    /// <summary>
    /// Forces what was written locally to disk (metric files, and the param, tag, <c>meta.yaml</c> and journal files written
    /// since the last call) when <see cref="MlflowOfflineOptions.DurableWriteInterval"/> passed (or <paramref name="force"/>).
    /// </summary>
    /// <remarks>Returns once everything written before the call is on disk, also when another thread is flushing: a
    /// forced call waits for that flush (it may cover this caller's writes) instead of returning while it runs.</remarks>
    public void FlushToDisk(bool force)
    {
        var last = Interlocked.Read(ref _lastDiskFlush);
        if (!force && (Volatile.Read(ref _unsyncedToDisk) == 0 || (last >= 0 && Time.GetElapsedTime(last) < Options.DurableWriteInterval)))
        {
            return;
        }

        lock (_diskFlushLock)
        {
            if (Interlocked.Exchange(ref _unsyncedToDisk, 0) == 0)
            {
                return;
            }

            Interlocked.Exchange(ref _lastDiskFlush, Time.GetTimestamp());
            LocalFileStore? store;
            lock (_storeLock)
            {
                store = _store;
            }

            var done = false;
            try
            {
                store?.FlushToDisk();
                done = true;
            }
            finally
            {
                if (!done)
                {
                    Volatile.Write(ref _unsyncedToDisk, 1); // not on disk: the next call tries again
                }
            }
        }
    }

    /// <summary>
    /// Pushes the local run to the server (tag deletions recorded in its journal included). The caller holds the
    /// mirror's drain lock; the gate is held only while the sync reads the local run (before its first network call),
    /// so entries keep reaching the local copy while the drain waits for the server. Cancellation is thrown.
    /// </summary>
    /// <returns>How it ended, the error, entries delivered, and <see cref="RunMirror.Generation"/> when the local run was read.</returns>
    public async Task<(DrainState State, string? Error, long Delivered, long Generation)> TryDrainAsync(RunMirror mirror, CancellationToken cancellationToken)
    {
        if (_drainClient is null)
        {
            return (DrainState.Unreachable, "no server to send to", 0, -1);
        }

        FlushToDisk(force: true);
        if (mirror.ServerRunId is { } knownRun && JournalOf(mirror).InFlight is { Count: > 0 })
        {
            // Some points were sent without an answer. A server that hung (not one that refused) may still hold those
            // requests and apply them when it resumes: let it settle once it answers, before its history is read to
            // decide what to send again (else a file-backed server gets the held points twice).
            using (Resilience.RequestScope.Enter(Resilience.RequestFlags.BypassCircuitBreaker | Resilience.RequestFlags.NoRetryWhenRefused))
            {
                try
                {
                    await _drainClient.GetRunAsync(knownRun, cancellationToken).ConfigureAwait(false);
                }
                catch (MlflowException ex) when (ex.IsTransient)
                {
                    return (DrainState.Unreachable, ex.ShortReason, 0, -1);
                }
            }

            await Task.Delay(SettleDelay < Options.OfflineAfter / 4 ? SettleDelay : Options.OfflineAfter / 4, Time, cancellationToken).ConfigureAwait(false);
        }

        // The sync reads what the server lacks under the gate (no network call), and sends from that snapshot without it.
        var sync = new RunSynchronizer(_drainClient, TargetKey, DrainSettings, _logger);
        RunSynchronizer.RunState read;
        long generation;
        await mirror.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            generation = mirror.Generation;
            read = sync.Read(Store, mirror.LocalRunId, JournalOf(mirror));
        }
        finally
        {
            mirror.Gate.Release();
        }

        SyncRunResult result;
        // The offline layer has its own reconnection schedule (ReconnectInterval): a breaker opened by the outage must
        // not hold a server that is back for its whole break, and a refused connection means "still down, next time".
        using (Resilience.RequestScope.Enter(Resilience.RequestFlags.BypassCircuitBreaker | Resilience.RequestFlags.NoRetryWhenRefused))
        {
            try
            {
                result = await sync.SendAsync(Store, read, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                mirror.JournalStamp = JournalStampOf(JournalPath(mirror.LocalRunId)); // the sync saved the same journal as it went
            }
        }

        if (result.ServerRunId is { } serverRunId)
        {
            mirror.ServerRunId ??= serverRunId;
        }

        var delivered = result.MetricPointsSent + result.ParamsSent + result.TagsSent;
        if (result.Outcome == SyncRunOutcome.Failed && (sync.ServerUnreachable || sync.LastFailureTransient))
        {
            return (DrainState.Unreachable, result.Error, delivered, generation);
        }

        return result.Outcome == SyncRunOutcome.Failed ? (DrainState.Failed, result.Error, delivered, generation) : (DrainState.Drained, null, delivered, generation);
    }

    /// <summary>Saves a journal the tracker wrote (not the drain's progress): forced to disk with the next durable write.</summary>
    private void SaveJournal(SyncJournal journal, string path)
    {
        journal.Save(path);
        Store.MarkForFlushToDisk(path);
        Volatile.Write(ref _unsyncedToDisk, 1);
    }

    /// <summary>Saves the journal a run's copy holds in memory (the caller holds its drain lock).</summary>
    private void SaveJournal(RunMirror mirror, SyncJournal journal)
    {
        var path = JournalPath(mirror.LocalRunId);
        SaveJournal(journal, path);
        mirror.Journal = journal;
        mirror.JournalStamp = JournalStampOf(path);
    }

    /// <summary>
    /// The run's sync journal, held in memory by its copy; read from disk only the first time and when the file changed
    /// under it (a <c>mlflow-sync</c> of the same folder). The caller holds the copy's drain lock.
    /// </summary>
    private SyncJournal JournalOf(RunMirror mirror)
    {
        var path = JournalPath(mirror.LocalRunId);
        var stamp = JournalStampOf(path);
        if (mirror.Journal is null || stamp != mirror.JournalStamp)
        {
            mirror.Journal = SyncJournal.Load(path);
            mirror.JournalStamp = stamp;
        }

        return mirror.Journal;
    }

    private static DateTime JournalStampOf(string path) => File.Exists(path) ? File.GetLastWriteTimeUtc(path) : default;

    private string JournalPath(string localRunId) => SyncJournal.PathFor(Store.GetRunDirectory(localRunId), TargetKey);

    /// <summary>The local experiment for a server experiment: same name; for an unknown name, a placeholder and the server id to pin.</summary>
    private (string LocalId, string? PinnedServerId) LocalExperiment(string? name, string? serverExperimentId)
    {
        string? pinned = null;
        if (name is null)
        {
            if (serverExperimentId is null or LocalFileStore.DefaultExperimentId)
            {
                name = "Default";
            }
            else
            {
                name = "offline experiment " + serverExperimentId;
                pinned = serverExperimentId;
            }
        }

        var store = Store;
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var found = store.GetExperimentByNameAsync(name, CancellationToken.None).GetAwaiter().GetResult();
            if (found is { LifecycleStage: LifecycleStage.Active })
            {
                return (found.ExperimentId, pinned);
            }

            if (found is not null)
            {
                throw new MlflowException($"The local experiment '{name}' in {Root} is deleted; restore it to keep data offline there.");
            }

            try
            {
                return (store.CreateExperimentAsync(name, null, null, CancellationToken.None).GetAwaiter().GetResult(), pinned);
            }
            catch (MlflowException ex) when (ex.ErrorCode is MlflowErrorCode.ResourceAlreadyExists)
            {
                // created by another tracker meanwhile: look again
            }
        }

        throw new MlflowException($"Could not get or create the local experiment '{name}' in {Root}.");
    }

    public void Dispose()
    {
        FlushToDisk(force: true);
        lock (_storeLock)
        {
            _store?.Dispose();
        }

        if (_ownsDrainClient)
        {
            _drainClient?.Dispose();
        }
    }
}

/// <summary>How a drain ended.</summary>
internal enum DrainState
{
    /// <summary>Everything kept locally is on the server.</summary>
    Drained,
    /// <summary>The server did not answer (or said it is unavailable): try again later.</summary>
    Unreachable,
    /// <summary>The server answered but refused part of it (the error says what).</summary>
    Failed,
}
