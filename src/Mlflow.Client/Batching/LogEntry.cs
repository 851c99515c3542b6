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
    public LogEntry(LogEntryKind kind, string key, string? text, double value, long timestamp, long step, MetricLink? link = null)
    {
        Kind = kind;
        Key = key;
        Text = text;
        Value = value;
        Timestamp = timestamp;
        Step = step;
        Link = link;
    }

    public LogEntryKind Kind { get; }
    public string Key { get; }
    public string? Text { get; }
    public double Value { get; }
    public long Timestamp { get; }
    public long Step { get; }

    /// <summary>The logged model and dataset a metric point was measured on (MLflow 3); <see langword="null"/> for a plain point.</summary>
    public MetricLink? Link { get; }

    public static LogEntry Metric(string key, double value, long timestamp, long step, MetricLink? link = null) => new(LogEntryKind.Metric, key, null, value, timestamp, step, link);

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

/// <summary>
/// What a metric point is linked to on an MLflow 3 server: the logged model it was measured on (<c>model_id</c>) and the
/// dataset (<c>dataset_name</c>, <c>dataset_digest</c>). One instance is shared by the points of one call.
/// </summary>
internal sealed record MetricLink(string ModelId, string? DatasetName, string? DatasetDigest)
{
    /// <summary>Characters the link adds to a log-batch body, for <see cref="BatchBuilder"/>'s size budget.</summary>
    public int Size => 60 + ModelId.Length + (DatasetName?.Length ?? 0) + (DatasetDigest?.Length ?? 0);
}
