using Mlflow.Client.Artifacts;
using Mlflow.Client.Tracing;

namespace Mlflow.Client.Store;

/// <summary>The tracking store of a tracking server: a thin adapter over <see cref="MlflowClient"/>.</summary>
internal sealed class RestTrackingStore : ITrackingStore
{
    private readonly MlflowClient _client;
    private readonly bool _ownsClient;

    public RestTrackingStore(MlflowClient client, bool ownsClient)
    {
        _client = client;
        _ownsClient = ownsClient;
    }

    public MlflowClient Client => _client;

    public string Description => _client.TrackingUri.ToString();

    public long RetriedRequests => _client.RetriedRequests;

    /// <inheritdoc />
    public string Destination => Description;

    /// <inheritdoc />
    public bool IsLocal => false;

    /// <inheritdoc />
    public MlflowClient? ServerClient => _client;

    /// <inheritdoc />
    public async Task<IArtifactRepository> GetRunArtifactsAsync(string runId, string? knownArtifactUri, Action<string>? artifactUriRead, CancellationToken cancellationToken)
    {
        var uri = knownArtifactUri;
        if (uri is null)
        {
            uri = (await _client.GetRunAsync(runId, cancellationToken).ConfigureAwait(false)).Info.ArtifactUri;
            if (uri is not null)
            {
                artifactUriRead?.Invoke(uri);
            }
        }

        return ArtifactRepositories.ForRoot(_client, uri ?? "");
    }

    /// <inheritdoc />
    public async Task<bool> SupportsLoggedModelsAsync(CancellationToken cancellationToken)
        => (await _client.GetServerInfoAsync(cancellationToken).ConfigureAwait(false)).SupportsLoggedModels;

    /// <inheritdoc />
    public MlflowModelRegistry CreateRegistry() => new(this, new RestModelRegistryStore(_client), _client);

    public Task<Experiment> GetExperimentAsync(string experimentId, CancellationToken cancellationToken)
        => _client.GetExperimentAsync(experimentId, cancellationToken);

    public async Task<Experiment?> GetExperimentByNameAsync(string name, CancellationToken cancellationToken)
        => await _client.GetExperimentByNameAsync(name, cancellationToken).ConfigureAwait(false);

    public Task<string> CreateExperimentAsync(string name, string? artifactLocation, IReadOnlyList<Tag>? tags, CancellationToken cancellationToken)
        => _client.CreateExperimentAsync(name, artifactLocation, tags, cancellationToken);

    public Task<Page<Experiment>> SearchExperimentsAsync(ExperimentSearchOptions options, string? pageToken, CancellationToken cancellationToken)
        => _client.SearchExperimentsAsync(options, pageToken, cancellationToken);

    public Task RestoreExperimentAsync(string experimentId, CancellationToken cancellationToken)
        => _client.RestoreExperimentAsync(experimentId, cancellationToken);

    public Task<Run> CreateRunAsync(string experimentId, string? runName, long startTime, IReadOnlyList<Tag>? tags, string? userId, CancellationToken cancellationToken)
        => _client.CreateRunAsync(experimentId, runName, startTime, tags, userId, cancellationToken);

    public Task<RunInfo> UpdateRunAsync(string runId, RunStatus? status, long? endTime, string? runName, CancellationToken cancellationToken)
        => _client.UpdateRunAsync(runId, status, endTime, runName, cancellationToken);

    public Task<Run> GetRunAsync(string runId, CancellationToken cancellationToken)
        => _client.GetRunAsync(runId, cancellationToken);

    public Task<Page<Run>> SearchRunsAsync(RunSearchOptions options, string? pageToken, CancellationToken cancellationToken)
        => _client.SearchRunsAsync(options, pageToken, cancellationToken);

    public Task LogBatchAsync(string runId, IReadOnlyList<Metric> metrics, IReadOnlyList<Param> @params, IReadOnlyList<Tag> tags, CancellationToken cancellationToken)
        => _client.LogBatchAsync(runId, metrics, @params, tags, cancellationToken);

    public Task LogEntriesAsync(string runId, ReadOnlyMemory<Batching.LogEntry> entries, CancellationToken cancellationToken)
        => _client.LogEntriesAsync(runId, entries, cancellationToken);

    public Task DeleteTagAsync(string runId, string key, CancellationToken cancellationToken)
        => _client.DeleteTagAsync(runId, key, cancellationToken);

    public Task<IReadOnlyList<Metric>> GetMetricHistoryAsync(string runId, string metricKey, CancellationToken cancellationToken)
        => _client.GetMetricHistoryAsync(runId, metricKey, cancellationToken);

    public Task LogInputsAsync(string runId, IReadOnlyList<DatasetInput> datasets, CancellationToken cancellationToken)
        => _client.LogInputsAsync(runId, datasets, cancellationToken);

    /// <inheritdoc />
    public Task<TraceInfo> LogTraceAsync(TraceInfo info, IReadOnlyList<TraceSpan> spans, CancellationToken cancellationToken)
        => _client.LogTraceAsync(info, spans, cancellationToken);

    /// <inheritdoc />
    public Task<MlflowTrace> GetTraceAsync(string traceId, CancellationToken cancellationToken)
        => _client.GetTraceAsync(traceId, cancellationToken);

    /// <inheritdoc />
    public Task<Assessment> CreateAssessmentAsync(Assessment assessment, CancellationToken cancellationToken)
        => _client.CreateAssessmentAsync(assessment, cancellationToken);

    public void Dispose()
    {
        if (_ownsClient)
        {
            _client.Dispose();
        }
    }
}
