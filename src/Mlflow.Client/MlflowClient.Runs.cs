using System.Runtime.CompilerServices;
using Mlflow.Client.Resilience;
using Mlflow.Client.Rest;

namespace Mlflow.Client;

public partial class MlflowClient
{
    /// <summary>Creates a run (<c>runs/create</c>). The server generates a name when neither <paramref name="runName"/> nor tag <c>mlflow.runName</c> is given.</summary>
    /// <param name="experimentId">The experiment (<c>"0"</c> is Default); always sent.</param>
    /// <param name="runName">The run name.</param>
    /// <param name="startTime">Start time in ms since the epoch; now when <see langword="null"/> (always sent).</param>
    /// <param name="tags">Run tags.</param>
    /// <param name="userId">The user (deprecated field that MLflow's Python client still sends).</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The new run.</returns>
    public virtual async Task<Run> CreateRunAsync(string experimentId, string? runName = null, long? startTime = null, IEnumerable<Tag>? tags = null, string? userId = null, CancellationToken cancellationToken = default)
    {
        Require(experimentId, nameof(experimentId));
        var request = new CreateRunRequest(experimentId, userId, startTime ?? DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), runName, CheckedTags(tags, "tag"));
        var response = await CallAsync(() => _tracking.CreateRunAsync(request, cancellationToken), cancellationToken).ConfigureAwait(false);
        return response.Run ?? throw new MlflowException("runs/create answered without a run.");
    }

    /// <summary>Updates a run's status, end time or name (<c>runs/update</c>).</summary>
    /// <param name="runId">The run id.</param>
    /// <param name="status">The new status.</param>
    /// <param name="endTime">End time in ms since the epoch.</param>
    /// <param name="runName">A new name.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The updated run metadata.</returns>
    public virtual async Task<RunInfo> UpdateRunAsync(string runId, RunStatus? status = null, long? endTime = null, string? runName = null, CancellationToken cancellationToken = default)
    {
        Require(runId, nameof(runId));
        var response = await CallAsync(() => _tracking.UpdateRunAsync(new UpdateRunRequest(runId, status, endTime, runName), cancellationToken), cancellationToken).ConfigureAwait(false);
        return response.RunInfo ?? throw new MlflowException("runs/update answered without run_info.");
    }

    /// <summary>Soft-deletes a run (<c>runs/delete</c>); deleting a deleted run succeeds.</summary>
    /// <param name="runId">The run id.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes when the server confirmed.</returns>
    public virtual Task DeleteRunAsync(string runId, CancellationToken cancellationToken = default)
    {
        Require(runId, nameof(runId));
        return CallAsync(() => _tracking.DeleteRunAsync(new RunIdRequest(runId), cancellationToken), cancellationToken);
    }

    /// <summary>Restores a deleted run (<c>runs/restore</c>).</summary>
    /// <param name="runId">The run id.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes when the server confirmed.</returns>
    public virtual Task RestoreRunAsync(string runId, CancellationToken cancellationToken = default)
    {
        Require(runId, nameof(runId));
        return CallAsync(() => _tracking.RestoreRunAsync(new RunIdRequest(runId), cancellationToken), cancellationToken);
    }

    /// <summary>Gets a run with its params, tags and the latest value of each metric (<c>runs/get</c>).</summary>
    /// <param name="runId">The run id.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The run.</returns>
    public virtual async Task<Run> GetRunAsync(string runId, CancellationToken cancellationToken = default)
    {
        Require(runId, nameof(runId));
        if (_local is { } local)
        {
            return await local.Store.GetRunAsync(runId, cancellationToken).ConfigureAwait(false);
        }

        var response = await CallAsync(() => _tracking.GetRunAsync(runId, cancellationToken), cancellationToken).ConfigureAwait(false);
        return response.Run ?? throw new MlflowException("runs/get answered without a run.");
    }

    /// <summary>Searches runs, one page (<c>runs/search</c>).</summary>
    /// <param name="options">Experiments, filter, order, view type and page size.</param>
    /// <param name="pageToken">The token of the page to read; <see langword="null"/> for the first.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>One page of runs.</returns>
    public virtual async Task<Page<Run>> SearchRunsAsync(RunSearchOptions options, string? pageToken = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (_local is { } local)
        {
            return await local.Store.SearchRunsAsync(options, pageToken, cancellationToken).ConfigureAwait(false);
        }

        var request = new SearchRunsRequest(options.ExperimentIds, options.Filter, options.ViewType, options.MaxResults, options.OrderBy, pageToken);
        var response = await CallAsync(() => _tracking.SearchRunsAsync(request, cancellationToken), cancellationToken).ConfigureAwait(false);
        return new Page<Run>(response.Runs ?? [], NullIfEmpty(response.NextPageToken));
    }

    /// <summary>Searches runs and follows page tokens to the end.</summary>
    /// <param name="options">Experiments, filter, order, view type and page size.</param>
    /// <param name="cancellationToken">Cancels the enumeration.</param>
    /// <returns>Every matching run.</returns>
    public virtual async IAsyncEnumerable<Run> SearchAllRunsAsync(RunSearchOptions options, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        string? token = null;
        do
        {
            var page = await SearchRunsAsync(options, token, cancellationToken).ConfigureAwait(false);
            foreach (var run in page.Items)
            {
                yield return run;
            }

            token = NextToken(token, page.NextPageToken, "runs/search");
        }
        while (token is not null);
    }

    /// <summary>Sets a run tag (<c>runs/set-tag</c>); setting <c>mlflow.runName</c> renames the run.</summary>
    /// <param name="runId">The run id.</param>
    /// <param name="key">Tag key.</param>
    /// <param name="value">Tag value.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes when the server confirmed.</returns>
    public virtual Task SetTagAsync(string runId, string key, string value, CancellationToken cancellationToken = default)
    {
        Require(runId, nameof(runId));
        Require(key, nameof(key));
        RefuseLoneSurrogates(key, value, "tag");
        return CallAsync(() => _tracking.SetTagAsync(new SetTagRequest(runId, key, value ?? ""), cancellationToken), cancellationToken);
    }

    /// <summary>Deletes a run tag (<c>runs/delete-tag</c>); a missing tag is a 404.</summary>
    /// <remarks>When the answer is lost after the request went out, the run is read back: a tag already gone is success.</remarks>
    /// <param name="runId">The run id.</param>
    /// <param name="key">Tag key.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes when the server confirmed.</returns>
    public virtual Task DeleteTagAsync(string runId, string key, CancellationToken cancellationToken = default)
    {
        Require(runId, nameof(runId));
        Require(key, nameof(key));
        return LostAnswerRecovery.SendAsync(
            () => CallAsync(() => _tracking.DeleteTagAsync(new DeleteTagRequest(runId, key), cancellationToken), cancellationToken),
            async () => LostAnswerRecovery.Lacks((await GetRunAsync(runId, cancellationToken).ConfigureAwait(false)).Data.Tags, key),
            "runs/delete-tag",
            _logger);
    }

    /// <summary>Logs one metric point (<c>runs/log-metric</c>). NaN and ±Infinity are sent as the strings the server expects, -0.0 as <c>-0.0</c>.</summary>
    /// <remarks>Sent once, like <see cref="LogBatchAsync"/>; for a point that must land exactly once after a lost answer, use <see cref="LogBatchExactlyOnceAsync"/>.</remarks>
    /// <param name="runId">The run id.</param>
    /// <param name="key">Metric key.</param>
    /// <param name="value">The value.</param>
    /// <param name="timestamp">Time in ms since the epoch; now when <see langword="null"/>.</param>
    /// <param name="step">The step.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes when the server confirmed.</returns>
    public virtual Task LogMetricAsync(string runId, string key, double value, long? timestamp = null, long step = 0, CancellationToken cancellationToken = default)
    {
        Require(runId, nameof(runId));
        Require(key, nameof(key));
        RefuseLoneSurrogates(key, null, "metric");
        var request = new LogMetricRequest(runId, key, value, timestamp ?? DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), step);
        return CallAsync(() => _tracking.LogMetricAsync(request, cancellationToken), cancellationToken);
    }

    /// <summary>
    /// Logs one metric point with what MLflow 3 links it to (<c>runs/log-metric</c>): <see cref="Metric.ModelId"/>,
    /// <see cref="Metric.DatasetName"/> and <see cref="Metric.DatasetDigest"/> are sent when set, so the point appears
    /// on the logged model; unset, the request is the one a 2.x server gets from the other overload.
    /// </summary>
    /// <param name="runId">The run id.</param>
    /// <param name="metric">The point; its <see cref="Metric.RunId"/> is ignored.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes when the server confirmed.</returns>
    public virtual Task LogMetricAsync(string runId, Metric metric, CancellationToken cancellationToken = default)
    {
        Require(runId, nameof(runId));
        ArgumentNullException.ThrowIfNull(metric);
        Require(metric.Key, nameof(metric));
        RefuseLoneSurrogates(metric.Key, null, "metric");
        var request = new LogMetricRequest(runId, metric.Key, metric.Value, metric.Timestamp, metric.Step, metric.ModelId, metric.DatasetName, metric.DatasetDigest);
        return CallAsync(() => _tracking.LogMetricAsync(request, cancellationToken), cancellationToken);
    }

    /// <summary>Logs a parameter (<c>runs/log-parameter</c>); the same value again succeeds, another value is refused.</summary>
    /// <param name="runId">The run id.</param>
    /// <param name="key">Param key.</param>
    /// <param name="value">Param value.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes when the server confirmed.</returns>
    public virtual Task LogParamAsync(string runId, string key, string value, CancellationToken cancellationToken = default)
    {
        Require(runId, nameof(runId));
        Require(key, nameof(key));
        RefuseLoneSurrogates(key, value, "param");
        return CallAsync(() => _tracking.LogParamAsync(new LogParamRequest(runId, key, value ?? ""), cancellationToken), cancellationToken);
    }

    /// <summary>Logs metrics, params and tags in one request (<c>runs/log-batch</c>; at most 1000 metrics, 100 params, 100 tags, 1000 in all).</summary>
    /// <remarks>
    /// Sent once: when the answer is lost (<see cref="MlflowException.OutcomeUnknown"/>), the server may or may not hold
    /// the batch. <see cref="LogBatchExactlyOnceAsync"/> finds out and sends only what is missing.
    /// </remarks>
    /// <param name="runId">The run id.</param>
    /// <param name="metrics">Metric points.</param>
    /// <param name="params">Params.</param>
    /// <param name="tags">Tags.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes when the server confirmed.</returns>
    public virtual Task LogBatchAsync(string runId, IReadOnlyList<Metric>? metrics = null, IReadOnlyList<Param>? @params = null, IReadOnlyList<Tag>? tags = null, CancellationToken cancellationToken = default)
    {
        Require(runId, nameof(runId));
        foreach (var m in metrics ?? [])
        {
            RefuseLoneSurrogates(m.Key, null, "metric");
        }

        foreach (var p in @params ?? [])
        {
            RefuseLoneSurrogates(p.Key, p.Value, "param");
        }

        foreach (var t in tags ?? [])
        {
            RefuseLoneSurrogates(t.Key, t.Value, "tag");
        }

        var request = new LogBatchRequest(runId, NullIfEmpty(metrics), NullIfEmpty(@params), NullIfEmpty(tags));
        return CallAsync(() => _tracking.LogBatchAsync(request, cancellationToken), cancellationToken);
    }

    /// <summary>
    /// <see cref="LogBatchAsync"/> for the tracker's sender: the body is written from its queued entries (metrics, params
    /// and tags within the limits, checked when they were logged), with no request object per entry.
    /// </summary>
    internal Task LogEntriesAsync(string runId, ReadOnlyMemory<Batching.LogEntry> entries, CancellationToken cancellationToken = default)
    {
        var request = new LogEntryBatchRequest(runId, entries);
        return CallAsync(() => _tracking.LogEntryBatchAsync(request, cancellationToken), cancellationToken);
    }

    /// <summary>Logs dataset inputs of a run (<c>runs/log-inputs</c>; servers from MLflow 2.4).</summary>
    /// <param name="runId">The run id.</param>
    /// <param name="datasets">The datasets with their input tags.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes when the server confirmed.</returns>
    public virtual Task LogInputsAsync(string runId, IEnumerable<DatasetInput> datasets, CancellationToken cancellationToken = default)
    {
        Require(runId, nameof(runId));
        ArgumentNullException.ThrowIfNull(datasets);
        return CallAsync(() => _tracking.LogInputsAsync(new LogInputsRequest(runId, datasets.ToList()), cancellationToken), cancellationToken);
    }

    /// <summary>Records a logged model on a run (<c>runs/log-model</c>): appended to tag <c>mlflow.log-model.history</c>.</summary>
    /// <param name="runId">The run id.</param>
    /// <param name="modelJson">The MLmodel description as JSON text (with <c>artifact_path</c>, <c>flavors</c>, <c>utc_time_created</c>, <c>run_id</c>).</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes when the server confirmed.</returns>
    public virtual Task LogModelAsync(string runId, string modelJson, CancellationToken cancellationToken = default)
    {
        Require(runId, nameof(runId));
        Require(modelJson, nameof(modelJson));
        return CallAsync(() => _tracking.LogModelAsync(new LogModelRequest(runId, modelJson), cancellationToken), cancellationToken);
    }

    private static IReadOnlyList<T>? NullIfEmpty<T>(IReadOnlyList<T>? list) => list is null || list.Count == 0 ? null : list;
}
