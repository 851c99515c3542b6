// Step 4, metrics: loading the local points, sending them in write-ahead batches, and reconciling unclear batches with the server's history.
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
}
