using Microsoft.Extensions.Logging;

namespace Mlflow.Client.Sync;

/// <summary>Log messages of sync. None carries a credential: URIs are shown without user info.</summary>
internal static class SyncLog
{
    private static readonly Action<ILogger, string, string, SyncRunOutcome, string?, Exception?> RunDoneAction =
        LoggerMessage.Define<string, string, SyncRunOutcome, string?>(LogLevel.Information, new EventId(4201, "SyncRunDone"),
            "Run {LocalRunId} -> {ServerRunId}: {Outcome} {Error}");

    private static readonly Action<ILogger, string, string, Exception?> ExperimentCreatedAction =
        LoggerMessage.Define<string, string>(LogLevel.Information, new EventId(4202, "SyncExperimentCreated"),
            "Created server experiment '{Name}' (id {ExperimentId}).");

    private static readonly Action<ILogger, string, string, Exception?> RunFoundByTagAction =
        LoggerMessage.Define<string, string>(LogLevel.Information, new EventId(4203, "SyncRunFoundByTag"),
            "Run {LocalRunId} is already on the server as {ServerRunId} (found by its source tag); its data will be checked before anything is re-sent.");

    private static readonly Action<ILogger, string, string, Exception?> JournalStaleAction =
        LoggerMessage.Define<string, string>(LogLevel.Warning, new EventId(4204, "SyncJournalStale"),
            "Run {LocalRunId}: the server run {ServerRunId} named by the sync journal does not exist; starting over.");

    private static readonly Action<ILogger, string, int, string, Exception?> BatchUnclearAction =
        LoggerMessage.Define<string, int, string>(LogLevel.Warning, new EventId(4205, "SyncBatchUnclear"),
            "Run {LocalRunId}: a batch of {Count} metric points got no clear answer ({Message}); checking the server's history before re-sending.");

    private static readonly Action<ILogger, string, string, int, int, Exception?> ReconciledAction =
        LoggerMessage.Define<string, string, int, int>(LogLevel.Information, new EventId(4206, "SyncReconciled"),
            "Run {LocalRunId}, metric '{Key}': {Checked} unacknowledged points checked, {Missing} were missing and are sent.");

    private static readonly Action<ILogger, string, int, string, Exception?> ArtifactsSkippedAction =
        LoggerMessage.Define<string, int, string>(LogLevel.Warning, new EventId(4208, "SyncArtifactsSkipped"),
            "Run {LocalRunId}: {Count} artifact files not uploaded: {Reason}");

    public static void RunDone(ILogger logger, string localRunId, string serverRunId, SyncRunOutcome outcome, string? error)
        => RunDoneAction(logger, localRunId, serverRunId, outcome, error, null);

    public static void ExperimentCreated(ILogger logger, string name, string id) => ExperimentCreatedAction(logger, name, id, null);

    public static void RunFoundByTag(ILogger logger, string localRunId, string serverRunId) => RunFoundByTagAction(logger, localRunId, serverRunId, null);

    public static void JournalStale(ILogger logger, string localRunId, string serverRunId) => JournalStaleAction(logger, localRunId, serverRunId, null);

    public static void BatchUnclear(ILogger logger, string localRunId, int count, string message) => BatchUnclearAction(logger, localRunId, count, message, null);

    public static void Reconciled(ILogger logger, string localRunId, string key, int checkedCount, int missing) => ReconciledAction(logger, localRunId, key, checkedCount, missing, null);

    public static void ArtifactsSkipped(ILogger logger, string localRunId, int count, string reason) => ArtifactsSkippedAction(logger, localRunId, count, reason, null);
}
