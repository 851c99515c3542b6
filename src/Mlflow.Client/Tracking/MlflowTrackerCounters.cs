namespace Mlflow.Client;

/// <summary>A snapshot of what a tracker's background sender did, counted in entries (metric points, params, tags).</summary>
/// <param name="Queued">Entries accepted into the in-memory queue.</param>
/// <param name="Sent">Entries the store confirmed.</param>
/// <param name="Retried">Requests sent again after a transient failure (network error, 408, 429, 5xx).</param>
/// <param name="Failed">Entries the store rejected or that delivery gave up on (reported through their run).</param>
/// <param name="Spilled">Entries handed to the local store because the queue was full.</param>
public readonly record struct MlflowTrackerCounters(long Queued, long Sent, long Retried, long Failed, long Spilled)
{
    /// <summary>Entries queued and not yet sent or given up on.</summary>
    public long Pending => Queued - Sent - Failed;
}
