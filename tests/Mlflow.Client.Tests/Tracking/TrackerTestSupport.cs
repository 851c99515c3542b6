using NUnit.Framework;
using System.Diagnostics;
using Mlflow.Client.Offline;

namespace Mlflow.Client.Tests.Tracking;

internal static class TrackerTestSupport
{
    public static MlflowTracker CreateTracker(FakeTrackingStore store, Action<MlflowTrackerOptions>? configure = null, OfflineMirror? offline = null)
    {
        var options = new MlflowTrackerOptions();
        options.Batching.FlushInterval = TimeSpan.FromHours(1);
        options.Batching.ShutdownTimeout = TimeSpan.FromSeconds(10);
        configure?.Invoke(options);
        return new MlflowTracker(store, options, offline, EnvironmentReader.FromDictionary(new Dictionary<string, string>()), user: "tester");
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
