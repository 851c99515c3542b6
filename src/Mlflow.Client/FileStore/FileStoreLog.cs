using Microsoft.Extensions.Logging;

namespace Mlflow.Client.FileStore;

/// <summary>Log messages of the local file store.</summary>
internal static class FileStoreLog
{
    private static readonly Action<ILogger, string, int, string, Exception?> TornLineAction =
        LoggerMessage.Define<string, int, string>(LogLevel.Warning, new EventId(4101, "FileStoreTornLine"),
            "Metric file {Path}: skipped line {Line} ({Reason}); a writer was probably interrupted mid-write.");

    private static readonly Action<ILogger, string, Exception?> TornTailRepairedAction =
        LoggerMessage.Define<string>(LogLevel.Warning, new EventId(4102, "FileStoreTornTailRepaired"),
            "Metric file {Path} ended inside a line (interrupted write); the partial line was cut before appending.");

    private static readonly Action<ILogger, string, string, int, Exception?> TruncatedAction =
        LoggerMessage.Define<string, string, int>(LogLevel.Warning, new EventId(4103, "FileStoreValueTruncated"),
            "The {Kind} value of '{Key}' was cut to {Max} characters, as an MLflow server does.");

    private static readonly Action<ILogger, string, string, Exception?> SkippedEntityAction =
        LoggerMessage.Define<string, string>(LogLevel.Warning, new EventId(4104, "FileStoreSkippedEntity"),
            "Skipped {Path}: {Reason}");

    private static readonly Action<ILogger, string, Exception?> FlushToDiskFailedAction =
        LoggerMessage.Define<string>(LogLevel.Warning, new EventId(4105, "FileStoreFlushToDiskFailed"),
            "Could not force {Path} to disk; it is written but may not survive a power loss.");

    public static void TornLine(ILogger logger, string path, int line, string reason) => TornLineAction(logger, path, line, reason, null);

    public static void TornTailRepaired(ILogger logger, string path) => TornTailRepairedAction(logger, path, null);

    public static void Truncated(ILogger logger, string kind, string key, int max) => TruncatedAction(logger, kind, key, max, null);

    public static void SkippedEntity(ILogger logger, string path, string reason, Exception? error) => SkippedEntityAction(logger, path, reason, error);

    public static void FlushToDiskFailed(ILogger logger, string path, Exception error) => FlushToDiskFailedAction(logger, path, error);
}
