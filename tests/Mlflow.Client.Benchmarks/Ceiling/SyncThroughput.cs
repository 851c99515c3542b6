using System.Diagnostics;
using Mlflow.Client.Sync;

namespace Mlflow.Client.Benchmarks.Ceiling;

/// <summary>
/// mlflow-sync as a user runs it after working offline: a local store (MLflow's file layout) holding one finished run
/// with <see cref="CeilingSettings.SyncPoints"/> points, written by a tracker on the local store before the clock starts, then
/// <see cref="MlflowSync.SyncAsync"/> to the server, timed until it returned (every point acknowledged, the status last).
/// </summary>
internal static class SyncThroughput
{
    public static async Task<Measurement> MeasureAsync(CeilingSettings settings, MlflowClient client, string figure)
    {
        using var cts = new CancellationTokenSource(settings.Timeout);
        var root = Path.Combine(Path.GetTempPath(), "mlflow-bench-sync-" + Guid.NewGuid().ToString("N"));
        try
        {
            string localRunId;
            await using (var local = MlflowTracker.Create(new MlflowTrackerOptions { TrackingUri = root, ExperimentName = settings.Experiment }))
            {
                using var run = local.StartRun(figure);
                localRunId = run.RunId;
                for (long step = 0; step < settings.SyncPoints; step++)
                {
                    run.LogMetric(CeilingSettings.MetricKey, 1.0 / (step + 1), step);
                }
            }

            var cpu = Measurement.ProcessCpu();
            using var requests = new BatchStats();
            var sw = Stopwatch.StartNew();
            var phases = new PhaseClock(sw);
            var summary = await MlflowSync.SyncAsync(new SyncOptions { From = root, To = settings.Uri, RunId = localRunId }, phases, cts.Token);
            var seconds = sw.Elapsed.TotalSeconds;
            var cpuSeconds = (Measurement.ProcessCpu() - cpu).TotalSeconds;
            Console.WriteLine($"  {figure}: {requests.Summary(seconds)}; phases began at {phases}");
            if (!summary.Complete || summary.MetricPointsSent != settings.SyncPoints)
            {
                throw new InvalidOperationException($"{figure}: sync sent {summary.MetricPointsSent} of {settings.SyncPoints} points; errors: {string.Join("; ", summary.Errors)}");
            }

            var serverRunId = summary.Runs.Single().ServerRunId!;
            var (readBack, complete) = await Measurement.ReadBackAsync(client, [serverRunId], settings.SyncPoints, cts.Token);
            return new Measurement(figure, settings.SyncPoints, seconds, readBack, complete, ClientCpuSeconds: cpuSeconds);
        }
        finally
        {
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>When each phase of the sync was first reported, from the start of the timing: where the time before the first point goes.</summary>
    private sealed class PhaseClock(Stopwatch clock) : IProgress<SyncProgress>
    {
        private readonly List<(SyncPhase Phase, double Seconds)> _seen = [];

        public void Report(SyncProgress value)
        {
            lock (_seen)
            {
                if (!_seen.Exists(p => p.Phase == value.Phase))
                {
                    _seen.Add((value.Phase, clock.Elapsed.TotalSeconds));
                }
            }
        }

        public override string ToString()
        {
            lock (_seen)
            {
                return string.Join(", ", _seen.Select(p => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{p.Phase} {p.Seconds:F2} s")));
            }
        }
    }
}
