using Mlflow.Client.Artifacts;

namespace Mlflow.Client;

public sealed partial class ActiveRun
{
    /// <summary>
    /// Logs a model the way MLflow's <c>log_model</c> does. On an MLflow 3 server (learned once per tracker from the
    /// server's version, <see cref="MlflowClient.GetServerInfoAsync"/>) the model becomes a logged model, as with
    /// MLflow 3.11.1's Python: created PENDING (name <see cref="MlflowModelOptions.Name"/> or the artifact path, the
    /// options' params and tags, this run as its source, in the run's experiment), linked to the run as an output at
    /// <see cref="MlflowModelOptions.Step"/> (the run's metrics at that step are linked to it), its files and
    /// <c>MLmodel</c> (with <c>model_id</c>) uploaded to the logged model's own artifact location, then finalized READY
    /// (FAILED when a step fails, and the exception is rethrown); <see cref="LoggedModelInfo.ModelUri"/> is
    /// <c>models:/m-&lt;id&gt;</c>, and nothing is written under the run's artifacts. In the local store the same, in
    /// MLflow 3.11.1's file layout (<c>&lt;experiment&gt;/models/m-&lt;id&gt;/</c>, which MLflow 3's Python reads and
    /// <c>mlflow-sync</c> pushes as a logged model to an MLflow 3 server, or as the run's artifacts under the model's
    /// name to a 2.x one); a run kept offline gets it in its offline copy, which the drain pushes the same way
    /// (<see cref="LoggedModelInfo.ModelId"/> is then the local id; the server model carries it in tag
    /// <c>mlflow.dotnet.sourceModelId</c>). Elsewhere (an MLflow 2 server, the in-memory store, a run kept offline whose
    /// server this tracker knows to be 2.x) the MLflow 2 way: the model's files and an <c>MLmodel</c> file beside them
    /// under <paramref name="artifactPath"/> (run id, artifact path, creation time, model uuid, flavors, signature), and
    /// the model appended to the run tag <c>mlflow.log-model.history</c>. A <c>.onnx</c> file gets MLflow's
    /// <c>onnx</c> flavor (saved as <c>model.onnx</c>; Python's <c>mlflow.onnx.load_model("runs:/&lt;id&gt;/&lt;path&gt;")</c>
    /// and <c>mlflow.pyfunc.load_model</c> open it); anything else (an ML.NET <c>.zip</c>, a folder of TorchSharp
    /// weights) the <c>files</c> flavor, which lists the files with their sizes.
    /// </summary>
    /// <param name="artifactPath">The model's folder in the run's artifacts (<c>model</c>); on MLflow 3 the logged model's default name.</param>
    /// <param name="modelPath">The model file, or a folder (files flavor only).</param>
    /// <param name="options">Flavor, signature, metadata, and the logged model's name, type, params, tags and step; defaults when <see langword="null"/>.</param>
    /// <returns>Where the model is: its <c>models:/m-&lt;id&gt;</c> URI and <see cref="LoggedModelInfo.ModelId"/> on MLflow 3, else its <c>runs:/</c> URI.</returns>
    /// <exception cref="MlflowException">On MLflow 3: the server refused a step (the model is finalized FAILED when it was created).</exception>
    /// <exception cref="FileNotFoundException">The model file or folder does not exist (nothing is logged).</exception>
    /// <exception cref="MlflowValidationException">The artifact path is not a relative artifact path, or the history tag would grow past MLflow's 5000 characters (nothing is logged).</exception>
    /// <exception cref="InvalidOperationException">The run has ended.</exception>
    public LoggedModelInfo LogModel(string artifactPath, string modelPath, MlflowModelOptions? options = null)
        => LogModelAsync(artifactPath, modelPath, options, CancellationToken.None).GetAwaiter().GetResult();

    /// <inheritdoc cref="LogModel(string, string, MlflowModelOptions?)"/>
    /// <param name="artifactPath">The model's folder in the run's artifacts.</param>
    /// <param name="modelPath">The model file, or a folder (files flavor only).</param>
    /// <param name="options">Flavor, signature, metadata; defaults when <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public async Task<LoggedModelInfo> LogModelAsync(string artifactPath, string modelPath, MlflowModelOptions? options = null, CancellationToken cancellationToken = default)
    {
        Artifacts.ArtifactPaths.Check(artifactPath);
        ArgumentException.ThrowIfNullOrEmpty(modelPath);
        var fullModelPath = Path.GetFullPath(modelPath);
        if (!File.Exists(fullModelPath) && !Directory.Exists(fullModelPath))
        {
            throw new FileNotFoundException($"The model '{fullModelPath}' does not exist.", fullModelPath);
        }

        ThrowIfEnded();
        options ??= new MlflowModelOptions();
        var target = await _tracker.LoggedModelTargetAsync(this, artifactPath, cancellationToken).ConfigureAwait(false);
        if (target.Server is { } client)
        {
            return await LogLoggedModelAsync(client, ServerRunId!, artifactPath, fullModelPath, options, cancellationToken).ConfigureAwait(false);
        }

        if (target.Local is { } store)
        {
            await _batcher.FlushRunAsync(Buffer, Buffer.Appended, cancellationToken).ConfigureAwait(false);
            return LogLocalLoggedModel(store, RunId, artifactPath, fullModelPath, options);
        }

        if (target.InCopy)
        {
            // Kept offline: what the run logged so far reaches its copy first (the model links the points at its step).
            await _batcher.FlushRunAsync(Buffer, Buffer.Appended, cancellationToken).ConfigureAwait(false);
            return await _tracker.KeepLoggedModelOfflineAsync(this, (copy, localRunId) =>
            {
                var appended = new List<Metric>();
                return (LogLocalLoggedModel(copy, localRunId, artifactPath, fullModelPath, options, appended), appended);
            }, cancellationToken).ConfigureAwait(false);
        }

        var runId = ServerRunId ?? RunId;
        var staging = Directory.CreateTempSubdirectory("mlflow-model-");
        await _listLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var (model, flavors) = MlModelWriter.Write(staging.FullName, fullModelPath, artifactPath, runId, options, DateTime.UtcNow, Guid.NewGuid().ToString("N"));
            var current = await ListTagAsync(RunTagLists.LoggedModelsTag, cancellationToken).ConfigureAwait(false);
            var tag = RunTagLists.Append(current, model, RunTagLists.LoggedModelsTag);
            CheckListTagLength(RunTagLists.LoggedModelsTag, tag);
            await LogFolderArtifactsAsync(staging.FullName, artifactPath, cancellationToken).ConfigureAwait(false);
            SetListTag(RunTagLists.LoggedModelsTag, tag);
            return new LoggedModelInfo(artifactPath, $"runs:/{runId}/{artifactPath}", (string)model.Single(kv => kv.Key == "model_uuid").Value!,
                (string)model.Single(kv => kv.Key == "utc_time_created").Value!, flavors);
        }
        finally
        {
            _listLock.Release();
            staging.Delete(recursive: true);
        }
    }
}
