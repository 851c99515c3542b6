namespace Mlflow.Client.Artifacts;

/// <summary>
/// Where one run's artifact files live, chosen from its artifact URI (<see cref="ArtifactRepositories.ForRoot"/>): the
/// server's artifact proxy, or a local folder (the local store's run folder, a server's local-path root reachable from
/// here, or a run's offline copy). Paths are relative to the run's artifact root, '/'-separated, and already checked by
/// <see cref="ArtifactPaths.Check"/>.
/// </summary>
internal interface IArtifactRepository
{
    /// <summary>Where the files go, for messages (never with credentials).</summary>
    string Description { get; }

    /// <summary>Writes one file from <paramref name="content"/>, read once and never held whole in memory.</summary>
    Task WriteAsync(string artifactPath, Stream content, CancellationToken cancellationToken);

    /// <summary>The files and folders directly in <paramref name="path"/> (the root when <see langword="null"/>), paths relative to the root.</summary>
    Task<IReadOnlyList<ArtifactFileInfo>> ListAsync(string? path, CancellationToken cancellationToken);

    /// <summary>Opens one file for reading; dispose the stream.</summary>
    Task<Stream> OpenReadAsync(string artifactPath, CancellationToken cancellationToken);
}
