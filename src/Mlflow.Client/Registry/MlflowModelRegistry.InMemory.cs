using Mlflow.Client.Artifacts;
using Mlflow.Client.InMemory;

namespace Mlflow.Client;

// Downloading a model version of an in-memory tracker (MlflowTracker.CreateInMemory): its files are run artifacts in memory.
public sealed partial class MlflowModelRegistry
{
    /// <summary>The in-memory store whose runs' <c>memory:</c> artifacts the versions name (set by <see cref="InMemoryTrackingStore.CreateRegistry"/>); <see langword="null"/> for any other registry.</summary>
    internal InMemoryTrackingStore? InMemoryArtifacts { get; init; }

    /// <summary>
    /// Writes the files an in-memory location names (a file, or a folder with everything under it, relative paths kept)
    /// into <paramref name="target"/>, as a local copy would; <see langword="false"/> when the registry is not in memory or the location is not a <c>memory:</c> URI.
    /// </summary>
    /// <exception cref="MlflowException">The location names no artifact of the in-memory store.</exception>
    private async Task<bool> TryDownloadInMemoryAsync(string location, string target, CancellationToken cancellationToken)
    {
        if (InMemoryArtifacts is not { } memory || !location.StartsWith(InMemoryTrackingStore.ArtifactScheme + ":", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        if (!memory.TryFindArtifacts(location, out var artifacts, out var path))
        {
            throw new MlflowException($"The model files are at '{location}', which is not an artifact of a run of this in-memory tracker.");
        }

        var files = artifacts.Files;
        var selected = path is not null && files.ContainsKey(path)
            ? files.Where(f => f.Key == path).Select(f => (Relative: f.Key[(f.Key.LastIndexOf('/') + 1)..], Bytes: f.Value)).ToList()
            : files.Where(f => path is null || f.Key.StartsWith(path + "/", StringComparison.Ordinal))
                .Select(f => (Relative: path is null ? f.Key : f.Key[(path.Length + 1)..], Bytes: f.Value)).ToList();
        if (selected.Count == 0)
        {
            throw new MlflowException($"The model files are at '{location}', where the run logged no artifact.");
        }

        Directory.CreateDirectory(target);
        var local = new LocalArtifactRepository(target);
        foreach (var (relative, bytes) in selected)
        {
            using var content = new MemoryStream(bytes, writable: false);
            await local.WriteAsync(relative, content, cancellationToken).ConfigureAwait(false);
        }

        return true;
    }
}
