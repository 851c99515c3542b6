namespace Mlflow.Client.FileStore;

internal sealed partial class LocalFileStore
{
    public async Task LogArtifactAsync(string runId, string artifactPath, Stream content, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        MlflowValidation.ValidateRunId(runId);
        FileStorePaths.ValidateArtifactPath(artifactPath);
        var artifactRoot = LocalArtifactRoot(runId);
        var target = FileStorePaths.Combine(_root, artifactRoot, artifactPath, "artifact path");
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        var temp = Path.Combine(Path.GetDirectoryName(target)!, ".tmp-" + Guid.NewGuid().ToString("N"));
        try
        {
            await using (var fs = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, FileOptions.Asynchronous))
            {
                await content.CopyToAsync(fs, cancellationToken).ConfigureAwait(false);
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

    public Task<IReadOnlyList<ArtifactFileInfo>> ListArtifactsAsync(string runId, string? path, CancellationToken cancellationToken)
    {
        MlflowValidation.ValidateRunId(runId);
        var artifactRoot = LocalArtifactRoot(runId);
        var folder = artifactRoot;
        var prefix = "";
        if (!string.IsNullOrEmpty(path))
        {
            FileStorePaths.ValidateArtifactPath(path);
            folder = FileStorePaths.Combine(_root, artifactRoot, path, "artifact path");
            prefix = path + "/";
        }

        var result = new List<ArtifactFileInfo>();
        if (Directory.Exists(folder))
        {
            foreach (var entry in new DirectoryInfo(folder).EnumerateFileSystemInfos())
            {
                if (entry.Name.StartsWith(".tmp-", StringComparison.Ordinal))
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

    /// <summary>The run's local artifact folder; it must be under the store's root (the default layout).</summary>
    private string LocalArtifactRoot(string runId)
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
