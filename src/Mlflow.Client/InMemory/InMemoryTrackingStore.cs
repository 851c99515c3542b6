using Mlflow.Client.Artifacts;
using Mlflow.Client.FileStore;
using Mlflow.Client.Store;

namespace Mlflow.Client.InMemory;

/// <summary>
/// A tracking store that keeps everything in memory, for tests of the user's own code
/// (<see cref="MlflowTracker.CreateInMemory"/>): experiments, runs, params, tags, every metric point, inputs and
/// artifact bytes. It checks keys and values and answers errors as the local store does (same exceptions, same error
/// codes), and touches neither disk nor network. Thread-safe: one lock guards the whole state.
/// </summary>
internal sealed class InMemoryTrackingStore : ITrackingStore
{
    internal const string ArtifactScheme = "memory";
    private const string RunNameTag = "mlflow.runName";

    private readonly object _gate = new();
    private readonly List<Experiment> _experiments = [];
    private readonly Dictionary<string, InMemoryRun> _runs = new(StringComparer.Ordinal);
    private readonly List<InMemoryRun> _runOrder = [];

    public InMemoryTrackingStore()
    {
        var now = Now();
        _experiments.Add(new Experiment
        {
            ExperimentId = LocalFileStore.DefaultExperimentId,
            Name = "Default",
            ArtifactLocation = ArtifactScheme + ":/0",
            LifecycleStage = LifecycleStage.Active,
            CreationTime = now,
            LastUpdateTime = now,
        });
        Registry = new InMemoryModelRegistryStore();
    }

    public string Description => "in-memory store";

    /// <inheritdoc />
    public string Destination => Description;

    /// <inheritdoc />
    public bool IsLocal => true;

    /// <summary>The store's model registry, also in memory.</summary>
    public InMemoryModelRegistryStore Registry { get; }

    /// <summary>Every run in creation order, as the state is now (copies).</summary>
    internal List<RecordedRun> Snapshot()
    {
        lock (_gate)
        {
            var byId = _runOrder.ToDictionary(r => r.RunId, r => r.ToRecorded(), StringComparer.Ordinal);
            var result = new List<RecordedRun>(_runOrder.Count);
            foreach (var run in _runOrder)
            {
                var recorded = byId[run.RunId];
                recorded.ChildList.AddRange(_runOrder.Where(c => c.ParentRunId == run.RunId).Select(c => byId[c.RunId]));
                result.Add(recorded);
            }

            return result;
        }
    }

    /// <inheritdoc />
    /// <remarks>The registry downloads a version's <c>memory:</c> files from this store.</remarks>
    public MlflowModelRegistry CreateRegistry() => new(this, Registry, null) { InMemoryArtifacts = this };

    /// <inheritdoc />
    public Task<IArtifactRepository> GetRunArtifactsAsync(string runId, string? knownArtifactUri, Action<string>? artifactUriRead, CancellationToken cancellationToken)
        => Task.FromResult<IArtifactRepository>(Artifacts(runId));

    /// <summary>The artifact files of one run.</summary>
    internal InMemoryArtifactRepository Artifacts(string runId)
    {
        lock (_gate)
        {
            return Find(runId).Artifacts;
        }
    }

    /// <summary>
    /// The run's artifacts and the path under them that an artifact URI of this store names
    /// (<c>memory:/&lt;experiment&gt;/&lt;run&gt;/artifacts/&lt;path&gt;</c>, as registered model versions record it).
    /// </summary>
    internal bool TryFindArtifacts(string location, out InMemoryArtifactRepository artifacts, out string? path)
    {
        lock (_gate)
        {
            foreach (var run in _runOrder)
            {
                if (location == run.ArtifactUri || location.StartsWith(run.ArtifactUri + "/", StringComparison.Ordinal))
                {
                    artifacts = run.Artifacts;
                    path = location.Length == run.ArtifactUri.Length ? null : location[(run.ArtifactUri.Length + 1)..].Trim('/');
                    path = string.IsNullOrEmpty(path) ? null : path;
                    return true;
                }
            }
        }

        artifacts = null!;
        path = null;
        return false;
    }

