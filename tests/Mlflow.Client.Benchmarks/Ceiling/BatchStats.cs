using System.Diagnostics.Metrics;

namespace Mlflow.Client.Benchmarks.Ceiling;

/// <summary>
/// The tracker's own batch figures while one configuration runs (its <c>mlflow.client.batch.size</c> and
/// <c>mlflow.client.batch.duration</c> instruments): how many log-batch requests, how full, and how many were in flight
/// on average (the sum of their durations over the elapsed time), to tell a slow server from a sender that left a
/// connection idle or sent small batches; and the same for every HTTP request (<c>mlflow.client.request.duration</c>),
/// which is what mlflow-sync's log-batch requests show.
/// </summary>
internal sealed class BatchStats : IDisposable
{
    private readonly MeterListener _listener = new();
    private long _batches;
    private long _entries;
    private long _smallest = long.MaxValue;
    private double _durationMs;
    private long _requests;
    private double _requestMs;

    public BatchStats()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Name is "mlflow.client.batch.size" or "mlflow.client.batch.duration" or "mlflow.client.request.duration")
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
        _listener.SetMeasurementEventCallback<double>((instrument, ms, _, _) =>
        {
            lock (_listener)
            {
                if (instrument.Name == "mlflow.client.request.duration")
                {
                    _requests++;
                    _requestMs += ms;
                }
                else
                {
                    _durationMs += ms;
                }
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
            var requests = FormattableString.Invariant($"{_requests} HTTP requests, {_requestMs / 1000 / seconds:F2} in flight on average");
            return batches == 0
                ? requests
                : FormattableString.Invariant($"{batches} batches, {Interlocked.Read(ref _entries) / (double)batches:F0} entries each on average (smallest {_smallest}), {_durationMs / 1000 / seconds:F2} in flight on average; {requests}");
        }
    }

    public void Dispose() => _listener.Dispose();
}
