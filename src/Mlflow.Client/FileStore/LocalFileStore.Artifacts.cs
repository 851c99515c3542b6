using Mlflow.Client.Artifacts;

namespace Mlflow.Client.FileStore;

internal sealed partial class LocalFileStore
{
    public Task LogArtifactAsync(string runId, string artifactPath, Stream content, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        MlflowValidation.ValidateRunId(runId);
        return Artifacts(runId).WriteAsync(ArtifactPaths.Check(artifactPath), content, cancellationToken);
    }

    public Task<IReadOnlyList<ArtifactFileInfo>> ListArtifactsAsync(string runId, string? path, CancellationToken cancellationToken)
    {
        MlflowValidation.ValidateRunId(runId);
        return Artifacts(runId).ListAsync(string.IsNullOrEmpty(path) ? null : ArtifactPaths.Check(path), cancellationToken);
    }

    /// <inheritdoc />
    public Task<IArtifactRepository> GetRunArtifactsAsync(string runId, string? knownArtifactUri, Action<string>? artifactUriRead, CancellationToken cancellationToken)
        => Task.FromResult<IArtifactRepository>(Artifacts(runId));

    /// <summary>The run's artifact files (its local artifact folder, <see cref="ArtifactDirectory"/>).</summary>
    internal LocalArtifactRepository Artifacts(string runId) => new(ArtifactDirectory(runId));

    /// <summary>The run's local artifact folder; it must be under the store's root (the default layout).</summary>
    internal string ArtifactDirectory(string runId)
    {
        var runDir = LocateRun(runId);
        var meta = ReadRunMeta(runDir) ?? throw InvalidRunState(runId);
        var uri = meta.ArtifactUri;
        if (string.IsNullOrEmpty(uri) || !uri.StartsWith("file:", StringComparison.OrdinalIgnoreCase))
        {
            throw StoreError(MlflowErrorCode.InvalidParameterValue, $"Run '{runId}' stores artifacts at '{uri}', which the local store cannot reach (only file: locations).");
        }

        // Resolve the run's own artifacts folder: the meta's absolute URI may point to where the store used to be
        // (a copied mlruns folder), so fall back to the folder beside the run's meta.yaml.
        var local = Path.GetFullPath(FileStorePaths.FromFileUri(uri));
        var besideRun = Path.Combine(runDir, "artifacts");
        return IsUnder(_root, local) ? local : besideRun;
    }

    private static bool IsUnder(string root, string path)
        => path.StartsWith(root + Path.DirectorySeparatorChar, OperatingSystem.IsLinux() ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase);
}
