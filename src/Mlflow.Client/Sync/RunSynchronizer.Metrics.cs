// Step 4, metrics: loading the local points (from where the last sync stopped), sending them in write-ahead batches, and reconciling unclear batches with the server's history.
using Mlflow.Client.FileStore;

namespace Mlflow.Client.Sync;

internal sealed partial class RunSynchronizer
{
    private static void LoadMetrics(LocalFileStore source, RunState s)
    {
        var folder = Path.Combine(s.RunDir!, "metrics");
        if (!Directory.Exists(folder))
        {
            return;
        }

        var journal = s.Journal!;
        foreach (var file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var key = Path.GetRelativePath(folder, file).Replace(Path.DirectorySeparatorChar, '/');
            if (!MlflowValidation.IsValidKey(key, out _))
            {
                s.Errors.Add($"Metric file '{key}' is not a valid metric key; skipped.");
                continue;
            }

            var points = LocalMetricFile.Load(source, file, key, journal);
            s.Points[key] = points;
            s.MetricTotal += points.Count;
        }

        foreach (var key in journal.Metrics.Keys.ToList())
        {
            var count = s.Points.TryGetValue(key, out var p) ? p.Count : 0;
            if (journal.Metrics[key] > count)
            {
                // The local file lost points (rewritten by hand?): count only what is there.
                journal.Metrics[key] = count;
                journal.MetricOffsets.Remove(key);
                journal.MetricLinks.Remove(key); // its positions no longer name the points they were made for
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

    /// <summary>
    /// Sends the points the server lacks in log-batch requests, <see cref="SyncOptions.MaxConcurrentRequests"/> of them
    /// unanswered at any time (as the tracker does). Write-ahead: before a batch goes out, the journal records per key the range from the
    /// acknowledged count to the end of every batch in flight; a batch is acknowledged only once every earlier one was,
    /// so the journal's count stays a prefix. A batch whose outcome is unknown sends the ranges in flight to
    /// reconciliation (the server's history decides); a batch the server did not apply is thrown, with what may have
    /// been applied after it left in flight for the next sync.
    /// </summary>
    private async Task SendMetricsAsync(MlflowClient target, RunState s, CancellationToken ct)
    {
        var journal = s.Journal!;
        var batchSize = Math.Clamp(_settings.MetricBatchSize, 1, MlflowLimits.MaxMetricsPerBatch);
        var maxInFlight = Math.Clamp(_settings.MaxConcurrentRequests, 1, 16);
        var next = s.Points.ToDictionary(kv => kv.Key, kv => journal.Metrics.GetValueOrDefault(kv.Key), StringComparer.Ordinal);
        // In order of sending, not yet acknowledged; at most maxInFlight of them unanswered (the server is kept busy even
        // when a later batch is answered before an earlier one), and a bounded number answered but waiting for an earlier.
        var inFlight = new Queue<MetricBatch>();
        // The next batch, cut and written ahead in the journal while the requests are out, so a slot that frees is
        // filled at once instead of after a journal write. In the journal's ranges from then on: recorded in flight before
        // it is sent is safe (a range that was never sent is found missing by reconciliation and sent then).
        MetricBatch? ready = null;
        var lastReport = DateTime.UtcNow;
        var unsaved = false;
        while (true)
        {
            while (inFlight.Count(b => !b.Send!.IsCompleted) < maxInFlight && inFlight.Count < 4 * maxInFlight && (ready ?? CutWrittenAhead()) is { } batch)
            {
                ready = null;
                inFlight.Enqueue(batch);
                batch.Send = target.LogBatchAsync(s.ServerRunId!, batch.Points, null, null, ct);
            }

            if (ready is null && inFlight.Count < 4 * maxInFlight)
            {
                ready = CutWrittenAhead();
            }

            if (inFlight.Count == 0)
            {
                if (unsaved)
                {
                    journal.Save(s.JournalPath!);
                }

                return;
            }

            var head = inFlight.Peek();
            if (!head.Send!.IsCompleted)
            {
                // Listed once: a send that completes meanwhile must not leave WhenAny an empty list (it throws); then the head is due.
                var pending = inFlight.Where(b => !b.Send!.IsCompleted).Select(b => b.Send!).ToList();
                if (pending.Count > 0)
                {
                    await Task.WhenAny(pending).ConfigureAwait(false);
                }

                continue;
            }

            try
            {
                await head.Send.ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is MlflowException or OperationCanceledException)
            {
                // The batches sent after it may have been applied: they are answered first, and stay in flight.
                await SettleAsync(inFlight.Skip(1)).ConfigureAwait(false);
                if (ex is MlflowException { Kind: MlflowFailureKind.NotApplied })
                {
                    inFlight.Dequeue(); // not applied: nothing of it to check
                }

                ready = null; // never sent: it goes from the cursors again
                journal.InFlight = InFlightRanges(journal, inFlight);
                journal.Save(s.JournalPath!);
                if (ex is not MlflowException m || m.Kind == MlflowFailureKind.NotApplied || !(m.OutcomeUnknown || MetricReconciler.IsDuplicateNanRefusal(m)))
                {
                    throw;
                }

                // The server's history decides what of the ranges it holds (a file-backed server appends duplicates).
                SyncLog.BatchUnclear(_logger, s.LocalRunId, head.Points.Count, m.Message);
                Report(s, SyncPhase.Reconciling);
                inFlight.Clear();
                await ReconcileInFlightAsync(target, s, fromThisSession: true, deduplicating: MetricReconciler.IsDuplicateNanRefusal(m), ct).ConfigureAwait(false);
                foreach (var key in next.Keys.ToList())
                {
                    next[key] = journal.Metrics.GetValueOrDefault(key);
                }

                continue;
            }

            inFlight.Dequeue();
            foreach (var (key, end) in head.Ends)
            {
                s.Points[key].Acknowledge(journal, end);
            }

            journal.InFlight = InFlightRanges(journal, InFlightAndReady());
            unsaved = true; // saved with the next write-ahead (a crash before it only re-checks this batch)
            s.MetricSent += head.Points.Count;
            s.MetricDone += head.Points.Count;
            if (DateTime.UtcNow - lastReport > TimeSpan.FromMilliseconds(250))
            {
                Report(s, SyncPhase.Metrics);
                lastReport = DateTime.UtcNow;
            }
        }

        IEnumerable<MetricBatch> InFlightAndReady() => ready is null ? inFlight : inFlight.Append(ready);

        // Write-ahead: a batch is in the journal's ranges before it is sent, so an unclear one gets checked, not re-sent blindly.
        MetricBatch? CutWrittenAhead()
        {
            var batch = CutBatch(s, next, batchSize);
            if (batch is not null)
            {
                journal.InFlight = InFlightRanges(journal, inFlight.Append(batch));
                journal.Save(s.JournalPath!);
                unsaved = false;
            }

            return batch;
        }
    }

    /// <summary>The next batch: up to <paramref name="batchSize"/> points from each key's cursor on, in key order; <see langword="null"/> when all were cut.</summary>
    private static MetricBatch? CutBatch(RunState s, Dictionary<string, long> next, int batchSize)
    {
        MetricBatch? batch = null;
        foreach (var (key, points) in s.Points)
        {
            var from = next[key];
            var take = Math.Min(points.Count - from, batchSize - (batch?.Points.Count ?? 0));
            if (take <= 0)
            {
                continue;
            }

            batch ??= new MetricBatch(new List<Metric>(batchSize));
            var end = from + take;
            if (points.HasLinks)
            {
                // No two copies of a point with different model links in one request (see SplitTwins): the batch ends before the second.
                var seen = new Dictionary<MetricReconciler.PointKey, Metric>();
                for (var i = from; i < end; i++)
                {
                    var point = points[i];
                    var identity = MetricReconciler.PointKey.Of(point);
                    if (seen.TryGetValue(identity, out var other) && !SameLink(other, point))
                    {
                        end = i;
                        break;
                    }

                    seen.TryAdd(identity, point);
                    batch.Points.Add(point);
                }
            }
            else
            {
                for (var i = from; i < end; i++)
                {
                    batch.Points.Add(points[i]);
                }
            }

            next[key] = end;
            batch.Ends[key] = end;
            if (batch.Points.Count == batchSize)
            {
                break;
            }
        }

        return batch;
    }

    /// <summary>Per key, from the acknowledged count to the end of the last batch in flight; <see langword="null"/> when none is.</summary>
    private static Dictionary<string, long[]>? InFlightRanges(SyncJournal journal, IEnumerable<MetricBatch> inFlight)
    {
        Dictionary<string, long[]>? ranges = null;
        foreach (var batch in inFlight)
        {
            foreach (var (key, end) in batch.Ends)
            {
                ranges ??= new Dictionary<string, long[]>(StringComparer.Ordinal);
                var acked = journal.Metrics.GetValueOrDefault(key);
                ranges[key] = [acked, Math.Max(end, ranges.TryGetValue(key, out var r) ? r[1] : 0)];
            }
        }

        return ranges;
    }

    private static async Task SettleAsync(IEnumerable<MetricBatch> batches)
    {
        foreach (var batch in batches)
        {
            try
            {
                await batch.Send!.ConfigureAwait(false);
            }
#pragma warning disable CA1031 // its outcome is settled by the journal (left in flight), whatever it was
            catch (Exception)
#pragma warning restore CA1031
            {
            }
        }
    }

    /// <summary>One log-batch request of the sync: its points, the end of each key's range in it, and its send.</summary>
    private sealed class MetricBatch(List<Metric> points)
    {
        public List<Metric> Points { get; } = points;

        public Dictionary<string, long> Ends { get; } = new(StringComparer.Ordinal);

        public Task? Send { get; set; }
    }

    /// <summary>
    /// Resolves every in-flight range: reads the server's history of the key, sends only the points it lacks, then
    /// marks the range acknowledged. Each request goes through the client once; a failure is thrown with the range still
    /// in flight, so the next sync checks it again. A SQL store refusing a NaN point it holds (400) says that it keeps
    /// identical points once: the key is then checked once more, knowing that.
    /// </summary>
    private async Task ReconcileInFlightAsync(MlflowClient target, RunState s, bool fromThisSession, bool deduplicating, CancellationToken ct)
    {
        var journal = s.Journal!;
        var batchSize = Math.Clamp(_settings.MetricBatchSize, 1, MlflowLimits.MaxMetricsPerBatch);
        foreach (var (key, range) in (journal.InFlight ?? []).ToList())
        {
            var file = s.Points.GetValueOrDefault(key);
            var points = file?.FromStart() ?? [];
            var from = (int)Math.Min(range[0], points.Count);
            var to = (int)Math.Min(range[1], points.Count);
            List<Metric> missing;
            for (var pass = 1; ; pass++)
            {
                var history = await target.GetMetricHistoryAsync(s.ServerRunId!, key, ct).ConfigureAwait(false);
                missing = MetricReconciler.Missing(points, from, to, history, deduplicating);
                if (file?.HasLinks == true && deduplicating)
                {
                    missing = WithLinkedPoints(points, from, to, history, missing);
                }

                SyncLog.Reconciled(_logger, s.LocalRunId, key, to - from, missing.Count);
                try
                {
                    // One request after the other: a SQL store keeps the run's point once however many copies arrive.
                    foreach (var chunk in file?.HasLinks == true ? SplitTwins(missing, batchSize) : missing.Chunk(batchSize).Select(c => c.ToList()).ToList())
                    {
                        await target.LogBatchAsync(s.ServerRunId!, chunk, null, null, ct).ConfigureAwait(false);
                    }

                    break;
                }
                catch (MlflowException ex) when (pass == 1 && !deduplicating && MetricReconciler.IsDuplicateNanRefusal(ex))
                {
                    deduplicating = true;
                }
            }

            var newlyDone = to - Math.Min(from, (int)journal.Metrics.GetValueOrDefault(key, from));
            var done = Math.Max(journal.Metrics.GetValueOrDefault(key), to);
            if (file is null)
            {
                journal.Metrics[key] = done;
            }
            else
            {
                file.Acknowledge(journal, done);
            }

            journal.InFlight!.Remove(key);
            journal.Save(s.JournalPath!);
            s.MetricSent += fromThisSession ? to - from : missing.Count;
            s.MetricDone += fromThisSession ? to - from : Math.Max(0, newlyDone);
        }

        journal.InFlight = null;
        journal.Save(s.JournalPath!);
    }
}
