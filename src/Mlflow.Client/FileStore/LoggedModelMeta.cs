using System.Globalization;

namespace Mlflow.Client.FileStore;

/// <summary>
/// A logged model's <c>meta.yaml</c> as MLflow 3.11.1's FileStore writes it (<c>&lt;experiment&gt;/models/m-…/meta.yaml</c>):
/// keys sorted, <c>status</c> as an integer (1 PENDING, 2 READY, 3 FAILED), <c>lifecycle_stage: active</c> only in the
/// file written at creation (a finalize rewrites it without, as Python's <c>_make_persisted_model_dict</c> does).
/// </summary>
internal sealed record LoggedModelMeta
{
    public required string ModelId { get; init; }
    public required string ExperimentId { get; init; }
    public required string Name { get; init; }
    public string? ArtifactLocation { get; init; }
    public long CreationTimestamp { get; init; }
    public long LastUpdatedTimestamp { get; init; }
    public string? ModelType { get; init; }
    public string? SourceRunId { get; init; }
    public LoggedModelStatus Status { get; init; } = LoggedModelStatus.Pending;
    public string? StatusMessage { get; init; }

    /// <summary><c>active</c> at creation; <see langword="null"/> (not written) after a finalize; <c>deleted</c> once deleted.</summary>
    public string? LifecycleStage { get; init; }

    public string ToYaml()
    {
        var entries = new List<KeyValuePair<string, object?>>
        {
            new("artifact_location", ArtifactLocation),
            new("creation_timestamp", CreationTimestamp),
            new("experiment_id", ExperimentId),
            new("last_updated_timestamp", LastUpdatedTimestamp),
            new("model_id", ModelId),
            new("model_type", ModelType),
            new("name", Name),
            new("source_run_id", SourceRunId),
            new("status", (long)Status),
            new("status_message", StatusMessage),
        };
        if (LifecycleStage is not null)
        {
            entries.Add(new("lifecycle_stage", LifecycleStage));
        }

        return MiniYaml.Write(entries);
    }

    public static LoggedModelMeta FromYaml(Dictionary<string, object?> y)
    {
        var status = y.GetValueOrDefault("status") switch
        {
            long l when Enum.IsDefined(typeof(LoggedModelStatus), (int)l) => (LoggedModelStatus)(int)l,
            null => LoggedModelStatus.Unspecified,
            var other => throw new FormatException($"meta.yaml status '{other}' is not a logged model status"),
        };
        return new LoggedModelMeta
        {
            ModelId = LocalFileStore.AsString(y.GetValueOrDefault("model_id")) ?? throw new FormatException("meta.yaml has no model_id"),
            ExperimentId = LocalFileStore.AsString(y.GetValueOrDefault("experiment_id")) ?? throw new FormatException("meta.yaml has no experiment_id"),
            Name = LocalFileStore.AsString(y.GetValueOrDefault("name")) ?? "",
            ArtifactLocation = LocalFileStore.AsString(y.GetValueOrDefault("artifact_location")),
            CreationTimestamp = LocalFileStore.AsLong(y.GetValueOrDefault("creation_timestamp")) ?? 0,
            LastUpdatedTimestamp = LocalFileStore.AsLong(y.GetValueOrDefault("last_updated_timestamp")) ?? 0,
            ModelType = LocalFileStore.AsString(y.GetValueOrDefault("model_type")),
            SourceRunId = LocalFileStore.AsString(y.GetValueOrDefault("source_run_id")),
            Status = status,
            StatusMessage = LocalFileStore.AsString(y.GetValueOrDefault("status_message")),
            LifecycleStage = LocalFileStore.AsString(y.GetValueOrDefault("lifecycle_stage")),
        };
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"logged model {ModelId} in {ExperimentId} ({Status})");
}
