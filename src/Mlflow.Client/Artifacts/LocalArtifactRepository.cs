using Mlflow.Client.FileStore;

namespace Mlflow.Client.Artifacts;

/// <summary>
/// A run's artifacts in a local folder: the local store's <c>&lt;run&gt;/artifacts</c>, a server run's local-path root
/// reachable from this machine, or a run's offline copy. A file is written under a temporary name beside its target and
/// moved into place once complete, so a reader (MLflow's FileStore, a sync) never sees half a file.
/// </summary>
internal sealed class LocalArtifactRepository : IArtifactRepository
{
    /// <summary>Prefix of files being written; listings skip them.</summary>
    internal const string TempPrefix = ".tmp-";
    private const int BufferSize = 81920;

    /// <param name="root">The run's artifact folder (created on first write).</param>
    public LocalArtifactRepository(string root)
    {
        Root = Path.GetFullPath(root);
    }

    public string Root { get; }

    public string Description => Root;

    public async Task WriteAsync(string artifactPath, Stream content, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        var target = FullPath(artifactPath);
        var folder = Path.GetDirectoryName(target)!;
        Directory.CreateDirectory(folder);
        var temp = Path.Combine(folder, TempPrefix + Guid.NewGuid().ToString("N"));
        try
        {
            var fs = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, BufferSize, FileOptions.Asynchronous);
            await using (fs.ConfigureAwait(false))
            {
                await content.CopyToAsync(fs, BufferSize, cancellationToken).ConfigureAwait(false);
            }

            File.Move(temp, target, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }

    public Task<IReadOnlyList<ArtifactFileInfo>> ListAsync(string? path, CancellationToken cancellationToken)
    {
        var folder = path is null ? Root : FullPath(path);
        var prefix = path is null ? "" : path + "/";
        var result = new List<ArtifactFileInfo>();
        if (Directory.Exists(folder))
        {
            foreach (var entry in new DirectoryInfo(folder).EnumerateFileSystemInfos())
            {
                if (entry.Name.StartsWith(TempPrefix, StringComparison.Ordinal))
                {
                    continue;
                }

                result.Add(entry is FileInfo fi
                    ? new ArtifactFileInfo(prefix + fi.Name, false, fi.Length)
                    : new ArtifactFileInfo(prefix + entry.Name, true));
            }
        }

        result.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        return Task.FromResult<IReadOnlyList<ArtifactFileInfo>>(result);
    }

    public Task<Stream> OpenReadAsync(string artifactPath, CancellationToken cancellationToken)
    {
        var full = FullPath(artifactPath);
        if (!File.Exists(full))
        {
            throw new FileNotFoundException($"The run has no artifact '{artifactPath}' (looked in {Root}).", full);
        }

        return Task.FromResult<Stream>(new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize, FileOptions.Asynchronous | FileOptions.SequentialScan));
    }

    /// <summary>The full path of a checked relative path; it cannot leave <see cref="Root"/>.</summary>
    private string FullPath(string artifactPath) => FileStorePaths.Combine(Root, Root, ArtifactPaths.Check(artifactPath), "artifact path");
}