    public Task<Experiment> GetExperimentAsync(string experimentId, CancellationToken cancellationToken)
    {
        MlflowValidation.ValidateExperimentId(experimentId);
        lock (_gate)
        {
            return Task.FromResult(_experiments.Find(e => e.ExperimentId == experimentId)
                ?? throw LocalFileStore.StoreError(MlflowErrorCode.ResourceDoesNotExist, $"Could not find experiment with ID {experimentId}"));
        }
    }

    public Task<Experiment?> GetExperimentByNameAsync(string name, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var match = _experiments.Where(e => e.Name == name).OrderBy(e => e.LifecycleStage == LifecycleStage.Active ? 0 : 1).FirstOrDefault();
            return Task.FromResult(match);
        }
    }

    public Task<string> CreateExperimentAsync(string name, string? artifactLocation, IReadOnlyList<Tag>? tags, CancellationToken cancellationToken)
    {
        MlflowValidation.ValidateExperimentName(name);
        foreach (var tag in tags ?? [])
        {
            FileStorePaths.ValidateKey(tag.Key, "tag key");
        }

        lock (_gate)
        {
            if (_experiments.Exists(e => e.Name == name))
            {
                throw LocalFileStore.StoreError(MlflowErrorCode.ResourceAlreadyExists, $"Experiment '{name}' already exists.");
            }

            var id = (_experiments.Count == 0 ? 0 : _experiments.Max(e => long.Parse(e.ExperimentId, System.Globalization.CultureInfo.InvariantCulture)) + 1)
                .ToString(System.Globalization.CultureInfo.InvariantCulture);
            var now = Now();
            _experiments.Add(new Experiment
            {
                ExperimentId = id,
                Name = name,
                ArtifactLocation = artifactLocation ?? ArtifactScheme + ":/" + id,
                LifecycleStage = LifecycleStage.Active,
                CreationTime = now,
                LastUpdateTime = now,
                Tags = tags?.ToList() ?? [],
            });
            return Task.FromResult(id);
        }
    }

    public Task<Page<Experiment>> SearchExperimentsAsync(ExperimentSearchOptions options, string? pageToken, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var view = options.ViewType ?? ViewType.ActiveOnly;
        List<Experiment> all;
        lock (_gate)
        {
            all = _experiments.Where(e => InView(e.LifecycleStage == LifecycleStage.Deleted, view)).ToList();
        }

        var sorted = FileStoreSearch.SortExperiments(FileStoreSearch.FilterExperiments(all, options.Filter), options.OrderBy);
        return Task.FromResult(FileStoreSearch.Paginate(sorted, pageToken, options.MaxResults));
    }

    public Task RestoreExperimentAsync(string experimentId, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var index = _experiments.FindIndex(e => e.ExperimentId == experimentId);
            if (index < 0)
            {
                throw LocalFileStore.StoreError(MlflowErrorCode.ResourceDoesNotExist, $"Could not find experiment with ID {experimentId}");
            }

            _experiments[index] = _experiments[index] with { LifecycleStage = LifecycleStage.Active, LastUpdateTime = Now() };
        }

        return Task.CompletedTask;
    }

    public Task<Run> CreateRunAsync(string experimentId, string? runName, long startTime, IReadOnlyList<Tag>? tags, string? userId, CancellationToken cancellationToken)
    {
        MlflowValidation.ValidateExperimentId(experimentId);
        var checkedTags = CheckTags(tags ?? []);
        lock (_gate)
        {
            var exp = _experiments.Find(e => e.ExperimentId == experimentId)
                ?? throw LocalFileStore.StoreError(MlflowErrorCode.ResourceDoesNotExist, $"Could not create run under experiment with ID {experimentId} - no such experiment exists.");
            if (exp.LifecycleStage != LifecycleStage.Active)
            {
                throw LocalFileStore.StoreError(MlflowErrorCode.InvalidState, $"Could not create run under non-active experiment with ID {experimentId}.");
            }

            var nameTag = checkedTags.LastOrDefault(t => t.Key == RunNameTag)?.Value;
            if (!string.IsNullOrEmpty(runName) && !string.IsNullOrEmpty(nameTag) && runName != nameTag)
            {
                throw LocalFileStore.StoreError(MlflowErrorCode.InvalidParameterValue,
                    $"Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values (run_name='{runName}', mlflow.runName='{nameTag}').");
            }

            var name = !string.IsNullOrEmpty(runName) ? runName : !string.IsNullOrEmpty(nameTag) ? nameTag : RunNameGenerator.Next();
            var runId = Guid.NewGuid().ToString("N");
            var run = new InMemoryRun(runId, experimentId, name, userId, startTime, (exp.ArtifactLocation ?? ArtifactScheme + ":/" + experimentId).TrimEnd('/') + "/" + runId + "/artifacts");
            foreach (var tag in checkedTags)
            {
                run.Tags[tag.Key] = tag.Value;
            }

            run.Tags[RunNameTag] = name;
            _runs.Add(runId, run);
            _runOrder.Add(run);
            return Task.FromResult(run.ToRun());
        }
    }

    public Task<RunInfo> UpdateRunAsync(string runId, RunStatus? status, long? endTime, string? runName, CancellationToken cancellationToken)
    {
        MlflowValidation.ValidateRunId(runId);
        lock (_gate)
        {
            var run = Find(runId);
            run.Status = status ?? run.Status;
            run.EndTime = endTime ?? run.EndTime;
            if (!string.IsNullOrEmpty(runName))
            {
                run.RunName = runName;
                run.Tags[RunNameTag] = runName;
            }

            return Task.FromResult(run.ToInfo());
        }
    }

    public Task<Run> GetRunAsync(string runId, CancellationToken cancellationToken)
    {
        MlflowValidation.ValidateRunId(runId);
        lock (_gate)
        {
            return Task.FromResult(Find(runId).ToRun());
        }
    }

    public Task<Page<Run>> SearchRunsAsync(RunSearchOptions options, string? pageToken, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var filter = FileStoreSearch.ParseRunFilter(options.Filter);
        var view = options.ViewType ?? ViewType.ActiveOnly;
        List<Run> runs;
        lock (_gate)
        {
            runs = _runOrder.Where(r => options.ExperimentIds.Contains(r.ExperimentId) && InView(false, view)).Select(r => r.ToRun()).ToList();
        }

        var sorted = FileStoreSearch.SortRuns(runs.Where(r => FileStoreSearch.Matches(r, filter)).ToList(), options.OrderBy);
        return Task.FromResult(FileStoreSearch.Paginate(sorted, pageToken, options.MaxResults));
    }

    public Task LogBatchAsync(string runId, IReadOnlyList<Metric> metrics, IReadOnlyList<Param> @params, IReadOnlyList<Tag> tags, CancellationToken cancellationToken)
    {
        MlflowValidation.ValidateRunId(runId);
        metrics ??= [];
        @params ??= [];

        // Everything is checked before anything is kept, as the local store does.
        foreach (var m in metrics)
        {
            ArgumentNullException.ThrowIfNull(m);
            FileStorePaths.ValidateKey(m.Key, "metric key");
            MlflowValidation.ValidateTimestamp(m.Timestamp, m.Key);
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        var checkedParams = new List<Param>(@params.Count);
        foreach (var p in @params)
        {
            ArgumentNullException.ThrowIfNull(p);
            FileStorePaths.ValidateKey(p.Key, "param key");
            if (!seen.Add(p.Key))
            {
                throw LocalFileStore.StoreError(MlflowErrorCode.InvalidParameterValue, $"Duplicate parameter keys have been submitted: ['{p.Key}']. Please ensure the request contains only one param value per param key.");
            }

            checkedParams.Add(new Param(p.Key, MlflowValidation.CheckValue(p.Value, MlflowLimits.MaxParamValueLength, truncate: true, p.Key, "param", out _)));
        }

        var checkedTags = CheckTags(tags ?? []);
        lock (_gate)
        {
            var run = FindActive(runId);
            foreach (var p in checkedParams)
            {
                if (run.Params.TryGetValue(p.Key, out var current) && current != p.Value)
                {
                    throw LocalFileStore.StoreError(MlflowErrorCode.InvalidParameterValue,
                        $"Changing param values is not allowed. Param with key='{p.Key}' was already logged with a different value for run ID='{runId}'.");
                }
            }

            foreach (var p in checkedParams)
            {
                run.Params[p.Key] = p.Value;
            }

            foreach (var m in metrics)
            {
                if (!run.Metrics.TryGetValue(m.Key, out var history))
                {
                    run.Metrics[m.Key] = history = [];
                }

                history.Add(m with { RunId = null });
            }

            foreach (var t in checkedTags)
            {
                run.Tags[t.Key] = t.Value;
                if (t.Key == RunNameTag)
                {
                    run.RunName = t.Value;
                }
            }
        }

        return Task.CompletedTask;
    }

    public Task DeleteTagAsync(string runId, string key, CancellationToken cancellationToken)
    {
        MlflowValidation.ValidateRunId(runId);
        FileStorePaths.ValidateKey(key, "tag key");
        lock (_gate)
        {
            if (!FindActive(runId).Tags.Remove(key))
            {
                throw LocalFileStore.StoreError(MlflowErrorCode.ResourceDoesNotExist, $"No tag with name: {key} in run with id {runId}");
            }
        }

        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<Metric>> GetMetricHistoryAsync(string runId, string metricKey, CancellationToken cancellationToken)
    {
        MlflowValidation.ValidateRunId(runId);
        lock (_gate)
        {
            var run = Find(runId);
            IReadOnlyList<Metric> points = run.Metrics.TryGetValue(metricKey, out var history) ? history.ToList() : [];
            return Task.FromResult(points);
        }
    }

    public Task LogInputsAsync(string runId, IReadOnlyList<DatasetInput> datasets, CancellationToken cancellationToken)
    {
        MlflowValidation.ValidateRunId(runId);
        ArgumentNullException.ThrowIfNull(datasets);
        lock (_gate)
        {
            var run = FindActive(runId);
            foreach (var input in datasets)
            {
                // A dataset is logged once per run (MLflow keys it by name and digest).
                if (!run.Inputs.Exists(i => i.Dataset.Name == input.Dataset.Name && i.Dataset.Digest == input.Dataset.Digest))
                {
                    run.Inputs.Add(input);
                }
            }
        }

        return Task.CompletedTask;
    }

    public void Dispose()
    {
        // Nothing to release: the recorded data stays readable after the tracker is disposed.
    }

    private static bool InView(bool deleted, ViewType view)
        => !((view == ViewType.ActiveOnly && deleted) || (view == ViewType.DeletedOnly && !deleted));

    private static List<Tag> CheckTags(IReadOnlyList<Tag> tags)
    {
        var result = new List<Tag>(tags.Count);
        foreach (var t in tags)
        {
            ArgumentNullException.ThrowIfNull(t);
            FileStorePaths.ValidateKey(t.Key, "tag key");
            result.Add(new Tag(t.Key, MlflowValidation.CheckValue(t.Value, MlflowLimits.MaxTagValueLength, truncate: true, t.Key, "tag", out _)));
        }

        return result;
    }

    private InMemoryRun Find(string runId)
        => _runs.TryGetValue(runId, out var run) ? run : throw LocalFileStore.StoreError(MlflowErrorCode.ResourceDoesNotExist, $"Run '{runId}' not found");

    // Runs are never deleted here: every known run is active.
    private InMemoryRun FindActive(string runId) => Find(runId);

    private static long Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
}
