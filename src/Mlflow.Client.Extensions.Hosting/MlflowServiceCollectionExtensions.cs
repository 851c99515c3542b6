using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Mlflow.Client;
using Mlflow.Client.Extensions.Hosting;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Registers Mlflow.Client with dependency injection: <see cref="MlflowTracker"/> (<see cref="AddMlflowTracking(IServiceCollection, IConfiguration)"/>)
/// and <see cref="MlflowClient"/> (<see cref="AddMlflowClient(IServiceCollection, IConfiguration)"/>), each a singleton over a
/// named <see cref="HttpClient"/> of <see cref="IHttpClientFactory"/>, with its options validated when the host starts.
/// </summary>
/// <remarks>
/// <para>Settings come from, in order of precedence: what the configuration section or the delegate sets; then the
/// <c>MLFLOW_*</c> environment variables MLflow's Python client reads (<see cref="MlflowEnvironmentVariables"/>), for
/// every setting left unset or at its default; then the defaults. The section has the shape of
/// <see cref="MlflowTrackerOptions"/> for both methods (<c>TrackingUri</c>, <c>ExperimentName</c>, <c>Client</c> with the
/// credentials, TLS, <c>RequestTimeout</c> and <c>Retry</c>, <c>Batching</c>, <c>Offline</c>); an unknown key is an error.</para>
/// <para>Every request goes through one resilience pipeline: the client's own retry, per-attempt timeout and circuit
/// breaker (<see cref="MlflowClientOptions.Retry"/>) by default, or Microsoft.Extensions.Http.Resilience's standard
/// handler when <see cref="MlflowBuilder.UseStandardResilienceHandler"/> is called, never both.</para>
/// </remarks>
public static class MlflowServiceCollectionExtensions
{
    internal const string TrackerHttpClientName = "Mlflow.Client.Tracking";
    internal const string ClientHttpClientName = "Mlflow.Client";

    private static readonly Action<BinderOptions> Strict = o => o.ErrorOnUnknownConfiguration = true;

    /// <summary>
    /// Registers a singleton <see cref="MlflowTracker"/> configured from a section (for example <c>Configuration.GetSection("Mlflow")</c>)
    /// and a hosted service that flushes and ends its active runs as KILLED when the host stops, within the host's
    /// shutdown timeout. The tracker leaves Ctrl+C and SIGTERM to the host (<see cref="MlflowTrackerOptions.HandleProcessShutdown"/> off)
    /// and is created when the host starts, so a wrong setting stops the start with a message naming it.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configuration">The section with the settings.</param>
    /// <returns>A builder for the tracker's HTTP client.</returns>
    public static MlflowBuilder AddMlflowTracking(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<MlflowTrackerOptions>().Configure(o => configuration.Bind(o, Strict));
        return AddTrackingCore(services, SettingsPath(configuration));
    }

    /// <summary>
    /// Registers a singleton <see cref="MlflowTracker"/> configured in code, and the hosted service that ends its
    /// runs when the host stops (see <see cref="AddMlflowTracking(IServiceCollection, IConfiguration)"/>).
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Sets the options; <see langword="null"/>: the environment and defaults only.</param>
    /// <returns>A builder for the tracker's HTTP client.</returns>
    public static MlflowBuilder AddMlflowTracking(this IServiceCollection services, Action<MlflowTrackerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<MlflowTrackerOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        return AddTrackingCore(services, nameof(MlflowTrackerOptions));
    }

    /// <summary>
    /// Registers a singleton <see cref="MlflowClient"/> (the low-level REST client) configured from a section of the
    /// same shape as for <see cref="AddMlflowTracking(IServiceCollection, IConfiguration)"/>: <c>TrackingUri</c> (an
    /// <c>http(s)</c> server) and <c>Client</c>; the other keys are the tracker's and are ignored here.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configuration">The section with the settings.</param>
    /// <returns>A builder for the client's HTTP client.</returns>
    public static MlflowBuilder AddMlflowClient(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<MlflowClientOptions>().Configure(o =>
        {
            // Bound through the tracker's shape, so both methods read one section and a misspelt key fails either way.
            var shape = new MlflowTrackerOptions { Client = o };
            configuration.Bind(shape, Strict);
            if (shape.TrackingUri is not null)
            {
                o.TrackingUri = shape.TrackingUri;
            }
        });
        var path = SettingsPath(configuration);
        return AddClientCore(services, Join(path, nameof(MlflowTrackerOptions.Client)), Join(path, nameof(MlflowTrackerOptions.TrackingUri)));
    }

