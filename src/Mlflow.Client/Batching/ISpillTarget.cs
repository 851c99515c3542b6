namespace Mlflow.Client.Batching;

/// <summary>
/// Where entries go when the in-memory queue is full and <see cref="QueueFullPolicy.SpillToLocalStore"/> is chosen:
/// the local store, wired by the composition root. Called on the logging thread; must not drop silently.
/// </summary>
internal interface ISpillTarget
{
    /// <summary>Takes one validated entry of a run that did not fit into the queue.</summary>
    void Spill(string runId, in LogEntry entry);
}
