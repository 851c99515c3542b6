using Microsoft.Extensions.Logging;
using Mlflow.Client.Batching;

namespace Mlflow.Client.Store;

/// <summary>
/// The one place that picks a tracking store for a tracking URI: a tracking server for <c>http(s)://</c>, the local
/// store for no URI, a <c>file:</c> URI or a plain path.
/// </summary>
internal static class TrackingStoreFactory
{
    /// <summary>Creates the store the (environment-resolved) client options point at; the caller owns it.</summary>
    public static ITrackingStore Create(MlflowClientOptions resolved, ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(resolved);
        var uri = resolved.TrackingUri?.Trim();
        if (uri is not null && (uri.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || uri.StartsWith("https://", StringComparison.OrdinalIgnoreCase)))
        {
            return new RestTrackingStore(new MlflowClient(resolved), ownsClient: true);
        }

        if (uri is not null && IsUnsupportedScheme(uri))
        {
            throw new NotSupportedException($"The tracking URI '{TrackingUriDisplay.Redact(uri)}' names a database or hosted backend; Mlflow.Client talks to a tracking server (http/https) or a local folder.");
        }

        return new FileStore.LocalFileStore(FileStore.LocalFileStore.ResolveRoot(uri), loggerFactory.CreateLogger("Mlflow.Client.LocalFileStore"));
    }

    /// <summary>Where entries go when the queue is full and <see cref="QueueFullPolicy.SpillToLocalStore"/> is chosen.</summary>
    public static ISpillTarget CreateSpillTarget(MlflowClientOptions resolved, ILoggerFactory loggerFactory)
    {
        _ = resolved;
        _ = loggerFactory;
        throw new NotSupportedException("Spilling to the local store arrives with the offline fallback; use QueueFullPolicy.Wait.");
    }

    private static bool IsUnsupportedScheme(string uri)
    {
        var colon = uri.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 1)
        {
            return false; // no scheme, or a Windows drive letter
        }

        var scheme = uri[..colon].ToLowerInvariant();
        return scheme is not "file";
    }
}
