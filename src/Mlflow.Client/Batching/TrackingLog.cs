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

    [LoggerMessage(EventId = 1005, Level = LogLevel.Error, Message = "Run {RunId} ended, but the server took no entry for {StallMs} ms (MlflowBatchingOptions.ShutdownTimeout) and there is no offline store: {Pending} entries stay queued and are sent while the tracker lives; what is still queued when it is disposed is lost")]
    public static partial void EndFlushStalled(ILogger logger, string runId, long pending, long stallMs);

    [LoggerMessage(EventId = 1006, Level = LogLevel.Error, Message = "Run {RunId} could not be ended with status {Status}")]
    public static partial void EndFailed(ILogger logger, Exception exception, string runId, RunStatus status);

    [LoggerMessage(EventId = 1007, Level = LogLevel.Error, Message = "The MLflow background sender failed unexpectedly")]
    public static partial void SenderFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1008, Level = LogLevel.Warning, Message = "Run {RunId} failed: {Reason}")]
    public static partial void RunFailed(ILogger logger, string runId, string reason);

    [LoggerMessage(EventId = 1010, Level = LogLevel.Warning, Message = "Run {RunId} ended, but the server took no entry for {StallMs} ms (MlflowBatchingOptions.ShutdownTimeout): its {Pending} entries not yet sent go to the local store {Directory}, in order; they are sent when the server answers while the tracker lives, or by mlflow-sync --from {Directory}")]
    public static partial void EndMovedToOutbox(ILogger logger, string runId, long pending, long stallMs, string directory);

    [LoggerMessage(EventId = 1012, Level = LogLevel.Warning, Message = "Run {RunId} ended without waiting for the server (MlflowBatchingOptions.ShutdownTimeout is 0, or the server stalled while another run ended): its {Pending} entries not yet sent go to the local store {Directory}, in order, instead of waiting for the server; they are sent while the tracker lives, or by mlflow-sync --from {Directory}")]
    public static partial void EndWithoutWaiting(ILogger logger, string runId, long pending, string directory);

    [LoggerMessage(EventId = 1011, Level = LogLevel.Error, Message = "Run {RunId}: {Pending} entries were neither sent nor written to the local store within {StallMs} ms of the run's end; they stay queued")]
    public static partial void EndNotKept(ILogger logger, string runId, long pending, long stallMs);

    [LoggerMessage(EventId = 1009, Level = LogLevel.Warning, Message = "Process is exiting ({Reason}): ending {Count} active run(s) as KILLED")]
    public static partial void ProcessExiting(ILogger logger, string reason, int count);

    [LoggerMessage(EventId = 1013, Level = LogLevel.Warning, Message = "Run {RunId}: could not learn whether the tracking server has MLflow 3 logged models ({Reason}); the model '{ArtifactPath}' is logged as run artifacts, the MLflow 2 way")]
    public static partial void LoggedModelsUnknown(ILogger logger, string runId, string reason, string artifactPath);

    [LoggerMessage(EventId = 1014, Level = LogLevel.Error, Message = "Logged model {ModelId} of run {RunId}: its files could not be stored and marking it FAILED failed too")]
    public static partial void LoggedModelFailNotRecorded(ILogger logger, Exception exception, string modelId, string runId);
}
