using System.Diagnostics;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Mlflow.Client.Batching;
using Mlflow.Client.Rest;
using Mlflow.Client.Store;

namespace Mlflow.Client.Benchmarks;

/// <summary>
/// The fluent API's hot path and the sender's batch building.
///   dotnet run -c Release --project tests/Mlflow.Client.Benchmarks -- --filter '*TrackingBenchmarks*'
/// </summary>
[MemoryDiagnoser]
public class TrackingBenchmarks
{
    private MlflowTracker _tracker = null!;
    private ActiveRun _run = null!;
    private LogEntry[] _entries = null!;
    private long _step;

    [GlobalSetup]
    public void Setup()
    {
        var options = new MlflowTrackerOptions();
        options.Batching.MaxQueueEntries = 1_000_000;
        _tracker = new MlflowTracker(new NullTrackingStore(), options, null, EnvironmentReader.FromDictionary(new Dictionary<string, string>()), user: "bench");
        _run = _tracker.StartRun("bench");
        _entries = Enumerable.Range(0, 1000).Select(i => LogEntry.Metric("train/loss", 1.0 / (i + 1), 1_700_000_000_000 + i, i)).ToArray();
    }

    [GlobalCleanup]
    public void Cleanup() => _tracker.Dispose();

    /// <summary>Drains the queue between iterations, so an iteration measures the caller, not a full queue waiting for the sender.</summary>
    [IterationCleanup(Target = nameof(LogMetric))]
    public void Drain() => _tracker.FlushAsync(TimeSpan.FromSeconds(60)).GetAwaiter().GetResult();

    /// <summary>One metric point through validation, timestamping and the queue (the sender drains in the background).</summary>
    [Benchmark]
    [InvocationCount(200_000)]
    public void LogMetric() => _run.LogMetric("train/loss", 0.25, _step++);

    /// <summary>One full log-batch request body of 1000 metrics: entries to request lists, then JSON.</summary>
    [Benchmark]
    public int Build1000MetricBatchBody()
    {
        var (metrics, @params, tags) = BatchBuilder.ToRequest(_entries);
        var body = JsonSerializer.SerializeToUtf8Bytes(new LogBatchRequest("0123456789abcdef0123456789abcdef", metrics, null, null), MlflowJsonContext.Default.LogBatchRequest);
        return body.Length + @params.Count + tags.Count;
    }

    private readonly System.Buffers.ArrayBufferWriter<byte> _body = new(128 * 1024);

    /// <summary>The same body written into a reused buffer: without the 87 KB large-object allocation per call of the variant above.</summary>
    [Benchmark]
    public int Build1000MetricBatchBodyIntoReusedBuffer()
    {
        var (metrics, @params, tags) = BatchBuilder.ToRequest(_entries);
        _body.ResetWrittenCount();
        using var writer = new Utf8JsonWriter(_body);
        JsonSerializer.Serialize(writer, new LogBatchRequest("0123456789abcdef0123456789abcdef", metrics, null, null), MlflowJsonContext.Default.LogBatchRequest);
        return _body.WrittenCount + @params.Count + tags.Count;
    }

    /// <summary>The sender's body: written from the queued entries into a reused buffer, with no object per entry.</summary>
    [Benchmark]
    public int Build1000MetricBodyFromEntriesIntoReusedBuffer()
    {
        _body.ResetWrittenCount();
        using var writer = new Utf8JsonWriter(_body);
        JsonSerializer.Serialize(writer, new LogEntryBatchRequest("0123456789abcdef0123456789abcdef", _entries), MlflowJsonContext.Default.LogEntryBatchRequest);
        return _body.WrittenCount;
    }
}

/// <summary>A store that accepts everything at once.</summary>
internal sealed class NullTrackingStore : ITrackingStore
{
    private long _points;

    public long Points => Interlocked.Read(ref _points);

    public string Description => "null";

    public Task<Run> CreateRunAsync(string experimentId, string? runName, long startTime, IReadOnlyList<Tag>? tags, string? userId, CancellationToken cancellationToken)
        => Task.FromResult(new Run { Info = new RunInfo { RunId = Guid.NewGuid().ToString("N"), ExperimentId = experimentId, RunName = runName } });

    public Task<RunInfo> UpdateRunAsync(string runId, RunStatus? status, long? endTime, string? runName, CancellationToken cancellationToken)
        => Task.FromResult(new RunInfo { RunId = runId });

    public Task LogBatchAsync(string runId, IReadOnlyList<Metric> metrics, IReadOnlyList<Param> @params, IReadOnlyList<Tag> tags, CancellationToken cancellationToken)
    {
        Interlocked.Add(ref _points, metrics.Count + @params.Count + tags.Count);
        return Task.CompletedTask;
    }

