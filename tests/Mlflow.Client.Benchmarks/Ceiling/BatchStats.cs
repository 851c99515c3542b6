using System.Diagnostics.Metrics;

namespace Mlflow.Client.Benchmarks.Ceiling;

/// <summary>
/// The tracker's own batch figures while one configuration runs (its <c>mlflow.client.batch.size</c> and
/// <c>mlflow.client.batch.duration</c> instruments): how many log-batch requests, how full, and how many were in flight
/// on average (the sum of their durations over the elapsed time), to tell a slow server from a sender that left a
/// connection idle or sent small batches.
/// </summary>
internal sealed class BatchStats : IDisposable
{
    private readonly MeterListener _listener = new();
    private long _batches;
    private long _entries;
    private long _smallest = long.MaxValue;
    private double _durationMs;

    public BatchStats()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Name is "mlflow.client.batch.size" or "mlflow.client.batch.duration")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, size, _, _) =>
        {
            Interlocked.Increment(ref _batches);
            Interlocked.Add(ref _entries, size);
            lock (_listener)
            {
                _smallest = Math.Min(_smallest, size);
            }
        });
        _listener.SetMeasurementEventCallback<double>((_, ms, _, _) =>
        {
            lock (_listener)
            {
                _durationMs += ms;
            }
        });
        _listener.Start();
    }

    /// <summary>A line for the configuration's output.</summary>
    public string Summary(double seconds)
    {
        lock (_listener)
        {
            var batches = Interlocked.Read(ref _batches);
            return batches == 0
                ? "no batch measured"
                : FormattableString.Invariant($"{batches} batches, {Interlocked.Read(ref _entries) / (double)batches:F0} entries each on average (smallest {_smallest}), {_durationMs / 1000 / seconds:F2} in flight on average");
        }
    }

    public void Dispose() => _listener.Dispose();
}
