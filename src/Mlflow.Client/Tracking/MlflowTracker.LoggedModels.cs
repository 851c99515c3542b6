// Where a run's model becomes an MLflow 3 logged model: asked of the store once (the server facts are read once per
// client and kept), never by trying the endpoints on every call.
using Mlflow.Client.Batching;

namespace Mlflow.Client;

public sealed partial class MlflowTracker
{
    /// <summary>
    /// Where <paramref name="run"/>'s model is made a logged model: on the server (an MLflow 3 server the run is on), in
    /// the local store (MLflow 3.11.1's layout), in the run's offline copy (<see cref="LoggedModelTarget.Offline"/>: a
    /// run kept offline, unless its server is known to be 2.x; the drain pushes the model as a logged model to an
    /// MLflow 3 server, and its files as the run's artifacts to a 2.x one), or nowhere
    /// (<see cref="LoggedModelTarget.None"/>: the MLflow 2 way, run artifacts and the <c>mlflow.log-model.history</c>
    /// tag), for a 2.x server, the in-memory store, or a server whose version is not known while it cannot be reached
    /// (the run's files then reach either line).
    /// </summary>
    /// <exception cref="MlflowException">The server could not be asked and there is no offline fallback to keep the files in.</exception>
    internal async Task<LoggedModelTarget> LoggedModelTargetAsync(ActiveRun run, string artifactPath, CancellationToken cancellationToken)
    {
        if (_store.LoggedModelStore is { } local)
        {
            return new LoggedModelTarget(null, local);
        }

        if (_store.ServerClient is not { } client)
        {
            return LoggedModelTarget.None;
        }

        if (run.ServerRunId is null || run.IsOffline)
        {
            // Kept offline: a logged model in the run's copy, as the local store makes it, which the drain (or mlflow-sync)
            // pushes; the MLflow 2 way when this tracker already learned that the server is 2.x (no request is made).
            return CanKeepOffline(run) && client.KnownServerInfo is not { SupportsLoggedModels: false } ? LoggedModelTarget.Offline : LoggedModelTarget.None;
        }

        try
        {
            return await _store.SupportsLoggedModelsAsync(cancellationToken).ConfigureAwait(false) ? new LoggedModelTarget(client, null) : LoggedModelTarget.None;
        }
        catch (MlflowException ex) when (_offline is not null && ex.IsTransient)
        {
            TrackingLog.LoggedModelsUnknown(Logger, run.RunId, ex.Message, artifactPath);
            return LoggedModelTarget.None;
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

/// <summary>Where a run's model is made a logged model (<see cref="MlflowTracker.LoggedModelTargetAsync"/>).</summary>
/// <param name="Server">The MLflow 3 server's client.</param>
/// <param name="Local">The local store, which records logged models itself.</param>
/// <param name="InCopy">The run's offline copy (a local store the drain pushes from).</param>
internal readonly record struct LoggedModelTarget(MlflowClient? Server, FileStore.LocalFileStore? Local, bool InCopy = false)
{
    /// <summary>The MLflow 2 way: run artifacts and the history tag.</summary>
    public static LoggedModelTarget None => default;

    /// <summary>A logged model in the run's offline copy.</summary>
    public static LoggedModelTarget Offline => new(null, null, InCopy: true);
}
