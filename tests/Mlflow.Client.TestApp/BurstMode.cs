using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Mlflow.Client;

/// <summary>
/// "burst" mode of the test app (issue 18: nothing a log call accepted is dropped): logs a burst of points faster than the
/// server takes them, then one of three endings, each a path where data changes hands:
///   "exit"   ends the run with its using block, prints "ENDED &lt;run id&gt; &lt;data location&gt;" and returns from Main
///            (the tracker's await using disposes it);
///   "signal" prints "LOGGED &lt;run id&gt;" with the burst still queued and waits (at most 120 s, then exits with 3) for
///            SIGTERM: the tracker's hook ends the run while the backlog is sent;
///   "kill"   ends the run, prints "ENDED …" and waits (at most 120 s) to be killed with SIGKILL.
/// Arguments: tracking URI, "burst", points, ShutdownTimeout in ms, ending, experiment name. The offline store comes
/// from MLFLOW_DOTNET_OFFLINE_DIR.
/// </summary>
internal static class BurstMode
{
    public static async Task<int> RunAsync(string uri, int points, int shutdownTimeoutMs, string ending, string experiment)
    {
        // The tracker's warnings (a run's backlog moved to disk, say) go to standard error, which the tests print.
        using var logging = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.TimestampFormat = "HH:mm:ss.fff ").AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace).SetMinimumLevel(LogLevel.Debug).AddFilter("System.Net.Http", LogLevel.Warning));
        var options = new MlflowTrackerOptions { TrackingUri = uri, ExperimentName = experiment, LoggerFactory = logging };
        options.Batching.ShutdownTimeout = TimeSpan.FromMilliseconds(shutdownTimeoutMs);
        await using var tracker = MlflowTracker.Create(options);
        var clock = Stopwatch.StartNew();
        string line;
        using (var run = tracker.StartRun("burst-" + ending))
        {
            for (var i = 0; i < points; i++)
            {
                run.LogMetric("m", i * 0.25, i);
            }

            Console.Error.WriteLine($"logged {points} points in {clock.ElapsedMilliseconds} ms");
            if (ending == "signal")
            {
                Console.WriteLine($"LOGGED {run.RunId}");
                Console.Out.Flush();
                Thread.Sleep(TimeSpan.FromSeconds(120));
                return 3;
            }

            clock.Restart();
            run.End();
            line = string.Create(CultureInfo.InvariantCulture, $"ENDED {run.RunId} {run.DataLocation} {clock.ElapsedMilliseconds}");
        }

        Console.WriteLine(line);
        Console.Out.Flush();
        if (ending == "kill")
        {
            Thread.Sleep(TimeSpan.FromSeconds(120));
            return 3;
        }

        return 0;
    }
}
