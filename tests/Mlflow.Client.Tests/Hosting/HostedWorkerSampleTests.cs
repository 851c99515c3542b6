using System.Diagnostics;
using System.Globalization;
using Mlflow.Client.Tests.Infrastructure;
using Mlflow.Client.Tests.Offline;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Hosting;

/// <summary>
/// samples/HostedWorker (built with the tests, started from its output): it logs a run per tick into a local store
/// and Ctrl+C (SIGINT) stops the host cleanly, exit code 0, every run FINISHED with its param and metric.
/// </summary>
[NonParallelizable]
[CancelAfter(120_000)]
public class HostedWorkerSampleTests
{
    [Test]
    public async Task The_sample_logs_runs_on_a_timer_and_stops_cleanly_on_Ctrl_C()
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            Assert.Ignore("SIGINT is sent with kill(1); Unix only.");
        }

        using var dir = new OfflineFallbackTests.Dir();
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        start.ArgumentList.Add(SamplePath());
        // The library's own variable, as a user would point the sample elsewhere; the tick shortened through configuration.
        start.Environment[MlflowEnvironmentVariables.TrackingUri] = dir.Path;
        start.Environment["Worker__Interval"] = "00:00:00.200";
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var output = new List<string>();
        try
        {
            var logged = 0;
            var deadline = Stopwatch.StartNew();
            while (logged < 2 && deadline.Elapsed < TimeSpan.FromSeconds(60))
            {
                var line = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
                if (line is null)
                {
                    break;
                }

                output.Add(line);
                logged += line.Contains("Logged run", StringComparison.Ordinal) ? 1 : 0;
            }

            Assert.That(logged, Is.EqualTo(2), "the sample did not log two runs:\n" + string.Join('\n', output));
            using (var kill = Process.Start("kill", ["-INT", process.Id.ToString(CultureInfo.InvariantCulture)]))
            {
                Assert.That(kill.WaitForExit(10_000), Is.True, "kill did not return");
            }

            Assert.That(process.WaitForExit(30_000), Is.True, "the sample did not stop on Ctrl+C");
            output.Add(await process.StandardOutput.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(10)));
            TestContext.Progress.WriteLine(string.Join('\n', output) + await stderr.WaitAsync(TimeSpan.FromSeconds(10)));
            Assert.That(process.ExitCode, Is.Zero, "a graceful stop of the host");
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill();
            }
        }

        var runs = await HostingTestKit.ReadRunsAsync(dir.Path, "hosted-worker");
        Assert.That(runs, Has.Count.GreaterThanOrEqualTo(2));
        Assert.Multiple(() =>
        {
            foreach (var run in runs)
            {
                Assert.That(run.Info.Status, Is.EqualTo(RunStatus.Finished), run.Info.RunName);
                Assert.That(run.Data.Params.Select(p => p.Key), Is.EqualTo(new[] { "threshold" }), run.Info.RunName);
                Assert.That(run.Data.Metrics.Select(m => m.Key), Is.EqualTo(new[] { "accuracy" }), run.Info.RunName);
            }
        });
    }

    private static string SamplePath()
    {
        // Same configuration as this test assembly: .../tests/Mlflow.Client.Tests/bin/<Config>/net10.0/
        var config = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
        var path = Path.Combine(RepoPaths.RepoRoot, "samples", "HostedWorker", "bin", config, "net10.0", "HostedWorker.dll");
        Assert.That(File.Exists(path), Is.True, path);
        return path;
    }
}
