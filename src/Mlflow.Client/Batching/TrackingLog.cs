using Microsoft.Extensions.Logging;

namespace Mlflow.Client.Batching;

/// <summary>The log messages of the tracker and its sender (source-generated, no allocation when disabled).</summary>
internal static partial class TrackingLog
{
    [LoggerMessage(EventId = 1001, Level = LogLevel.Error, Message = "MLflow rejected {Kind} '{Key}' of run {RunId}: {Reason}")]
    public static partial void EntryRejected(ILogger logger, string kind, string key, string runId, string reason);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Warning, Message = "Sending a batch of {Count} entries of run {RunId} failed ({Reason}); retry {Attempt} in {DelayMs} ms")]
    public static partial void BatchRetry(ILogger logger, int count, string runId, string reason, int attempt, int delayMs);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Error, Message = "Gave up sending {Count} entries of run {RunId}: {Reason}")]
    public static partial void BatchGaveUp(ILogger logger, int count, string runId, string reason);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Warning, Message = "The {Kind} value of key '{Key}' has {Length} characters; it was cut to {Limit} (further cuts of this key are not logged)")]
    public static partial void ValueTruncated(ILogger logger, string kind, string key, int length, int limit);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Warning, Message = "Run {RunId}: {Pending} entries were not sent within {TimeoutMs} ms while ending; they stay queued")]
    public static partial void EndFlushTimedOut(ILogger logger, string runId, long pending, long timeoutMs);

    [LoggerMessage(EventId = 1006, Level = LogLevel.Error, Message = "Run {RunId} could not be ended with status {Status}")]
    public static partial void EndFailed(ILogger logger, Exception exception, string runId, RunStatus status);

    [LoggerMessage(EventId = 1007, Level = LogLevel.Error, Message = "The MLflow background sender failed unexpectedly")]
    public static partial void SenderFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1008, Level = LogLevel.Warning, Message = "Run {RunId} failed: {Reason}")]
    public static partial void RunFailed(ILogger logger, string runId, string reason);

    [LoggerMessage(EventId = 1009, Level = LogLevel.Warning, Message = "Process is exiting ({Reason}): ending {Count} active run(s) as KILLED")]
    public static partial void ProcessExiting(ILogger logger, string reason, int count);
}
