using Microsoft.Extensions.Logging;

namespace Mlflow.Client.FileStore;

/// <summary>Log messages of the local file store (event ids 4101-4199).</summary>
internal static partial class FileStoreLog
{
    [LoggerMessage(EventId = 4101, EventName = "FileStoreTornLine", Level = LogLevel.Warning, Message = "Metric file {Path}: skipped line {Line} ({Reason}); a writer was probably interrupted mid-write.")]
    public static partial void TornLine(ILogger logger, string path, int line, string reason);

    [LoggerMessage(EventId = 4102, EventName = "FileStoreTornTailRepaired", Level = LogLevel.Warning, Message = "Metric file {Path} ended inside a line (interrupted write); the partial line was cut before appending.")]
    public static partial void TornTailRepaired(ILogger logger, string path);

    [LoggerMessage(EventId = 4103, EventName = "FileStoreValueTruncated", Level = LogLevel.Warning, Message = "The {Kind} value of '{Key}' was cut to {Max} characters, as an MLflow server does.")]
    public static partial void Truncated(ILogger logger, string kind, string key, int max);

    [LoggerMessage(EventId = 4104, EventName = "FileStoreSkippedEntity", Level = LogLevel.Warning, Message = "Skipped {Path}: {Reason}")]
    public static partial void SkippedEntity(ILogger logger, string path, string reason, Exception? error);

    [LoggerMessage(EventId = 4105, EventName = "FileStoreFlushToDiskFailed", Level = LogLevel.Warning, Message = "Could not force {Path} to disk; it is written but may not survive a power loss.")]
    public static partial void FlushToDiskFailed(ILogger logger, string path, Exception error);
}
