namespace Mlflow.Client;

/// <summary>What a log call does when the tracker's queue is full. Entries are never dropped.</summary>
public enum QueueFullPolicy
{
    /// <summary>The logging thread waits until the sender made room (no timeout; the sender is woken at once).</summary>
    Wait = 0,
    /// <summary>Entries that do not fit are written to the local store instead, to be synchronised later.</summary>
    SpillToLocalStore = 1,
}
