namespace Mlflow.Client;

public partial class MlflowClient
{
    /// <summary>Lists a folder of a run's artifacts through the tracking API (<c>artifacts/list</c>).</summary>
    /// <param name="runId">The run id.</param>
    /// <param name="path">Folder relative to the run's artifact root; the root when <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>Files and folders, with paths relative to the run's artifact root.</returns>
    public virtual async Task<IReadOnlyList<ArtifactFileInfo>> ListArtifactsAsync(string runId, string? path = null, CancellationToken cancellationToken = default)
    {
        Require(runId, nameof(runId));
        var all = new List<ArtifactFileInfo>();
        string? token = null;
        do
        {
            var current = token;
            var page = await CallAsync(() => _tracking.ListArtifactsAsync(runId, path, current, cancellationToken), cancellationToken).ConfigureAwait(false);
            if (page.Files is { } files)
            {
                all.AddRange(files);
            }

            token = NullIfEmpty(page.NextPageToken);
        }
        while (token is not null);

        return all;
    }

    /// <summary>Uploads one artifact through the server's artifact proxy, streamed (<c>PUT mlflow-artifacts/artifacts/...</c>).</summary>
    /// <param name="artifactUri">The run's artifact root, for example <c>mlflow-artifacts:/1/&lt;run id&gt;/artifacts</c>.</param>
    /// <param name="artifactPath">Path of the file under that root.</param>
    /// <param name="content">The bytes to send; read once, never buffered whole.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes when the server confirmed.</returns>
    public virtual Task UploadArtifactAsync(string artifactUri, string artifactPath, Stream content, CancellationToken cancellationToken = default)
        => throw new NotImplementedException("artifact proxy: see the artifacts part of the REST client");
}
