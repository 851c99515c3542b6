using System.Runtime.CompilerServices;
using Mlflow.Client.Resilience;
using Mlflow.Client.Rest;
using Mlflow.Client.Tracing;

namespace Mlflow.Client;

// MLflow 3's trace endpoints, on the paths MLflow's own Python client uses (v3 for trace info and search, v2 for tags,
// delete-traces and link-to-run). A 2.x server has none of the v3 ones; its 404 is turned into a message that says so.
public partial class MlflowClient
{
    private const string TracesAdvice = "Upgrade the server to log traces.";

    /// <summary>
    /// Records a trace's info (<c>POST /api/3.0/mlflow/traces</c>; MLflow 3 servers). MLflow's own exporter calls it
    /// when the trace has ended; the answer's <see cref="TraceInfo.ArtifactLocation"/> says where the span data goes.
    /// </summary>
    /// <remarks>Most callers want <see cref="LogTraceAsync"/>, which also uploads the spans. Sent once: after a lost answer the trace is read back.</remarks>
    /// <param name="info">The trace: id (<see cref="TraceIds.NewTraceId"/>), experiment, time, state, metadata, tags.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The trace info as the server stored it, with the tags it added.</returns>
    /// <exception cref="MlflowException">The server refused, or it is not an MLflow 3 server.</exception>
    public virtual async Task<TraceInfo> StartTraceAsync(TraceInfo info, CancellationToken cancellationToken = default)
    {
        CheckTraceInfo(info);
        var request = new StartTraceRequest(new TraceWire(TraceWireMapping.ToWire(info)));
        TraceResponse? response = null;
        await LostAnswerRecovery.SendAsync(
            async () => response = await TraceCallAsync(() => _tracking.StartTraceV3Async(request, cancellationToken), cancellationToken).ConfigureAwait(false),
            async () =>
            {
                try
                {
                    var stored = await GetTraceInfoAsync(info.TraceId, cancellationToken).ConfigureAwait(false);
                    response = new TraceResponse(new TraceWire(TraceWireMapping.ToWire(stored) with { Assessments = null }));
                    return true;
                }
                catch (MlflowException ex) when (ex.ErrorCode == MlflowErrorCode.ResourceDoesNotExist)
                {
                    return false;
                }
            },
            "traces/start",
            _logger).ConfigureAwait(false);
        return TraceWireMapping.FromWire(response?.Trace?.TraceInfo ?? throw new MlflowException("traces start answered without a trace."));
    }

    /// <summary>Reads a trace's info with its tags and assessments (<c>GET /api/3.0/mlflow/traces/{trace_id}</c>; MLflow 3 servers).</summary>
    /// <param name="traceId">The trace id (<c>tr-…</c>).</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The trace info.</returns>
    /// <exception cref="MlflowException">With <see cref="MlflowErrorCode.ResourceDoesNotExist"/> when there is no such trace.</exception>
    public virtual async Task<TraceInfo> GetTraceInfoAsync(string traceId, CancellationToken cancellationToken = default)
    {
        Require(traceId, nameof(traceId));
        var response = await TraceCallAsync(() => _tracking.GetTraceInfoV3Async(traceId, cancellationToken), cancellationToken).ConfigureAwait(false);
        return TraceWireMapping.FromWire(response.Trace?.TraceInfo ?? throw new MlflowException("traces get answered without a trace."));
    }

