using System.Diagnostics;
using Mlflow.Client.Benchmarks.Infrastructure;

namespace Mlflow.Client.Benchmarks;

/// <summary>
/// End-to-end throughput into a loopback HTTP endpoint that accepts log-batch (Kestrel on 127.0.0.1, parsing every
/// body), against the naive way: one awaited log-metric request per point.
///   dotnet run -c Release --project tests/Mlflow.Client.Benchmarks -- e2e [points=10000000] [naivePoints=20000]
/// Memory is sampled every second during the batched run (managed heap after a full collection is not forced:
/// GC.GetTotalMemory(false) and the process working set), so a leak shows as growth over the 10 million points.
/// </summary>
internal static partial class ThroughputRuns
{
    static partial void RegisterEndToEnd() => Register("e2e", async args =>
    {
        var points = args.Length > 0 ? long.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 10_000_000;
        var naivePoints = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 20_000;
        await using var server = await LoopbackTrackingServer.StartAsync();
        Console.WriteLine($"loopback endpoint {server.Url}; {Environment.ProcessorCount} cores");

        var batched = await RunBatchedAsync(server, points);
        server.Reset();
        var naive = await RunNaiveAsync(server, naivePoints);
        Console.WriteLine($"ratio batched/naive: {batched / naive:F0}x");
    });

    private static async Task<double> RunBatchedAsync(LoopbackTrackingServer server, long points)
    {
        var options = new MlflowTrackerOptions { TrackingUri = server.Url, ExperimentId = "0" };
        options.Client = new MlflowClientOptions();
        await using var tracker = MlflowTracker.Create(options);
        await using var run = await tracker.StartRunAsync("e2e");
        var samples = new List<(double Seconds, long Heap, long WorkingSet, long Received)>();
        var sw = Stopwatch.StartNew();
        var nextSample = 0.0;
        var keys = new[] { "loss", "accuracy", "lr", "grad_norm" };
        for (long i = 0; i < points; i++)
        {
            run.LogMetric(keys[i & 3], i * 0.001, step: i >> 2);
            if ((i & 0xFFFF) == 0 && sw.Elapsed.TotalSeconds >= nextSample)
            {
                samples.Add((sw.Elapsed.TotalSeconds, GC.GetTotalMemory(false), Environment.WorkingSet, server.MetricPoints));
                nextSample += 1;
            }
        }

        var loggedIn = sw.Elapsed;
        await run.FlushAsync();
        var total = sw.Elapsed;
        var received = server.MetricPoints;
        samples.Add((total.TotalSeconds, GC.GetTotalMemory(false), Environment.WorkingSet, received));
        var rate = received / total.TotalSeconds;
        Console.WriteLine($"batched: {points:N0} LogMetric calls returned in {loggedIn.TotalSeconds:F2} s; all {received:N0} points acknowledged by the endpoint after {total.TotalSeconds:F2} s = {rate:N0} points/s in {server.Requests:N0} requests; counters {tracker.Counters}");
        foreach (var s in samples)
        {
            Console.WriteLine($"  t={s.Seconds,6:F1} s  heap={s.Heap / 1048576.0,7:F1} MiB  working set={s.WorkingSet / 1048576.0,7:F1} MiB  received={s.Received:N0}");
        }

        if (received != points)
        {
            throw new InvalidOperationException($"expected {points} points at the endpoint, got {received}");
        }

        return rate;
    }

    private static async Task<double> RunNaiveAsync(LoopbackTrackingServer server, int points)
    {
        using var client = new MlflowClient(new MlflowClientOptions { TrackingUri = server.Url });
        var run = await client.CreateRunAsync("0", "naive");
        var sw = Stopwatch.StartNew();
        for (var i = 0; i < points; i++)
        {
            await client.LogMetricAsync(run.Info.RunId, "loss", i * 0.001, step: i);
        }

        var rate = points / sw.Elapsed.TotalSeconds;
        Console.WriteLine($"naive (one awaited log-metric request per point): {points:N0} points in {sw.Elapsed.TotalSeconds:F2} s = {rate:N0} points/s; endpoint saw {server.MetricPoints:N0}");
        return rate;
    }
}
