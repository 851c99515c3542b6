using Microsoft.Extensions.Logging;

namespace Mlflow.Client.Sync;

/// <summary>Log messages of sync (event ids 4201-4299). None carries a credential: URIs are shown without user info.</summary>
internal static partial class SyncLog
{
    [LoggerMessage(EventId = 4201, EventName = "SyncRunDone", Level = LogLevel.Information, Message = "Run {LocalRunId} -> {ServerRunId}: {Outcome} {Error}")]
    public static partial void RunDone(ILogger logger, string localRunId, string serverRunId, SyncRunOutcome outcome, string? error);

    [LoggerMessage(EventId = 4202, EventName = "SyncExperimentCreated", Level = LogLevel.Information, Message = "Created server experiment '{Name}' (id {ExperimentId}).")]
    public static partial void ExperimentCreated(ILogger logger, string name, string experimentId);

    [LoggerMessage(EventId = 4203, EventName = "SyncRunFoundByTag", Level = LogLevel.Information, Message = "Run {LocalRunId} is already on the server as {ServerRunId} (found by its source tag); its data will be checked before anything is re-sent.")]
    public static partial void RunFoundByTag(ILogger logger, string localRunId, string serverRunId);

    [LoggerMessage(EventId = 4204, EventName = "SyncJournalStale", Level = LogLevel.Warning, Message = "Run {LocalRunId}: the server run {ServerRunId} named by the sync journal does not exist; starting over.")]
    public static partial void JournalStale(ILogger logger, string localRunId, string serverRunId);

    [LoggerMessage(EventId = 4205, EventName = "SyncBatchUnclear", Level = LogLevel.Warning, Message = "Run {LocalRunId}: a batch of {Count} metric points got no clear answer ({Message}); checking the server's history before re-sending.")]
    public static partial void BatchUnclear(ILogger logger, string localRunId, int count, string message);

    [LoggerMessage(EventId = 4206, EventName = "SyncReconciled", Level = LogLevel.Information, Message = "Run {LocalRunId}, metric '{Key}': {Checked} unacknowledged points checked, {Missing} were missing and are sent.")]
    public static partial void Reconciled(ILogger logger, string localRunId, string key, int @checked, int missing);

    [LoggerMessage(EventId = 4208, EventName = "SyncArtifactsSkipped", Level = LogLevel.Warning, Message = "Run {LocalRunId}: {Count} artifact files not uploaded: {Reason}")]
    public static partial void ArtifactsSkipped(ILogger logger, string localRunId, int count, string reason);

    [LoggerMessage(EventId = 4209, EventName = "SyncTracesSkipped", Level = LogLevel.Warning, Message = "Run {LocalRunId}: {Count} traces not sent: {Reason}")]
    public static partial void TracesSkipped(ILogger logger, string localRunId, int count, string reason);

    [LoggerMessage(EventId = 4210, EventName = "SyncModelSkipped", Level = LogLevel.Warning, Message = "Run {LocalRunId}: logged model {ModelId} is not pushed: {Reason}")]
    public static partial void ModelSkipped(ILogger logger, string localRunId, string modelId, string reason);

    [LoggerMessage(EventId = 4211, EventName = "SyncModelFoundByTag", Level = LogLevel.Information, Message = "Run {LocalRunId}: logged model {ModelId} is already on the server as {ServerModelId} (found by its source tag); its files are uploaded again and its output checked.")]
    public static partial void ModelFoundByTag(ILogger logger, string localRunId, string modelId, string serverModelId);

    [LoggerMessage(EventId = 4212, EventName = "SyncModelMetricsUnlinked", Level = LogLevel.Information, Message = "Run {LocalRunId}, logged model {ModelId}, metric '{Key}': {Count} points reached the server as the run's before the model did; they are not linked to it (sending them again would duplicate them on a file-backed server).")]
    public static partial void ModelMetricsUnlinked(ILogger logger, string localRunId, string modelId, string key, int count);

    [LoggerMessage(EventId = 4213, EventName = "SyncModelMetricsWaiting", Level = LogLevel.Information, Message = "Run {LocalRunId}, logged model {ModelId}, metric '{Key}': {Count} points of the model have no point of the run read yet; the next sync links them.")]
    public static partial void ModelMetricsWaiting(ILogger logger, string localRunId, string modelId, string key, int count);
}
