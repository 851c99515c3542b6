namespace Mlflow.Client.Sync;

/// <summary>The step a run's sync is in.</summary>
public enum SyncPhase
{
    /// <summary>Finding or creating the experiment and the server run.</summary>
    Starting,
    /// <summary>Checking points whose earlier send had no clear answer against the server's history.</summary>
    Reconciling,
    /// <summary>Sending params.</summary>
    Params,
    /// <summary>Sending tags.</summary>
    Tags,
    /// <summary>Sending metric points.</summary>
    Metrics,
    /// <summary>Sending dataset inputs.</summary>
    Inputs,
    /// <summary>Uploading artifact files.</summary>
    Artifacts,
    /// <summary>Sending the run's final status and end time.</summary>
    Status,
    /// <summary>The run is done (or, in a dry run, counted).</summary>
    Done,
    /// <summary>The run failed; see <see cref="SyncSummary.Errors"/>.</summary>
    Failed,
    /// <summary>Sending the run's MLflow 3 traces and their assessments (after the artifacts, before the status).</summary>
    Traces = 10,
    /// <summary>Pushing the run's MLflow 3 logged models (before the metrics: created and linked; after the artifacts: files and finalize).</summary>
    Models = 11,
}

/// <summary>A progress report of a sync: which run, which step, how much of it is sent.</summary>
public sealed record SyncProgress
{
    /// <summary>The local run id.</summary>
    public required string LocalRunId { get; init; }

    /// <summary>The run's name, if it has one.</summary>
    public string? RunName { get; init; }

    /// <summary>1-based position of the run in this sync.</summary>
    public int RunIndex { get; init; }

    /// <summary>Number of runs in this sync.</summary>
    public int RunCount { get; init; }

    /// <summary>The current step.</summary>
    public SyncPhase Phase { get; init; }

    /// <summary>Metric points of this run acknowledged so far, earlier syncs included.</summary>
    public long MetricPointsDone { get; init; }

    /// <summary>Metric points of this run in the local store.</summary>
    public long MetricPointsTotal { get; init; }

    /// <summary>Artifact files of this run uploaded so far in this sync.</summary>
    public int ArtifactsDone { get; init; }

    /// <summary>Artifact files this sync has to upload for this run.</summary>
    public int ArtifactsTotal { get; init; }
}
