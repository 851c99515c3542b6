using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using Mlflow.Client.FileStore;
using Mlflow.Client.Sync;

namespace Mlflow.Client.Benchmarks;

/// <summary>
/// What mlflow-sync does with a local run before its first request: reading the run and its metric files
/// (<see cref="RunSynchronizer.Read"/>), here for a run never synced, so every point is read.
/// <c>dotnet run -c Release --project tests/Mlflow.Client.Benchmarks -- --filter '*SyncReadBenchmarks*'</c>.
/// </summary>
[MemoryDiagnoser]
public class SyncReadBenchmarks
{
    private string _root = "";
    private string _runId = "";
    private LocalFileStore _store = null!;
    private RunSynchronizer _sync = null!;

    /// <summary>Points of the run's one metric, logged as a training loop logs them.</summary>
    [Params(1_000_000)]
    public int Points { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _root = Path.Combine(Path.GetTempPath(), "mlflow-syncread-bench-" + Guid.NewGuid().ToString("N"));
        var tracker = MlflowTracker.Create(new MlflowTrackerOptions { TrackingUri = _root });
        using (var run = tracker.StartRun("bench"))
        {
            _runId = run.RunId;
            for (var step = 0; step < Points; step++)
            {
                run.LogMetric("m", 1.0 / (step + 1), step);
            }
        }

        tracker.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _store = new LocalFileStore(_root);
        _sync = new RunSynchronizer(null, "http://127.0.0.1:5000", new SyncOptions(), NullLogger.Instance);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _store.Dispose();
        Directory.Delete(_root, recursive: true);
    }

    /// <summary>Reads the run and all its points, as the sync does before it sends anything.</summary>
    [Benchmark]
    public long ReadRun() => _sync.Read(_store, _runId).MetricTotal;
}
