using System.Diagnostics;
using System.Globalization;
using BenchmarkDotNet.Attributes;
using Mlflow.Client.FileStore;

namespace Mlflow.Client.Benchmarks;

/// <summary>
/// Metric append throughput of the local file store: batches of 1000 points over 10 keys into one run.
/// BenchmarkDotNet: <c>dotnet run -c Release --project tests/Mlflow.Client.Benchmarks -- --filter '*FileStoreBenchmarks*'</c>.
/// Console run: <c>dotnet run -c Release --project tests/Mlflow.Client.Benchmarks -- filestore [batches=1000] [points=1000] [keys=10]</c>.
/// </summary>
[MemoryDiagnoser]
public class FileStoreBenchmarks
{
    private string _root = "";
    private LocalFileStore _store = null!;
    private string _runId = "";
    private List<Metric> _batch = [];
    private long _step;

    [Params(10)]
    public int Keys { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _root = Path.Combine(Path.GetTempPath(), "mlflow-fs-bench-" + Guid.NewGuid().ToString("N"));
        _store = new LocalFileStore(_root);
        _runId = _store.CreateRunAsync("0", "bench", 0, null, "bench", CancellationToken.None).GetAwaiter().GetResult().Info.RunId;
        _batch = MakeBatch(1000, Keys, 0);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _store.Dispose();
        Directory.Delete(_root, recursive: true);
    }

    /// <summary>One LogBatch of 1000 points (divide the time by 1000 for a point).</summary>
    [Benchmark(OperationsPerInvoke = 1000)]
    public Task LogBatch1000Points() => _store.LogBatchAsync(_runId, _batch, [], [], CancellationToken.None);

    /// <summary>Formatting one value as Python's repr.</summary>
    [Benchmark]
    public int FormatPythonFloat()
    {
        Span<byte> buffer = stackalloc byte[PythonFloat.MaxLength];
        return PythonFloat.FormatUtf8(0.1234567 + _step++, buffer);
    }

    internal static List<Metric> MakeBatch(int points, int keys, int batchIndex)
    {
        var list = new List<Metric>(points);
        for (var i = 0; i < points; i++)
        {
            var step = (long)batchIndex * points / keys + i / keys;
            list.Add(new Metric("metric_" + (i % keys).ToString(CultureInfo.InvariantCulture), 1.0 / (i + 3), 1_700_000_000_000 + step, step));
        }

        return list;
    }
}

internal static partial class ThroughputRuns
{
    static partial void RegisterFileStore() => Register("filestore", FileStoreThroughput.RunAsync);
}

internal static class FileStoreThroughput
{
    public static async Task RunAsync(string[] args)
    {
        var batches = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1000;
        var points = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1000;
        var keys = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 10;
        var root = Path.Combine(Path.GetTempPath(), "mlflow-fs-throughput-" + Guid.NewGuid().ToString("N"));
        try
        {
            using var store = new LocalFileStore(root);
            var runId = (await store.CreateRunAsync("0", "throughput", 0, null, "bench", CancellationToken.None)).Info.RunId;
            // Pre-build the batches so the timing covers the store only; warm up with one batch.
            var prepared = Enumerable.Range(0, batches).Select(b => FileStoreBenchmarks.MakeBatch(points, keys, b)).ToList();
            await store.LogBatchAsync(runId, prepared[0], [], [], CancellationToken.None);
            var clock = Stopwatch.StartNew();
            for (var b = 1; b < batches; b++)
            {
                await store.LogBatchAsync(runId, prepared[b], [], [], CancellationToken.None);
            }

            clock.Stop();
            var total = (long)(batches - 1) * points;
            var syncClock = Stopwatch.StartNew();
            store.FlushToDisk();
            syncClock.Stop();
            var history = await store.GetMetricHistoryAsync(runId, "metric_0", CancellationToken.None);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"filestore: {total:N0} points in {batches - 1} batches of {points} over {keys} keys: {clock.Elapsed.TotalMilliseconds:F0} ms = {total / clock.Elapsed.TotalSeconds:N0} points/s ({clock.Elapsed.TotalMilliseconds * 1000 / (batches - 1):F0} us/batch); final fsync {syncClock.Elapsed.TotalMilliseconds:F1} ms; read back metric_0: {history.Count:N0} points"));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
