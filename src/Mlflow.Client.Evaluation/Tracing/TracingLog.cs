using Microsoft.Extensions.Logging;

namespace Mlflow.Client.Tracing;

/// <summary>The log messages of the trace capture and export (source-generated).</summary>
internal static partial class TracingLog
{
    [LoggerMessage(EventId = 2001, Level = LogLevel.Warning, Message = "Trace {TraceId} was not logged to MLflow ({Destination}) and is dropped: {Reason}")]
    public static partial void TraceNotLogged(ILogger logger, string traceId, string destination, string reason);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Warning, Message = "Trace {TraceId} was dropped: {Queued} traces already wait to be sent to MLflow (MlflowTracingOptions.MaxQueuedTraces)")]
    public static partial void TraceQueueFull(ILogger logger, string traceId, int queued);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Warning, Message = "The {Count} spans of trace {TraceId} were dropped: its root span did not end before {Max} other traces started (MlflowTracingOptions.MaxPendingTraces)")]
    public static partial void PendingTraceDropped(ILogger logger, string traceId, int count, int max);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Warning, Message = "Trace {TraceId} has more than {Max} spans (MlflowTracingOptions.MaxSpansPerTrace); the others are dropped")]
    public static partial void SpansOverLimit(ILogger logger, string traceId, int max);

    [LoggerMessage(EventId = 2005, Level = LogLevel.Debug, Message = "Trace {TraceId} logged to MLflow experiment {ExperimentId} ({SpanCount} spans)")]
    public static partial void TraceLogged(ILogger logger, string traceId, string experimentId, int spanCount);

    [LoggerMessage(EventId = 2006, Level = LogLevel.Warning, Message = "{Count} traces were still being sent to MLflow when the tracer stopped after {TimeoutMs} ms; they are lost")]
    public static partial void ShutdownLeftTraces(ILogger logger, long count, long timeoutMs);

    [LoggerMessage(EventId = 2007, Level = LogLevel.Debug, Message = "Trace {TraceId} is kept in the local store {Directory} with its run, until it is sent")]
    public static partial void TraceKept(ILogger logger, string traceId, string directory);

    [LoggerMessage(EventId = 2008, Level = LogLevel.Warning, Message = "Trace {TraceId} could not be sent to MLflow ({Destination}) and is lost: {Reason}. Only a trace of a tracker's active run is kept offline (MlflowTrackerOptions.Offline) and sent later")]
    public static partial void TraceLost(ILogger logger, string traceId, string destination, string reason);
}
