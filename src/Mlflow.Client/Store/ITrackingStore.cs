using Mlflow.Client.Artifacts;
using Mlflow.Client.Tracing;

namespace Mlflow.Client.Store;

/// <summary>
/// Where tracking data lives: a tracking server (<see cref="RestTrackingStore"/>) or a local folder in MLflow's own
/// on-disk format (the local file store). The fluent API, the batcher, the offline fallback and sync sit on this; it
/// holds only what they use. What differs between stores (where data lands, the artifact folder of a run, the model
/// registry, a server to fall back from) is asked of the store, so nothing above it tests its type.
/// Single-entity writes are batches of one: the store has one write path (<see cref="LogBatchAsync"/>, which the
/// sender reaches from its queued entries through <see cref="LogEntriesAsync"/>).
/// </summary>
internal interface ITrackingStore : IDisposable
{
    /// <summary>A short description for logs (URI without credentials, or folder).</summary>
    string Description { get; }

    /// <summary>Requests the store's retry pipeline sent again after a transient failure (none for a local store).</summary>
    long RetriedRequests => 0;

    /// <summary>
    /// Where the data goes, as <see cref="MlflowTracker.Destination"/> shows it: a local store's root folder, or
    /// <see cref="Description"/> (a server's URI without credentials, <c>in-memory store</c>).
    /// </summary>
    string Destination => Description;

    /// <summary>
    /// Whether the data stays on this machine with no server behind it (a local folder, or memory): keys must then be
    /// valid file names, and there is no server to fall back from offline.
    /// </summary>
    bool IsLocal => false;

    /// <summary>
    /// The client of the tracking server this store talks to (which the offline fallback drains through);
    /// <see langword="null"/> for a store without a server.
    /// </summary>
    MlflowClient? ServerClient => null;

    /// <summary>
    /// Where one run's artifact files are written and read: a local store's run folder, or the repository of a server
    /// run's artifact root (<see cref="ArtifactRepositories.ForRoot"/>), whose URI is read from the run when not known.
    /// </summary>
    /// <param name="runId">The run's id in this store.</param>
    /// <param name="knownArtifactUri">The run's artifact URI when the caller already read it; a local store ignores it.</param>
    /// <param name="artifactUriRead">Called with the artifact URI this call read from the store, for the caller to keep.</param>
    /// <param name="cancellationToken">Cancels the read of the run.</param>
    /// <exception cref="NotSupportedException">The store keeps no artifacts, or the run's artifact root cannot be reached from here.</exception>
    Task<IArtifactRepository> GetRunArtifactsAsync(string runId, string? knownArtifactUri, Action<string>? artifactUriRead, CancellationToken cancellationToken)
        => Task.FromException<IArtifactRepository>(new NotSupportedException($"The tracking store {Description} does not keep artifacts."));

    /// <summary>
    /// Whether this store records MLflow 3 logged models (<c>logged-models</c>, <c>runs/outputs</c>): a tracking server
    /// that says it runs MLflow 3 (<see cref="MlflowClient.GetServerInfoAsync"/>, read once per client and kept).
    /// <see langword="false"/> for a 2.x server, a server that answers 404 on both <c>/version</c> and server-info, and
    /// a store without a server.
    /// </summary>
    /// <exception cref="MlflowException">The server could not be asked (not kept: the next call asks again).</exception>
    Task<bool> SupportsLoggedModelsAsync(CancellationToken cancellationToken) => Task.FromResult(false);

    /// <summary>
    /// The local store that records MLflow 3 logged models itself, in MLflow 3.11.1's FileStore layout (a local folder
    /// store: this store); <see langword="null"/> for a server (which has its own endpoints) and the in-memory store.
    /// </summary>
    FileStore.LocalFileStore? LoggedModelStore => null;

    /// <summary>
    /// A model registry beside this store's runs: the server's registry, or a local store's file-based one
    /// (<c>models/</c> in the same folder), or the in-memory store's.
    /// </summary>
    /// <exception cref="NotSupportedException">The store has no model registry.</exception>
    MlflowModelRegistry CreateRegistry() => throw new NotSupportedException($"The store {Description} has no model registry.");

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

    /// <summary>
    /// <see cref="LogBatchAsync"/> for the tracker's sender, from its queued entries (metrics, params and tags, within the
    /// limits). A server writes the request body from them directly: no object per entry on the sender's thread, whose
    /// garbage would stop the logging threads in collections. By default, the request lists and <see cref="LogBatchAsync"/>.
    /// </summary>
    Task LogEntriesAsync(string runId, ReadOnlyMemory<Batching.LogEntry> entries, CancellationToken cancellationToken)
    {
        var (metrics, @params, tags) = Batching.BatchBuilder.ToRequest(entries.Span);
        return LogBatchAsync(runId, metrics, @params, tags, cancellationToken);
    }

    Task DeleteTagAsync(string runId, string key, CancellationToken cancellationToken);

    /// <summary>Every point of one metric, in logged order.</summary>
    Task<IReadOnlyList<Metric>> GetMetricHistoryAsync(string runId, string metricKey, CancellationToken cancellationToken);

    Task LogInputsAsync(string runId, IReadOnlyList<DatasetInput> datasets, CancellationToken cancellationToken);

    /// <summary>
    /// Logs a finished trace with its spans, as MLflow's exporter does on a store without OTLP: the trace info, then
    /// its span data (<c>traces.json</c>) where the store keeps it. What the info leaves unset comes from the root span.
    /// The seam a trace exporter writes through, whichever store is behind the tracker.
    /// </summary>
    /// <returns>The trace info as the store keeps it (with the tags it added, <c>mlflow.artifactLocation</c>).</returns>
    /// <exception cref="NotSupportedException">The store keeps no traces.</exception>
    Task<TraceInfo> LogTraceAsync(TraceInfo info, IReadOnlyList<TraceSpan> spans, CancellationToken cancellationToken)
        => Task.FromException<TraceInfo>(new NotSupportedException($"The tracking store {Description} does not keep traces."));

    /// <summary>A trace with its spans.</summary>
    /// <exception cref="NotSupportedException">The store keeps no traces.</exception>
    Task<MlflowTrace> GetTraceAsync(string traceId, CancellationToken cancellationToken)
        => Task.FromException<MlflowTrace>(new NotSupportedException($"The tracking store {Description} does not keep traces."));

    /// <summary>Attaches an assessment to a trace; the store gives it its id and times.</summary>
    /// <exception cref="NotSupportedException">The store keeps no traces.</exception>
    Task<Assessment> CreateAssessmentAsync(Assessment assessment, CancellationToken cancellationToken)
        => Task.FromException<Assessment>(new NotSupportedException($"The tracking store {Description} does not keep traces."));
}
