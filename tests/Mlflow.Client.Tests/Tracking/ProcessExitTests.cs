using System.Diagnostics;
using System.Globalization;
using Mlflow.Client.Tests.Infrastructure;
using Mlflow.Client.Tests.Offline;
using NUnit.Framework;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Mlflow.Client.Tests.Tracking;

[CancelAfter(120_000)]
[NonParallelizable]
public class ProcessExitTests
{
    internal static string TestAppPath()
    {
        // Same configuration as this test assembly: .../tests/Mlflow.Client.Tests/bin/<Config>/net10.0/
        var config = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
        var path = Path.Combine(RepoPaths.RepoRoot, "tests", "Mlflow.Client.TestApp", "bin", config, "net10.0", "Mlflow.Client.TestApp.dll");
        Assert.That(File.Exists(path), Is.True, path);
        return path;
    }

    internal static void SendSignal(Process process, string signal)
    {
        // Sent to the child itself (started directly, not through a shell, so SIGINT is not ignored).
        using var kill = Process.Start("kill", ["-" + signal, process.Id.ToString(CultureInfo.InvariantCulture)]);
        Assert.That(kill.WaitForExit(10_000), Is.True, "kill did not return");
        Assert.That(kill.ExitCode, Is.Zero, "kill -" + signal);
    }

    [TestCase("signal")]
    [TestCase("exit")]
    public void Active_runs_are_flushed_and_ended_KILLED(string mode)
    {
        if (mode == "signal" && OperatingSystem.IsWindows())
        {
            Assert.Ignore("SIGINT is sent with kill(1); Unix only.");
        }

        using var server = FixtureServer.Start();
        RejectedEntryTests.StubRunLifecycle(server);
        server.Server.Given(Request.Create().WithPath("/api/2.0/mlflow/runs/log-batch").UsingPost())
            .RespondWith(Response.Create().WithHeader("Content-Type", "application/json").WithBody("{}"));

        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        start.ArgumentList.Add(TestAppPath());
        start.ArgumentList.Add(server.Url);
        start.ArgumentList.Add(mode);
        var sw = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        try
        {
            // Ready once the child says so: its run exists and its 50 points are queued (a fixed sleep after the run's
            // creation was too short on a loaded machine, and the signal came before the points were logged).
            var ready = process.StandardOutput.ReadLineAsync();
            Assert.That(ready.Wait(TimeSpan.FromSeconds(60)), Is.True, "child did not start a run");
            Assert.That(ready.Result, Does.StartWith("READY "), "the child's first line");
            if (mode == "signal")
            {
                SendSignal(process, "INT");
            }

            Assert.That(process.WaitForExit(30_000), Is.True, "child did not exit");
            TestContext.Progress.WriteLine(process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd());
            // signal: the child would sleep 60 s and exit with 3; it must end at once through Console.CancelKeyPress.
            Assert.That(process.ExitCode, mode == "signal" ? Is.EqualTo(130) : Is.EqualTo(0));
            Assert.That(sw.Elapsed, Is.LessThan(TimeSpan.FromSeconds(45)));
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill();
            }
        }

