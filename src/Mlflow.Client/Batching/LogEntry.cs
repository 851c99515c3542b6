using System.Runtime.InteropServices;

namespace Mlflow.Client.Batching;

/// <summary>What a queued entry is.</summary>
internal enum LogEntryKind : byte
{
    Metric = 0,
    Param = 1,
    Tag = 2,
    /// <summary>A tag deletion: not part of log-batch, so it is a barrier between batches (order with set-tag is kept).</summary>
    DeleteTag = 3,
}

/// <summary>
/// One queued metric point, param, tag or tag deletion. A struct so the hot path does not allocate: it holds the key
/// reference, the text value (params and tags) or the number, timestamp and step (metrics). Validated before queued.
/// </summary>
[StructLayout(LayoutKind.Auto)]
internal readonly struct LogEntry
{
    public LogEntry(LogEntryKind kind, string key, string? text, double value, long timestamp, long step)
    {
        Kind = kind;
        Key = key;
        Text = text;
        Value = value;
        Timestamp = timestamp;
        Step = step;
    }

    public LogEntryKind Kind { get; }
    public string Key { get; }
    public string? Text { get; }
    public double Value { get; }
    public long Timestamp { get; }
    public long Step { get; }

    public static LogEntry Metric(string key, double value, long timestamp, long step) => new(LogEntryKind.Metric, key, null, value, timestamp, step);

    public static LogEntry Param(string key, string value) => new(LogEntryKind.Param, key, value, 0, 0, 0);

    public static LogEntry Tag(string key, string value) => new(LogEntryKind.Tag, key, value, 0, 0, 0);

    public static LogEntry DeleteTag(string key) => new(LogEntryKind.DeleteTag, key, null, 0, 0, 0);

    public string KindName => Kind switch
    {
        LogEntryKind.Metric => "metric",
        LogEntryKind.Param => "param",
        LogEntryKind.Tag => "tag",
        _ => "tag deletion",
    };
}
