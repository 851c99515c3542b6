using System.Diagnostics;
using System.Globalization;
using Mlflow.Client.Offline;
using Mlflow.Client.Sync;
using Mlflow.Client.Tests.Offline;
using NUnit.Framework;

namespace Mlflow.Client.Tests.RealServer;

/// <summary>
/// Defect 7 of issue 10 against a real MLflow server: a child process whose run went offline (server stopped) drains its
/// local copy to the server once it is back but frozen (SIGSTOP: connections accepted, never answered). While that drain
/// hangs, the child's flushes keep returning and what they returned for is on disk; killed with SIGKILL, it loses none of
/// it, and mlflow-sync then puts every flushed step on the server exactly once. Runs when <c>MLFLOW_TEST_TRACKING_URI</c>
/// and <c>MLFLOW_TEST_SERVER_CONTROL</c> (script|dir|port|backend) are set.
/// The child reaches the server through a <see cref="LoopbackRelay"/> that is shut while the server restarts and opened
/// only once it is frozen: the harness says a server is up some time after it answers, and a child retrying every
/// 100 ms could drain in that moment, go back online and then wait its whole OfflineAfter on the frozen server.
/// </summary>
[TestFixture]
[Category("RealServer")]
[NonParallelizable]
public class DrainKillRealServerTests
{
    [Test]
    [CancelAfter(600_000)]
    public async Task Killed_while_draining_to_a_frozen_server_loses_nothing_it_flushed_and_sync_sends_each_step_once()
    {
        var (uri, control) = RealServerEnvironment.RequireServerControl("stop and freeze");
        var (script, serverDir, port, backend) = control.Split('|') switch { var p => (p[0], p[1], p[2], p[3]) };
        using var offline = new OfflineFallbackTests.Dir();
        using var relay = new LoopbackRelay(int.Parse(port, CultureInfo.InvariantCulture));
        using var child = Process.Start(OfflineKillTests.TestApp(offline.Path, relay.Url, "drain-kill", "25"))!;
        var stopped = false;
        string? pid = null;
        string runId;
        var durableAtBack = -1;
        var durable = -1;
        var offlineAtKill = "";
        try
        {
            runId = (await EndOfflineRealServerTests.ReadLineAsync(child, "ONLINE"))[1];
            ServerRestartRealServerTests.Run(script, "stop", serverDir);
            stopped = true;
            await child.StandardInput.WriteLineAsync("down");
            await child.StandardInput.FlushAsync();
            Assert.That(await EndOfflineRealServerTests.ReadLineAsync(child, "OFFLINE"), Is.EqualTo(new[] { "OFFLINE", "True" }));

            // Back, but frozen: the child's drain of its local copy connects and waits (its OfflineAfter is 60 s). The
            // child cannot reach the server before it is frozen.
            relay.Open = false;
            ServerRestartRealServerTests.Run(script, "start", serverDir, port, backend);
            stopped = false;
            pid = File.ReadAllText(Path.Combine(serverDir, "server.pid")).Trim();
            ServerRestartRealServerTests.Signal("STOP", pid);
            relay.Open = true;
            await child.StandardInput.WriteLineAsync("back");
            await child.StandardInput.FlushAsync();
            var sw = Stopwatch.StartNew();
            while (sw.Elapsed < TimeSpan.FromSeconds(6))
            {
                var line = await EndOfflineRealServerTests.ReadLineAsync(child, "DURABLE");
                durable = int.Parse(line[1], CultureInfo.InvariantCulture);
                offlineAtKill = line[2];
                if (durableAtBack < 0)
                {
                    durableAtBack = durable;
                }
            }
        }
        finally
        {
            child.Kill(entireProcessTree: true); // SIGKILL: no handler runs, the tracker is never disposed
            Assert.That(child.WaitForExit(10_000), Is.True);
            if (pid is not null)
            {
                ServerRestartRealServerTests.Signal("CONT", pid);
            }

            if (stopped)
            {
                ServerRestartRealServerTests.Run(script, "start", serverDir, port, backend);
            }
        }

        TestContext.Out.WriteLine($"flushed: {durableAtBack} points when the frozen server came back, {durable} when killed");
        Assert.That(durable - durableAtBack, Is.GreaterThanOrEqualTo(2000), "the child's flushes kept returning while its drain waited on the frozen server");
        Assert.That(offlineAtKill, Is.EqualTo("True"), "the run was still offline when killed: its drain never got through to the frozen server");

        using var client = new MlflowClient(new MlflowClientOptions { TrackingUri = uri });
        var clientKey = (await client.GetRunAsync(runId)).Data.Tags.Single(t => t.Key == OfflineMirror.ClientRunKeyTag).Value;
        var local = DrainWhileLoggingTests.LocalSteps(offline.Path, clientKey, "loss");
        var missing = Enumerable.Range(100, durable - 100).Where(s => !local.Contains(s)).ToList();
        Assert.That(missing, Is.Empty, $"flushed points missing from the local copy (of {durable})");

        // The requests the frozen server held are applied once it runs again; then mlflow-sync sends what is missing.
        await Task.Delay(TimeSpan.FromSeconds(3));
        var summary = await MlflowSync.SyncAsync(new SyncOptions { From = offline.Path, To = uri });
        Assert.That(summary.Complete, Is.True, string.Join("; ", summary.Errors));
        var steps = (await client.GetMetricHistoryAsync(runId, "loss")).Select(m => m.Step).ToList();
        Assert.That(steps.Distinct().Count(), Is.EqualTo(steps.Count), "no step twice");
        Assert.That(Enumerable.Range(0, durable).Where(s => !steps.Contains(s)), Is.Empty, "every flushed step on the server");
    }
}
