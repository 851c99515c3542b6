using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Mlflow.Client.Tests.Offline;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Hosting;

/// <summary>AddMlflowTracking / AddMlflowClient: options bound from a configuration section and checked when the host starts.</summary>
[CancelAfter(60_000)]
public class HostingOptionsTests
{
    [Test]
    public async Task A_section_binds_every_level_of_the_tracker_options_and_the_registration_sets_the_hosting_ones()
    {
        using var dir = new OfflineFallbackTests.Dir();
        var settings = new Dictionary<string, string?>
        {
            ["Mlflow:TrackingUri"] = dir.Path,
            ["Mlflow:ExperimentName"] = "bound-from-config",
            ["Mlflow:Client:RequestTimeout"] = "00:00:42",
            ["Mlflow:Client:Retry:MaxRetries"] = "3",
            ["Mlflow:Batching:FlushInterval"] = "00:00:00.250",
            ["Mlflow:Batching:ShutdownTimeout"] = "00:00:03",
            ["Mlflow:Offline:ReconnectInterval"] = "00:00:07",
        };
        using var host = HostingTestKit.Build(settings, (services, configuration) => services.AddMlflowTracking(configuration.GetSection("Mlflow")));

        var options = host.Services.GetRequiredService<IOptions<MlflowTrackerOptions>>().Value;
        Assert.Multiple(() =>
        {
            Assert.That(options.TrackingUri, Is.EqualTo(dir.Path));
            Assert.That(options.ExperimentName, Is.EqualTo("bound-from-config"));
            Assert.That(options.Client.RequestTimeout, Is.EqualTo(TimeSpan.FromSeconds(42)));
            Assert.That(options.Client.Retry.MaxRetries, Is.EqualTo(3));
            Assert.That(options.Client.Retry.Enabled, Is.True, "the SDK's own pipeline by default");
            Assert.That(options.Batching.FlushInterval, Is.EqualTo(TimeSpan.FromMilliseconds(250)));
            Assert.That(options.Batching.ShutdownTimeout, Is.EqualTo(TimeSpan.FromSeconds(3)));
            Assert.That(options.Offline.ReconnectInterval, Is.EqualTo(TimeSpan.FromSeconds(7)));
            Assert.That(options.HandleProcessShutdown, Is.False, "the host owns Ctrl+C and SIGTERM");
            Assert.That(options.HttpClientFactory, Is.Not.Null);
            Assert.That(options.Client.HttpClientName, Is.EqualTo("Mlflow.Client.Tracking"));
        });

        await host.StartAsync();
        var tracker = host.Services.GetRequiredService<MlflowTracker>();
        Assert.That(tracker.Destination, Is.EqualTo(Path.GetFullPath(dir.Path)));
        string runId;
        await using (var run = await tracker.StartRunAsync("bound"))
        {
            runId = run.RunId;
        }

        await host.StopAsync();
        var runs = await HostingTestKit.ReadRunsAsync(dir.Path, "bound-from-config");
        Assert.That(runs.Select(r => r.Info.RunId), Is.EqualTo(new[] { runId }), "the run went to the configured experiment");
    }

    [Test]
    public async Task A_setting_out_of_range_stops_the_start_with_its_configuration_path_and_rule()
    {
        using var dir = new OfflineFallbackTests.Dir();
        var settings = new Dictionary<string, string?>
        {
            ["Mlflow:TrackingUri"] = dir.Path,
            ["Mlflow:Batching:MaxBatchEntries"] = "5000",
            ["Mlflow:Client:Retry:MaxRetries"] = "12",
        };
        using var host = HostingTestKit.Build(settings, (services, configuration) => services.AddMlflowTracking(configuration.GetSection("Mlflow")));

        var ex = Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.That(ex!.Failures, Is.EquivalentTo(new[]
        {
            "Mlflow:Batching:MaxBatchEntries: MaxBatchEntries must be between 1 and 1000.",
            "Mlflow:Client:Retry:MaxRetries: Retry.MaxRetries (MLFLOW_HTTP_REQUEST_MAX_RETRIES) must be between 0 and 9.",
        }));
        Assert.That(Directory.Exists(dir.Path), Is.False, "no tracker was created");
    }

