using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Mlflow.Client.Resilience;
using Mlflow.Client.Rest;
using Mlflow.Client.Store;
using Refit;

namespace Mlflow.Client;

/// <summary>
/// The low-level typed client of MLflow's tracking REST API: one async method per endpoint, errors as
/// <see cref="MlflowException"/>. Thread-safe; create one per tracking server and reuse it. With no tracking URI, a
/// <c>file:</c> URI or a path (and no <see cref="HttpClient"/> given), it reads the local store instead, as Python's
/// <c>MlflowClient</c> does: runs, run searches, metric histories, experiments, run artifacts and registered models and
/// versions (see <see cref="IsLocal"/>); the calls that need a server throw <see cref="NotSupportedException"/>.
/// </summary>
/// <remarks>
/// Construct it from options (it then owns a pooled <see cref="HttpClient"/>), from an
/// <see cref="IHttpClientFactory"/>, or from an <see cref="HttpClient"/> you manage. Whichever you choose, every request
/// goes through the same retry, per-attempt timeout and circuit breaker (<see cref="MlflowClientOptions.Retry"/>): in the
/// handler chain of an owned client, and around each send of a client from a factory or from you (that client's own
/// handlers and timeout still apply per attempt).
/// </remarks>
public partial class MlflowClient : IDisposable
{
    private readonly HttpClient? _ownedHttpClient;
    private readonly ITrackingApi _tracking = null!;
    private readonly IRegistryApi _registry = null!;
    private readonly IArtifactsApi _artifacts = null!;
    private readonly IWebhooksApi _webhooks = null!;
    private readonly ILogger _logger = NullLogger.Instance;
    private readonly Store.LocalStoreReader? _local;

    /// <summary>For mocking only: a client with no connection.</summary>
    protected MlflowClient()
    {
        TrackingUri = new Uri("http://localhost/");
        HttpClient = null!;
    }

    /// <summary>Creates a client that owns its <see cref="HttpClient"/>, from options (unset values come from <c>MLFLOW_*</c> environment variables).</summary>
    /// <param name="options">Tracking URI, credentials and TLS; <see langword="null"/> means the environment only.</param>
    public MlflowClient(MlflowClientOptions? options = null)
        : this(null, null, options)
    {
    }

    /// <summary>Creates a client over an <see cref="HttpClient"/> you manage (its lifetime stays yours).</summary>
    /// <param name="httpClient">The client to send with; its <see cref="HttpClient.BaseAddress"/> is set from the tracking URI when empty.</param>
    /// <param name="options">Tracking URI and credentials; <see langword="null"/> means the environment only.</param>
    public MlflowClient(HttpClient httpClient, MlflowClientOptions? options = null)
        : this(httpClient ?? throw new ArgumentNullException(nameof(httpClient)), null, options)
    {
    }

    /// <summary>Creates a client whose <see cref="HttpClient"/> comes from a factory (named by <see cref="MlflowClientOptions.HttpClientName"/>).</summary>
    /// <param name="httpClientFactory">The factory.</param>
    /// <param name="options">Tracking URI and credentials; <see langword="null"/> means the environment only.</param>
    public MlflowClient(IHttpClientFactory httpClientFactory, MlflowClientOptions? options = null)
        : this(null, httpClientFactory ?? throw new ArgumentNullException(nameof(httpClientFactory)), options)
    {
    }

    private readonly RetryCounter _retried = new();

    /// <summary>Attempts the retry pipeline sent again after a transient failure, over the client's lifetime.</summary>
    internal long RetriedRequests => _retried.Count;

