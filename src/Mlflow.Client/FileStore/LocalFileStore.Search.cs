namespace Mlflow.Client.FileStore;

internal sealed partial class LocalFileStore
{
    public Task<Page<Experiment>> SearchExperimentsAsync(ExperimentSearchOptions options, string? pageToken, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        CheckMaxResults(options.MaxResults);
        var all = ListExperiments(options.ViewType ?? ViewType.ActiveOnly);
        var filtered = FileStoreSearch.FilterExperiments(all, options.Filter);
        var sorted = FileStoreSearch.SortExperiments(filtered, options.OrderBy);
        return Task.FromResult(FileStoreSearch.Paginate(sorted, pageToken, options.MaxResults));
    }

    public Task<Page<Run>> SearchRunsAsync(RunSearchOptions options, string? pageToken, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        CheckMaxResults(options.MaxResults);
        var filter = FileStoreSearch.ParseRunFilter(options.Filter);
        var view = options.ViewType ?? ViewType.ActiveOnly;
        var runs = new List<Run>();
        foreach (var experimentId in options.ExperimentIds)
        {
            runs.AddRange(ListRuns(experimentId, view, withMetrics: true, cancellationToken).Where(run => FileStoreSearch.Matches(run, filter)));
        }

        var sorted = FileStoreSearch.SortRuns(runs, options.OrderBy);
        return Task.FromResult(FileStoreSearch.Paginate(sorted, pageToken, options.MaxResults));
    }

    /// <summary>
    /// The runs of one experiment in <paramref name="view"/>; <paramref name="withMetrics"/> false leaves out their latest
    /// metrics, which take a full read of every metric file (a sync reads those itself, from where it last stopped).
    /// </summary>
    internal IEnumerable<Run> ListRuns(string experimentId, ViewType view, bool withMetrics, CancellationToken cancellationToken)
    {
        MlflowValidation.ValidateExperimentId(experimentId);
        var expDir = Directory.Exists(Path.Combine(_root, experimentId)) ? Path.Combine(_root, experimentId) : Path.Combine(_trash, experimentId);
        foreach (var runDir in ListRunDirs(expDir))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var meta = ReadRunMeta(runDir);
            if (meta is null || meta.ExperimentId != experimentId || meta.RunId != Path.GetFileName(runDir))
            {
                continue;
            }

            var deleted = meta.LifecycleStage == "deleted";
            if ((view == ViewType.ActiveOnly && deleted) || (view == ViewType.DeletedOnly && !deleted))
            {
                continue;
            }

            yield return BuildRun(runDir, meta, withMetrics);
        }
    }

    private static void CheckMaxResults(int maxResults)
    {
        if (maxResults is < 1 or > 50_000)
        {
            throw StoreError(MlflowErrorCode.InvalidParameterValue, $"Invalid value for max_results. It must be between 1 and 50000, but got {maxResults}");
        }
    }
}
