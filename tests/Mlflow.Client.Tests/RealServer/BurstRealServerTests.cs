using Mlflow.Client.Tests.Offline;
using Mlflow.Client.Tests.Tracking;
using NUnit.Framework;

namespace Mlflow.Client.Tests.RealServer;

/// <summary>
/// Issue 18 on a real MLflow server: a child process logs a burst of 200,000 points, several seconds of the server's
/// work, far more than its 1.5 s ShutdownTimeout; then it ends its run and exits, is stopped by SIGTERM with the burst
/// queued, or is killed with SIGKILL right after its run ended (ShutdownTimeout 0, the quick-exit setting, leaves the
/// backlog on disk for mlflow-sync). The server's own metric history holds every point exactly once. Runs when
/// <c>MLFLOW_TEST_TRACKING_URI</c> is set.
/// </summary>
[TestFixture]
[Category("RealServer")]
[NonParallelizable]
public class BurstRealServerTests
{
    private const int Points = 200_000;

    [TestCase("exit", 1500, RunStatus.Finished)]
    [TestCase("signal", 1500, RunStatus.Killed)]
    [TestCase("kill", 1500, RunStatus.Finished)]
    [TestCase("kill", 0, RunStatus.Finished)]
    [CancelAfter(600_000)]
    public async Task Every_point_of_a_burst_faster_than_the_server_is_on_it_once(string ending, int shutdownTimeoutMs, RunStatus status)
    {
        var uri = RealServerEnvironment.RequireTrackingUri();
        using var offline = new OfflineFallbackTests.Dir();
        var experiment = "dotnet-burst-" + Guid.NewGuid().ToString("N")[..10];
        var (runId, output) = await BurstProcessTests.RunBurstAsync(uri, offline.Path, experiment, Points, shutdownTimeoutMs, ending);
        using var client = new MlflowClient(new MlflowClientOptions { TrackingUri = uri });
        var direct = (await client.GetMetricHistoryAsync(runId, "m")).Count;
        var summary = await BurstProcessTests.SyncLeftoversAsync(offline.Path, uri);
        TestContext.Out.WriteLine($"{direct} points on the server when the child was gone; mlflow-sync: {(summary is null ? "nothing to send" : $"{summary.MetricPointsSent} points, complete {summary.Complete}")}");

        Assert.That(summary?.Complete ?? true, Is.True, summary is null ? "" : string.Join("; ", summary.Errors));
        var history = await client.GetMetricHistoryAsync(runId, "m");
        Assert.That(history.Select(m => m.Step).Order(), Is.EqualTo(Enumerable.Range(0, Points).Select(i => (long)i)), "every step exactly once");
        Assert.That((await client.GetRunAsync(runId)).Info.Status, Is.EqualTo(status));
        if (shutdownTimeoutMs > 0 && ending != "signal")
        {
            Assert.That(output, Does.Contain(" Server "), "the run's end waited for the healthy server");
            Assert.That(direct, Is.EqualTo(Points), "delivered by the child itself");
        }
    }
}
