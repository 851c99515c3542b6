using NUnit.Framework;
using System.Collections.Concurrent;
using Mlflow.Client.Store;

namespace Mlflow.Client.Tests.Tracking;

/// <summary>An in-memory store that records what the tracker sent, with hooks to fail or slow down log-batch calls.</summary>
internal sealed class FakeTrackingStore : ITrackingStore
{
    private int _runCounter;

    public sealed record BatchCall(string RunId, IReadOnlyList<Metric> Metrics, IReadOnlyList<Param> Params, IReadOnlyList<Tag> Tags);

    public ConcurrentQueue<BatchCall> Batches { get; } = new();
    public ConcurrentQueue<(string RunId, RunStatus? Status)> Updates { get; } = new();
    public ConcurrentQueue<(string ExperimentId, string? RunName, IReadOnlyList<Tag> Tags, string? UserId)> CreatedRuns { get; } = new();
    public ConcurrentQueue<string> Calls { get; } = new();
    public ConcurrentDictionary<string, Experiment> ExperimentsByName { get; } = new();

    /// <summary>Called before a batch is recorded; throw to fail it.</summary>
    public Func<BatchCall, CancellationToken, Task>? OnLogBatch { get; set; }

    public string Description => "fake";

    public IEnumerable<Metric> AllMetrics(string runId) => Batches.Where(b => b.RunId == runId).SelectMany(b => b.Metrics);

    public Task<Run> CreateRunAsync(string experimentId, string? runName, long startTime, IReadOnlyList<Tag>? tags, string? userId, CancellationToken cancellationToken)
    {
        var id = "run" + Interlocked.Increment(ref _runCounter).ToString("D29", System.Globalization.CultureInfo.InvariantCulture);
        CreatedRuns.Enqueue((experimentId, runName, tags ?? [], userId));
        Calls.Enqueue("create " + id);
        return Task.FromResult(new Run { Info = new RunInfo { RunId = id, ExperimentId = experimentId, RunName = runName } });
    }

    public Task<RunInfo> UpdateRunAsync(string runId, RunStatus? status, long? endTime, string? runName, CancellationToken cancellationToken)
    {
        Updates.Enqueue((runId, status));
        Calls.Enqueue($"update {runId} {status}");
        return Task.FromResult(new RunInfo { RunId = runId, Status = status ?? RunStatus.Running });
    }

    public async Task LogBatchAsync(string runId, IReadOnlyList<Metric> metrics, IReadOnlyList<Param> @params, IReadOnlyList<Tag> tags, CancellationToken cancellationToken)
    {
        var call = new BatchCall(runId, metrics, @params, tags);
        if (OnLogBatch is { } hook)
        {
            await hook(call, cancellationToken);
        }

        Batches.Enqueue(call);
        Calls.Enqueue($"batch {runId} {metrics.Count + @params.Count + tags.Count}");
    }

    public Task DeleteTagAsync(string runId, string key, CancellationToken cancellationToken)
    {
        Calls.Enqueue($"delete-tag {runId} {key}");
        return Task.CompletedTask;
    }

    public Task<Experiment?> GetExperimentByNameAsync(string name, CancellationToken cancellationToken)
        => Task.FromResult(ExperimentsByName.TryGetValue(name, out var e) ? e : null);

    public Task<string> CreateExperimentAsync(string name, string? artifactLocation, IReadOnlyList<Tag>? tags, CancellationToken cancellationToken)
    {
        var id = (ExperimentsByName.Count + 100).ToString(System.Globalization.CultureInfo.InvariantCulture);
        ExperimentsByName[name] = new Experiment { ExperimentId = id, Name = name };
        return Task.FromResult(id);
    }

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
