namespace Mlflow.Client.Store;

/// <summary>
/// Where tracking data lives: a tracking server (<see cref="RestTrackingStore"/>) or a local folder in MLflow's own
/// on-disk format (the local file store). The fluent API, the batcher, the offline fallback and sync sit on this; it
/// holds only what they use.
/// Single-entity writes are batches of one: the store has one write path.
/// </summary>
internal interface ITrackingStore : IDisposable
{
    /// <summary>A short description for logs (URI without credentials, or folder).</summary>
    string Description { get; }

    /// <summary>Requests the store's retry pipeline sent again after a transient failure (none for a local store).</summary>
    long RetriedRequests => 0;

    Task<Experiment> GetExperimentAsync(string experimentId, CancellationToken cancellationToken);

    /// <summary>The experiment with that name (active preferred over deleted), or <see langword="null"/>.</summary>
    Task<Experiment?> GetExperimentByNameAsync(string name, CancellationToken cancellationToken);

    Task<string> CreateExperimentAsync(string name, string? artifactLocation, IReadOnlyList<Tag>? tags, CancellationToken cancellationToken);

    Task<Page<Experiment>> SearchExperimentsAsync(ExperimentSearchOptions options, string? pageToken, CancellationToken cancellationToken);

    Task RestoreExperimentAsync(string experimentId, CancellationToken cancellationToken);

    /// <summary>Creates a run. Tags include the system tags; the store generates a run name when none is given.</summary>
    Task<Run> CreateRunAsync(string experimentId, string? runName, long startTime, IReadOnlyList<Tag>? tags, string? userId, CancellationToken cancellationToken);

    Task<RunInfo> UpdateRunAsync(string runId, RunStatus? status, long? endTime, string? runName, CancellationToken cancellationToken);

    /// <summary>A run with its params, tags and latest metric per key.</summary>
    Task<Run> GetRunAsync(string runId, CancellationToken cancellationToken);

    Task<Page<Run>> SearchRunsAsync(RunSearchOptions options, string? pageToken, CancellationToken cancellationToken);

    /// <summary>Writes metrics, params and tags of one run; the caller keeps within <see cref="MlflowLimits"/> per call.</summary>
    Task LogBatchAsync(string runId, IReadOnlyList<Metric> metrics, IReadOnlyList<Param> @params, IReadOnlyList<Tag> tags, CancellationToken cancellationToken);

    Task DeleteTagAsync(string runId, string key, CancellationToken cancellationToken);

    /// <summary>Every point of one metric, in logged order.</summary>
    Task<IReadOnlyList<Metric>> GetMetricHistoryAsync(string runId, string metricKey, CancellationToken cancellationToken);

    Task LogInputsAsync(string runId, IReadOnlyList<DatasetInput> datasets, CancellationToken cancellationToken);
}