    /// <summary>Takes the sender's entries as they are (a server writes its request body from them).</summary>
    public async Task LogEntriesAsync(string runId, ReadOnlyMemory<LogEntry> entries, CancellationToken cancellationToken)
    {
        if (Latency > TimeSpan.Zero)
        {
            await Task.Delay(Latency, cancellationToken);
        }

        Interlocked.Add(ref _points, entries.Length);
    }

    /// <summary>How long each log-batch call takes, as a server's answer would (zero: at once).</summary>
    public TimeSpan Latency { get; init; }

    public Task DeleteTagAsync(string runId, string key, CancellationToken cancellationToken) => Task.CompletedTask;
    public Task<Experiment?> GetExperimentByNameAsync(string name, CancellationToken cancellationToken) => Task.FromResult<Experiment?>(null);
    public Task<string> CreateExperimentAsync(string name, string? artifactLocation, IReadOnlyList<Tag>? tags, CancellationToken cancellationToken) => Task.FromResult("1");
    public Task<Experiment> GetExperimentAsync(string experimentId, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<Page<Experiment>> SearchExperimentsAsync(ExperimentSearchOptions options, string? pageToken, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task DeleteExperimentAsync(string experimentId, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task RestoreExperimentAsync(string experimentId, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task SetExperimentTagAsync(string experimentId, string key, string value, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task DeleteRunAsync(string runId, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task RestoreRunAsync(string runId, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<Run> GetRunAsync(string runId, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<Page<Run>> SearchRunsAsync(RunSearchOptions options, string? pageToken, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<IReadOnlyList<Metric>> GetMetricHistoryAsync(string runId, string metricKey, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task LogInputsAsync(string runId, IReadOnlyList<DatasetInput> datasets, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task LogArtifactAsync(string runId, string artifactPath, Stream content, CancellationToken cancellationToken) => throw new NotSupportedException();
    public Task<IReadOnlyList<ArtifactFileInfo>> ListArtifactsAsync(string runId, string? path, CancellationToken cancellationToken) => throw new NotSupportedException();

    public void Dispose()
    {
    }
}

/// <summary>
/// Named console run: <c>dotnet run -c Release --project tests/Mlflow.Client.Benchmarks -- tracking-million [--store-latency-ms N]</c>.
/// With a latency the store is slower than the caller, as a server is: the queue grows to hold most of the burst.
/// </summary>
internal static partial class ThroughputRuns
{
    static partial void RegisterTracking() => Register("tracking-million", async args =>
    {
        const int N = 1_000_000;
        var latency = args.Length >= 2 && args[0] == "--store-latency-ms" ? TimeSpan.FromMilliseconds(int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture)) : TimeSpan.Zero;
        var store = new NullTrackingStore { Latency = latency };
        await using var tracker = new MlflowTracker(store, new MlflowTrackerOptions(), null, EnvironmentReader.FromDictionary(new Dictionary<string, string>()), user: "bench");
        var run = tracker.StartRun("million");
        run.LogMetric("loss", -1, -1); // the first call's one-time work (thread-static buffers) is not counted
        // Pass 1 is the first burst (the run's reserve of chunks grows ahead of it); pass 2 is the same burst again, once
        // chunks were given back: what a training loop logging in bursts costs after its first one.
        for (var pass = 1; pass <= 2; pass++)
        {
            var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
            var chunksBefore = run.Buffer.CallerAllocatedChunks;
            var processBefore = GC.GetTotalAllocatedBytes(precise: true);
            var pausedBefore = GC.GetTotalPauseDuration();
            var gen0Before = GC.CollectionCount(0);
            var sw = Stopwatch.StartNew();
            for (var i = 0; i < N; i++)
            {
                run.LogMetric("loss", i, i);
            }

            var logged = sw.Elapsed;
            var paused = GC.GetTotalPauseDuration() - pausedBefore; // the GC stops the logging thread too
            var collections = GC.CollectionCount(0) - gen0Before;
            var callerBytes = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
            var callerChunks = run.Buffer.CallerAllocatedChunks - chunksBefore; // chunks the reserve did not have ready
            var flushed = await tracker.FlushAsync(TimeSpan.FromSeconds(60));
            var processBytes = GC.GetTotalAllocatedBytes(precise: true) - processBefore; // the sender's and every other thread's too
            Console.WriteLine($"pass {pass}: {N:N0} LogMetric calls: {logged.TotalMilliseconds:F0} ms ({logged.TotalNanoseconds / N:F0} ns/call); caller thread allocated {callerBytes:N0} bytes ({(double)callerBytes / N:F2} B/call, {callerChunks} chunks allocated by the caller); the process allocated {(double)processBytes / N:F2} B/call until delivered; GC paused {paused.TotalMilliseconds:F1} ms in {collections} collections; delivered {store.Points:N0} (flushed={flushed}) after {sw.Elapsed.TotalMilliseconds:F0} ms; {tracker.Counters}");
        }
    });
}