    [Test]
    public void A_misspelt_key_stops_the_start_naming_it()
    {
        var settings = new Dictionary<string, string?> { ["Mlflow:TrackingUrl"] = "http://127.0.0.1:1" };
        using var host = HostingTestKit.Build(settings, (services, configuration) => services.AddMlflowTracking(configuration.GetSection("Mlflow")));

        var ex = Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync());
        Assert.That(ex!.Message, Does.Contain("'TrackingUrl'"));
    }

    [Test]
    public void The_client_needs_a_server_uri_and_says_which_setting()
    {
        var settings = new Dictionary<string, string?> { ["Mlflow:TrackingUri"] = "file:///tmp/mlruns", ["Mlflow:Client:RequestTimeout"] = "-00:00:01" };
        using var host = HostingTestKit.Build(settings, (services, configuration) => services.AddMlflowClient(configuration.GetSection("Mlflow")));

        var ex = Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.That(ex!.Failures, Is.EquivalentTo(new[]
        {
            "Mlflow:Client:RequestTimeout: RequestTimeout must be positive.",
            "Mlflow:TrackingUri: The tracking URI 'file:///tmp/mlruns' is not an http(s) URI; MlflowClient talks to a tracking server only.",
        }));
    }

    [Test]
    public void Options_set_in_code_are_named_by_their_type()
    {
        using var host = HostingTestKit.Build(new Dictionary<string, string?>(), (services, _) => services.AddMlflowTracking(o => o.Batching.MaxConcurrentRequests = 0));

        var ex = Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.That(ex!.Failures, Is.EqualTo(new[] { "MlflowTrackerOptions:Batching:MaxConcurrentRequests: MaxConcurrentRequests must be between 1 and 16." }));
    }

    [Test]
    public async Task Tracker_and_client_are_singletons_across_scopes()
    {
        using var dir = new OfflineFallbackTests.Dir();
        var settings = new Dictionary<string, string?> { ["Mlflow:TrackingUri"] = dir.Path };
        using var host = HostingTestKit.Build(settings, (services, configuration) =>
        {
            services.AddMlflowTracking(configuration.GetSection("Mlflow"));
            services.AddMlflowClient(o => o.TrackingUri = "http://127.0.0.1:1");
        });
        await host.StartAsync();

        var tracker = host.Services.GetRequiredService<MlflowTracker>();
        var client = host.Services.GetRequiredService<MlflowClient>();
        using (var scope = host.Services.CreateScope())
        {
            Assert.That(scope.ServiceProvider.GetRequiredService<MlflowTracker>(), Is.SameAs(tracker));
            Assert.That(scope.ServiceProvider.GetRequiredService<MlflowClient>(), Is.SameAs(client));
        }

        Assert.That(host.Services.GetRequiredService<MlflowTracker>(), Is.SameAs(tracker));
        Assert.That(host.Services.GetRequiredService<MlflowClient>(), Is.SameAs(client));
        Assert.That(host.Services.GetServices<IHostedService>().Count(s => s.GetType().Name == "MlflowTrackingHostedService"), Is.EqualTo(1));
        await host.StopAsync();
    }
}

/// <summary>The <c>MLFLOW_*</c> environment under dependency injection: it fills what the configuration leaves unset, and loses to what it sets.</summary>
[NonParallelizable]
[CancelAfter(60_000)]
public class HostingEnvironmentTests
{
    private static readonly string[] Variables = [MlflowEnvironmentVariables.TrackingUri, MlflowEnvironmentVariables.ExperimentName, MlflowEnvironmentVariables.HttpRequestTimeout];
    private Dictionary<string, string?> _saved = [];

    [SetUp]
    public void Save() => _saved = Variables.ToDictionary(v => v, Environment.GetEnvironmentVariable);

    [TearDown]
    public void Restore()
    {
        foreach (var (name, value) in _saved)
        {
            Environment.SetEnvironmentVariable(name, value);
        }
    }

    [Test]
    public async Task The_environment_fills_unset_settings()
    {
        using var dir = new OfflineFallbackTests.Dir();
        Environment.SetEnvironmentVariable(MlflowEnvironmentVariables.TrackingUri, dir.Path);
        Environment.SetEnvironmentVariable(MlflowEnvironmentVariables.ExperimentName, "from-environment");
        using var host = HostingTestKit.Build(new Dictionary<string, string?>(), (services, configuration) => services.AddMlflowTracking(configuration.GetSection("Mlflow")));
        await host.StartAsync();

        var tracker = host.Services.GetRequiredService<MlflowTracker>();
        Assert.That(tracker.Destination, Is.EqualTo(Path.GetFullPath(dir.Path)));
        await tracker.RunAsync("env", _ => Task.CompletedTask);
        await host.StopAsync();
        Assert.That(await HostingTestKit.ReadRunsAsync(dir.Path, "from-environment"), Has.Count.EqualTo(1));
    }

    [Test]
    public async Task Configuration_wins_over_the_environment()
    {
        using var fromEnv = new OfflineFallbackTests.Dir();
        using var fromConfig = new OfflineFallbackTests.Dir();
        Environment.SetEnvironmentVariable(MlflowEnvironmentVariables.TrackingUri, fromEnv.Path);
        var settings = new Dictionary<string, string?> { ["Mlflow:TrackingUri"] = fromConfig.Path };
        using var host = HostingTestKit.Build(settings, (services, configuration) => services.AddMlflowTracking(configuration.GetSection("Mlflow")));
        await host.StartAsync();

        Assert.That(host.Services.GetRequiredService<MlflowTracker>().Destination, Is.EqualTo(Path.GetFullPath(fromConfig.Path)));
        await host.StopAsync();
    }

    [Test]
    public void A_bad_environment_value_stops_the_start_naming_the_variable()
    {
        using var dir = new OfflineFallbackTests.Dir();
        Environment.SetEnvironmentVariable(MlflowEnvironmentVariables.HttpRequestTimeout, "soon");
        var settings = new Dictionary<string, string?> { ["Mlflow:TrackingUri"] = dir.Path };
        using var host = HostingTestKit.Build(settings, (services, configuration) => services.AddMlflowTracking(configuration.GetSection("Mlflow")));

        var ex = Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.That(ex!.Failures, Is.EqualTo(new[] { "Mlflow: Environment variable MLFLOW_HTTP_REQUEST_TIMEOUT must be a number, not 'soon'." }));
    }
}
