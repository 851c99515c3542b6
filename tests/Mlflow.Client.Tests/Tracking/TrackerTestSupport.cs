using NUnit.Framework;
using System.Diagnostics;
using Mlflow.Client.Batching;

namespace Mlflow.Client.Tests.Tracking;

internal static class TrackerTestSupport
{
    public static MlflowTracker CreateTracker(FakeTrackingStore store, Action<MlflowTrackerOptions>? configure = null, ISpillTarget? spill = null)
    {
        var options = new MlflowTrackerOptions();
        options.Batching.FlushInterval = TimeSpan.FromHours(1);
        options.Batching.ShutdownTimeout = TimeSpan.FromSeconds(10);
        configure?.Invoke(options);
        return new MlflowTracker(store, options, spill, EnvironmentReader.FromDictionary(new Dictionary<string, string>()), user: "tester");
    }

    /// <summary>Polls until <paramref name="condition"/> holds; at most <paramref name="seconds"/>.</summary>
    public static bool WaitUntil(Func<bool> condition, double seconds = 10)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < TimeSpan.FromSeconds(seconds))
        {
            if (condition())
            {
                return true;
            }

            Thread.Sleep(10);
        }

        return condition();
    }
}

internal sealed class FakeSpillTarget : ISpillTarget
{
    public List<(string RunId, string Key, double Value)> Spilled { get; } = [];

    public void Spill(string runId, in LogEntry entry)
    {
        lock (Spilled)
        {
            Spilled.Add((runId, entry.Key, entry.Value));
        }
    }
}
