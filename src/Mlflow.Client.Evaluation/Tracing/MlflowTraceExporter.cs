using System.Diagnostics;
using OpenTelemetry;

namespace Mlflow.Client.Tracing;

/// <summary>
/// OpenTelemetry exporter of MLflow traces: behind a batch processor, takes finished activities of the tracer provider's
/// sources, groups them by trace and, when a trace's root ends, queues the trace for the background writer
/// (<see cref="TracePipeline"/>, the same conversion <see cref="MlflowTracer"/> uses). Export itself never waits for the server.
/// </summary>
internal sealed class MlflowTraceExporter : BaseExporter<Activity>
{
    private readonly TracePipeline _pipeline;

    public MlflowTraceExporter(TraceDestination destination, MlflowTracingOptions options)
    {
        _pipeline = new TracePipeline(destination, options);
    }

    internal TracePipeline Pipeline => _pipeline;

    public override ExportResult Export(in Batch<Activity> batch)
    {
        foreach (var activity in batch)
        {
            // The provider exports the recorded activities of its sources: a recorded parent is exported with its trace.
            _pipeline.OnEnded(activity, TracePipeline.IsTraceRoot(activity, static parent => parent.Recorded));
        }

        return ExportResult.Success;
    }

    protected override bool OnForceFlush(int timeoutMilliseconds)
        => _pipeline.FlushAsync(Timeout(timeoutMilliseconds)).GetAwaiter().GetResult();

    protected override bool OnShutdown(int timeoutMilliseconds)
        => _pipeline.ShutdownAsync(timeoutMilliseconds == System.Threading.Timeout.Infinite ? null : Timeout(timeoutMilliseconds)).GetAwaiter().GetResult();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _pipeline.Dispose();
        }

        base.Dispose(disposing);
    }

    private static TimeSpan Timeout(int milliseconds)
        => milliseconds == System.Threading.Timeout.Infinite ? System.Threading.Timeout.InfiniteTimeSpan : TimeSpan.FromMilliseconds(milliseconds);
}
