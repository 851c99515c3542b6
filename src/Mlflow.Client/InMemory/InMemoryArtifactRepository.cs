using Mlflow.Client.Artifacts;

namespace Mlflow.Client.InMemory;

/// <summary>
/// One run's artifact files in memory (path → bytes), for <see cref="InMemoryTrackingStore"/>. Paths are checked by the
/// same rule as every other repository (<see cref="ArtifactPaths.Check"/>); a file written again replaces the old one.
/// </summary>
internal sealed class InMemoryArtifactRepository(string root) : IArtifactRepository
{
    private readonly object _gate = new();
    private readonly SortedDictionary<string, byte[]> _files = new(StringComparer.Ordinal);

    public string Description => root;

    /// <summary>Every file, path → a copy of its bytes, ordered by path.</summary>
    public IReadOnlyDictionary<string, byte[]> Files
    {
        get
        {
            lock (_gate)
            {
                return _files.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray(), StringComparer.Ordinal);
            }
        }
    }

    public async Task WriteAsync(string artifactPath, Stream content, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        var path = ArtifactPaths.Check(artifactPath);
        using var buffer = new MemoryStream();
        await content.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
        lock (_gate)
        {
            if (_files.Keys.Any(k => k.StartsWith(path + "/", StringComparison.Ordinal)))
            {
                throw new IOException($"The artifact path '{path}' is a folder of the run's artifacts, not a file.");
            }

            _files[path] = buffer.ToArray();
        }
    }

    public Task<IReadOnlyList<ArtifactFileInfo>> ListAsync(string? path, CancellationToken cancellationToken)
    {
        var prefix = string.IsNullOrEmpty(path) ? "" : ArtifactPaths.Check(path) + "/";
        var result = new SortedDictionary<string, ArtifactFileInfo>(StringComparer.Ordinal);
        lock (_gate)
        {
            foreach (var (file, bytes) in _files)
            {
                if (!file.StartsWith(prefix, StringComparison.Ordinal))
                {
                    continue;
                }

                var slash = file.IndexOf('/', prefix.Length);
                var entry = slash < 0 ? new ArtifactFileInfo(file, false, bytes.LongLength) : new ArtifactFileInfo(file[..slash], true);
                result.TryAdd(entry.Path, entry);
            }
        }

        return Task.FromResult<IReadOnlyList<ArtifactFileInfo>>(result.Values.ToList());
    }

    public Task<Stream> OpenReadAsync(string artifactPath, CancellationToken cancellationToken)
    {
        var path = ArtifactPaths.Check(artifactPath);
        lock (_gate)
        {
            if (!_files.TryGetValue(path, out var bytes))
            {
                throw new FileNotFoundException($"The run has no artifact '{artifactPath}' (looked in {root}).", artifactPath);
            }

            return Task.FromResult<Stream>(new MemoryStream(bytes, writable: false));
        }
    }
}
