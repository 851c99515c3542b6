using System.Globalization;
using System.Net;
using Microsoft.Extensions.Logging;
using Mlflow.Client.FileStore;

namespace Mlflow.Client.Sync;

/// <summary>
/// Pushes one local run to a tracking server, idempotently and resumably. One instance per sync session (it caches
/// experiment and parent-run mappings); also meant for draining a single run mid-session (offline fallback).
/// </summary>
/// <remarks>
/// <para>Identity: the server run carries tag <see cref="SourceRunIdTag"/> = local run id (set by <c>runs/create</c>
/// itself, so it can never be missing), and is found again by a search on it when the journal does not know it.</para>
/// <para>Progress: a <see cref="SyncJournal"/> per (run, server), written after each acknowledged step; metric batches
/// are recorded as in flight before they are sent, and an in-flight range is checked against the server's history
/// before any of it is sent again (file-backed servers append duplicates; SQL servers refuse a repeated NaN).</para>
/// </remarks>
internal sealed class RunSynchronizer
{
    internal const string SourceRunIdTag = "mlflow.dotnet.sourceRunId";
    internal const string SourceStoreTag = "mlflow.dotnet.sourceStore";
    internal const string ParentRunIdTag = "mlflow.parentRunId";
    private const string ProxyScheme = "mlflow-artifacts:";
    private const int MaxParamsPerBatch = MlflowLimits.MaxParamsPerBatch;
    private const int MaxTagsPerBatch = MlflowLimits.MaxTagsPerBatch;
    private static readonly TimeSpan JournalSaveInterval = TimeSpan.FromSeconds(2);

    private readonly MlflowClient? _target;
    private readonly string _targetKey;
    private readonly SyncOptions _settings;
    private readonly ILogger _logger;
    private readonly Dictionary<string, string> _serverRunIds = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _serverExperimentIds = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _experimentFailures = new(StringComparer.Ordinal);

    /// <param name="target">The server; <see langword="null"/> for a dry run.</param>
    /// <param name="targetKey">The server URI without credentials (names the journal file).</param>
    /// <param name="settings">Retry and batch settings.</param>
    /// <param name="logger">Where progress and retries are logged.</param>
    public RunSynchronizer(MlflowClient? target, string targetKey, SyncOptions settings, ILogger logger)
    {
        _target = target;
        _targetKey = targetKey;
        _settings = settings;
        _logger = logger;
    }

    /// <summary>Receives progress reports.</summary>
    public IProgress<SyncProgress>? Progress { get; init; }

    /// <summary>Set when the last failure was that the server gave no answer at all (unreachable), after all retries.</summary>
    public bool ServerUnreachable { get; private set; }

    /// <summary>Set when the last failure was no answer, or an answer that says the server is not available now (retryable), after all retries.</summary>
    public bool LastFailureTransient { get; private set; }


