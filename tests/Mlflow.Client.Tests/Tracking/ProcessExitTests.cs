using System.Diagnostics;
using Mlflow.Client.Tests.Infrastructure;
using NUnit.Framework;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Mlflow.Client.Tests.Tracking;

[CancelAfter(120_000)]
[NonParallelizable]
public class ProcessExitTests
{
    private static string TestAppPath()
    {
        // Same configuration as this test assembly: .../tests/Mlflow.Client.Tests/bin/<Config>/net10.0/
        var config = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
        var path = Path.Combine(RepoPaths.RepoRoot, "tests", "Mlflow.Client.TestApp", "bin", config, "net10.0", "Mlflow.Client.TestApp.dll");
        Assert.That(File.Exists(path), Is.True, path);
        return path;
    }

    [TestCase("sigint")]
    [TestCase("exit")]
    public void Active_runs_are_flushed_and_ended_KILLED(string mode)
    {
        if (mode == "sigint" && OperatingSystem.IsWindows())
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
            // Ready once the run exists (the child logs right after); stdout is only read at the end.
            Assert.That(TrackerTestSupport.WaitUntil(() => server.Requests.Any(r => r.RequestMessage.Path.EndsWith("runs/create", StringComparison.Ordinal)), 60), Is.True, "child did not start a run");
            Thread.Sleep(2000);
            if (mode == "sigint")
            {
                using var kill = Process.Start("kill", ["-INT", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
                Assert.That(kill.WaitForExit(10_000), Is.True);
            }

            Assert.That(process.WaitForExit(30_000), Is.True, "child did not exit");
            TestContext.Progress.WriteLine(process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd());
            // sigint: the child would sleep 60 s and exit with 3; it must end at once through Console.CancelKeyPress.
            Assert.That(process.ExitCode, mode == "sigint" ? Is.Not.EqualTo(3) : Is.EqualTo(0));
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
}
