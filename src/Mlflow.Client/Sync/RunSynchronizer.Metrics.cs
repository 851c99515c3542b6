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
                var acked = journal.Metrics.GetValueOrDefault(key);
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
                foreach (var (key, range) in ranges)
                {
                    s.Points[key].Acknowledge(journal, range[1]);
                }

                journal.InFlight = null;
                journal.Save(s.JournalPath!);
                s.MetricSent += batch.Count;
                s.MetricDone += batch.Count;
            }
            catch (MlflowException ex) when (ex.Kind == MlflowFailureKind.NotApplied)
            {
                // The client's pipeline spent its budget and nothing was applied: nothing to check next time either.
                journal.InFlight = null;
                journal.Save(s.JournalPath!);
                throw;
            }
            catch (MlflowException ex) when (ex.OutcomeUnknown || MetricReconciler.IsDuplicateNanRefusal(ex))
            {
                // The server's history decides what of the batch it holds (no blind re-send: a file-backed server appends
                // duplicates). Should the history not be readable now, the ranges stay in flight for the next sync.
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
                SyncLog.Reconciled(_logger, s.LocalRunId, key, to - from, missing.Count);
                try
                {
                    foreach (var chunk in missing.Chunk(batchSize))
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
