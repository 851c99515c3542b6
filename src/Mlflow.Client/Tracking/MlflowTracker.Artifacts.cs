// Where a run's artifact files go: the local store's run folder, the server run's artifact root (proxy or a local
// path), or the run's offline copy while the server cannot take them.
using Mlflow.Client.Artifacts;
using Mlflow.Client.Resilience;

namespace Mlflow.Client;

public sealed partial class MlflowTracker
{
    /// <summary>
    /// Writes one artifact file of <paramref name="run"/>. With the offline fallback, a file logged while the run's data
    /// goes to its offline copy, or whose upload finds the server unreachable, is copied into that copy instead, and
    /// uploaded by the drain (or <c>mlflow-sync</c>) once.
    /// </summary>
    /// <param name="run">The run.</param>
    /// <param name="artifactPath">The checked path under the run's artifact root (<see cref="ArtifactPaths.Check"/>).</param>
    /// <param name="open">Opens the content; called again when a failed upload is kept offline instead.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    internal async Task WriteArtifactAsync(ActiveRun run, string artifactPath, Func<Stream> open, CancellationToken cancellationToken)
    {
        if (_offlineLayer is not null && run.Mirror is { Active: true })
        {
            await WriteOfflineArtifactAsync(run, artifactPath, open, "the run's data is kept offline", cancellationToken).ConfigureAwait(false);
            return;
        }

        string reason;
        try
        {
            // A server that refuses connections is not there: the file goes offline after one attempt.
            using var scope = RequestScope.Enter(_offline is { Options.ThrowOnConnectivityFailure: false } ? RequestFlags.NoRetryWhenRefused : RequestFlags.None);
            var repository = await ArtifactRepositoryAsync(run, cancellationToken).ConfigureAwait(false);
            var content = open();
            await using (content.ConfigureAwait(false))
            {
                await repository.WriteAsync(artifactPath, content, cancellationToken).ConfigureAwait(false);
            }

            return;
        }
        catch (MlflowException ex) when (CanGoOffline(ex) && _offlineLayer?.CanKeepOffline(run.Buffer) == true)
        {
            reason = ex.ShortReason;
        }

        await WriteOfflineArtifactAsync(run, artifactPath, open, reason, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Where <paramref name="run"/>'s artifacts can be read now: the local store, the server run's artifact root, or (a run not yet on the server) its offline copy.</summary>
    internal async Task<IArtifactRepository> ArtifactRepositoryAsync(ActiveRun run, CancellationToken cancellationToken)
    {
        if (run.ServerRunId is not { } runId)
        {
            return OfflineArtifacts(run);
        }

        return await _store.GetRunArtifactsAsync(runId, run.ArtifactUri, uri => run.ArtifactUri ??= uri, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Copies one artifact into the run's offline copy through the offline layer (<see cref="Offline.OfflineExporter.KeepLocallyAsync"/>),
    /// which opens the copy when needed and marks it for the drain.
    /// </summary>
    private Task WriteOfflineArtifactAsync(ActiveRun run, string artifactPath, Func<Stream> open, string reason, CancellationToken cancellationToken)
        => _offlineLayer!.KeepLocallyAsync(run.Buffer, reason, async (store, localRunId) =>
        {
            var content = open();
            await using (content.ConfigureAwait(false))
            {
                await store.Artifacts(localRunId).WriteAsync(artifactPath, content, cancellationToken).ConfigureAwait(false);
            }
        }, cancellationToken);

    /// <summary>The artifact folder of the run's offline copy.</summary>
    private LocalArtifactRepository OfflineArtifacts(ActiveRun run)
    {
        var mirror = run.Mirror ?? throw new InvalidOperationException($"Run {run.RunId} has no offline copy.");
        return _offline!.Store.Artifacts(mirror.LocalRunId);
    }
}
