using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Mlflow.Client.FileStore;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Hosting;

/// <summary>Builds small generic hosts over an in-memory configuration, without the console lifetime (no signal handlers in the test process).</summary>
internal static class HostingTestKit
{
    public static IHost Build(IDictionary<string, string?> settings, Action<IServiceCollection, IConfiguration> configure)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddSingleton<IHostLifetime, NoLifetime>();
        configure(builder.Services, builder.Configuration);
        return builder.Build();
    }

    /// <summary>A run as the local store holds it.</summary>
    public static async Task<Run> ReadRunAsync(string root, string runId)
    {
        using var store = new LocalFileStore(root);
        return await store.GetRunAsync(runId, CancellationToken.None);
    }

    /// <summary>Every run of an experiment in the local store.</summary>
    public static async Task<IReadOnlyList<Run>> ReadRunsAsync(string root, string experimentName)
    {
        using var store = new LocalFileStore(root);
        var experiment = await store.GetExperimentByNameAsync(experimentName, CancellationToken.None);
        Assert.That(experiment, Is.Not.Null, "experiment " + experimentName);
        var page = await store.SearchRunsAsync(new RunSearchOptions { ExperimentIds = [experiment!.ExperimentId] }, null, CancellationToken.None);
        return page.Items;
    }

    private sealed class NoLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
