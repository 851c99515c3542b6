using Mlflow.Client.Auth;

namespace Mlflow.Client.Resilience;

/// <summary>
/// Puts the resilience pipeline and the token provider in front of whatever sends the requests, the same for all three
/// constructors of <see cref="MlflowClient"/>: inside the handler chain of the <see cref="HttpClient"/> the SDK owns, and
/// in a small owned wrapper client around an <see cref="HttpClient"/> that comes from the caller or an
/// <see cref="IHttpClientFactory"/> (whose handler chain cannot be changed after it was built). The order is always
/// resilience → credential scope → token → transport, so every attempt gets a current token (see
/// <see cref="TokenAuthenticationHandler"/>) and no credential leaves for another host (see <see cref="CredentialScopeHandler"/>).
/// </summary>
internal static class ResilientHttpClients
{
    /// <summary>The owned chain: resilience first, then the credential scope, the token handler and the socket handler.</summary>
    public static HttpMessageHandler WrapOwnedHandler(HttpMessageHandler inner, Uri trackingUri, MlflowPipelines? pipeline, TimeSpan requestTimeout, IMlflowTokenProvider? tokenProvider)
    {
        HttpMessageHandler handler = new CredentialScopeHandler(trackingUri) { InnerHandler = WithToken(inner, tokenProvider) };
        return pipeline is null ? handler : new ResilienceHandler(pipeline, requestTimeout) { InnerHandler = handler };
    }

    /// <summary>
    /// A wrapper client (owned by the SDK, disposing only itself) whose attempts go through <paramref name="foreign"/>;
    /// the wrapper has no overall timeout: the pipeline's per-attempt timeout and the foreign client's own apply.
    /// </summary>
    public static HttpClient WrapForeignClient(HttpClient foreign, Uri trackingUri, MlflowPipelines? pipeline, TimeSpan requestTimeout, IMlflowTokenProvider? tokenProvider)
        => new(WrapOwnedHandler(new HttpClientForwardingHandler(foreign), trackingUri, pipeline, requestTimeout, tokenProvider), disposeHandler: true)
        {
            BaseAddress = foreign.BaseAddress,
            Timeout = Timeout.InfiniteTimeSpan,
        };

    private static HttpMessageHandler WithToken(HttpMessageHandler inner, IMlflowTokenProvider? tokenProvider)
        => tokenProvider is null ? inner : new TokenAuthenticationHandler(tokenProvider) { InnerHandler = inner };
}
