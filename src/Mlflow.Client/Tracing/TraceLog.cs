using Microsoft.Extensions.Logging;

namespace Mlflow.Client.Tracing;

/// <summary>Log lines of trace logging: trace ids, statuses and reasons, never a span's content or a header.</summary>
internal static partial class TraceLog
{
    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "The tracking server (MLflow {Version}) takes spans over OTLP (POST /v1/traces): traces are logged with their spans there.")]
    public static partial void OtlpServed(ILogger logger, string version);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Information, Message = "The tracking server does not take spans over OTLP ({Reason}): spans go as traces.json to each trace's artifact location, as MLflow's own exporter does there.")]
    public static partial void OtlpNotServed(ILogger logger, string reason);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Warning, Message = "Sending the spans of trace {TraceId} over OTLP failed ({Reason}); unless the server kept them, they go as traces.json to the trace's artifact location.")]
    public static partial void OtlpSendFailed(ILogger logger, string traceId, string reason);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Debug, Message = "Could not tell whether the tracking server takes spans over OTLP ({Reason}); trace {TraceId} goes through the artifact path, and the next trace asks again.")]
    public static partial void OtlpUndecided(ILogger logger, string traceId, string reason);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Debug, Message = "The spans of trace {TraceId} hold text OTLP cannot carry (a lone UTF-16 surrogate); they go as traces.json, which keeps it.")]
    public static partial void OtlpUnencodable(ILogger logger, string traceId);
}
