// Where a run's artifact files go: the local store's run folder, the server run's artifact root (proxy or a local
// path), or the run's offline copy while the server cannot take them.
using Mlflow.Client.Artifacts;

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
    internal Task WriteArtifactAsync(ActiveRun run, string artifactPath, Func<Stream> open, CancellationToken cancellationToken)
    {
        return _offlineLayer is null
            ? UploadAsync(cancellationToken)
            : _offlineLayer.SendOrKeepAsync(
                run.Buffer,
                UploadAsync,
                async (store, localRunId) =>
                {
                    var content = open();
                    await using (content.ConfigureAwait(false))
                    {
                        await store.Artifacts(localRunId).WriteAsync(artifactPath, content, cancellationToken).ConfigureAwait(false);
                    }
                },
                cancellationToken);

        async Task UploadAsync(CancellationToken ct)
        {
            var repository = await ArtifactRepositoryAsync(run, ct).ConfigureAwait(false);
            var content = open();
            await using (content.ConfigureAwait(false))
            {
                await repository.WriteAsync(artifactPath, content, ct).ConfigureAwait(false);
            }
        }
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

    /// <summary>The artifact folder of the run's offline copy.</summary>
    private LocalArtifactRepository OfflineArtifacts(ActiveRun run)
    {
        var mirror = run.Mirror ?? throw new InvalidOperationException($"Run {run.RunId} has no offline copy.");
        return _offline!.Store.Artifacts(mirror.LocalRunId);
    }
}