    /// <summary>Syncs one run; failures are reported in the result (cancellation is thrown).</summary>
    public async Task<SyncRunResult> SyncRunAsync(LocalFileStore source, string localRunId, CancellationToken cancellationToken, int runIndex = 1, int runCount = 1)
    {
        ArgumentNullException.ThrowIfNull(source);
        ServerUnreachable = false;
        LastFailureTransient = false;
        var state = new RunState(localRunId, runIndex, runCount);
        try
        {
            state.RunDir = source.GetRunDirectory(localRunId);
            state.Local = await source.GetRunAsync(localRunId, cancellationToken).ConfigureAwait(false);
            state.JournalPath = SyncJournal.PathFor(state.RunDir, _targetKey);
            state.Journal = SyncJournal.Load(state.JournalPath);
            state.Journal.Target = _targetKey;
            LoadMetrics(source, state);
            if (_target is null)
            {
                return DryRun(state);
            }

            using var gate = AcquireLock(state);
            await RunAsync(source, state, _target, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is MlflowException or IOException or InvalidOperationException or NotSupportedException or UnauthorizedAccessException or ArgumentException
                                   && !cancellationToken.IsCancellationRequested)
        {
            ServerUnreachable = ex is MlflowException { StatusCode: null, IsTransient: true } && _target is not null;
            LastFailureTransient = ex is MlflowException { IsTransient: true } && _target is not null;
            state.Errors.Add(ex.Message);
        }

        var result = state.ToResult();
        SyncLog.RunDone(_logger, localRunId, result.ServerRunId ?? "-", result.Outcome, result.Error);
        Report(state, result.Outcome == SyncRunOutcome.Failed ? SyncPhase.Failed : SyncPhase.Done);
        return result;
    }

    // ------------------------------------------------------------------ the steps

    private async Task RunAsync(LocalFileStore source, RunState s, MlflowClient target, CancellationToken ct)
    {
        var local = s.Local!;
        if (local.Info.LifecycleStage == LifecycleStage.Deleted)
        {
            throw new InvalidOperationException($"Local run {s.LocalRunId} is deleted; restore it to sync it.");
        }

        Report(s, SyncPhase.Starting);
        var experimentId = s.Journal!.PinnedExperimentId ?? await ResolveExperimentAsync(source, target, local.Info.ExperimentId, s, ct).ConfigureAwait(false);
        var serverRun = await FindOrCreateRunAsync(source, target, experimentId, s, ct).ConfigureAwait(false);
        s.ServerRunId = serverRun.Info.RunId;
        _serverRunIds[s.LocalRunId] = s.ServerRunId;
        s.Journal!.ServerExperimentId = experimentId;
        s.Journal.ServerRunId = s.ServerRunId;
        s.Journal.Save(s.JournalPath!);

        if (s.Journal.InFlight is not null)
        {
            Report(s, SyncPhase.Reconciling);
            await ReconcileInFlightAsync(target, s, fromThisSession: false, deduplicating: false, ct).ConfigureAwait(false);
        }

        Report(s, SyncPhase.Params);
        await SendParamsAsync(target, s, ct).ConfigureAwait(false);
        Report(s, SyncPhase.Tags);
        await SendTagsAsync(source, target, s, ct).ConfigureAwait(false);
        await DeleteTagsAsync(target, s, ct).ConfigureAwait(false);
        Report(s, SyncPhase.Metrics);
        await SendMetricsAsync(target, s, ct).ConfigureAwait(false);
        Report(s, SyncPhase.Inputs);
        await SendInputsAsync(target, s, ct).ConfigureAwait(false);
        Report(s, SyncPhase.Artifacts);
        await SendArtifactsAsync(target, serverRun.Info.ArtifactUri, s, ct).ConfigureAwait(false);
        if (s.Errors.Count == 0)
        {
            // Status last, and only when everything else arrived: a FINISHED run on the server means complete.
            Report(s, SyncPhase.Status);
            await SendStatusAsync(target, s, ct).ConfigureAwait(false);
        }
    }

    private async Task<string> ResolveExperimentAsync(LocalFileStore source, MlflowClient target, string localExperimentId, RunState s, CancellationToken ct)
    {
        if (_serverExperimentIds.TryGetValue(localExperimentId, out var known))
        {
            return known;
        }

        if (_experimentFailures.TryGetValue(localExperimentId, out var failure))
        {
            throw new InvalidOperationException(failure);
        }

        var local = await source.GetExperimentAsync(localExperimentId, ct).ConfigureAwait(false);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var found = await target.GetExperimentByNameAsync(local.Name, ct).ConfigureAwait(false);
                s.ServerAnswered = true;
                if (found is not null)
                {
                    if (found.LifecycleStage == LifecycleStage.Deleted)
                    {
                        // Restoring it would resurrect what someone deleted on purpose: refuse and say how to proceed.
                        var message = $"The server experiment '{local.Name}' (id {found.ExperimentId}) is deleted. Restore it on the server (mlflow experiments restore --experiment-id {found.ExperimentId}) or rename the local experiment, then sync again.";
                        _experimentFailures[localExperimentId] = message;
                        throw new InvalidOperationException(message);
                    }

                    _serverExperimentIds[localExperimentId] = found.ExperimentId;
                    return found.ExperimentId;
                }

                try
                {
                    var id = await target.CreateExperimentAsync(local.Name, null, local.Tags.Count == 0 ? null : local.Tags, ct).ConfigureAwait(false);
                    SyncLog.ExperimentCreated(_logger, local.Name, id);
                    _serverExperimentIds[localExperimentId] = id;
                    return id;
                }
                catch (MlflowException ex) when (ex.ErrorCode == MlflowErrorCode.ResourceAlreadyExists && attempt < _settings.MaxAttempts)
                {
                    continue; // created meanwhile (or by our own unanswered attempt): look it up again
                }
            }
            catch (MlflowException ex) when (ex.IsTransient && attempt < _settings.MaxAttempts)
            {
                await BackOffAsync("experiment " + local.Name, attempt, ex, ct).ConfigureAwait(false);
            }
        }
    }

    private async Task<Run> FindOrCreateRunAsync(LocalFileStore source, MlflowClient target, string experimentId, RunState s, CancellationToken ct)
    {
        var journal = s.Journal!;
        if (journal.ServerRunId is { } knownId)
        {
            var run = await WithRetryAsync("runs/get", () => target.GetRunAsync(knownId, ct), s, ct, tolerateNotFound: true).ConfigureAwait(false);
            if (run is not null)
            {
                return CheckActive(run);
            }

            SyncLog.JournalStale(_logger, s.LocalRunId, knownId);
            journal.Reset();
        }

        var local = s.Local!;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                if (await FindBySourceTagAsync(target, experimentId, s.LocalRunId, ct).ConfigureAwait(false) is { } found)
                {
                    s.ServerAnswered = true;
                    SyncLog.RunFoundByTag(_logger, s.LocalRunId, found.Info.RunId);
                    // Nothing is known about what it holds: check every local point against its history first.
                    MarkAllInFlight(s);
                    return CheckActive(found);
                }

                s.ServerAnswered = true;
                var tags = new List<Tag>
                {
                    new(SourceRunIdTag, s.LocalRunId),
                    new(SourceStoreTag, SyncJournal.Hash(source.RootDirectory)),
                };
                var created = await target.CreateRunAsync(
                    experimentId,
                    string.IsNullOrEmpty(local.Info.RunName) ? null : local.Info.RunName,
                    local.Info.StartTime ?? DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
                    tags,
                    local.Info.UserId,
                    ct).ConfigureAwait(false);
                s.Created = true;
                foreach (var t in tags)
                {
                    journal.Tags[t.Key] = SyncJournal.Hash(t.Value);
                }

                return created;
            }
            catch (MlflowException ex) when (ex.IsTransient && attempt < _settings.MaxAttempts)
            {
                // The create may have landed without its answer: the next round searches for it before creating.
                await BackOffAsync("runs/create", attempt, ex, ct).ConfigureAwait(false);
            }
        }
    }

    private static async Task<Run?> FindBySourceTagAsync(MlflowClient target, string experimentId, string localRunId, CancellationToken ct)
    {
        var page = await target.SearchRunsAsync(new RunSearchOptions
        {
            ExperimentIds = [experimentId],
            Filter = $"tags.`{SourceRunIdTag}` = '{localRunId}'",
            ViewType = ViewType.All,
            MaxResults = 10,
            OrderBy = ["attributes.start_time ASC"],
        }, null, ct).ConfigureAwait(false);
        return page.Items.Count == 0
            ? null
            : page.Items.FirstOrDefault(r => r.Info.LifecycleStage == LifecycleStage.Active) ?? page.Items[0];
    }

    private static Run CheckActive(Run run)
        => run.Info.LifecycleStage == LifecycleStage.Deleted
            ? throw new InvalidOperationException($"The server run {run.Info.RunId} this local run was synced to is deleted; restore it on the server (or delete it for good with 'mlflow gc'), then sync again.")
            : run;

    private async Task SendParamsAsync(MlflowClient target, RunState s, CancellationToken ct)
    {
        var journal = s.Journal!;
        var pending = s.Local!.Data.Params
            .Where(p => !journal.Params.TryGetValue(p.Key, out var h) || h != SyncJournal.Hash(p.Value))
            .GroupBy(p => p.Key, StringComparer.Ordinal).Select(g => g.First()) // one key once per batch: the server refuses repeats
            .ToList();
        foreach (var chunk in pending.Chunk(MaxParamsPerBatch))
        {
            var rest = chunk.ToList();
            for (var attempt = 1; rest.Count > 0; attempt++)
            {
                try
                {
                    await target.LogBatchAsync(s.ServerRunId!, null, rest, null, ct).ConfigureAwait(false);
                    MarkParams(s, rest);
                    rest.Clear();
                }
                catch (MlflowException ex) when (ex.RejectsInput && attempt < _settings.MaxAttempts)
                {
                    // A refused batch (400 "Changing param values", or 500 from a file-backed server) or a partial write:
                    // what the server holds decides. Equal values are done; different ones are conflicts; the rest is re-sent.
                    var server = await WithRetryAsync("runs/get", () => target.GetRunAsync(s.ServerRunId!, ct), s, ct).ConfigureAwait(false);
                    var onServer = server!.Data.Params.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
                    var before = rest.Count;
                    var done = rest.Where(p => onServer.TryGetValue(p.Key, out var v) && v == p.Value).ToList();
                    MarkParams(s, done);
                    foreach (var conflict in rest.Where(p => onServer.TryGetValue(p.Key, out var v) && v != p.Value))
                    {
                        s.Errors.Add($"Param '{conflict.Key}' has another value on the server run {s.ServerRunId}; params cannot change, so it was not sent.");
                    }

                    rest = rest.Where(p => !onServer.ContainsKey(p.Key)).ToList();
                    if (rest.Count == before)
                    {
                        throw; // nothing explained by the server's state: the batch itself is refused
                    }
                }
                catch (MlflowException ex) when (ex.IsTransient && attempt < _settings.MaxAttempts)
                {
                    await BackOffAsync("params", attempt, ex, ct).ConfigureAwait(false); // re-sending equal values is harmless
                }
            }
        }
    }

    private static void MarkParams(RunState s, IEnumerable<Param> sent)
    {
        foreach (var p in sent)
        {
            s.Journal!.Params[p.Key] = SyncJournal.Hash(p.Value);
            s.ParamsSent++;
        }

        s.Journal!.Save(s.JournalPath!);
    }

    private async Task SendTagsAsync(LocalFileStore source, MlflowClient target, RunState s, CancellationToken ct)
    {
        var desired = new List<Tag>();
        foreach (var tag in s.Local!.Data.Tags)
        {
            if (tag.Key is SourceRunIdTag or SourceStoreTag)
            {
                continue;
            }

            if (tag.Key == ParentRunIdTag && tag.Value.Length > 0)
            {
                desired.Add(tag with { Value = await ServerParentIdAsync(source, target, tag.Value, s, ct).ConfigureAwait(false) });
                continue;
            }

            desired.Add(tag);
        }

        desired.Add(new Tag(SourceRunIdTag, s.LocalRunId));
        desired.Add(new Tag(SourceStoreTag, SyncJournal.Hash(source.RootDirectory)));
        var journal = s.Journal!;
        var pending = desired.Where(t => !journal.Tags.TryGetValue(t.Key, out var h) || h != SyncJournal.Hash(t.Value)).ToList();
        foreach (var chunk in pending.Chunk(MaxTagsPerBatch))
        {
            // Tags are upserts: re-sending after an unclear answer is harmless.
            await WithRetryAsync("tags", async () =>
            {
                await target.LogBatchAsync(s.ServerRunId!, null, null, chunk, ct).ConfigureAwait(false);
                return true;
            }, s, ct).ConfigureAwait(false);
            foreach (var t in chunk)
            {
                journal.Tags[t.Key] = SyncJournal.Hash(t.Value);
                if (t.Key is not (SourceRunIdTag or SourceStoreTag))
                {
                    s.TagsSent++;
                }
            }

            journal.Save(s.JournalPath!);
        }
    }

    /// <summary>
    /// Applies the tag deletions the journal records (<see cref="SyncJournal.TagDeletes"/>, written by the offline
    /// fallback): a key absent from the local run is deleted on the server (already absent counts as done); a key set
    /// again locally was just sent by <see cref="SendTagsAsync"/> and is only dropped from the list. The journal is saved
    /// after each key, so a crash repeats at most one deletion. A refusal is reported and the key stays pending; no answer
    /// (after the retries) is thrown, like a tag send that gets none.
    /// </summary>
    private async Task DeleteTagsAsync(MlflowClient target, RunState s, CancellationToken ct)
    {
        var journal = s.Journal!;
        if (journal.TagDeletes.Count == 0)
        {
            return;
        }

        var local = s.Local!.Data.Tags.Select(t => t.Key).ToHashSet(StringComparer.Ordinal);
        foreach (var key in journal.TagDeletes.ToList())
        {
            if (!local.Contains(key))
            {
                try
                {
                    // Deleting twice is harmless: the second answer is RESOURCE_DOES_NOT_EXIST, taken as done.
                    var deleted = await WithRetryAsync("runs/delete-tag", async () =>
                    {
                        await target.DeleteTagAsync(s.ServerRunId!, key, ct).ConfigureAwait(false);
                        return true;
                    }, s, ct, tolerateNotFound: true).ConfigureAwait(false);
                    if (deleted)
                    {
                        s.TagsDeleted++;
                    }
                }
                catch (MlflowException ex) when (!ex.IsTransient)
                {
                    s.Errors.Add($"Tag '{key}' (deleted locally) was not deleted on the server run {s.ServerRunId}: {ex.Message}");
                    continue;
                }

                journal.Tags.Remove(key);
            }

            journal.TagDeletes.Remove(key);
            journal.Save(s.JournalPath!);
        }
    }

    /// <summary>The server id of a parent run: from this session, its journal, or a search by its source tag.</summary>
    private async Task<string> ServerParentIdAsync(LocalFileStore source, MlflowClient? target, string localParentId, RunState s, CancellationToken ct)
    {
        if (_serverRunIds.TryGetValue(localParentId, out var id))
        {
            return id;
        }

        string parentDir;
        try
        {
            parentDir = source.GetRunDirectory(localParentId);
        }
        catch (Exception ex) when (ex is MlflowException { ErrorCode: MlflowErrorCode.ResourceDoesNotExist } or ArgumentException)
        {
            return localParentId; // not a local run: it already names a server run (a run resumed offline)
        }

        if (SyncJournal.Load(SyncJournal.PathFor(parentDir, _targetKey)).ServerRunId is { } fromJournal)
        {
            return fromJournal;
        }

        if (target is not null && s.Journal?.ServerExperimentId is { } experimentId
            && await FindBySourceTagAsync(target, experimentId, localParentId, ct).ConfigureAwait(false) is { } found)
        {
            _serverRunIds[localParentId] = found.Info.RunId;
            return found.Info.RunId;
        }

        if (target is null)
        {
            return localParentId; // dry run: the parent is not on the server yet
        }

        throw new InvalidOperationException($"The parent run {localParentId} of this run is not on the server yet (it failed or was not selected); sync it first.");
    }

    private static void LoadMetrics(LocalFileStore source, RunState s)
    {
        var folder = Path.Combine(s.RunDir!, "metrics");
        if (!Directory.Exists(folder))
        {
            return;
        }

        foreach (var file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var key = Path.GetRelativePath(folder, file).Replace(Path.DirectorySeparatorChar, '/');
            if (!MlflowValidation.IsValidKey(key, out _))
            {
                s.Errors.Add($"Metric file '{key}' is not a valid metric key; skipped.");
                continue;
            }

            var points = source.ReadMetricFile(file, key);
            s.Points[key] = points;
            s.MetricTotal += points.Count;
        }

        var journal = s.Journal!;
        foreach (var key in journal.Metrics.Keys.ToList())
        {
            var count = s.Points.TryGetValue(key, out var p) ? p.Count : 0;
            if (journal.Metrics[key] > count)
            {
                // The local file lost points (rewritten by hand?): count only what is there.
                journal.Metrics[key] = count;
            }
        }

        s.MetricDone = s.Points.Sum(kv => Math.Min(kv.Value.Count, journal.Metrics.GetValueOrDefault(kv.Key)));
    }

    private static void MarkAllInFlight(RunState s)
    {
        var inFlight = s.Journal!.InFlight ?? new Dictionary<string, long[]>(StringComparer.Ordinal);
        foreach (var (key, points) in s.Points)
        {
            var acked = s.Journal.Metrics.GetValueOrDefault(key);
            if (points.Count > acked)
            {
                inFlight[key] = [acked, points.Count];
            }
        }

        s.Journal.InFlight = inFlight.Count == 0 ? null : inFlight;
    }

    private async Task SendMetricsAsync(MlflowClient target, RunState s, CancellationToken ct)
    {
        var journal = s.Journal!;
        var batchSize = Math.Clamp(_settings.MetricBatchSize, 1, MlflowLimits.MaxMetricsPerBatch);
        var lastReport = DateTime.UtcNow;
        while (true)
        {
            var batch = new List<Metric>(batchSize);
            var ranges = new Dictionary<string, long[]>(StringComparer.Ordinal);
            foreach (var (key, points) in s.Points)
            {
                var acked = (int)journal.Metrics.GetValueOrDefault(key);
                var take = Math.Min(points.Count - acked, batchSize - batch.Count);
                if (take <= 0)
                {
                    continue;
                }

                for (var i = acked; i < acked + take; i++)
                {
                    batch.Add(points[i]);
                }

                ranges[key] = [acked, acked + take];
                if (batch.Count == batchSize)
                {
                    break;
                }
            }

            if (batch.Count == 0)
            {
                return;
            }

            // Write-ahead: should the answer never come (crash, cut connection), these ranges get checked, not re-sent blindly.
            journal.InFlight = ranges;
            journal.Save(s.JournalPath!);
            try
            {
                await target.LogBatchAsync(s.ServerRunId!, batch, null, null, ct).ConfigureAwait(false);
                s.ServerAnswered = true;
                foreach (var (key, range) in ranges)
                {
                    journal.Metrics[key] = range[1];
                }

                journal.InFlight = null;
                journal.Save(s.JournalPath!);
                s.MetricSent += batch.Count;
                s.MetricDone += batch.Count;
            }
            catch (MlflowException ex) when (ex.IsTransient || MetricReconciler.IsDuplicateNanRefusal(ex))
            {
                SyncLog.BatchUnclear(_logger, s.LocalRunId, batch.Count, ex.Message);
                Report(s, SyncPhase.Reconciling);
                await ReconcileInFlightAsync(target, s, fromThisSession: true, deduplicating: MetricReconciler.IsDuplicateNanRefusal(ex), ct).ConfigureAwait(false);
            }

            if (DateTime.UtcNow - lastReport > TimeSpan.FromMilliseconds(250))
            {
                Report(s, SyncPhase.Metrics);
                lastReport = DateTime.UtcNow;
            }
        }
    }

    /// <summary>
    /// Resolves every in-flight range: reads the server's history of the key, sends only the points it lacks, then
    /// marks the range acknowledged. Repeats (bounded) when a read or send has no clear answer either.
    /// </summary>
    private async Task ReconcileInFlightAsync(MlflowClient target, RunState s, bool fromThisSession, bool deduplicating, CancellationToken ct)
    {
        var journal = s.Journal!;
        var batchSize = Math.Clamp(_settings.MetricBatchSize, 1, MlflowLimits.MaxMetricsPerBatch);
        for (var attempt = 1; journal.InFlight is { Count: > 0 }; attempt++)
        {
            try
            {
                foreach (var (key, range) in journal.InFlight.ToList())
                {
                    var points = s.Points.GetValueOrDefault(key) ?? [];
                    var from = (int)Math.Min(range[0], points.Count);
                    var to = (int)Math.Min(range[1], points.Count);
                    var history = await target.GetMetricHistoryAsync(s.ServerRunId!, key, ct).ConfigureAwait(false);
                    s.ServerAnswered = true;
                    var missing = MetricReconciler.Missing(points, from, to, history, deduplicating);
                    SyncLog.Reconciled(_logger, s.LocalRunId, key, to - from, missing.Count);
                    foreach (var chunk in missing.Chunk(batchSize))
                    {
                        await target.LogBatchAsync(s.ServerRunId!, chunk, null, null, ct).ConfigureAwait(false);
                    }

                    var newlyDone = to - Math.Min(from, (int)journal.Metrics.GetValueOrDefault(key, from));
                    journal.Metrics[key] = Math.Max(journal.Metrics.GetValueOrDefault(key), to);
                    journal.InFlight.Remove(key);
                    journal.Save(s.JournalPath!);
                    s.MetricSent += fromThisSession ? to - from : missing.Count;
                    s.MetricDone += fromThisSession ? to - from : Math.Max(0, newlyDone);
                }

                journal.InFlight = null;
                journal.Save(s.JournalPath!);
            }
            catch (MlflowException ex) when ((ex.IsTransient || MetricReconciler.IsDuplicateNanRefusal(ex)) && attempt < _settings.MaxAttempts)
            {
                deduplicating |= MetricReconciler.IsDuplicateNanRefusal(ex);
                await BackOffAsync("metric reconciliation", attempt, ex, ct).ConfigureAwait(false);
            }
        }
    }

    private async Task SendInputsAsync(MlflowClient target, RunState s, CancellationToken ct)
    {
        var journal = s.Journal!;
        var pending = s.Local!.Inputs.DatasetInputs.Where(d => !journal.Inputs.Contains(InputHash(d))).ToList();
        if (pending.Count == 0)
        {
            return;
        }

        try
        {
            await WithRetryAsync("runs/log-inputs", async () =>
            {
                await target.LogInputsAsync(s.ServerRunId!, pending, ct).ConfigureAwait(false);
                return true;
            }, s, ct).ConfigureAwait(false);
            journal.Inputs.AddRange(pending.Select(InputHash));
            journal.Save(s.JournalPath!);
            s.InputsSent += pending.Count;
        }
        catch (MlflowException ex) when (ex.Kind == MlflowFailureKind.Rejected)
        {
            s.Errors.Add($"Dataset inputs were refused by the server: {ex.Message}");
        }
    }

    private static string InputHash(DatasetInput d)
        => SyncJournal.Hash(string.Join('\n', [d.Dataset.Name, d.Dataset.Digest, .. d.Tags.Select(t => t.Key + "=" + t.Value)]));

    private async Task SendArtifactsAsync(MlflowClient target, string? serverArtifactUri, RunState s, CancellationToken ct)
    {
        var pending = PendingArtifacts(s);
        s.ArtifactsTotal = pending.Count;
        if (pending.Count == 0)
        {
            return;
        }

        if (serverArtifactUri is null || !serverArtifactUri.StartsWith(ProxyScheme, StringComparison.OrdinalIgnoreCase))
        {
            s.ArtifactsSkipped = pending.Count;
            s.ArtifactsSkippedReason = $"the server run stores artifacts at '{serverArtifactUri ?? "(none)"}', which is not reachable through the tracking server (start it with --serve-artifacts to proxy artifacts); copy them with MLflow's own tools";
            SyncLog.ArtifactsSkipped(_logger, s.LocalRunId, pending.Count, s.ArtifactsSkippedReason);
            return;
        }

        var journal = s.Journal!;
        var lastSave = DateTime.UtcNow;
        foreach (var (relative, fullPath, stamp) in pending)
        {
            try
            {
                await WithRetryAsync("artifact upload", async () =>
                {
                    var stream = new FileStream(fullPath, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, FileOptions.Asynchronous | FileOptions.SequentialScan);
                    await using (stream.ConfigureAwait(false))
                    {
                        await target.UploadArtifactAsync(serverArtifactUri, relative, stream, ct).ConfigureAwait(false);
                    }

                    return true;
                }, s, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is MlflowException { Kind: MlflowFailureKind.Rejected } or MlflowValidationException or IOException or UnauthorizedAccessException)
            {
                s.Errors.Add($"Artifact '{relative}' was not uploaded: {ex.Message}");
                continue;
            }

            journal.Artifacts[relative] = stamp;
            s.ArtifactsSent++;
            if (DateTime.UtcNow - lastSave > JournalSaveInterval)
            {
                journal.Save(s.JournalPath!); // uploads overwrite, so saving now and then is enough
                lastSave = DateTime.UtcNow;
                Report(s, SyncPhase.Artifacts);
            }
        }

        journal.Save(s.JournalPath!);
    }

    private static List<(string Relative, string FullPath, string Stamp)> PendingArtifacts(RunState s)
    {
        var dir = LocalArtifactDirectory(s);
        var result = new List<(string, string, string)>();
        if (!Directory.Exists(dir))
        {
            return result;
        }

        foreach (var file in Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var info = new FileInfo(file);
            var relative = Path.GetRelativePath(dir, file).Replace(Path.DirectorySeparatorChar, '/');
            var stamp = string.Create(CultureInfo.InvariantCulture, $"{info.Length}:{info.LastWriteTimeUtc.Ticks}");
            if (!s.Journal!.Artifacts.TryGetValue(relative, out var sent) || sent != stamp)
            {
                result.Add((relative, file, stamp));
            }
        }

        return result;
    }

    /// <summary>The run's artifact folder: its recorded <c>file:</c> artifact URI when that folder exists, else <c>&lt;run&gt;/artifacts</c> (the store was moved).</summary>
    private static string LocalArtifactDirectory(RunState s)
    {
        if (s.Local!.Info.ArtifactUri is { } uri && uri.StartsWith("file:", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                var path = FileStorePaths.FromFileUri(uri);
                if (Directory.Exists(path))
                {
                    return path;
                }
            }
            catch (ArgumentException)
            {
                // fall back to the run folder
            }
        }

        return Path.Combine(s.RunDir!, "artifacts");
    }

    private async Task SendStatusAsync(MlflowClient target, RunState s, CancellationToken ct)
    {
        var info = s.Local!.Info;
        var journal = s.Journal!;
        var status = (int)info.Status;
        if (journal.Status == status && journal.EndTime == info.EndTime)
        {
            return;
        }

        if (info.Status == RunStatus.Running && journal.Status is null)
        {
            return; // a run still in progress stays RUNNING, as created
        }

        await WithRetryAsync("runs/update", () => target.UpdateRunAsync(s.ServerRunId!, info.Status, info.EndTime, null, ct), s, ct).ConfigureAwait(false);
        journal.Status = status;
        journal.EndTime = info.EndTime;
        journal.Save(s.JournalPath!);
        s.StatusSent = true;
    }

    // ------------------------------------------------------------------ dry run

    private SyncRunResult DryRun(RunState s)
    {
        var journal = s.Journal!;
        s.ParamsSent = s.Local!.Data.Params.Count(p => !journal.Params.TryGetValue(p.Key, out var h) || h != SyncJournal.Hash(p.Value));
        s.TagsSent = s.Local.Data.Tags.Count(t => t.Key is not (SourceRunIdTag or SourceStoreTag)
            && (!journal.Tags.TryGetValue(t.Key, out var h) || (t.Key != ParentRunIdTag && h != SyncJournal.Hash(t.Value))));
        s.MetricSent = s.MetricTotal - s.MetricDone;
        s.ArtifactsSent = PendingArtifacts(s).Count;
        s.InputsSent = s.Local.Inputs.DatasetInputs.Count(d => !journal.Inputs.Contains(InputHash(d)));
        s.TagsDeleted = journal.TagDeletes.Count(k => !s.Local.Data.Tags.Any(t => t.Key == k));
        s.StatusSent = s.Local.Info.Status != RunStatus.Running && (journal.Status != (int)s.Local.Info.Status || journal.EndTime != s.Local.Info.EndTime);
        s.ServerRunId = journal.ServerRunId;
        s.Created = journal.ServerRunId is null;
        var result = s.ToResult();
        Report(s, SyncPhase.Done);
        return result;
    }

    // ------------------------------------------------------------------ plumbing

    private FileStream AcquireLock(RunState s)
    {
        var path = Path.ChangeExtension(s.JournalPath!, ".lock");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        try
        {
            return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
        }
        catch (IOException ex)
        {
            throw new InvalidOperationException($"Another sync of run {s.LocalRunId} to {_targetKey} is running (lock file {path}).", ex);
        }
    }


    private async Task<T?> WithRetryAsync<T>(string what, Func<Task<T>> call, RunState s, CancellationToken ct, bool tolerateNotFound = false)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var result = await call().ConfigureAwait(false);
                s.ServerAnswered = true;
                return result;
            }
            catch (MlflowException ex) when (tolerateNotFound && ex.ErrorCode == MlflowErrorCode.ResourceDoesNotExist)
            {
                s.ServerAnswered = true;
                return default;
            }
            catch (MlflowException ex) when (ex.IsTransient && attempt < _settings.MaxAttempts)
            {
                await BackOffAsync(what, attempt, ex, ct).ConfigureAwait(false);
            }
        }
    }

    private async Task BackOffAsync(string what, int attempt, MlflowException ex, CancellationToken ct)
    {
        var delay = TimeSpan.FromTicks(Math.Min(_settings.MaxRetryDelay.Ticks, _settings.RetryDelay.Ticks << Math.Min(attempt - 1, 20)));
        SyncLog.Retrying(_logger, what, attempt, _settings.MaxAttempts, delay.TotalMilliseconds, ex.Message);
        await Task.Delay(delay, ct).ConfigureAwait(false);
    }

    private void Report(RunState s, SyncPhase phase)
        => Progress?.Report(new SyncProgress
        {
            LocalRunId = s.LocalRunId,
            RunName = s.Local?.Info.RunName,
            RunIndex = s.RunIndex,
            RunCount = s.RunCount,
            Phase = phase,
            MetricPointsDone = s.MetricDone,
            MetricPointsTotal = s.MetricTotal,
            ArtifactsDone = s.ArtifactsSent,
            ArtifactsTotal = s.ArtifactsTotal,
        });

    /// <summary>The working state of one run's sync.</summary>
    private sealed class RunState(string localRunId, int runIndex, int runCount)
    {
        public string LocalRunId { get; } = localRunId;
        public int RunIndex { get; } = runIndex;
        public int RunCount { get; } = runCount;
        public string? RunDir { get; set; }
        public Run? Local { get; set; }
        public string? JournalPath { get; set; }
        public SyncJournal? Journal { get; set; }
        public string? ServerRunId { get; set; }
        public bool Created { get; set; }
        public bool ServerAnswered { get; set; }
        public Dictionary<string, List<Metric>> Points { get; } = new(StringComparer.Ordinal);
        public long MetricTotal { get; set; }
        public long MetricDone { get; set; }
        public long MetricSent { get; set; }
        public int ParamsSent { get; set; }
        public int TagsSent { get; set; }
        public int TagsDeleted { get; set; }
        public int InputsSent { get; set; }
        public int ArtifactsTotal { get; set; }
        public int ArtifactsSent { get; set; }
        public int ArtifactsSkipped { get; set; }
        public string? ArtifactsSkippedReason { get; set; }
        public bool StatusSent { get; set; }
        public List<string> Errors { get; } = [];

        public SyncRunResult ToResult()
        {
            var sentAnything = ParamsSent > 0 || TagsSent > 0 || TagsDeleted > 0 || MetricSent > 0 || InputsSent > 0 || ArtifactsSent > 0 || StatusSent;
            return new SyncRunResult
            {
                LocalRunId = LocalRunId,
                ServerRunId = ServerRunId,
                Outcome = Errors.Count > 0 ? SyncRunOutcome.Failed
                    : Created ? SyncRunOutcome.Created
                    : sentAnything ? SyncRunOutcome.Resumed
                    : SyncRunOutcome.UpToDate,
                ParamsSent = ParamsSent,
                TagsSent = TagsSent,
                MetricPointsSent = MetricSent,
                ArtifactsSent = ArtifactsSent,
                ArtifactsSkipped = ArtifactsSkipped,
                ArtifactsSkippedReason = ArtifactsSkippedReason,
                Error = Errors.Count == 0 ? null : string.Join(" | ", Errors),
            };
        }
    }
}