    /// <summary>Searches the traces of experiments, one page (<c>POST /api/3.0/mlflow/traces/search</c>; MLflow 3 servers).</summary>
    /// <param name="experimentIds">The experiments to search (at least one).</param>
    /// <param name="options">Filter, order and page size.</param>
    /// <param name="pageToken">The token of the page to read; <see langword="null"/> for the first.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>One page of trace infos (with their assessments).</returns>
    /// <exception cref="ArgumentOutOfRangeException">The page size is not 1 to 500.</exception>
    public virtual async Task<Page<TraceInfo>> SearchTracesAsync(IEnumerable<string> experimentIds, TraceSearchOptions? options = null, string? pageToken = null, CancellationToken cancellationToken = default)
    {
        var ids = ExperimentIdList(experimentIds);
        options ??= new TraceSearchOptions();
        if (options.MaxResults is < 1 or > 500)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxResults, "A trace search page holds 1 to 500 traces.");
        }

        var request = new SearchTracesRequest(
            ids.Select(TraceWireMapping.Location).ToList(),
            NullIfEmpty(options.Filter),
            options.MaxResults,
            options.OrderBy is { Count: > 0 } o ? o : null,
            NullIfEmpty(pageToken));
        var response = await TraceCallAsync(() => _tracking.SearchTracesV3Async(request, cancellationToken), cancellationToken).ConfigureAwait(false);
        return new Page<TraceInfo>((response.Traces ?? []).Select(TraceWireMapping.FromWire).ToList(), NullIfEmpty(response.NextPageToken));
    }

    /// <summary>Searches the traces of experiments and follows page tokens to the end.</summary>
    /// <param name="experimentIds">The experiments to search (at least one).</param>
    /// <param name="options">Filter, order and page size.</param>
    /// <param name="cancellationToken">Cancels the enumeration.</param>
    /// <returns>Every matching trace info.</returns>
    public virtual async IAsyncEnumerable<TraceInfo> SearchAllTracesAsync(IEnumerable<string> experimentIds, TraceSearchOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var ids = ExperimentIdList(experimentIds);
        string? token = null;
        do
        {
            var page = await SearchTracesAsync(ids, options, token, cancellationToken).ConfigureAwait(false);
            foreach (var item in page.Items)
            {
                yield return item;
            }

            token = NextToken(token, page.NextPageToken, "traces/search");
        }
        while (token is not null);
    }

    /// <summary>Deletes traces of an experiment by id (<c>POST /api/2.0/mlflow/traces/delete-traces</c>).</summary>
    /// <param name="experimentId">The experiment the traces belong to.</param>
    /// <param name="traceIds">The traces (at least one); ids the server does not hold are skipped.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>How many traces the server deleted.</returns>
    public virtual async Task<int> DeleteTracesAsync(string experimentId, IEnumerable<string> traceIds, CancellationToken cancellationToken = default)
    {
        Require(experimentId, nameof(experimentId));
        ArgumentNullException.ThrowIfNull(traceIds);
        var ids = traceIds.ToList();
        if (ids.Count == 0 || ids.Any(string.IsNullOrEmpty))
        {
            throw new ArgumentException("Give at least one trace id, none empty.", nameof(traceIds));
        }

        var response = await TraceCallAsync(() => _tracking.DeleteTracesAsync(new DeleteTracesRequest(experimentId, null, null, ids), cancellationToken), cancellationToken).ConfigureAwait(false);
        return response.TracesDeleted ?? 0;
    }

    /// <summary>Deletes the traces of an experiment that started at or before a time, oldest first (<c>POST /api/2.0/mlflow/traces/delete-traces</c>).</summary>
    /// <param name="experimentId">The experiment.</param>
    /// <param name="maxTimestampMs">The latest start time to delete, in milliseconds since the Unix epoch.</param>
    /// <param name="maxTraces">At most this many (the oldest); all of them when <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>How many traces the server deleted.</returns>
    public virtual async Task<int> DeleteTracesBeforeAsync(string experimentId, long maxTimestampMs, int? maxTraces = null, CancellationToken cancellationToken = default)
    {
        Require(experimentId, nameof(experimentId));
        if (maxTraces is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(maxTraces), maxTraces, "Delete at least one trace, or give no limit.");
        }

        var response = await TraceCallAsync(() => _tracking.DeleteTracesAsync(new DeleteTracesRequest(experimentId, maxTimestampMs, maxTraces, null), cancellationToken), cancellationToken).ConfigureAwait(false);
        return response.TracesDeleted ?? 0;
    }

    /// <summary>Sets a tag on a trace, replacing its value (<c>PATCH /api/2.0/mlflow/traces/{trace_id}/tags</c>).</summary>
    /// <param name="traceId">The trace id.</param>
    /// <param name="key">The tag key.</param>
    /// <param name="value">The value.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes when the server confirmed.</returns>
    public virtual Task SetTraceTagAsync(string traceId, string key, string value, CancellationToken cancellationToken = default)
    {
        Require(traceId, nameof(traceId));
        Require(key, nameof(key));
        ArgumentNullException.ThrowIfNull(value);
        RefuseLoneSurrogates(key, value, "trace tag");
        return TraceCallAsync(() => _tracking.SetTraceTagAsync(traceId, new SetTraceTagRequest(key, value), cancellationToken), cancellationToken);
    }

    /// <summary>Deletes a tag of a trace (<c>DELETE /api/2.0/mlflow/traces/{trace_id}/tags</c>).</summary>
    /// <param name="traceId">The trace id.</param>
    /// <param name="key">The tag key.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes when the server confirmed.</returns>
    public virtual Task DeleteTraceTagAsync(string traceId, string key, CancellationToken cancellationToken = default)
    {
        Require(traceId, nameof(traceId));
        Require(key, nameof(key));
        return LostAnswerRecovery.SendAsync(
            () => TraceCallAsync(() => _tracking.DeleteTraceTagAsync(traceId, new DeleteTraceTagRequest(key), cancellationToken), cancellationToken),
            async () => !(await GetTraceInfoAsync(traceId, cancellationToken).ConfigureAwait(false)).Tags.ContainsKey(key),
            "traces/delete-tag",
            _logger);
    }

    /// <summary>
    /// Links traces to a run (<c>POST /api/2.0/mlflow/traces/link-to-run</c>): the run's page then lists them. SQL stores
    /// only: MLflow 3.11.1's file store refuses it (a trace logged under a run carries metadata <c>mlflow.sourceRun</c> instead).
    /// </summary>
    /// <param name="runId">The run.</param>
    /// <param name="traceIds">The traces (1 to 100).</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes when the server confirmed.</returns>
    public virtual Task LinkTracesToRunAsync(string runId, IEnumerable<string> traceIds, CancellationToken cancellationToken = default)
    {
        Require(runId, nameof(runId));
        ArgumentNullException.ThrowIfNull(traceIds);
        var ids = traceIds.ToList();
        if (ids.Count is 0 or > 100 || ids.Any(string.IsNullOrEmpty))
        {
            throw new ArgumentException("Link 1 to 100 traces at a time, none with an empty id.", nameof(traceIds));
        }

        return TraceCallAsync(() => _tracking.LinkTracesToRunAsync(new LinkTracesToRunRequest(ids, runId), cancellationToken), cancellationToken);
    }

    /// <summary>Refuses a trace info the server cannot take as given (no id or experiment, a lone surrogate in a key or value).</summary>
    private static void CheckTraceInfo(TraceInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        Require(info.TraceId, nameof(info) + "." + nameof(TraceInfo.TraceId));
        Require(info.ExperimentId, nameof(info) + "." + nameof(TraceInfo.ExperimentId));
        foreach (var (key, value) in info.Metadata.Concat(info.Tags))
        {
            RefuseLoneSurrogates(key, value, "trace metadata or tag");
        }
    }

    private static List<string> ExperimentIdList(IEnumerable<string> experimentIds)
    {
        ArgumentNullException.ThrowIfNull(experimentIds);
        var ids = experimentIds.ToList();
        if (ids.Count == 0 || ids.Any(string.IsNullOrEmpty))
        {
            throw new ArgumentException("Give at least one experiment id, none empty.", nameof(experimentIds));
        }

        return ids;
    }

    /// <inheritdoc cref="Mlflow3CallAsync{T}"/>
    private Task<T> TraceCallAsync<T>(Func<Task<T>> call, CancellationToken cancellationToken)
        => Mlflow3CallAsync(call, "Traces and assessments", TracesAdvice, cancellationToken);

    /// <inheritdoc cref="Mlflow3CallAsync{T}"/>
    private async Task TraceCallAsync(Func<Task> call, CancellationToken cancellationToken)
        => await TraceCallAsync(async () =>
        {
            await call().ConfigureAwait(false);
            return true;
        }, cancellationToken).ConfigureAwait(false);
}
