using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Mlflow.Client.Diagnostics;

/// <summary>What one counting object (a tracker's sender, a client) counted so far.</summary>
internal readonly record struct TelemetryCounts(long Queued, long Sent, long Retried, long Rejected, long Offline, long Spilled, long Depth);

/// <summary>An object whose counts the observable instruments read (registered with <see cref="MlflowTelemetry.Track"/>).</summary>
internal interface ITelemetryCounted
{
    TelemetryCounts ReadCounts();
}

/// <summary>
/// The SDK's <see cref="ActivitySource"/> and <see cref="Meter"/> (<see cref="MlflowDiagnostics"/>). Entry and retry
/// counts are not counted again here: observable instruments read the counters the trackers and clients keep anyway
/// (so a log call does no extra work), summed over the live objects plus what disposed ones had counted.
/// </summary>
internal static class MlflowTelemetry
{
    private static readonly string? Version = typeof(MlflowTelemetry).Assembly.GetName().Version?.ToString();
    private static readonly object Gate = new();
    private static readonly List<WeakReference<ITelemetryCounted>> Live = [];
    private static TelemetryCounts _retired;

    public static readonly ActivitySource Source = new(MlflowDiagnostics.ActivitySourceName, Version);

    public static readonly Meter Meter = CreateMeter();

    public static readonly Histogram<long> BatchSize = Meter.CreateHistogram<long>("mlflow.client.batch.size", "{entry}", "Entries per log-batch request the tracker sent.");

    public static readonly Histogram<double> BatchDuration = Meter.CreateHistogram<double>("mlflow.client.batch.duration", "ms", "Time to send one batch, retries included.");

    public static readonly Histogram<double> RequestDuration = Meter.CreateHistogram<double>("mlflow.client.request.duration", "ms", "Time of one HTTP request, retries included.");

    /// <summary>Counts <paramref name="counted"/> until <see cref="Retire"/> (held weakly: a collected object stops counting).</summary>
    public static void Track(ITelemetryCounted counted)
    {
        lock (Gate)
        {
            Live.Add(new WeakReference<ITelemetryCounted>(counted));
        }
    }

    /// <summary>Keeps the final totals of <paramref name="counted"/> (so the counters never go down) and stops reading it.</summary>
    public static void Retire(ITelemetryCounted counted)
    {
        lock (Gate)
        {
            var index = Live.FindIndex(w => w.TryGetTarget(out var t) && ReferenceEquals(t, counted));
            if (index < 0)
            {
                return;
            }

            Live.RemoveAt(index);
            var c = counted.ReadCounts();
            var r = _retired;
            _retired = r with { Queued = r.Queued + c.Queued, Sent = r.Sent + c.Sent, Retried = r.Retried + c.Retried, Rejected = r.Rejected + c.Rejected, Spilled = r.Spilled + c.Spilled };
        }
    }

    /// <summary>The totals now: live objects plus retired ones (offline and depth are current values: live only).</summary>
    internal static TelemetryCounts Totals()
    {
        lock (Gate)
        {
            var t = _retired;
            for (var i = Live.Count - 1; i >= 0; i--)
            {
                if (!Live[i].TryGetTarget(out var counted))
                {
                    Live.RemoveAt(i);
                    continue;
                }

                var c = counted.ReadCounts();
                t = new TelemetryCounts(t.Queued + c.Queued, t.Sent + c.Sent, t.Retried + c.Retried, t.Rejected + c.Rejected, t.Offline + c.Offline, t.Spilled + c.Spilled, t.Depth + c.Depth);
            }

            return t;
        }
    }

    /// <summary>The path of a request with nothing that identifies data or a caller: no query string, no user info, an artifact path as <c>{path}</c>.</summary>
    internal static string PathTemplate(Uri? uri)
    {
        if (uri is null)
        {
            return "?";
        }

        var path = uri.IsAbsoluteUri ? uri.AbsolutePath : uri.OriginalString.Split('?', 2)[0];
        const string Artifacts = "/mlflow-artifacts/artifacts/";
        var at = path.IndexOf(Artifacts, StringComparison.Ordinal);
        return at < 0 || at + Artifacts.Length == path.Length ? path : string.Concat(path.AsSpan(0, at + Artifacts.Length), "{path}");
    }

    private static Meter CreateMeter()
    {
        var meter = new Meter(MlflowDiagnostics.MeterName, Version);
        meter.CreateObservableCounter("mlflow.client.entries.queued", () => Totals().Queued, "{entry}", "Entries (metric points, params, tags) accepted by trackers.");
        meter.CreateObservableCounter("mlflow.client.entries.sent", () => Totals().Sent, "{entry}", "Entries the server confirmed.");
        meter.CreateObservableCounter("mlflow.client.entries.rejected", () => Totals().Rejected, "{entry}", "Entries the server rejected or delivery gave up on.");
        meter.CreateObservableCounter("mlflow.client.entries.spilled", () => Totals().Spilled, "{entry}", "Log calls that found the queue full and went to the local store.");
        meter.CreateObservableUpDownCounter("mlflow.client.entries.offline", () => Totals().Offline, "{entry}", "Entries kept in the local store, not yet sent.");
        meter.CreateObservableCounter("mlflow.client.requests.retried", () => Totals().Retried, "{request}", "HTTP attempts sent again after a transient failure.");
        meter.CreateObservableGauge("mlflow.client.queue.depth", () => Totals().Depth, "{entry}", "Entries queued in memory and not yet handed to the server or the local store.");
        return meter;
    }
}
