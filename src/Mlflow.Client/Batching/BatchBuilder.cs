namespace Mlflow.Client.Batching;

/// <summary>
/// Cuts a run's queued entries, in order, into log-batch requests within the server's limits: at most 1000 metrics,
/// 100 params, 100 tags and <c>maxEntries</c> (≤ 1000) in all, never the same param key twice, roughly under 1 MB,
/// and a tag deletion always alone (it is its own endpoint).
/// </summary>
internal static class BatchBuilder
{
    /// <summary>Rough body budget in characters (the documented limit is 1 MB; the OSS server does not enforce it).</summary>
    internal const int MaxBodyChars = 800_000;

    /// <summary>The exclusive end of the batch that starts at <paramref name="start"/> (see <see cref="BatchCutter"/>).</summary>
    public static int NextBatchEnd(ReadOnlySpan<LogEntry> entries, int start, int maxEntries, HashSet<string> paramKeys)
    {
        var cutter = new BatchCutter(maxEntries, paramKeys);
        var i = start;
        while (i < entries.Length && cutter.TryAdd(in entries[i]))
        {
            i++;
        }

        return i;
    }

    /// <summary>Turns a range of entries into the request lists of <see cref="Store.ITrackingStore.LogBatchAsync"/>.</summary>
    public static (List<Metric> Metrics, List<Param> Params, List<Tag> Tags) ToRequest(ReadOnlySpan<LogEntry> entries)
    {
        var metrics = new List<Metric>(entries.Length);
        var @params = new List<Param>();
        var tags = new List<Tag>();
        foreach (ref readonly var e in entries)
        {
            switch (e.Kind)
            {
                case LogEntryKind.Metric:
                    metrics.Add(e.Link is { } link
                        ? new Metric(e.Key, e.Value, e.Timestamp, e.Step) { ModelId = link.ModelId, DatasetName = link.DatasetName, DatasetDigest = link.DatasetDigest }
                        : new Metric(e.Key, e.Value, e.Timestamp, e.Step));
                    break;
                case LogEntryKind.Param:
                    @params.Add(new Param(e.Key, e.Text ?? ""));
                    break;
                case LogEntryKind.Tag:
                    tags.Add(new Tag(e.Key, e.Text ?? ""));
                    break;
            }
        }

        return (metrics, @params, tags);
    }
}
