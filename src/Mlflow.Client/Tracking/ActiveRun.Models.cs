using Mlflow.Client.Artifacts;

namespace Mlflow.Client;

public sealed partial class ActiveRun
{
    /// <summary>
    /// Logs a model the way MLflow's <c>log_model</c> does: the model's files and an <c>MLmodel</c> file beside them
    /// under <paramref name="artifactPath"/> (run id, artifact path, creation time, model uuid, flavors, signature), and
    /// the model appended to the run tag <c>mlflow.log-model.history</c>. A <c>.onnx</c> file gets MLflow's
    /// <c>onnx</c> flavor (saved as <c>model.onnx</c>; Python's <c>mlflow.onnx.load_model("runs:/&lt;id&gt;/&lt;path&gt;")</c>
    /// and <c>mlflow.pyfunc.load_model</c> open it); anything else (an ML.NET <c>.zip</c>, a folder of TorchSharp
    /// weights) the <c>files</c> flavor, which lists the files with their sizes.
    /// </summary>
    /// <param name="artifactPath">The model's folder in the run's artifacts (<c>model</c>).</param>
    /// <param name="modelPath">The model file, or a folder (files flavor only).</param>
    /// <param name="options">Flavor, signature, metadata; defaults when <see langword="null"/>.</param>
    /// <returns>Where the model is and its <c>runs:/</c> URI.</returns>
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
        var runId = ServerRunId ?? RunId;
        var staging = Directory.CreateTempSubdirectory("mlflow-model-");
        await _listLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var (model, flavors) = MlModelWriter.Write(staging.FullName, fullModelPath, artifactPath, runId, options ?? new MlflowModelOptions(), DateTime.UtcNow, Guid.NewGuid().ToString("N"));
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
