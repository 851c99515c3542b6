using System.Net;
using Mlflow.Client.FileStore;
using Mlflow.Client.Rest;

namespace Mlflow.Client.Artifacts;

/// <summary>Picks the <see cref="IArtifactRepository"/> of a server run from its artifact URI.</summary>
internal static class ArtifactRepositories
{
    private const string ServeArtifactsHint =
        "start the tracking server with --serve-artifacts and --artifacts-destination (and without --default-artifact-root), "
        + "so new runs get 'mlflow-artifacts:' roots and files are uploaded through the server";

    /// <summary>
    /// The repository of a run whose artifact root is <paramref name="artifactUri"/>, as the tracking server at
    /// <paramref name="client"/> gave it: the artifact proxy for <c>mlflow-artifacts:</c>; the folder itself for a local
    /// path or <c>file:</c> URI when it is on this machine (as MLflow's own client writes there directly).
    /// </summary>
    /// <exception cref="NotSupportedException">Another scheme (<c>s3</c>, <c>gs</c>, <c>wasbs</c>, <c>dbfs</c>...), or a local path of another machine; the message names the scheme and the proxy alternative.</exception>
    public static IArtifactRepository ForRoot(MlflowClient client, string artifactUri)
    {
        ArgumentNullException.ThrowIfNull(client);
        if (string.IsNullOrEmpty(artifactUri))
        {
            throw new NotSupportedException("The run has no artifact location; " + ServeArtifactsHint + ".");
        }

        var scheme = SchemeOf(artifactUri);
        if (scheme.Equals(ArtifactLocation.ProxyScheme, StringComparison.OrdinalIgnoreCase))
        {
            return new ProxyArtifactRepository(client, artifactUri);
        }

        if (scheme.Length == 0 || scheme.Equals("file", StringComparison.OrdinalIgnoreCase))
        {
            return ForLocalPath(client, artifactUri, scheme.Length > 0);
        }

        throw new NotSupportedException(
            $"The run stores artifacts in a '{scheme}:' location, which Mlflow.Client does not write to (only the tracking server's artifact proxy and local folders); {ServeArtifactsHint} to the '{scheme}:' store.");
    }

    /// <summary>The scheme of a URI, empty for a plain path (a Windows drive letter is a path).</summary>
    internal static string SchemeOf(string uri)
    {
        var colon = uri.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 1 || uri.AsSpan(0, colon).ContainsAny('/', '\\'))
        {
            return "";
        }

        return uri[..colon];
    }

    private static LocalArtifactRepository ForLocalPath(MlflowClient client, string artifactUri, bool isFileUri)
    {
        string path;
        try
        {
            path = Path.GetFullPath(isFileUri ? FileStorePaths.FromFileUri(artifactUri) : artifactUri);
        }
        catch (ArgumentException ex)
        {
            throw new NotSupportedException($"The run's artifact location '{artifactUri}' is not a folder of this machine ({ex.Message}); {ServeArtifactsHint}.", ex);
        }

        // The folder is on the server's disk: this machine's when the server runs here, else only through a shared
        // folder that exists here (the server's default artifact root, three levels above <experiment>/<run>/artifacts).
        if (IsLoopback(client.TrackingUri) || Directory.Exists(path) || Ancestor(path, 3) is { } root && Path.GetPathRoot(root) != root && Directory.Exists(root))
        {
            return new LocalArtifactRepository(path);
        }

        throw new NotSupportedException(
            $"The run's artifact root '{path}' is a folder on the tracking server's machine, not reachable from this one (it does not exist here). Either run this program where that folder is, or {ServeArtifactsHint}.");
    }

    private static string? Ancestor(string path, int levels)
    {
        string? current = path;
        for (var i = 0; i < levels && current is not null; i++)
        {
            current = Path.GetDirectoryName(current);
        }

        return current;
    }

    private static bool IsLoopback(Uri trackingUri)
    {
        var host = trackingUri.IdnHost;
        return host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
            || (IPAddress.TryParse(host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
    }
}
