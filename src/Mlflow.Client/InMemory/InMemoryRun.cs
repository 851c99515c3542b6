using Mlflow.Client.FileStore;

namespace Mlflow.Client.InMemory;

/// <summary>The state of one run of <see cref="InMemoryTrackingStore"/>; guarded by the store's lock.</summary>
internal sealed class InMemoryRun(string runId, string experimentId, string runName, string? userId, long startTime, string artifactUri)
{
    public string RunId => runId;

    public string ExperimentId => experimentId;

    public string ArtifactUri => artifactUri;

    public string RunName { get; set; } = runName;

    public RunStatus Status { get; set; } = RunStatus.Running;

    public long? EndTime { get; set; }

    public Dictionary<string, string> Params { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, string> Tags { get; } = new(StringComparer.Ordinal);

    /// <summary>Every point of each metric, in logged order.</summary>
    public Dictionary<string, List<Metric>> Metrics { get; } = new(StringComparer.Ordinal);

    public List<DatasetInput> Inputs { get; } = [];

    public InMemoryArtifactRepository Artifacts { get; } = new(artifactUri);

    public string? ParentRunId => Tags.GetValueOrDefault(SystemTags.ParentRunId);

    public RunInfo ToInfo() => new()
    {
        RunId = runId,
        RunName = RunName,
        ExperimentId = experimentId,
        UserId = userId,
        Status = Status,
        StartTime = startTime,
        EndTime = EndTime,
        ArtifactUri = artifactUri,
        LifecycleStage = LifecycleStage.Active,
    };

    public Run ToRun() => new()
    {
        Info = ToInfo(),
        Data = new RunData
        {
            Metrics = LatestMetrics().Values.ToList(),
            Params = Params.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => new Param(p.Key, p.Value)).ToList(),
            Tags = Tags.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => new Tag(t.Key, t.Value)).ToList(),
        },
        Inputs = new RunInputs { DatasetInputs = Inputs.ToList() },
    };

    public RecordedRun ToRecorded() => new(
        ToInfo(),
        ParentRunId,
        new SortedDictionary<string, string>(Params, StringComparer.Ordinal),
        new SortedDictionary<string, string>(Tags, StringComparer.Ordinal),
        LatestMetrics().ToDictionary(kv => kv.Key, kv => kv.Value.Value, StringComparer.Ordinal),
        Metrics.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<Metric>)kv.Value.ToList(), StringComparer.Ordinal),
        Inputs.ToList(),
        Artifacts.Files);

    /// <summary>The latest point of each metric: the max by (step, timestamp, value), as MLflow compares them.</summary>
    private SortedDictionary<string, Metric> LatestMetrics()
    {
        var result = new SortedDictionary<string, Metric>(StringComparer.Ordinal);
        foreach (var (key, history) in Metrics)
        {
            var best = history[0];
            foreach (var m in history)
            {
                if (LocalFileStore.IsLater(m, best))
                {
                    best = m;
                }
            }

            result[key] = best;
        }

        return result;
    }
}
