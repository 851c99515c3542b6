using System.Diagnostics;
using System.Globalization;
using Mlflow.Client.Sync;
using Mlflow.Client.Tests.Offline;
using Mlflow.Client.Tests.Sync;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Tracking;

/// <summary>
/// Issue 18, in a real process: a child logs a burst faster than a healthy server takes it (the fake server serves each
/// log-batch in 50 ms, two at a time: a backlog of 5 s at least, longer than the 3 s ShutdownTimeout), then ends its run and exits normally, is stopped by SIGTERM with the burst still
/// queued, or is killed with SIGKILL right after its run ended. Every point ends on the server exactly once, directly or
/// after mlflow-sync of the offline store; counted by the server.
/// </summary>
[TestFixture]
[NonParallelizable]
[CancelAfter(300_000)]
internal sealed class BurstProcessTests
{
    private const int Points = 200_000;

    /// <summary>Runs the test app's burst mode to its end (or its kill); returns the run id, the server run and the child's output.</summary>
    internal static async Task<(string RunId, string Output)> RunBurstAsync(string uri, string offlineDir, string experiment, int points, int shutdownTimeoutMs, string ending, Func<Task>? beforeKill = null)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(ProcessExitTests.TestAppPath());
        foreach (var arg in new[] { uri, "burst", points.ToString(CultureInfo.InvariantCulture), shutdownTimeoutMs.ToString(CultureInfo.InvariantCulture), ending, experiment })
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["MLFLOW_DOTNET_OFFLINE_DIR"] = offlineDir;
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            var first = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(120));
            Assert.That(first, Is.Not.Null.And.StartsWith(ending == "signal" ? "LOGGED " : "ENDED "), "the child's first line; its errors: " + (process.HasExited ? await stderr : ""));
            var runId = first!.Split(' ')[1];
            switch (ending)
            {
                case "signal":
                    ProcessExitTests.SendSignal(process, "TERM");
                    Assert.That(process.WaitForExit(120_000), Is.True, "the child did not end after SIGTERM");
                    Assert.That(process.ExitCode, Is.EqualTo(143), "ended by the signal, after the tracker's hook");
                    break;
                case "kill":
                    if (beforeKill is not null)
                    {
                        await beforeKill();
                    }

                    process.Kill(); // SIGKILL
                    Assert.That(process.WaitForExit(30_000), Is.True);
                    break;
                default:
                    Assert.That(process.WaitForExit(120_000), Is.True, "the child did not exit");
                    Assert.That(process.ExitCode, Is.Zero);
                    break;
            }

            var output = first + "\n" + await process.StandardOutput.ReadToEndAsync() + await stderr;
            TestContext.Progress.WriteLine(output);
            return (runId, output);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill();
            }
        }
    }

    /// <summary>Sends what the offline store holds, as a user would after the process is gone (nothing when it is empty).</summary>
    internal static async Task<SyncSummary?> SyncLeftoversAsync(string offlineDir, string uri, Func<HttpMessageHandler, HttpMessageHandler>? wrap = null)
    {
        if (!Directory.Exists(offlineDir) || !Directory.EnumerateFiles(offlineDir, "meta.yaml", SearchOption.AllDirectories).Any())
        {
            return null;
        }

        return await MlflowSync.SyncAsync(new SyncOptions { From = offlineDir, To = uri, WrapHandler = wrap });
    }

    [TestCase("exit", 3000, "FINISHED")]
    [TestCase("signal", 3000, "KILLED")]
    [TestCase("kill", 3000, "FINISHED")]
    [TestCase("kill", 0, "FINISHED")] // ShutdownTimeout 0: the quick-exit setting, the backlog goes to disk at the end
    public async Task Every_point_of_a_burst_faster_than_the_server_reaches_it_once(string ending, int shutdownTimeoutMs, string status)
    {
        using var dir = new OfflineFallbackTests.Dir();
        using var server = new FakeMlflowServer { LogBatchServiceTime = TimeSpan.FromMilliseconds(50) };
        var (runId, output) = await RunBurstAsync(server.Url, dir.Path, "burst-exp", Points, shutdownTimeoutMs, ending);
        var direct = SlowServerEndTests.ServerSteps(server, runId, "m").Count;
        var summary = await SyncLeftoversAsync(dir.Path, server.Url, inner => new LostAnswerHandler(inner));
        TestContext.Progress.WriteLine($"{direct} points on the server when the child was gone; mlflow-sync: {summary?.ToString() ?? "nothing to send"}");

        Assert.That(summary?.RunsFailed ?? 0, Is.Zero);
        Assert.That(SlowServerEndTests.ServerSteps(server, runId, "m").Order(), Is.EqualTo(Enumerable.Range(0, Points).Select(i => (long)i)).AsCollection, "every point once");
        Assert.That(server.Runs[runId].Status, Is.EqualTo(status));
        Assert.That(server.Runs.Values.Count(r => r.ExperimentId != "0"), Is.EqualTo(1), "one run");
        if (shutdownTimeoutMs == 0)
        {
            Assert.That(output, Does.Contain("OfflineAwaitingSync"), "premise: the quick exit left the backlog on disk");
        }
        else if (ending != "signal")
        {
            Assert.That(output, Does.Contain(" Server "), "the run's end waited for the healthy server: DataLocation says Server");
            Assert.That(direct, Is.EqualTo(Points), "delivered by the child itself");
        }
    }
}
