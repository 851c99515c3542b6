using Microsoft.Extensions.Logging;

namespace Mlflow.Client.Offline;

/// <summary>Log messages of the offline fallback.</summary>
internal static partial class OfflineLog
{
    [LoggerMessage(EventId = 1101, Level = LogLevel.Warning, Message = "The tracking server {Server} cannot be reached ({Reason}); run {RunId} goes on offline and keeps what was not acknowledged in {Directory} (sent when the server answers again, or with mlflow-sync). Further runs going offline are not logged")]
    public static partial void WentOffline(ILogger logger, string server, string reason, string runId, string directory);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Information, Message = "The tracking server answers again: run {RunId} sent what was kept locally")]
    public static partial void BackOnline(ILogger logger, string runId);

    [LoggerMessage(EventId = 1103, Level = LogLevel.Warning, Message = "Run {RunId} ended as {Status}, but the tracking server could not take it in time: the end, and any data not acknowledged, is kept in the local store {Directory}; it is sent when the server answers while this tracker lives, or by mlflow-sync --from {Directory}")]
    public static partial void EndedOffline(ILogger logger, string runId, string status, string directory);

    [LoggerMessage(EventId = 1104, Level = LogLevel.Warning, Message = "Sending the local data of run {RunId} to the server failed: {Error}")]
    public static partial void DrainFailed(ILogger logger, string runId, string error);

    [LoggerMessage(EventId = 1105, Level = LogLevel.Debug, Message = "Sending the local data of run {RunId} stopped: no answer within {OfflineAfter} (MlflowOfflineOptions.OfflineAfter); tried again after the reconnect interval")]
    public static partial void DrainTimedOut(ILogger logger, string runId, TimeSpan offlineAfter);

    [LoggerMessage(EventId = 1106, Level = LogLevel.Warning, Message = "Traces of run {RunId} are kept in the local store {Directory} ({Why}); they are sent when the server answers while this tracker lives, else by mlflow-sync --from {Directory} --to {Server}. Further traces kept are logged at debug level")]
    public static partial void TracesKeptOffline(ILogger logger, string runId, string why, string directory, string server);

    [LoggerMessage(EventId = 1107, Level = LogLevel.Debug, Message = "Trace {TraceId} of run {RunId} is kept in the local store {Directory} until it is sent")]
    public static partial void TraceKeptOffline(ILogger logger, string traceId, string runId, string directory);
}
