// Whether a run's model becomes an MLflow 3 logged model: asked of the store once (the server facts are read once per
// client and kept), never by trying the endpoints on every call.
using Mlflow.Client.Batching;

namespace Mlflow.Client;

public sealed partial class MlflowTracker
{
    /// <summary>
    /// The client to create <paramref name="run"/>'s model as an MLflow 3 logged model with, or <see langword="null"/>
    /// when the model is written the MLflow 2 way (run artifacts and the <c>mlflow.log-model.history</c> tag): a local
    /// store, a 2.x server, a run not (yet) on the server or offline, or (with the offline fallback) a server that could
    /// not be asked now.
    /// </summary>
    /// <exception cref="MlflowException">The server could not be asked and there is no offline fallback to keep the files in.</exception>
    internal async Task<MlflowClient?> LoggedModelClientAsync(ActiveRun run, string artifactPath, CancellationToken cancellationToken)
    {
        if (_store.ServerClient is not { } client || run.ServerRunId is null || run.IsOffline)
        {
            return null;
        }

        try
        {
            return await _store.SupportsLoggedModelsAsync(cancellationToken).ConfigureAwait(false) ? client : null;
        }
        catch (MlflowException ex) when (_offline is not null && ex.IsTransient)
        {
            TrackingLog.LoggedModelsUnknown(Logger, run.RunId, ex.Message, artifactPath);
            return null;
        }
    }

    /// <summary>
    /// The tags MLflow's Python <c>log_model</c> puts on a logged model from its context (<c>mlflow.user</c>,
    /// <c>mlflow.source.name</c>, <c>mlflow.source.type</c>, <c>mlflow.source.git.commit</c>), as the tracker's runs get them.
    /// </summary>
    internal List<Tag> LoggedModelContextTags()
    {
        var tags = new List<Tag>
        {
            new(SystemTags.User, _user),
            new(SystemTags.SourceName, SystemTags.SourceNameValue),
            new(SystemTags.SourceType, "LOCAL"),
        };
        if (SystemTags.GitCommitValue is { } commit)
        {
            tags.Add(new Tag(SystemTags.GitCommit, commit));
        }

        return tags;
    }
}
