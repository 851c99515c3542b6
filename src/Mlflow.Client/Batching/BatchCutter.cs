namespace Mlflow.Client.Batching;

/// <summary>
/// Decides, entry by entry in order, where one log-batch request ends (<see cref="BatchBuilder"/>'s limits): at most
/// 1000 metrics, 100 params, 100 tags and <c>maxEntries</c> in all, never the same param key twice, roughly under
/// <see cref="BatchBuilder.MaxBodyChars"/>, and a tag deletion always alone. Entry by entry so the entries need not be
/// contiguous (a batch may span two of a run's chunks). One cutter per batch.
/// </summary>
internal struct BatchCutter
{
    /// <summary>Per-entry JSON overhead estimate (field names, numbers, punctuation).</summary>
    private const int EntryOverhead = 80;

    private readonly int _maxEntries;
    private readonly HashSet<string> _paramKeys;
    private int _metrics;
    private int _params;
    private int _tags;
    private int _chars;
    private bool _ended;

    /// <param name="maxEntries">Most entries in the batch (1 to 1000).</param>
    /// <param name="paramKeys">Scratch set of the batch's param keys (cleared here).</param>
    public BatchCutter(int maxEntries, HashSet<string> paramKeys)
    {
        _maxEntries = maxEntries;
        _paramKeys = paramKeys;
        paramKeys.Clear();
    }

    /// <summary>Entries in the batch so far.</summary>
    public int Count { get; private set; }

    /// <summary>Whether the batch holds a tag or a tag deletion (a barrier for the sender).</summary>
    public bool HoldsTagWrites { get; private set; }

    /// <summary>Adds <paramref name="e"/> when it fits in the batch; <see langword="false"/> when the batch ends before it. The first entry always fits.</summary>
    public bool TryAdd(in LogEntry e)
    {
        if (_ended || Count >= _maxEntries)
        {
            return false;
        }

        if (e.Kind == LogEntryKind.DeleteTag)
        {
            if (Count > 0)
            {
                return false;
            }

            _ended = true; // a deletion is its own request
            HoldsTagWrites = true;
            Count = 1;
            return true;
        }

        var size = EntryOverhead + e.Key.Length + (e.Text?.Length ?? 0) + (e.Link?.Size ?? 0);
        if (Count > 0 && _chars + size > BatchBuilder.MaxBodyChars)
        {
            return false;
        }

        switch (e.Kind)
        {
            case LogEntryKind.Metric:
                if (_metrics == MlflowLimits.MaxMetricsPerBatch)
                {
                    return false;
                }

                _metrics++;
                break;
            case LogEntryKind.Param:
                if (_params == MlflowLimits.MaxParamsPerBatch || !_paramKeys.Add(e.Key))
                {
                    return false;
                }

                _params++;
                break;
            default:
                if (_tags == MlflowLimits.MaxTagsPerBatch)
                {
                    return false;
                }

                _tags++;
                HoldsTagWrites = true;
                break;
        }

        _chars += size;
        Count++;
        return true;
    }
}
