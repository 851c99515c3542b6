namespace Mlflow.Client.Resilience;

/// <summary>
/// Puts the resilience pipeline in front of whatever sends the requests, the same for all three constructors of
/// <see cref="MlflowClient"/>: inside the handler chain of the <see cref="HttpClient"/> the SDK owns, and in a small
/// owned wrapper client around an <see cref="HttpClient"/> that comes from the caller or an <see cref="IHttpClientFactory"/>
/// (whose handler chain cannot be changed after it was built).
/// </summary>
internal static class ResilientHttpClients
{
    /// <summary>The owned chain: resilience first, then the socket handler.</summary>
    public static HttpMessageHandler WrapOwnedHandler(HttpMessageHandler inner, MlflowPipelines? pipeline, TimeSpan requestTimeout)
        => pipeline is null ? inner : new ResilienceHandler(pipeline, requestTimeout) { InnerHandler = inner };

    /// <summary>
    /// A wrapper client (owned by the SDK, disposing only itself) whose attempts go through <paramref name="foreign"/>;
    /// the wrapper has no overall timeout: the pipeline's per-attempt timeout and the foreign client's own apply.
    /// </summary>
    public static HttpClient WrapForeignClient(HttpClient foreign, MlflowPipelines pipeline, TimeSpan requestTimeout)
        => new(new ResilienceHandler(pipeline, requestTimeout) { InnerHandler = new HttpClientForwardingHandler(foreign) }, disposeHandler: true)
        {
            BaseAddress = foreign.BaseAddress,
            Timeout = Timeout.InfiniteTimeSpan,
        };
}
