namespace Mlflow.Client.Sync;

/// <summary>What happened to one run.</summary>
public enum SyncRunOutcome
{
    /// <summary>A server run was created for it (in a dry run: would be).</summary>
    Created,
    /// <summary>Its server run existed and the rest was sent (in a dry run: would be).</summary>
    Resumed,
    /// <summary>Its server run already had everything.</summary>
    UpToDate,
    /// <summary>Some of it could not be sent; see <see cref="SyncRunResult.Error"/>.</summary>
    Failed,
}

/// <summary>The result for one local run.</summary>
public sealed record SyncRunResult
{
    /// <summary>The local run id.</summary>
    public required string LocalRunId { get; init; }

    /// <summary>The server run id (<see langword="null"/> when none was found or created, and in a dry run without a journal).</summary>
    public string? ServerRunId { get; init; }

    /// <summary>What happened.</summary>
    public SyncRunOutcome Outcome { get; init; }

    /// <summary>Params sent by this sync (dry run: to send).</summary>
    public int ParamsSent { get; init; }

    /// <summary>Tags sent by this sync (dry run: to send).</summary>
    public int TagsSent { get; init; }

    /// <summary>Metric points sent by this sync (dry run: to send).</summary>
    public long MetricPointsSent { get; init; }

    /// <summary>Artifact files uploaded by this sync (dry run: to upload).</summary>
    public int ArtifactsSent { get; init; }

    /// <summary>Artifact files not uploaded because the server run's artifact store is not reachable through the tracking server.</summary>
    public int ArtifactsSkipped { get; init; }

    /// <summary>Why artifacts were skipped, when they were.</summary>
    public string? ArtifactsSkippedReason { get; init; }

    /// <summary>Traces (info and span data) sent by this sync (dry run: to send).</summary>
    public int TracesSent { get; init; }

    /// <summary>Assessments of traces sent by this sync (dry run: to send).</summary>
    public int AssessmentsSent { get; init; }

    /// <summary>Traces not sent because the server is not an MLflow 3 server (the run is sent without them).</summary>
    public int TracesSkipped { get; init; }

    /// <summary>
    /// MLflow 3 logged models of the run pushed as logged models and finalized by this sync (dry run: finalized local
    /// models not finalized on the server yet; a 2.x server gets their files as the run's artifacts instead).
    /// </summary>
    public int LoggedModelsSent { get; init; }

    /// <summary>Why traces were skipped, when they were.</summary>
    public string? TracesSkippedReason { get; init; }

    /// <summary>Why the run failed, when it did.</summary>
    public string? Error { get; init; }

    /// <summary>Bytes of local metric files read by this sync (a resumed sync reads from where the last one stopped).</summary>
    internal long MetricBytesRead { get; init; }
}

/// <summary>The totals of a sync.</summary>
public sealed record SyncSummary
{
    /// <summary>Whether this was a dry run (counts are what would be sent).</summary>
    public bool DryRun { get; init; }

    /// <summary>Per-run results, in sync order (parents before children).</summary>
    public IReadOnlyList<SyncRunResult> Runs { get; init; } = [];

    /// <summary>Errors, one line each, without credentials.</summary>
    public IReadOnlyList<string> Errors { get; init; } = [];

    /// <summary>Runs created on the server.</summary>
    public int RunsCreated => Runs.Count(r => r.Outcome == SyncRunOutcome.Created);

    /// <summary>Server runs found (by journal or by their source tag) and completed.</summary>
    public int RunsResumed => Runs.Count(r => r.Outcome == SyncRunOutcome.Resumed);

    /// <summary>Runs with nothing left to send.</summary>
    public int RunsUpToDate => Runs.Count(r => r.Outcome == SyncRunOutcome.UpToDate);

    /// <summary>Runs that failed.</summary>
    public int RunsFailed => Runs.Count(r => r.Outcome == SyncRunOutcome.Failed);

    /// <summary>Params sent.</summary>
    public int ParamsSent => Runs.Sum(r => r.ParamsSent);

    /// <summary>Tags sent.</summary>
    public int TagsSent => Runs.Sum(r => r.TagsSent);

    /// <summary>Metric points sent.</summary>
    public long MetricPointsSent => Runs.Sum(r => r.MetricPointsSent);

    /// <summary>Artifact files uploaded.</summary>
    public int ArtifactsSent => Runs.Sum(r => r.ArtifactsSent);

    /// <summary>Artifact files skipped (the server's artifact store is not proxied).</summary>
    public int ArtifactsSkipped => Runs.Sum(r => r.ArtifactsSkipped);

    /// <summary>Traces sent.</summary>
    public int TracesSent => Runs.Sum(r => r.TracesSent);

    /// <summary>Assessments of traces sent.</summary>
    public int AssessmentsSent => Runs.Sum(r => r.AssessmentsSent);

    /// <summary>Logged models pushed and finalized.</summary>
    public int LoggedModelsSent => Runs.Sum(r => r.LoggedModelsSent);

    /// <summary>Traces skipped (the server is not an MLflow 3 server).</summary>
    public int TracesSkipped => Runs.Sum(r => r.TracesSkipped);

    /// <summary>True when every run was sent whole: no failure, no skipped artifact or trace, no error.</summary>
    public bool Complete => Errors.Count == 0 && RunsFailed == 0 && ArtifactsSkipped == 0 && TracesSkipped == 0;
}