        var requests = server.Requests.Select(r => (r.RequestMessage.Path, Body: FixtureServer.BodyJson(r))).ToList();
        var points = requests.Where(r => r.Path.EndsWith("log-batch", StringComparison.Ordinal)).SelectMany(r => r.Body!["metrics"]!.AsArray()).ToList();
        Assert.That(points.Select(p => p!["step"]!.GetValue<long>()), Is.EqualTo(Enumerable.Range(0, 50).Select(i => (long)i)));
        var update = requests.Single(r => r.Path.EndsWith("runs/update", StringComparison.Ordinal));
        Assert.That(update.Body!["status"]!.GetValue<string>(), Is.EqualTo("KILLED"));
        Assert.That(update.Body!["run_id"]!.GetValue<string>(), Is.EqualTo(RejectedEntryTests.RunId));
        Assert.That(requests.FindIndex(r => r.Path.EndsWith("runs/update", StringComparison.Ordinal)), Is.GreaterThan(requests.FindLastIndex(r => r.Path.EndsWith("log-batch", StringComparison.Ordinal))), "points before the status");
    }

    /// <summary>
    /// What <c>docker stop</c>, Kubernetes, systemd and CI runners send (SIGTERM, SIGHUP), and Ctrl+C for comparison: the
    /// points still queued reach the local store, the run ends KILLED, and the process ends as killed by that signal.
    /// </summary>
    [TestCase("TERM", 143)]
    [TestCase("HUP", 129)]
    [TestCase("INT", 130)]
    public async Task A_termination_signal_flushes_the_queue_and_ends_the_run_KILLED(string signal, int exitCode)
    {
        using var dir = new OfflineFallbackTests.Dir();
        var (code, runDir, _) = await RunChildUntilSignal(dir.Path, "signal", signal);
        Assert.That(code, Is.EqualTo(exitCode), "ended as killed by SIG" + signal + " (128 + signal)");
        AssertKilledWithEveryPoint(runDir);
    }

    /// <summary>
    /// The generic host cancels SIGTERM and stops the application itself: the tracker's handler (registered after the
    /// host's, so called first) flushes and ends the run, and does not stand in the way of the host's graceful stop.
    /// </summary>
    [Test]
    public async Task A_host_that_handles_SIGTERM_itself_still_stops_gracefully_after_the_flush()
    {
        using var dir = new OfflineFallbackTests.Dir();
        var (code, runDir, output) = await RunChildUntilSignal(dir.Path, "hosted", "TERM");
        Assert.That(code, Is.EqualTo(4), "the host's own exit code: the tracker neither exited nor let the signal kill the process");
        Assert.That(output, Does.Contain("STOPPED ended"), "the host's handler ran after the tracker had ended the run");
        AssertKilledWithEveryPoint(runDir);
    }

    private static async Task<(int ExitCode, string RunDir, string Output)> RunChildUntilSignal(string store, string mode, string signal)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            Assert.Ignore("Signals are sent with kill(1); Unix only.");
        }

        // Under nohup the child would inherit SIGHUP ignored, and .NET never calls a handler for an ignored signal (by
        // design, see ProcessShutdownHooks): the child gets the default action back, as a process started normally has.
        var start = IgnoresSigHup()
            ? new ProcessStartInfo("env") { ArgumentList = { "--default-signal=HUP", "dotnet" } }
            : new ProcessStartInfo("dotnet");
        start.RedirectStandardOutput = start.RedirectStandardError = start.RedirectStandardInput = true;
        start.UseShellExecute = false;
        start.ArgumentList.Add(TestAppPath());
        start.ArgumentList.Add(store);
        start.ArgumentList.Add(mode);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            var ready = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
            Assert.That(ready, Does.StartWith("READY "), "the child did not start its run");
            var runDir = Path.Combine(store, "0", ready!["READY ".Length..]);
            Assert.That(File.Exists(Path.Combine(runDir, "meta.yaml")), Is.True, runDir);
            Assert.That(File.Exists(Path.Combine(runDir, "metrics", "loss")), Is.False, "the points are still queued when the signal comes");
            SendSignal(process, signal);
            // Unstopped, the child would wait 60 s and exit with 3.
            Assert.That(process.WaitForExit(30_000), Is.True, "the child did not stop on SIG" + signal);
            var output = await process.StandardOutput.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(10));
            TestContext.Progress.WriteLine(output + await stderr.WaitAsync(TimeSpan.FromSeconds(10)));
            return (process.ExitCode, runDir, output);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill();
            }
        }
    }

    /// <summary>Whether this process ignores SIGHUP (started under <c>nohup</c>): bit 0 of <c>SigIgn</c> in <c>/proc/self/status</c>.</summary>
    private static bool IgnoresSigHup()
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        return line is not null && (ulong.Parse(line["SigIgn:".Length..].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture) & 1) != 0;
    }

    private static void AssertKilledWithEveryPoint(string runDir)
    {
        var meta = File.ReadAllLines(Path.Combine(runDir, "meta.yaml"));
        Assert.That(meta, Does.Contain("status: 5"), "KILLED");
        Assert.That(meta.Single(l => l.StartsWith("end_time:", StringComparison.Ordinal)), Does.Match(@"^end_time: \d+$"));
        var steps = File.ReadAllLines(Path.Combine(runDir, "metrics", "loss")).Select(l => long.Parse(l.Split(' ')[2], CultureInfo.InvariantCulture));
        Assert.That(steps, Is.EqualTo(Enumerable.Range(0, 50).Select(i => (long)i)), "every queued point, once, in order");
    }
}
