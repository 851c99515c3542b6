using System.Diagnostics;
using Mlflow.Client.Sync;
using Mlflow.Client.Tests.Offline;
using NUnit.Framework;

namespace Mlflow.Client.Tests.RealServer;

/// <summary>
/// A child process ends its run while the real MLflow server is stopped, then is killed with SIGKILL: the end is in the
/// offline store, and mlflow-sync finishes the server run once the server is back. Runs when
/// <c>MLFLOW_TEST_TRACKING_URI</c> and <c>MLFLOW_TEST_SERVER_CONTROL</c> (script|dir|port|backend) are set.
/// </summary>
[TestFixture]
[Category("RealServer")]
[NonParallelizable]
public class EndOfflineRealServerTests
{
    [Test]
    [CancelAfter(600_000)]
    public async Task Run_ended_while_the_server_is_stopped_then_killed_is_finished_by_sync_with_every_point_once()
    {
        var (uri, control) = RealServer.RealServerEnvironment.RequireServerControl("stop");

        var (script, serverDir, port, backend) = control.Split('|') switch { var p => (p[0], p[1], p[2], p[3]) };
        using var offline = new OfflineFallbackTests.Dir();
        var experiment = "dotnet-end-offline-" + Guid.NewGuid().ToString("N")[..10];
        using var child = Process.Start(OfflineKillTests.TestApp(offline.Path, uri, "end-offline", experiment))!;
        var stopped = false;
        string runId;
        long before, after;
        try
        {
            var ready = await ReadLineAsync(child, "READY");
            runId = ready[1];
            ServerRestartRealServerTests.Run(script, "stop", serverDir);
            stopped = true;
            before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            await child.StandardInput.WriteLineAsync("end");
            await child.StandardInput.FlushAsync();
            var ended = await ReadLineAsync(child, "ENDED");
            after = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            Assert.That(ended[1..], Is.EqualTo(new[] { "Finished", "True" }), "the run ended FINISHED and every point is sent or kept locally");
        }
        finally
        {
            child.Kill(entireProcessTree: true); // SIGKILL: no handler runs, the tracker is never disposed
            Assert.That(child.WaitForExit(10_000), Is.True);
            if (stopped)
            {
                ServerRestartRealServerTests.Run(script, "start", serverDir, port, backend);
            }
        }

        TestContext.Out.WriteLine("child's log:\n" + await child.StandardError.ReadToEndAsync());
        var summary = await MlflowSync.SyncAsync(new SyncOptions { From = offline.Path, To = uri });
        Assert.That(summary.Complete, Is.True, string.Join("; ", summary.Errors));

        using var client = new MlflowClient(new MlflowClientOptions { TrackingUri = uri });
        var stored = await client.GetRunAsync(runId);
        Assert.That(stored.Info.Status, Is.EqualTo(RunStatus.Finished));
        Assert.That(stored.Info.EndTime, Is.InRange(before, after), "the time the run ended");
        var history = await client.GetMetricHistoryAsync(runId, "loss");
        Assert.That(history.Select(m => m.Step).Order(), Is.EqualTo(Enumerable.Range(0, 400).Select(i => (long)i)), "every step exactly once");
        var runs = await client.SearchRunsAsync(new RunSearchOptions { ExperimentIds = [stored.Info.ExperimentId], ViewType = ViewType.All });
        Assert.That(runs.Items, Has.Count.EqualTo(1), "no second run");
    }

    /// <summary>The child's next line starting with <paramref name="prefix"/>, split on spaces (bounded: 120 s).</summary>
    internal static async Task<string[]> ReadLineAsync(Process child, string prefix)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < TimeSpan.FromSeconds(120))
        {
            var line = await child.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(120));
            if (line is null)
            {
                break;
            }

            if (line.StartsWith(prefix + " ", StringComparison.Ordinal))
            {
                return line.Split(' ');
            }
        }

        Assert.Fail($"the child printed no {prefix} line");
        return [];
    }
}
