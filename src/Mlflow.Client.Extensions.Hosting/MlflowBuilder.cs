using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;

namespace Mlflow.Client.Extensions.Hosting;

/// <summary>What <c>AddMlflowTracking</c> and <c>AddMlflowClient</c> return: the named HTTP client they registered, and how its resilience is chosen.</summary>
public sealed class MlflowBuilder
{
    private readonly Action<IServiceCollection> _turnOffOwnPipeline;
    private bool _standard;

    internal MlflowBuilder(IServiceCollection services, IHttpClientBuilder httpClient, Action<IServiceCollection> turnOffOwnPipeline)
    {
        Services = services;
        HttpClient = httpClient;
        _turnOffOwnPipeline = turnOffOwnPipeline;
    }

    /// <summary>The services.</summary>
    public IServiceCollection Services { get; }

    /// <summary>
    /// The named client of <see cref="IHttpClientFactory"/> the requests go through, to add handlers of your own
    /// (headers, logging, a proxy). Add resilience only with <see cref="UseStandardResilienceHandler"/>: a retry handler
    /// added here would run under the SDK's own retries.
    /// </summary>
    public IHttpClientBuilder HttpClient { get; }

    /// <summary>
    /// Sends the requests through Microsoft.Extensions.Http.Resilience's standard handler (rate limiter, total timeout,
    /// retry, circuit breaker, attempt timeout) instead of the SDK's own pipeline, which is then turned off
    /// (<see cref="MlflowRetryOptions.Enabled"/> = <see langword="false"/>): never both.
    /// </summary>
    /// <remarks>The standard handler retries every transient failure, writes included; the SDK's pipeline retries a write
    /// that must not run twice (<c>runs/log-batch</c>, <c>runs/create</c>, …) only when the server cannot have applied it.</remarks>
    /// <param name="configure">Adjusts the standard handler's options; <see langword="null"/>: its defaults.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="InvalidOperationException">Called a second time.</exception>
    public MlflowBuilder UseStandardResilienceHandler(Action<HttpStandardResilienceOptions>? configure = null)
    {
        if (_standard)
        {
            throw new InvalidOperationException($"The standard resilience handler is already added to the HTTP client '{HttpClient.Name}'.");
        }

        _standard = true;
        var pipeline = HttpClient.AddStandardResilienceHandler();
        if (configure is not null)
        {
            pipeline.Configure(configure);
        }

        _turnOffOwnPipeline(Services);
        return this;
    }
}
