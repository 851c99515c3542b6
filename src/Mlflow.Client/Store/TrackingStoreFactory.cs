using Microsoft.Extensions.Logging;
using Mlflow.Client.Offline;

namespace Mlflow.Client.Store;

/// <summary>
/// The one place that picks a tracking store for a tracking URI: a tracking server for <c>http(s)://</c>, the local
/// store for no URI, a <c>file:</c> URI or a plain path.
/// </summary>
internal static class TrackingStoreFactory
{
    /// <summary>Creates the store the (environment-resolved) client options point at; the caller owns it.</summary>
    public static ITrackingStore Create(MlflowClientOptions resolved, ILoggerFactory loggerFactory, Func<HttpMessageHandler, HttpMessageHandler>? wrapHandler = null)
    {
        ArgumentNullException.ThrowIfNull(resolved);
        var uri = resolved.TrackingUri?.Trim();
        if (uri is not null && (uri.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || uri.StartsWith("https://", StringComparison.OrdinalIgnoreCase)))
        {
            return new RestTrackingStore(CreateClient(resolved, wrapHandler), ownsClient: true);
        }

        if (uri is not null && IsUnsupportedScheme(uri))
        {
            throw new NotSupportedException($"The tracking URI '{TrackingUriDisplay.Redact(uri)}' names a database or hosted backend; Mlflow.Client talks to a tracking server (http/https) or a local folder.");
        }

        return new FileStore.LocalFileStore(FileStore.LocalFileStore.ResolveRoot(uri), loggerFactory.CreateLogger("Mlflow.Client.LocalFileStore"));
    }

    /// <summary>
    /// The offline fallback of a tracker logging to a server: a local store (created on first use) and a client that
    /// drains it with few retries, so the background sender is not held up long by a server that is still down.
    /// <see langword="null"/> for a local store (nothing to fall back from).
    /// </summary>
    public static OfflineMirror? CreateOfflineMirror(ITrackingStore store, MlflowClientOptions resolved, MlflowOfflineOptions options, EnvironmentReader env, ILoggerFactory loggerFactory, Func<HttpMessageHandler, HttpMessageHandler>? wrapHandler = null)
    {
        if (store is not RestTrackingStore rest)
        {
            return null;
        }

        var drainOptions = resolved.WithEnvironmentDefaults(EnvironmentReader.FromDictionary(new Dictionary<string, string>()));
        var retry = drainOptions.Retry.WithEnvironmentDefaults(EnvironmentReader.FromDictionary(new Dictionary<string, string>()));
        retry.MaxRetries = Math.Min(retry.MaxRetries, 1);
        drainOptions.Retry = retry;
        var drainClient = CreateClient(drainOptions, wrapHandler);
        return new OfflineMirror(options.ResolveDirectory(env), options, drainClient, ownsDrainClient: true, rest.Client.TrackingUri.ToString(), loggerFactory.CreateLogger("Mlflow.Client.Offline"));
    }

    private static MlflowClient CreateClient(MlflowClientOptions resolved, Func<HttpMessageHandler, HttpMessageHandler>? wrapHandler)
    {
        if (wrapHandler is null)
        {
            return new MlflowClient(resolved);
        }

        resolved.Validate();
#pragma warning disable CA2000 // test-only path: the HttpClient lives as long as the process
        var http = new HttpClient(wrapHandler(Rest.HttpClientConstruction.CreateOwnedHandler(resolved)), disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
#pragma warning restore CA2000
        return new MlflowClient(http, resolved);
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
