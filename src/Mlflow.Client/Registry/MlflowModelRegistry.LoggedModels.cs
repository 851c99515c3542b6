namespace Mlflow.Client;

// Registering a model that MLflow 3 keeps as a logged model: runs:/<run>/<name> names it when the run has no MLmodel
// at that path (what LogModel writes on an MLflow 3 server and in the local store), as MLflow 3.11.1's Python
// _register_model resolves it.
public sealed partial class MlflowModelRegistry
{
    /// <summary>
    /// For <c>runs:/&lt;run&gt;/&lt;path&gt;</c> on an MLflow 3 server whose run has no <c>MLmodel</c> file at
    /// <paramref name="path"/>: <c>models:/&lt;id&gt;</c> of the run's logged model named <paramref name="path"/> (the
    /// one logged at the largest step when there are several). <see langword="null"/> when the run's artifacts hold the
    /// model (or the server has no logged models): the run path is then the source, as before.
    /// </summary>
    /// <exception cref="MlflowException">The run has neither the model files nor a logged model of that name.</exception>
    private async Task<string?> LoggedModelSourceAsync(string runId, string path, CancellationToken cancellationToken)
    {
        var local = _tracking.LoggedModelStore;
        if (path.Length == 0 || path.Contains('\'', StringComparison.Ordinal)
            || (local is null && (_client is null || !await _tracking.SupportsLoggedModelsAsync(cancellationToken).ConfigureAwait(false))))
        {
            return null;
        }

        try
        {
            var artifacts = await _tracking.GetRunArtifactsAsync(runId, null, null, cancellationToken).ConfigureAwait(false);
            var listed = await artifacts.ListAsync(path, cancellationToken).ConfigureAwait(false);
            if (listed.Any(e => !e.IsDir && e.Path == path + "/MLmodel"))
            {
                return null;
            }
        }
        catch (NotSupportedException)
        {
            return null; // artifacts this client cannot list (an s3: root, say): keep the run path, as before
        }

        var run = await _tracking.GetRunAsync(runId, cancellationToken).ConfigureAwait(false);
        var models = new List<LoggedModel>();
        if (local is not null)
        {
            // The local store's own logged models (MLflow 3.11.1's layout): a model logged before them stays a run path.
            models.AddRange(local.ListLoggedModels(run.Info.ExperimentId).Where(m => m.Info.Name == path && m.Info.SourceRunId == runId));
            if (models.Count == 0)
            {
                return null;
            }
        }
        else
        {
            var search = new LoggedModelSearchOptions { Filter = $"name = '{path}'" };
            await foreach (var model in _client!.SearchAllLoggedModelsAsync([run.Info.ExperimentId], search, cancellationToken).ConfigureAwait(false))
            {
                if (model.Info.SourceRunId == runId)
                {
                    models.Add(model);
                }
            }
        }

        if (models.Count == 0)
        {
            throw new MlflowException($"Run {runId} has no model at '{path}': no MLmodel file under that artifact path and no logged model of that name. Register 'models:/<model id>' of the model instead (LoggedModelInfo.ModelUri).");
        }

        var steps = run.Outputs.ModelOutputs.GroupBy(o => o.ModelId, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Max(o => o.Step), StringComparer.Ordinal);
        var chosen = models.MaxBy(m => steps.GetValueOrDefault(m.Info.ModelId))!;
        return "models:/" + chosen.Info.ModelId;
    }
}