    /// <summary>Registers a singleton <see cref="MlflowClient"/> configured in code.</summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Sets the options; <see langword="null"/>: the environment and defaults only.</param>
    /// <returns>A builder for the client's HTTP client.</returns>
    public static MlflowBuilder AddMlflowClient(this IServiceCollection services, Action<MlflowClientOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<MlflowClientOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        return AddClientCore(services, nameof(MlflowClientOptions), Join(nameof(MlflowClientOptions), nameof(MlflowClientOptions.TrackingUri)));
    }

    private static MlflowBuilder AddTrackingCore(IServiceCollection services, string path)
    {
        services.AddOptions<MlflowTrackerOptions>()
            .PostConfigure<IServiceProvider>((o, provider) =>
            {
                // The host owns Ctrl+C and SIGTERM; the hosted service ends the runs when it stops.
                o.HandleProcessShutdown = false;
                o.HttpClientFactory = provider.GetRequiredService<IHttpClientFactory>();
                o.LoggerFactory ??= provider.GetService<ILoggerFactory>();
                o.Client ??= new MlflowClientOptions();
                o.Client.HttpClientName = TrackerHttpClientName;
                o.Client.LoggerFactory ??= o.LoggerFactory;
            })
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<MlflowTrackerOptions>>(new TrackerOptionsValidator(path)));
        services.TryAddSingleton(provider => MlflowTracker.Create(provider.GetRequiredService<IOptions<MlflowTrackerOptions>>().Value));
        services.AddHostedService<MlflowTrackingHostedService>();
        var http = AddHttpClient(services, TrackerHttpClientName, provider => provider.GetRequiredService<IOptions<MlflowTrackerOptions>>().Value.Client);
        return new MlflowBuilder(services, http, s => s.PostConfigure<MlflowTrackerOptions>(o => o.Client.Retry.Enabled = false));
    }

    private static MlflowBuilder AddClientCore(IServiceCollection services, string clientPath, string trackingUriPath)
    {
        services.AddOptions<MlflowClientOptions>()
            .PostConfigure<IServiceProvider>((o, provider) =>
            {
                o.HttpClientName = ClientHttpClientName;
                o.LoggerFactory ??= provider.GetService<ILoggerFactory>();
            })
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<MlflowClientOptions>>(new ClientOptionsValidator(clientPath, trackingUriPath)));
        services.TryAddSingleton(provider => new MlflowClient(provider.GetRequiredService<IHttpClientFactory>(), provider.GetRequiredService<IOptions<MlflowClientOptions>>().Value));
        var http = AddHttpClient(services, ClientHttpClientName, provider => provider.GetRequiredService<IOptions<MlflowClientOptions>>().Value);
        return new MlflowBuilder(services, http, s => s.PostConfigure<MlflowClientOptions>(o => o.Retry.Enabled = false));
    }

    /// <summary>
    /// The named client: the SDK's own primary handler (pooled connections recycled every five minutes, so a singleton
    /// sees DNS changes; the TLS settings) and, while the SDK's pipeline times each attempt, no overall timeout.
    /// </summary>
    private static IHttpClientBuilder AddHttpClient(IServiceCollection services, string name, Func<IServiceProvider, MlflowClientOptions> options)
        => services.AddHttpClient(name)
            .ConfigurePrimaryHttpMessageHandler(provider => MlflowClient.CreateHttpMessageHandler(options(provider)))
            .ConfigureHttpClient((provider, client) =>
            {
                var o = options(provider);
                client.Timeout = o.Retry.Enabled ? Timeout.InfiniteTimeSpan : o.RequestTimeout;
            });

    private static string SettingsPath(IConfiguration configuration) => (configuration as IConfigurationSection)?.Path ?? "";

    internal static string Join(string path, string key) => path.Length == 0 ? key : key.Length == 0 ? path : path + ":" + key;
}
