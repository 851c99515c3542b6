using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Mlflow.Client.Extensions.Hosting;
using Mlflow.Client.Tests.Offline;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Hosting;

/// <summary>
/// When the host stops, the runs still active are flushed and ended as KILLED (interrupted, as on a signal without a
/// host); runs the application ended keep their status. It happens after every hosted service stopped, so a worker
/// registered before AddMlflowTracking (and so stopped after it) can still log while it stops.
/// </summary>
[CancelAfter(60_000)]
public class HostedServiceTests
{
    [Test]
    public async Task Stopping_the_host_flushes_and_ends_active_runs_KILLED_after_the_workers_stopped()
    {
        using var dir = new OfflineFallbackTests.Dir();
        var settings = new Dictionary<string, string?>
        {
            ["Mlflow:TrackingUri"] = dir.Path,
            ["Mlflow:ExperimentName"] = "hosted",
            // Longer than any test: only the flush on stop can deliver the points.
            ["Mlflow:Batching:FlushInterval"] = "00:10:00",
        };
        using var host = HostingTestKit.Build(settings, (services, configuration) =>
        {
            services.AddHostedService<Worker>();
            services.AddMlflowTracking(configuration.GetSection("Mlflow"));
        });

        await host.StartAsync();
        var worker = host.Services.GetServices<IHostedService>().OfType<Worker>().Single();
        await host.StopAsync();

        Assert.That(worker.StopError, Is.Null, "the worker logged while it stopped");
        var interrupted = await HostingTestKit.ReadRunAsync(dir.Path, worker.Active!.RunId);
        Assert.That(interrupted.Info.Status, Is.EqualTo(RunStatus.Killed));
        Assert.That(interrupted.Info.EndTime, Is.Not.Null);
        Assert.That(interrupted.Data.Metrics.Select(m => m.Key), Is.EquivalentTo(new[] { "before-stop", "during-stop" }));
        Assert.That(worker.Active.Status, Is.EqualTo(RunStatus.Killed));
        var finished = await HostingTestKit.ReadRunAsync(dir.Path, worker.Finished!.RunId);
        Assert.That(finished.Info.Status, Is.EqualTo(RunStatus.Finished), "a run the application ended keeps its status");
    }

    [TestCase(30, 10, 19)]
    [TestCase(30, 29.5, 0)]
    [TestCase(-1, 10, -1)]
    public void The_budget_is_what_is_left_of_the_host_timeout(double hostSeconds, double elapsedSeconds, double expectedSeconds)
    {
        var host = hostSeconds < 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromSeconds(hostSeconds);
        Assert.That(MlflowTrackingHostedService.Budget(host, TimeSpan.FromSeconds(elapsedSeconds)), Is.EqualTo(expectedSeconds < 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromSeconds(expectedSeconds)));
    }

    /// <summary>Starts two runs, ends one, and logs to the other while it stops.</summary>
    private sealed class Worker(MlflowTracker tracker) : IHostedService
    {
        public ActiveRun? Active { get; private set; }

        public ActiveRun? Finished { get; private set; }

        public Exception? StopError { get; private set; }

        public async Task StartAsync(CancellationToken cancellationToken)
        {
            Finished = await tracker.StartRunAsync("done", cancellationToken: cancellationToken);
            await Finished.DisposeAsync();
            Active = await tracker.StartRunAsync("interrupted", cancellationToken: cancellationToken);
            Active.LogMetric("before-stop", 1);
        }

        public Task StopAsync(CancellationToken cancellationToken)
        {
            try
            {
                Active!.LogMetric("during-stop", 2);
            }
            catch (InvalidOperationException ex)
            {
                StopError = ex;
            }

            return Task.CompletedTask;
        }
    }
}
