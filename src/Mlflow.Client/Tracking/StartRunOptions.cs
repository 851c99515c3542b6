namespace Mlflow.Client;

/// <summary>
/// How <see cref="MlflowTracker.StartRun(StartRunOptions)"/> starts a run: a new one (in the current experiment or
/// <see cref="ExperimentId"/>), or an existing one reopened by <see cref="RunId"/>, as MLflow's
/// <c>mlflow.start_run(run_id=..., experiment_id=..., run_name=..., tags=..., description=...)</c>.
/// </summary>
public sealed record StartRunOptions
{
    /// <summary>
    /// An existing run to reopen: its status goes back to RUNNING, its data stays, and ending it ends it again.
    /// <see langword="null"/> starts a new run (or reopens <c>MLFLOW_RUN_ID</c>, once per tracker, as MLflow does).
    /// </summary>
    public string? RunId { get; init; }

    /// <summary>The name of a new run; generated when <see langword="null"/>. Ignored when reopening (as MLflow does).</summary>
    public string? RunName { get; init; }

    /// <summary>
    /// The experiment of a new run, instead of the tracker's current one. When reopening, the run must belong to it
    /// (else <see cref="MlflowException"/>).
    /// </summary>
    public string? ExperimentId { get; init; }

    /// <summary>The run's description (tag <c>mlflow.note.content</c>, shown by MLflow's UI); not together with that tag in <see cref="Tags"/>.</summary>
    public string? Description { get; init; }

    /// <summary>Extra tags: they override the system tags of a new run, and are set on a reopened run.</summary>
    public IEnumerable<KeyValuePair<string, string>>? Tags { get; init; }
}
