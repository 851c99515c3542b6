using System.Diagnostics;
using System.Globalization;
using NUnit.Framework;

namespace Mlflow.Client.Tests.RealServer;

/// <summary>
/// A run survives a real MLflow server being stopped and started again mid-run. Runs when
/// <c>MLFLOW_TEST_TRACKING_URI</c> is set and <c>MLFLOW_TEST_SERVER_CONTROL</c> says how to restart that server:
/// <c>&lt;path of mlflow-server.sh&gt;|&lt;server folder&gt;|&lt;port&gt;|&lt;sqlite or file&gt;</c> (see tests/RealServer/SETUP.md).
/// </summary>
[TestFixture]
[Category("RealServer")]
[NonParallelizable]
public class ServerRestartRealServerTests
{
    [Test]
    [CancelAfter(600_000)]
    public async Task Server_StoppedAndRestartedMidRun_EveryPointArrivesOnce()
    {
        var (uri, control) = RealServer.RealServerEnvironment.RequireServerControl("restart");

        var parts = control.Split('|');
        var (script, dir, port, backend) = (parts[0], parts[1], parts[2], parts[3]);
        var options = new MlflowTrackerOptions { TrackingUri = uri, ExperimentName = "dotnet-restart-" + Guid.NewGuid().ToString("N")[..10] };
        options.Client = new MlflowClientOptions { RequestTimeout = TimeSpan.FromSeconds(10) };
        options.Client.Retry.BackoffFactor = TimeSpan.FromMilliseconds(200);
        options.Client.Retry.BackoffJitter = TimeSpan.FromMilliseconds(50);
        options.Client.Retry.MaxRetries = 3;
        options.Offline.ReconnectInterval = TimeSpan.FromSeconds(1);
        options.Batching.FlushInterval = TimeSpan.FromMilliseconds(200);
        options.Batching.ShutdownTimeout = TimeSpan.FromMinutes(3);

        const int Steps = 600;
        string runId;
        var wentOffline = false;
        await using (var tracker = MlflowTracker.Create(options))
        {
            await using var run = await tracker.StartRunAsync("survives-restart");
            runId = run.RunId;
            var sw = Stopwatch.StartNew();
            for (var step = 0; step < Steps; step++)
            {
                run.LogMetric("loss", 1.0 / (step + 1), step: step);
                run.LogMetric("nan_every_10", step % 10 == 0 ? double.NaN : step, step: step);
                if (step == 100)
                {
                    Run(script, "stop", dir);
                }

                if (step == 300)
                {
                    Run(script, "start", dir, port, backend);
                }

                wentOffline |= run.IsOffline;
                await Task.Delay(20);
            }

            await run.FlushAsync();
            TestContext.Out.WriteLine($"logged {Steps * 2} points in {sw.Elapsed.TotalSeconds:F1} s; went offline: {wentOffline}; {tracker.Counters}");
        }

        using var client = new MlflowClient(new MlflowClientOptions { TrackingUri = uri });
        var stored = await client.GetRunAsync(runId);
        Assert.That(stored.Info.Status, Is.EqualTo(RunStatus.Finished));
        foreach (var key in new[] { "loss", "nan_every_10" })
        {
            var history = await client.GetMetricHistoryAsync(runId, key);
            Assert.That(history.Select(m => m.Step).Order(), Is.EqualTo(Enumerable.Range(0, Steps).Select(i => (long)i)), $"{key}: every step exactly once");
        }
    }

    /// <summary>
    /// The server process group is frozen (SIGSTOP) mid-run: connections are accepted by the kernel but never answered,
    /// a hung server. The run must go offline after <see cref="MlflowOfflineOptions.OfflineAfter"/>, not after MLflow's
    /// retry budget (minutes), and every point must be on the server once after it is thawed (SIGCONT).
    /// </summary>
    [Test]
    [CancelAfter(600_000)]
    public async Task Server_FrozenMidRun_GoesOfflineWithinOfflineAfter_ThenEveryPointArrivesOnce()
    {
        var (uri, control) = RealServer.RealServerEnvironment.RequireServerControl("freeze");

        var pid = File.ReadAllText(Path.Combine(control.Split('|')[1], "server.pid")).Trim();
        var options = new MlflowTrackerOptions { TrackingUri = uri, ExperimentName = "dotnet-frozen-" + Guid.NewGuid().ToString("N")[..10] };
        options.Client = new MlflowClientOptions { RequestTimeout = TimeSpan.FromSeconds(120) }; // MLflow's timeout and retries: minutes
        options.Offline.OfflineAfter = TimeSpan.FromSeconds(2);
        options.Offline.ReconnectInterval = TimeSpan.FromSeconds(1);
        options.Batching.FlushInterval = TimeSpan.FromMilliseconds(200);
        options.Batching.ShutdownTimeout = TimeSpan.FromMinutes(3);

        const int Steps = 300;
        string runId;
        var frozen = false;
        await using (var tracker = MlflowTracker.Create(options))
        {
            var run = await tracker.StartRunAsync("survives-freeze");
            runId = run.RunId;
            try
            {
                for (var step = 0; step < Steps; step++)
                {
                    run.LogMetric("loss", 1.0 / (step + 1), step: step);
                    if (step == 99)
                    {
                        await run.FlushAsync();
                        Signal("STOP", pid);
                        frozen = true;
                    }

                    if (step == 199)
                    {
                        var sw = Stopwatch.StartNew();
                        Assert.That(Tracking.TrackerTestSupport.WaitUntil(() => run.IsOffline, 60), Is.True, "the run went offline");
                        TestContext.Out.WriteLine($"offline {sw.Elapsed.TotalSeconds:F1} s after the last point before the freeze was queued; {tracker.Counters}");
                        Signal("CONT", pid);
                        frozen = false;
                    }
                }

                await run.DisposeAsync();
                TestContext.Out.WriteLine($"ended: {tracker.Counters}");
            }
            finally
            {
                if (frozen)
                {
                    Signal("CONT", pid);
                }
            }
        }

        using var client = new MlflowClient(new MlflowClientOptions { TrackingUri = uri });
        Assert.That((await client.GetRunAsync(runId)).Info.Status, Is.EqualTo(RunStatus.Finished));
        var history = await client.GetMetricHistoryAsync(runId, "loss");
        Assert.That(history.Select(m => m.Step).Order(), Is.EqualTo(Enumerable.Range(0, Steps).Select(i => (long)i)), "every step exactly once");
    }

    internal static void Signal(string signal, string processGroup)
    {
        // The harness starts the server with setsid: its PID is its process group, gunicorn's workers included.
        using var p = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-" + signal, "--", "-" + processGroup } })!;
        Assert.That(p.WaitForExit(10_000) && p.ExitCode == 0, Is.True, $"kill -{signal} -{processGroup}");
    }

    internal static void Run(string script, params string[] args)
    {
        var psi = new ProcessStartInfo(script) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        if (!p.WaitForExit(120_000))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"{script} {string.Join(' ', args)} did not finish in 120 s");
        }

        TestContext.Out.WriteLine($"{string.Join(' ', args)}: exit {p.ExitCode.ToString(CultureInfo.InvariantCulture)} {p.StandardError.ReadToEnd().Trim()}");
    }
}
