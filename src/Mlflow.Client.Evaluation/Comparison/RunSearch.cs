using Mlflow.Client.Store;

namespace Mlflow.Client.Comparison;

/// <summary>Run searches of the comparison features over any tracking store (a server or the local store).</summary>
internal static class RunSearch
{
    /// <summary>The runs a query selects, following pages up to <see cref="RunQuery.MaxRuns"/>.</summary>
    /// <param name="store">The store searched.</param>
    /// <param name="query">The query.</param>
    /// <param name="activeExperimentId">The experiment searched when the query names none (the tracker's active one);
    /// <see langword="null"/> (a client, which has none): a query must name one.</param>
    /// <param name="cancellationToken">Cancels the search.</param>
    public static async Task<List<Run>> RunsAsync(ITrackingStore store, RunQuery query, Func<CancellationToken, Task<string>>? activeExperimentId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var names = query.ExperimentNames ?? [];
        if (names.Count == 0 && activeExperimentId is null)
        {
            throw new ArgumentException("Name at least one experiment (RunQuery.ExperimentNames): a client has no active experiment; MlflowTracker.SearchRuns searches the tracker's when none is named.", nameof(query));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(query.MaxRuns, 1, nameof(query));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(query.MaxRuns, 50_000, nameof(query));
        var ids = new List<string>(Math.Max(names.Count, 1));
        foreach (var name in names)
        {
            var experiment = await store.GetExperimentByNameAsync(name, cancellationToken).ConfigureAwait(false)
                ?? throw MlflowException.ResourceDoesNotExist($"No experiment named '{name}' in {store.Description}.");
            ids.Add(experiment.ExperimentId);
        }

        if (ids.Count == 0)
        {
            ids.Add(await activeExperimentId!(cancellationToken).ConfigureAwait(false));
        }

        var runs = new List<Run>();
        string? token = null;
        for (var page = 0; page < 50_000 && runs.Count < query.MaxRuns; page++)
        {
            var options = new RunSearchOptions
            {
                ExperimentIds = ids,
                Filter = query.Filter,
                OrderBy = query.OrderBy,
                ViewType = query.ViewType,
                MaxResults = Math.Min(query.MaxRuns - runs.Count, 1000),
            };
            var result = await store.SearchRunsAsync(options, token, cancellationToken).ConfigureAwait(false);
            runs.AddRange(result.Items.Take(query.MaxRuns - runs.Count));
            token = string.IsNullOrEmpty(result.NextPageToken) || result.NextPageToken == token ? null : result.NextPageToken;
            if (token is null || result.Items.Count == 0)
            {
                break;
            }
        }

        return runs;
    }

    public static async Task<RunTable> TableAsync(ITrackingStore store, RunQuery query, Func<CancellationToken, Task<string>>? activeExperimentId, CancellationToken cancellationToken)
        => RunTable.FromRuns(await RunsAsync(store, query, activeExperimentId, cancellationToken).ConfigureAwait(false), query.TagKeys);

    public static async Task<MetricTrend> TrendAsync(ITrackingStore store, string experimentName, string metric, string? filter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(metric);
        var runs = await RunsAsync(store, new RunQuery { ExperimentNames = [experimentName], Filter = filter, OrderBy = ["attributes.start_time ASC"], MaxRuns = 50_000 }, null, cancellationToken).ConfigureAwait(false);
        return MetricTrend.FromRuns(metric, runs);
    }
}
