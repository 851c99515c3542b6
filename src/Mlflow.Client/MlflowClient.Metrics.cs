using Mlflow.Client.Rest;

namespace Mlflow.Client;

public partial class MlflowClient
{
    /// <summary>Page size asked of get-history, as MLflow's Python client.</summary>
    internal const int MetricHistoryPageSize = 25_000;

    /// <summary>Gets every point of a metric, following page tokens (<c>metrics/get-history</c>).</summary>
    /// <param name="runId">The run id.</param>
    /// <param name="metricKey">The metric key.</param>
    /// <param name="cancellationToken">Cancels the requests.</param>
    /// <returns>All points, in the server's order; empty for an unknown key.</returns>
    public virtual async Task<IReadOnlyList<Metric>> GetMetricHistoryAsync(string runId, string metricKey, CancellationToken cancellationToken = default)
    {
        Require(runId, nameof(runId));
        Require(metricKey, nameof(metricKey));
        if (_local is { } local)
        {
            return await local.Store.GetMetricHistoryAsync(runId, metricKey, cancellationToken).ConfigureAwait(false);
        }

        var all = new List<Metric>();
        string? token = null;
        do
        {
            var current = token;
            var page = await CallAsync(() => _tracking.GetMetricHistoryAsync(runId, metricKey, MetricHistoryPageSize, current, cancellationToken), cancellationToken).ConfigureAwait(false);
            if (page.Metrics is { } metrics)
            {
                all.AddRange(metrics);
            }

            token = NextToken(current, NullIfEmpty(page.NextPageToken), "metrics/get-history");
        }
        while (token is not null);

        return all;
    }

    /// <summary>
    /// Gets a down-sampled history of one metric over several runs (<c>metrics/get-history-bulk-interval</c>,
    /// servers from MLflow 2.11). Each point carries its <see cref="Metric.RunId"/>.
    /// </summary>
    /// <param name="runIds">Up to 100 run ids.</param>
    /// <param name="metricKey">The metric key.</param>
    /// <param name="startStep">First step, with <paramref name="endStep"/> (both or neither).</param>
    /// <param name="endStep">Last step.</param>
    /// <param name="maxResults">Points per run (1 to 2500).</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The sampled points.</returns>
    public virtual async Task<IReadOnlyList<Metric>> GetMetricHistoryBulkIntervalAsync(IReadOnlyList<string> runIds, string metricKey, long? startStep = null, long? endStep = null, int? maxResults = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runIds);
        Require(metricKey, nameof(metricKey));
        if (runIds.Count is 0 or > 100)
        {
            throw new ArgumentOutOfRangeException(nameof(runIds), runIds.Count, "Give between 1 and 100 run ids.");
        }

        if (startStep.HasValue != endStep.HasValue)
        {
            throw new ArgumentException("Give both startStep and endStep, or neither.", nameof(startStep));
        }

        var response = await CallAsync(() => _tracking.GetMetricHistoryBulkIntervalAsync(runIds, metricKey, startStep, endStep, maxResults, cancellationToken), cancellationToken).ConfigureAwait(false);
        return response.Metrics ?? [];
    }
}
