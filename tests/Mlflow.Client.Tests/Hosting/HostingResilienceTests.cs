using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Mlflow.Client.Tests.Infrastructure;
using NUnit.Framework;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Mlflow.Client.Tests.Hosting;

/// <summary>
/// One resilience pipeline per request: the SDK's own by default, Microsoft.Extensions.Http.Resilience's standard handler
/// when asked for, never both. Checked in the factory's handler chain and by counting the attempts a failing server sees
/// (the SDK's pipeline set to 2 attempts, the standard one to 3: both together would make 6).
/// </summary>
[CancelAfter(60_000)]
public class HostingResilienceTests
{
    private const string StandardHandler = "Microsoft.Extensions.Http.Resilience.ResilienceHandler";

    [Test]
    public async Task By_default_the_sdk_pipeline_alone_retries_and_the_factory_chain_has_no_resilience_handler()
    {
        using var server = FailingServer();
        using var host = HostingTestKit.Build(new Dictionary<string, string?>(), (services, _) => services.AddMlflowClient(o => Configure(o, server.Url)));

        var chain = Chain(host.Services, "Mlflow.Client");
        Assert.That(chain.Where(t => t.Contains("Resilience", StringComparison.Ordinal)), Is.Empty, string.Join(" > ", chain));
        Assert.That(chain[^1], Is.EqualTo(typeof(SocketsHttpHandler).FullName), "the SDK's primary handler");
        Assert.That(host.Services.GetRequiredService<IOptions<MlflowClientOptions>>().Value.Retry.Enabled, Is.True);

        var ex = Assert.ThrowsAsync<MlflowException>(() => host.Services.GetRequiredService<MlflowClient>().GetExperimentAsync("1"));
        Assert.That(ex!.StatusCode, Is.EqualTo(System.Net.HttpStatusCode.ServiceUnavailable));
        Assert.That(server.Requests, Has.Count.EqualTo(2), "1 + Retry.MaxRetries attempts, from the SDK's pipeline");
    }

    [Test]
    public void The_standard_handler_replaces_the_sdk_pipeline()
    {
        using var server = FailingServer();
        using var host = HostingTestKit.Build(new Dictionary<string, string?>(), (services, _) => services
            .AddMlflowClient(o => Configure(o, server.Url))
            .UseStandardResilienceHandler(o =>
            {
                o.Retry.MaxRetryAttempts = 2;
                o.Retry.Delay = TimeSpan.Zero;
            }));

        var chain = Chain(host.Services, "Mlflow.Client");
        Assert.That(chain.Count(t => t == StandardHandler), Is.EqualTo(1), string.Join(" > ", chain));
        Assert.That(chain[^1], Is.EqualTo(typeof(SocketsHttpHandler).FullName), "the SDK's primary handler");
        Assert.That(host.Services.GetRequiredService<IOptions<MlflowClientOptions>>().Value.Retry.Enabled, Is.False, "the SDK's pipeline is off");

        Assert.ThrowsAsync<MlflowException>(() => host.Services.GetRequiredService<MlflowClient>().GetExperimentAsync("1"));
        Assert.That(server.Requests, Has.Count.EqualTo(3), "1 + MaxRetryAttempts attempts, from the standard handler alone");
    }

    [Test]
    public void The_tracker_gets_its_own_named_client_and_the_same_choice()
    {
        using var host = HostingTestKit.Build(new Dictionary<string, string?> { ["Mlflow:TrackingUri"] = "http://127.0.0.1:1" }, (services, configuration) => services
            .AddMlflowTracking(configuration.GetSection("Mlflow"))
            .UseStandardResilienceHandler());

        var chain = Chain(host.Services, "Mlflow.Client.Tracking");
        Assert.That(chain.Count(t => t == StandardHandler), Is.EqualTo(1), string.Join(" > ", chain));
        Assert.That(host.Services.GetRequiredService<IOptions<MlflowTrackerOptions>>().Value.Client.Retry.Enabled, Is.False);
    }

    [Test]
    public void The_standard_handler_is_added_once()
    {
        var services = new ServiceCollection();
        var builder = services.AddMlflowClient(o => o.TrackingUri = "http://127.0.0.1:1").UseStandardResilienceHandler();
        Assert.Throws<InvalidOperationException>(() => builder.UseStandardResilienceHandler());
    }

    private static void Configure(MlflowClientOptions o, string url)
    {
        o.TrackingUri = url;
        o.RequestTimeout = TimeSpan.FromSeconds(10);
        o.Retry.MaxRetries = 1;
        o.Retry.BackoffFactor = TimeSpan.Zero;
        o.Retry.BackoffJitter = TimeSpan.Zero;
    }

    private static FixtureServer FailingServer()
    {
        var server = FixtureServer.Start();
        server.Server.Given(Request.Create().WithPath("/api/2.0/mlflow/experiments/get").UsingGet())
            .RespondWith(Response.Create().WithStatusCode(503).WithHeader("Content-Type", "application/json").WithBody("{\"error_code\":\"TEMPORARILY_UNAVAILABLE\",\"message\":\"busy\"}"));
        return server;
    }

    /// <summary>The type names of the named client's handler chain, outermost first.</summary>
    private static List<string> Chain(IServiceProvider services, string name)
    {
        var types = new List<string>();
        for (HttpMessageHandler? handler = services.GetRequiredService<IHttpMessageHandlerFactory>().CreateHandler(name); handler is not null; handler = (handler as DelegatingHandler)?.InnerHandler)
        {
            types.Add(handler.GetType().FullName!);
        }

        return types;
    }
}
