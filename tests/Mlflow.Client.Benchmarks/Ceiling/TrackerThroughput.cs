using System.Collections.Concurrent;
using System.Diagnostics;

namespace Mlflow.Client.Benchmarks.Ceiling;

/// <summary>
/// The tracker as a training loop uses it (public API only): one tracker, <c>runs</c> runs each logged from its own
/// thread with <see cref="ActiveRun.LogMetric(string, double, long?, DateTimeOffset?)"/>, timed from the first log call
/// until every run's <see cref="ActiveRun.FlushAsync"/> returned and <see cref="MlflowTracker.Counters"/> counts every
/// point sent (acknowledged by the server).
/// </summary>
internal static class TrackerThroughput
{
    public static MlflowTrackerOptions Options(CeilingSettings settings) =>
        new() { TrackingUri = settings.Uri, ExperimentName = settings.Experiment };

    public static async Task<Measurement> MeasureAsync(CeilingSettings settings, MlflowClient client, string figure, int runs)
    {
        using var cts = new CancellationTokenSource(settings.Timeout);
        var pointsPerRun = settings.Points / runs;
        var tracker = MlflowTracker.Create(Options(settings));
        string[] runIds;
        double seconds;
        double cpuSeconds;
        string sendSummary;
        MlflowTrackerCounters counters;
        using var batches = new BatchStats();
        await using (tracker)
        {
            var active = new ActiveRun[runs];
            for (var r = 0; r < runs; r++)
            {
                active[r] = await tracker.StartRunAsync($"{figure}-{r}", cancellationToken: cts.Token);
            }

            runIds = active.Select(r => r.RunId).ToArray();
            var sentBefore = tracker.Counters.Sent;
            var errors = new ConcurrentQueue<Exception>();
            using var gate = new ManualResetEventSlim(false);
            var sw = new Stopwatch();
            var threads = active.Select(run => new Thread(() => LogAndFlush(run, pointsPerRun, gate, errors, cts.Token)) { IsBackground = true, Name = run.RunName }).ToArray();
            foreach (var thread in threads)
            {
                thread.Start();
            }

            var cpu = Measurement.ProcessCpu();
            sw.Start();
            gate.Set();
            foreach (var thread in threads)
            {
                var left = settings.Timeout - sw.Elapsed;
                if (left <= TimeSpan.Zero || !thread.Join(left))
                {
                    throw new TimeoutException($"{figure}: logging and flushing took more than {settings.Timeout.TotalSeconds:F0} s; counters {tracker.Counters}");
                }
            }

            // Sent is counted when the server's answer is processed; the flush may return a moment before.
            while (tracker.Counters.Sent - sentBefore < settings.Points && sw.Elapsed < settings.Timeout && errors.IsEmpty)
            {
                Thread.Sleep(1);
            }

            seconds = sw.Elapsed.TotalSeconds;
            cpuSeconds = (Measurement.ProcessCpu() - cpu).TotalSeconds;
            sendSummary = batches.Summary(seconds); // before the read-back, whose long get-history requests would count
            counters = tracker.Counters;
            if (!errors.IsEmpty)
            {
                throw new AggregateException(errors);
            }

            var sent = counters.Sent - sentBefore;
            if (sent != settings.Points || counters.Failed != 0 || counters.Offline != 0)
            {
                throw new InvalidOperationException($"{figure}: {sent} of {settings.Points} points acknowledged; counters {counters}");
            }

            foreach (var run in active)
            {
                await run.DisposeAsync();
            }
        }

        var (readBack, complete) = await Measurement.ReadBackAsync(client, runIds, pointsPerRun, cts.Token);
        Console.WriteLine($"  {figure}: tracker counters {counters}; {sendSummary}");
        return new Measurement(figure, settings.Points, seconds, readBack, complete, ClientCpuSeconds: cpuSeconds);
    }

    private static void LogAndFlush(ActiveRun run, long points, ManualResetEventSlim gate, ConcurrentQueue<Exception> errors, CancellationToken cancellationToken)
    {
        try
        {
            gate.Wait(cancellationToken);
            for (long step = 0; step < points; step++)
            {
                run.LogMetric(CeilingSettings.MetricKey, 1.0 / (step + 1), step);
            }

            run.FlushAsync(cancellationToken).GetAwaiter().GetResult();
        }
        catch (Exception ex)
        {
            errors.Enqueue(ex);
        }
    }
}
