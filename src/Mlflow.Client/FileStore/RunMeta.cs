using System.Globalization;

namespace Mlflow.Client.FileStore;

/// <summary>A run's <c>meta.yaml</c> as MLflow 2.x writes it (status and source type as integers, both run_id and run_uuid).</summary>
internal sealed record RunMeta
{
    public required string RunId { get; init; }
    public required string ExperimentId { get; init; }
    public string? RunName { get; init; }
    public string? UserId { get; init; }
    public int Status { get; init; } = (int)RunStatus.Running;
    public long? StartTime { get; init; }
    public long? EndTime { get; init; }
    public string LifecycleStage { get; init; } = "active";
    public long? DeletedTime { get; init; }
    public string? ArtifactUri { get; init; }

    /// <summary>The YAML text; <c>deleted_time: null</c> only at creation (as MLflow), the value once deleted.</summary>
    public string ToYaml(bool includeNullDeletedTime)
    {
        var entries = new List<KeyValuePair<string, object?>>
        {
            new("artifact_uri", ArtifactUri),
            new("end_time", EndTime),
            new("entry_point_name", ""),
            new("experiment_id", ExperimentId),
            new("lifecycle_stage", LifecycleStage),
            new("run_id", RunId),
            new("run_name", RunName ?? ""),
            new("run_uuid", RunId),
            new("source_name", ""),
            new("source_type", 4L),
            new("source_version", ""),
            new("start_time", StartTime),
            new("status", (long)Status),
            new("tags", MiniYaml.EmptyList.Instance),
            new("user_id", UserId),
        };
        if (DeletedTime is not null || includeNullDeletedTime)
        {
            entries.Add(new("deleted_time", DeletedTime));
        }

        return MiniYaml.Write(entries);
    }

    public static RunMeta FromYaml(Dictionary<string, object?> y)
    {
        var runId = LocalFileStore.AsString(y.GetValueOrDefault("run_id")) ?? LocalFileStore.AsString(y.GetValueOrDefault("run_uuid"))
            ?? throw new FormatException("meta.yaml has neither run_id nor run_uuid");
        var status = y.GetValueOrDefault("status") switch
        {
            long l => (int)l,
            string s when Enum.TryParse<RunStatus>(s.Replace("_", "", StringComparison.Ordinal), true, out var rs) => (int)rs,
            null => (int)RunStatus.Running,
            var other => throw new FormatException($"meta.yaml status '{other}' is not a run status"),
        };
        return new RunMeta
        {
            RunId = runId,
            ExperimentId = LocalFileStore.AsString(y.GetValueOrDefault("experiment_id")) ?? throw new FormatException("meta.yaml has no experiment_id"),
            RunName = LocalFileStore.AsString(y.GetValueOrDefault("run_name")),
            UserId = LocalFileStore.AsString(y.GetValueOrDefault("user_id")),
            Status = status,
            StartTime = LocalFileStore.AsLong(y.GetValueOrDefault("start_time")),
            EndTime = LocalFileStore.AsLong(y.GetValueOrDefault("end_time")),
            LifecycleStage = LocalFileStore.AsString(y.GetValueOrDefault("lifecycle_stage")) ?? "active",
            DeletedTime = LocalFileStore.AsLong(y.GetValueOrDefault("deleted_time")),
            ArtifactUri = LocalFileStore.AsString(y.GetValueOrDefault("artifact_uri")),
        };
    }

    public RunInfo ToRunInfo() => new()
    {
        RunId = RunId,
        RunName = string.IsNullOrEmpty(RunName) ? null : RunName,
        ExperimentId = ExperimentId,
        UserId = UserId,
        Status = Enum.IsDefined(typeof(RunStatus), Status) ? (RunStatus)Status : RunStatus.Running,
        StartTime = StartTime,
        EndTime = EndTime,
        ArtifactUri = ArtifactUri,
        LifecycleStage = LifecycleStage == "deleted" ? Client.LifecycleStage.Deleted : Client.LifecycleStage.Active,
    };

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"run {RunId} in {ExperimentId} ({LifecycleStage})");
}
