using Mlflow.Client.Artifacts;

namespace Mlflow.Client;

// The artifact operations tables and models go through: the run's own artifact methods (ActiveRun.Artifacts.cs).
public sealed partial class ActiveRun
{
    /// <summary>
    /// The text of one of the run's artifacts, or <see langword="null"/> when the run has no such file: its folder is
    /// listed first, as MLflow's <c>log_table</c> does before it downloads.
    /// </summary>
    private async Task<string?> TryReadArtifactTextAsync(string artifactPath, CancellationToken cancellationToken)
    {
        var slash = artifactPath.LastIndexOf('/');
        var folder = slash < 0 ? null : artifactPath[..slash];
        var listed = await ListArtifactsAsync(folder, cancellationToken).ConfigureAwait(false);
        return listed.Any(e => !e.IsDir && e.Path == artifactPath)
            ? await LoadTextAsync(artifactPath, cancellationToken).ConfigureAwait(false)
            : null;
    }

    /// <summary>Stores <paramref name="text"/> (UTF-8) as the run's artifact <paramref name="artifactFile"/>.</summary>
    private Task LogTextArtifactAsync(string text, string artifactFile, CancellationToken cancellationToken)
        => LogTextAsync(text, artifactFile, cancellationToken);

    /// <summary>Stores the contents of <paramref name="localDirectory"/> under <paramref name="artifactPath"/>.</summary>
    private Task LogFolderArtifactsAsync(string localDirectory, string artifactPath, CancellationToken cancellationToken)
        => LogArtifactsAsync(localDirectory, artifactPath, cancellationToken);
}
