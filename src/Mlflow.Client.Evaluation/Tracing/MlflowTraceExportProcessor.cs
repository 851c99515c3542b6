using OpenTelemetry;

namespace Mlflow.Client.Tracing;

/// <summary>
/// OpenTelemetry's batch processor in front of <see cref="MlflowTraceExporter"/>, whose force-flush also waits for the
/// exporter's own queue: OpenTelemetry's batch processor flushes its buffer into the exporter but does not flush the
/// exporter, and this exporter logs traces in the background.
/// </summary>
internal sealed class MlflowTraceExportProcessor : BatchActivityExportProcessor
{
    private readonly TracePipeline _pipeline;
    private readonly TimeProvider _time;

    public MlflowTraceExportProcessor(MlflowTraceExporter mlflowExporter, TimeProvider time)
        : base(mlflowExporter)
    {
        _pipeline = mlflowExporter.Pipeline;
        _time = time;
    }

    protected override bool OnForceFlush(int timeoutMilliseconds)
    {
        var started = _time.GetTimestamp();
        if (!base.OnForceFlush(timeoutMilliseconds))
        {
            return false;
        }

        if (timeoutMilliseconds == Timeout.Infinite)
        {
            return _pipeline.FlushAsync(Timeout.InfiniteTimeSpan).GetAwaiter().GetResult();
        }

        var remaining = TimeSpan.FromMilliseconds(timeoutMilliseconds) - _time.GetElapsedTime(started);
        return _pipeline.FlushAsync(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero).GetAwaiter().GetResult();
    }
}