    private MlflowClient(HttpClient? httpClient, IHttpClientFactory? factory, MlflowClientOptions? options)
    {
        var resolved = (options ?? new MlflowClientOptions()).WithEnvironmentDefaults(EnvironmentReader.Process);
        Auth.DatabricksCredentials.Apply(resolved, EnvironmentReader.Process);
        resolved.Validate();
        var logger = resolved.LoggerFactory?.CreateLogger("Mlflow.Client.Http") ?? NullLogger.Instance;
        _logger = logger;
        if (httpClient is null && factory is null && !Store.TrackingStoreFactory.IsServerUri(resolved.TrackingUri))
        {
            // No server: the local store, as Python's MlflowClient() with no URI, a file: URI or a path.
            _local = new Store.LocalStoreReader(Store.TrackingStoreFactory.CreateLocal(resolved.TrackingUri, resolved.LoggerFactory?.CreateLogger("Mlflow.Client.LocalFileStore") ?? NullLogger.Instance));
            TrackingUri = new Uri(_local.Store.RootDirectory + Path.DirectorySeparatorChar);
            (HttpClient, _tracking, _registry, _artifacts, _webhooks) = Store.LocalStoreReader.RefusingRestClients(_local.Store.RootDirectory);
            _ownedHttpClient = HttpClient;
            return;
        }

        TrackingUri = ResolveServerUri(resolved.TrackingUri);
        var pipeline = MlflowResilience.Build(resolved.Retry, resolved.RequestTimeout, logger, _retried.Increment);
        Diagnostics.MlflowTelemetry.Track(_retried);
        bool owned = false;
        if (httpClient is null)
        {
            if (factory is not null)
            {
                httpClient = factory.CreateClient(resolved.HttpClientName);
            }
            else
            {
                var handler = ResilientHttpClients.WrapOwnedHandler(HttpClientConstruction.CreateOwnedHandler(resolved), TrackingUri, pipeline, resolved.RequestTimeout, resolved.TokenProvider);
                httpClient = new HttpClient(handler, disposeHandler: true);
                _ownedHttpClient = httpClient;
                owned = true;
            }
        }

        HttpClientConstruction.Configure(httpClient, TrackingUri, resolved, owned);
        if (owned && pipeline is not null)
        {
            // The pipeline times each attempt out; an overall HttpClient timeout would cut the retries short.
            httpClient.Timeout = Timeout.InfiniteTimeSpan;
        }
        else if (!owned && (pipeline is not null || resolved.TokenProvider is not null || HttpClientConstruction.CreateAuthorization(resolved) is not null))
        {
            // The credentials go on this wrapper, where the credential scope sees them: set on the caller's client,
            // they would go to every host it is sent to.
            httpClient = ResilientHttpClients.WrapForeignClient(httpClient, TrackingUri, pipeline, resolved.RequestTimeout, resolved.TokenProvider);
            _ownedHttpClient = httpClient;
        }

        HttpClientConstruction.ConfigureCredentials(httpClient, resolved);
        HttpClient = httpClient;
        var settings = new RefitSettings(new SystemTextJsonContentSerializer(MlflowJsonContext.WireOptions))
        {
            Buffered = true,
        };
        _tracking = RestService.ForGenerated<ITrackingApi>(httpClient, settings);
        _registry = RestService.ForGenerated<IRegistryApi>(httpClient, settings);
        _artifacts = RestService.ForGenerated<IArtifactsApi>(httpClient, settings);
        _webhooks = RestService.ForGenerated<IWebhooksApi>(httpClient, settings);
    }

    /// <summary>The server's base URI (the tracking URI, without user info); the store's folder as a <c>file:</c> URI when <see cref="IsLocal"/>.</summary>
    public Uri TrackingUri { get; }

    /// <summary>Whether this client reads a local store (no tracking URI, a <c>file:</c> URI or a path) rather than a tracking server.</summary>
    public bool IsLocal => _local is not null;

    /// <summary>The HTTP client requests are sent with.</summary>
    internal HttpClient HttpClient { get; }

    /// <summary>Disposes the <see cref="HttpClient"/> if this client created it.</summary>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases owned resources.</summary>
    /// <param name="disposing">Whether called from <see cref="Dispose()"/>.</param>
    protected virtual void Dispose(bool disposing)
    {
        if (disposing)
        {
            _ownedHttpClient?.Dispose();
            _local?.Dispose();
            Diagnostics.MlflowTelemetry.Retire(_retried);
        }
    }

    /// <summary>The client's retry count, read by the SDK's meter (<c>mlflow.client.requests.retried</c>).</summary>
    private sealed class RetryCounter : Diagnostics.ITelemetryCounted
    {
        private long _count;

        public long Count => Interlocked.Read(ref _count);

        public void Increment() => Interlocked.Increment(ref _count);

        public Diagnostics.TelemetryCounts ReadCounts() => new(0, 0, Count, 0, 0, 0, 0);
    }

