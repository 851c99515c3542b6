namespace Mlflow.Client;

// The artifact operations tables and models go through; wired to the run's artifact methods.
public sealed partial class ActiveRun
{
    /// <summary>The text of one of the run's artifacts, or <see langword="null"/> when the run has no such file.</summary>
    private Task<string?> TryReadArtifactTextAsync(string artifactPath, CancellationToken cancellationToken)
        => throw new NotSupportedException("Artifact read-back is not wired yet.");

    /// <summary>Stores <paramref name="text"/> (UTF-8) as the run's artifact <paramref name="artifactFile"/>.</summary>
    private Task LogTextArtifactAsync(string text, string artifactFile, CancellationToken cancellationToken)
        => throw new NotSupportedException("Artifact upload is not wired yet.");

    /// <summary>Stores the contents of <paramref name="localDirectory"/> under <paramref name="artifactPath"/>.</summary>
    private Task LogFolderArtifactsAsync(string localDirectory, string artifactPath, CancellationToken cancellationToken)
        => throw new NotSupportedException("Artifact upload is not wired yet.");
}
