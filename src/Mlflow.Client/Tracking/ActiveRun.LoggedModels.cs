using Mlflow.Client.Artifacts;
using Mlflow.Client.Batching;

namespace Mlflow.Client;

// LogModel on an MLflow 3 server: the model becomes a logged model, in the order MLflow 3.11.1's Python Model.log
// uses (create PENDING, link to the run as an output, link the run's metrics at that step, write MLmodel with the
// model id, upload to the logged model's own artifact location, finalize READY; FAILED when anything in between
// fails). Like Python 3.11.1, nothing is written under the run's artifacts and mlflow.log-model.history is not set.
public sealed partial class ActiveRun
{
    private async Task<LoggedModelInfo> LogLoggedModelAsync(MlflowClient client, string runId, string artifactPath, string fullModelPath, MlflowModelOptions options, CancellationToken cancellationToken)
    {
        var (@params, tags) = LoggedModelParamsAndTags(options);
        var created = await client.CreateLoggedModelAsync(
            ExperimentId,
            options.Name ?? artifactPath,
            options.ModelType,
            runId,
            @params,
            tags,
            cancellationToken).ConfigureAwait(false);
        var modelId = created.Info.ModelId;
        var staging = Directory.CreateTempSubdirectory("mlflow-model-");
        IReadOnlyList<string> flavors;
        string utcTimeCreated;
        try
        {
            await client.LogOutputsAsync(runId, [new ModelOutput(modelId, options.Step)], cancellationToken).ConfigureAwait(false);
            await LinkStepMetricsAsync(client, runId, modelId, options.Step, cancellationToken).ConfigureAwait(false);
            var location = created.Info.ArtifactUri ?? "";
            var (model, names) = MlModelWriter.Write(staging.FullName, fullModelPath, location, runId, options, DateTime.UtcNow, modelId, modelId);
            flavors = names;
            utcTimeCreated = (string)model.Single(kv => kv.Key == "utc_time_created").Value!;
            var repository = ArtifactRepositories.ForRoot(client, location);
            foreach (var (file, target) in ArtifactPaths.PlanDirectory(staging.FullName, null))
            {
                var content = OpenLocal(file);
                await using (content.ConfigureAwait(false))
                {
                    await repository.WriteAsync(target, content, cancellationToken).ConfigureAwait(false);
                }
            }

            // Inside the try: a READY that fails (after the client's retries) would otherwise leave the model PENDING.
            await client.FinalizeLoggedModelAsync(modelId, LoggedModelStatus.Ready, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            await MarkFailedAsync(client, modelId, runId, ex).ConfigureAwait(false);
            throw;
        }
        finally
        {
            staging.Delete(recursive: true);
        }

        return new LoggedModelInfo(artifactPath, "models:/" + modelId, modelId, utcTimeCreated, flavors) { ModelId = modelId };
    }

    /// <summary>Finalizes the model FAILED (as Python's <c>_use_logged_model</c> does on an exception), never hiding the original failure.</summary>
    private async Task MarkFailedAsync(MlflowClient client, string modelId, string runId, Exception cause)
    {
        try
        {
            // Not the caller's token: a cancelled upload still leaves the model marked failed rather than PENDING.
            using var timeout = new CancellationTokenSource(_tracker.ShutdownTimeout > TimeSpan.FromSeconds(5) ? _tracker.ShutdownTimeout : TimeSpan.FromSeconds(5));
            await client.FinalizeLoggedModelAsync(modelId, LoggedModelStatus.UploadFailed, timeout.Token).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // the upload's own exception is what the caller gets; this one is logged
        catch (Exception ex)
#pragma warning restore CA1031
        {
            TrackingLog.LoggedModelFailNotRecorded(_tracker.Logger, new AggregateException(cause, ex), modelId, runId);
        }
    }

    /// <summary>
    /// Links the run's metric points at <paramref name="step"/> to the model, as MLflow 3.11.1's <c>log_model</c> does
    /// (<c>log_model_metrics_for_step</c>): the points queued so far are sent first, then each metric's history is read
    /// and its points at that step without a model are logged again with the model id (a SQL store keeps one copy of
    /// the run's point and adds the model's; MLflow's file store appends the line again, as with Python).
    /// </summary>
    private async Task LinkStepMetricsAsync(MlflowClient client, string runId, string modelId, long step, CancellationToken cancellationToken)
    {
        await _batcher.FlushRunAsync(Buffer, Buffer.Appended, cancellationToken).ConfigureAwait(false);
        var run = await client.GetRunAsync(runId, cancellationToken).ConfigureAwait(false);
        var linked = new List<Metric>();
        foreach (var key in run.Data.Metrics.Select(m => m.Key).Distinct(StringComparer.Ordinal))
        {
            foreach (var point in await client.GetMetricHistoryAsync(runId, key, cancellationToken).ConfigureAwait(false))
            {
                if (point.Step == step && point.ModelId is null)
                {
                    linked.Add(new Metric(point.Key, point.Value, point.Timestamp, point.Step) { ModelId = modelId, DatasetName = point.DatasetName, DatasetDigest = point.DatasetDigest });
                }
            }
        }

        foreach (var chunk in linked.Chunk(MlflowLimits.MaxMetricsPerBatch))
        {
            await client.LogBatchAsync(runId, chunk, null, null, cancellationToken).ConfigureAwait(false);
        }
    }
}
