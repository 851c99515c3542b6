using Mlflow.Client.Artifacts;
using Mlflow.Client.FileStore;

namespace Mlflow.Client;

// LogModel into a local folder store (or a run's offline copy): the model becomes a logged model in MLflow 3.11.1's
// FileStore layout, in the order of Python's Model.log (create PENDING, link to the run as an output, link the run's
// metrics at that step, write MLmodel with the model id and the files to the model's artifacts folder, finalize
// READY; FAILED when anything in between fails). Nothing is written under the run's artifacts.
public sealed partial class ActiveRun
{
    /// <param name="store">The local store (the tracker's, or the offline copies').</param>
    /// <param name="localRunId">The run in that store.</param>
    /// <param name="artifactPath">The model's default name.</param>
    /// <param name="fullModelPath">The model file or folder.</param>
    /// <param name="options">Flavor, signature, name, type, params, tags, step.</param>
    /// <param name="appended">Receives the run's points logged again with the model id (the run's metric files got them once more).</param>
    private LoggedModelInfo LogLocalLoggedModel(LocalFileStore store, string localRunId, string artifactPath, string fullModelPath, MlflowModelOptions options, List<Metric>? appended = null)
    {
        var (@params, tags) = LoggedModelParamsAndTags(options);
        var experimentId = store.GetRunWithoutMetrics(localRunId).Info.ExperimentId;
        var created = store.CreateLoggedModel(experimentId, options.Name ?? artifactPath, options.ModelType, localRunId, @params, tags);
        var modelId = created.Info.ModelId;
        var staging = Directory.CreateTempSubdirectory("mlflow-model-");
        IReadOnlyList<string> flavors;
        string utcTimeCreated;
        try
        {
            store.LogOutputs(localRunId, [new ModelOutput(modelId, options.Step)]);
            var linked = LinkLocalStepMetrics(store, localRunId, modelId, options.Step);
            appended?.AddRange(linked);
            var (model, names) = MlModelWriter.Write(staging.FullName, fullModelPath, created.Info.ArtifactUri ?? "", ServerRunId ?? localRunId, options, DateTime.UtcNow, modelId, modelId);
            flavors = names;
            utcTimeCreated = (string)model.Single(kv => kv.Key == "utc_time_created").Value!;
            var repository = store.LoggedModelArtifacts(modelId);
            foreach (var (file, target) in ArtifactPaths.PlanDirectory(staging.FullName, null))
            {
                using var content = OpenLocal(file);
                repository.WriteAsync(target, content, CancellationToken.None).GetAwaiter().GetResult();
            }
        }
        catch
        {
            store.FinalizeLoggedModel(modelId, LoggedModelStatus.UploadFailed);
            throw;
        }
        finally
        {
            staging.Delete(recursive: true);
        }

        store.FinalizeLoggedModel(modelId, LoggedModelStatus.Ready);
        return new LoggedModelInfo(artifactPath, "models:/" + modelId, modelId, utcTimeCreated, flavors) { ModelId = modelId };
    }

    /// <summary>The logged model's params (the options', a run param winning, as Python's <c>{**params, **run params}</c>) and tags (context, then the options').</summary>
    private (List<Param> Params, List<Tag> Tags) LoggedModelParamsAndTags(MlflowModelOptions options)
    {
        var @params = new Dictionary<string, string>(options.Params ?? new Dictionary<string, string>(), StringComparer.Ordinal);
        foreach (var (key, value) in _params)
        {
            @params[key] = value;
        }

        var tags = _tracker.LoggedModelContextTags().ToDictionary(t => t.Key, t => t.Value, StringComparer.Ordinal);
        foreach (var (key, value) in options.Tags ?? new Dictionary<string, string>())
        {
            tags[key] = value;
        }

        return (@params.Select(p => new Param(p.Key, p.Value)).ToList(), tags.Select(t => new Tag(t.Key, t.Value)).ToList());
    }

    /// <summary>
    /// Links the run's points at <paramref name="step"/> to the model as Python's <c>log_model_metrics_for_step</c> does
    /// on a file store: each is logged again with the model id (the run's metric file gets the line again, the model's
    /// metric file its line). In an offline copy only the points the copy holds (not those the server had acknowledged).
    /// </summary>
    /// <returns>The points logged again.</returns>
    private static List<Metric> LinkLocalStepMetrics(LocalFileStore store, string localRunId, string modelId, long step)
    {
        var run = store.GetRunAsync(localRunId, CancellationToken.None).GetAwaiter().GetResult();
        var linked = new List<Metric>();
        foreach (var key in run.Data.Metrics.Select(m => m.Key).Distinct(StringComparer.Ordinal))
        {
            foreach (var point in store.GetMetricHistoryAsync(localRunId, key, CancellationToken.None).GetAwaiter().GetResult())
            {
                if (point.Step == step)
                {
                    linked.Add(new Metric(point.Key, point.Value, point.Timestamp, point.Step) { ModelId = modelId, DatasetName = point.DatasetName, DatasetDigest = point.DatasetDigest });
                }
            }
        }

        // Each distinct point once: a second model at the same step does not link the first one's copies again.
        var distinct = linked.Distinct().ToList();
        foreach (var chunk in distinct.Chunk(MlflowLimits.MaxMetricsPerBatch))
        {
            store.LogBatchAsync(localRunId, chunk, [], [], CancellationToken.None).GetAwaiter().GetResult();
        }

        return distinct;
    }
}
