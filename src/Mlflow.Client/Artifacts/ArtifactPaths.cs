using Mlflow.Client.FileStore;
using Mlflow.Client.Rest;

namespace Mlflow.Client.Artifacts;

/// <summary>The one rule for a path under a run's artifact root, wherever the bytes go.</summary>
internal static class ArtifactPaths
{
    /// <summary>
    /// Checks a relative artifact path: MLflow's own rule (<c>validate_path_is_safe</c>: no absolute path, drive letter,
    /// backslash, <c>..</c> segment or <c>#</c>), then the portable file-name rule of the local store (the file may be
    /// kept offline or written to a local folder: no '.' or empty segment, no <c>: * ? " &lt; &gt; |</c>, no device
    /// names, at most 255 bytes a segment). Nothing is written when it fails.
    /// </summary>
    /// <exception cref="MlflowValidationException">The path breaks a rule; the message names the path and the rule.</exception>
    public static string Check(string? path)
    {
        ArtifactLocation.SplitRelativePath(path, allowEmpty: false);
        FileStorePaths.ValidateArtifactPath(path!);
        return path!;
    }

    /// <summary>Joins an optional folder and a file name (<c>folder/name</c>, or <c>name</c>) and checks the result.</summary>
    public static string Join(string? folder, string name)
        => Check(string.IsNullOrEmpty(folder) ? name : folder.TrimEnd('/') + "/" + name);

    /// <summary>Checks an optional folder under the root (<see langword="null"/> or empty: the root itself).</summary>
    public static string? CheckFolder(string? folder)
        => string.IsNullOrEmpty(folder) ? null : Check(folder.TrimEnd('/'));

    /// <summary>
    /// The relative '/'-paths of every file under <paramref name="localDirectory"/>, in ordinal order, each joined to
    /// <paramref name="artifactFolder"/> and checked, before anything is written.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    public static List<(string LocalFile, string ArtifactPath)> PlanDirectory(string localDirectory, string? artifactFolder)
    {
        ArgumentException.ThrowIfNullOrEmpty(localDirectory);
        var dir = Path.GetFullPath(localDirectory);
        if (!Directory.Exists(dir))
        {
            throw new DirectoryNotFoundException($"The folder '{localDirectory}' to log as artifacts does not exist.");
        }

        var folder = CheckFolder(artifactFolder);
        var plan = new List<(string, string)>();
        foreach (var file in Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var relative = Path.GetRelativePath(dir, file).Replace(Path.DirectorySeparatorChar, '/');
            plan.Add((file, Join(folder, relative)));
        }

        return plan;
    }
}
