using Microsoft.Extensions.Logging;
using Mlflow.Client.Offline;

namespace Mlflow.Client.Store;

/// <summary>
/// The one place that picks a tracking store for a tracking URI: a tracking server for <c>http(s)://</c> and
/// <c>databricks[://profile]</c> (resolved by the <see cref="MlflowClient"/> it builds), the local
/// store for no URI, a <c>file:</c> URI or a plain path.
/// </summary>
internal static class TrackingStoreFactory
{
    /// <summary>Creates the store the (environment-resolved) client options point at; the caller owns it.</summary>
    public static ITrackingStore Create(MlflowClientOptions resolved, ILoggerFactory loggerFactory, Func<HttpMessageHandler, HttpMessageHandler>? wrapHandler = null, IHttpClientFactory? httpClientFactory = null)
    {
        ArgumentNullException.ThrowIfNull(resolved);
        var uri = resolved.TrackingUri?.Trim();
        if (IsServerUri(uri))
        {
            return new RestTrackingStore(CreateClient(resolved, wrapHandler, httpClientFactory), ownsClient: true);
        }

        return CreateLocal(uri, loggerFactory.CreateLogger("Mlflow.Client.LocalFileStore"));
    }

    /// <summary>Whether the tracking URI names a tracking server (<c>http(s)://</c>, <c>databricks[://profile]</c>) rather than a local folder.</summary>
    public static bool IsServerUri(string? trackingUri)
    {
        var uri = trackingUri?.Trim();
        return uri is not null && (uri.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || uri.StartsWith("https://", StringComparison.OrdinalIgnoreCase) || Auth.DatabricksCredentials.IsDatabricksUri(uri));
    }

    /// <summary>The local store of a tracking URI that is no server URI: none (<c>MLFLOW_TRACKING_DIR</c>, else <c>./mlruns</c>), a <c>file:</c> URI or a path; other schemes are refused with advice.</summary>
    public static FileStore.LocalFileStore CreateLocal(string? trackingUri, ILogger logger)
    {
        var uri = trackingUri?.Trim();
        if (uri is not null && IsUnsupportedScheme(uri))
        {
            throw new NotSupportedException($"The tracking URI '{TrackingUriDisplay.Redact(uri)}' names a database or hosted backend; Mlflow.Client talks to a tracking server (http/https) or a local folder." + DatabaseTrackingUri.Advice(uri));
        }

        return new FileStore.LocalFileStore(FileStore.LocalFileStore.ResolveRoot(uri), logger);
    }

    /// <summary>
    /// The offline fallback of a tracker logging to a server: a local store (created on first use) drained through the
    /// tracker's own client, whose reconnection follows <see cref="MlflowOfflineOptions.ReconnectInterval"/> rather than
    /// a circuit breaker. <see langword="null"/> for a store without a server (nothing to fall back from).
    /// </summary>
    public static OfflineMirror? CreateOfflineMirror(ITrackingStore store, MlflowOfflineOptions options, EnvironmentReader env, ILoggerFactory loggerFactory)
        => store.ServerClient is { } client
            ? new OfflineMirror(options.ResolveDirectory(env), options, client, ownsDrainClient: false, client.TrackingUri.ToString(), loggerFactory.CreateLogger("Mlflow.Client.Offline"))
            : null;

    private static MlflowClient CreateClient(MlflowClientOptions resolved, Func<HttpMessageHandler, HttpMessageHandler>? wrapHandler, IHttpClientFactory? httpClientFactory)
    {
        if (wrapHandler is null)
        {
            return httpClientFactory is null ? new MlflowClient(resolved) : new MlflowClient(httpClientFactory, resolved);
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
