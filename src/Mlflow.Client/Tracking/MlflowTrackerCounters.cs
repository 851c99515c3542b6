namespace Mlflow.Client;

/// <summary>A snapshot of what a tracker's background sender did, counted in entries (metric points, params, tags).</summary>
/// <param name="Queued">Entries accepted into the in-memory queue.</param>
/// <param name="Sent">Entries the store confirmed.</param>
/// <param name="Retried">Requests sent again after a transient failure (network error, 408, 429, 5xx).</param>
/// <param name="Failed">Entries the store rejected or that delivery gave up on (reported through their run).</param>
/// <param name="Spilled">Log calls that found the queue full under <see cref="QueueFullPolicy.SpillToLocalStore"/> (their entries went to the local store).</param>
public readonly record struct MlflowTrackerCounters(long Queued, long Sent, long Retried, long Failed, long Spilled)
{
    /// <summary>
    /// Entries written to the local store instead of being sent: the server was unreachable (or the queue full). They are
    /// sent from there when the server answers again, or by <c>mlflow-sync</c>; they are not counted in <see cref="Sent"/>.
    /// </summary>
    public long Offline { get; init; }

    /// <summary>Entries queued and not yet sent, kept locally or given up on.</summary>
    public long Pending => Queued - Sent - Failed - Offline;
}
