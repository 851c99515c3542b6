namespace Mlflow.Client.Artifacts;

/// <summary>A run's artifacts behind the tracking server's artifact proxy (an <c>mlflow-artifacts:</c> root): streamed uploads and downloads.</summary>
internal sealed class ProxyArtifactRepository(MlflowClient client, string artifactUri) : IArtifactRepository
{
    public string Description => artifactUri;

    public Task WriteAsync(string artifactPath, Stream content, CancellationToken cancellationToken)
        => client.UploadArtifactAsync(artifactUri, artifactPath, content, cancellationToken);

    public Task<IReadOnlyList<ArtifactFileInfo>> ListAsync(string? path, CancellationToken cancellationToken)
        => client.ListProxiedArtifactsAsync(artifactUri, path, cancellationToken);

    public Task<Stream> OpenReadAsync(string artifactPath, CancellationToken cancellationToken)
        => client.DownloadArtifactAsync(artifactUri, artifactPath, cancellationToken);
}