    /// <summary>Accepts only http(s) URIs: local stores are not served by this client.</summary>
    internal static Uri ResolveServerUri(string? trackingUri)
    {
        if (string.IsNullOrWhiteSpace(trackingUri))
        {
            throw new ArgumentException($"No tracking server URI: set MlflowClientOptions.TrackingUri or {MlflowEnvironmentVariables.TrackingUri} to http(s)://host:port.", nameof(trackingUri));
        }

        if (!Uri.TryCreate(trackingUri.Trim(), UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"The tracking URI '{TrackingUriDisplay.Redact(trackingUri)}' is not an http(s) URI; MlflowClient talks to a tracking server only." + DatabaseTrackingUri.Advice(trackingUri), nameof(trackingUri));
        }

        var builder = new UriBuilder(uri) { UserName = "", Password = "", Query = "", Fragment = "" };
        builder.Path = builder.Path.TrimEnd('/');
        return builder.Uri;
    }

    /// <summary>Runs one REST call and maps every failure to <see cref="MlflowException"/>.</summary>
    internal static async Task<T> CallAsync<T>(Func<Task<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (ApiException ex)
        {
            throw ErrorMapping.FromApiException(ex);
        }
        catch (ApiRequestException ex) when (ex.InnerException is Store.LocalStoreReader.NotOnLocalStoreException refused)
        {
            // On a local store: Refit wraps the refusing handler's exception for methods with a result (Task<T>), and
            // lets it through unwrapped for those without (Task), so both reach the caller as NotSupportedException.
            throw new NotSupportedException(refused.Message, refused);
        }
        catch (ApiRequestException ex) when (ex.InnerException is OperationCanceledException && cancellationToken.IsCancellationRequested)
        {
            // Cancelled by the caller: a cancellation, not a request failure.
            throw new OperationCanceledException(ex.InnerException.Message, ex, cancellationToken);
        }
        catch (ApiRequestException ex)
        {
            // Refit 16 wraps transport failures (refused connection, DNS, TLS, timeout) before any answer arrived.
            throw ErrorMapping.FromRequestException(ex);
        }
        catch (HttpRequestException ex)
        {
            throw ErrorMapping.FromTransport(ex, null, null);
        }
        catch (TaskCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw ErrorMapping.FromTransport(ex, null, null);
        }
    }

    /// <inheritdoc cref="CallAsync{T}(Func{Task{T}}, CancellationToken)"/>
    internal static Task CallAsync(Func<Task> call, CancellationToken cancellationToken)
        => CallAsync(async () =>
        {
            await call().ConfigureAwait(false);
            return true;
        }, cancellationToken);

    /// <summary>The token of the next page; a server that hands back the token just sent would make paging loop forever.</summary>
    internal static string? NextToken(string? sent, string? received, string endpoint)
    {
        if (received is not null && string.Equals(sent, received, StringComparison.Ordinal))
        {
            throw new MlflowException($"{endpoint} answered the page token it was sent; paging stopped to avoid an endless loop.");
        }

        return received;
    }

    /// <summary>
    /// Refuses a key or value holding a lone UTF-16 surrogate with <see cref="MlflowValidationException"/>, by the rule
    /// the tracker applies (<see cref="MlflowValidation.CheckValue"/>): JSON would carry it as U+FFFD, another text than
    /// the caller's, which the server would store without a word.
    /// </summary>
    private static void RefuseLoneSurrogates(string? key, string? value, string kind)
    {
        var subject = kind + " key";
        MlflowValidation.CheckValue(key, int.MaxValue, truncate: false, key ?? "", subject, out _);
        MlflowValidation.CheckValue(value, int.MaxValue, truncate: false, key ?? "", subject, out _);
    }

    /// <summary>The tags as a list, each checked by <see cref="RefuseLoneSurrogates"/>; <see langword="null"/> stays null.</summary>
    private static List<Tag>? CheckedTags(IEnumerable<Tag>? tags, string kind)
    {
        var list = tags?.ToList();
        foreach (var tag in list ?? [])
        {
            RefuseLoneSurrogates(tag.Key, tag.Value, kind);
        }

        return list;
    }

    private static void Require(string? value, string paramName)
    {
        if (string.IsNullOrEmpty(value))
        {
            throw new ArgumentException($"{paramName} is required.", paramName);
        }
    }
}
