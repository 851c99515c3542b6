namespace Mlflow.Client;

/// <summary>How a tracker queues and sends entries in the background.</summary>
public sealed class MlflowBatchingOptions
{
    /// <summary>
    /// Stamp log calls from the wall clock itself (1 ms resolution, 30 to 50 ns a call) instead of the default
    /// coarse clock (the kernel's tick, 1 to 4 ms resolution, a few ns a call, re-aligned to the wall clock every second).
    /// </summary>
    public bool PreciseTimestamps { get; set; }

    /// <summary>
    /// Most entries waiting in memory for one tracker (default 1,000,000: a training loop that logs a million points
    /// faster than the server takes them still never waits; an entry takes about 56 bytes, so at most about 56 MB);
    /// then <see cref="QueueFullPolicy"/> applies.
    /// </summary>
    public int MaxQueueEntries { get; set; } = 1_000_000;

    /// <summary>How often queued entries are sent even when no batch is full (default 1 s).</summary>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Most entries in one log-batch request (1 to 1000; default 1000, the server's limit).</summary>
    public int MaxBatchEntries { get; set; } = MlflowLimits.MaxEntitiesPerBatch;

    /// <summary>
    /// Most log-batch requests in flight at once for one tracker, across its runs and within one run (1 to 16;
    /// default 2, like the default number of workers of <c>mlflow server</c>). Metric and param batches of a run
    /// overlap; a batch with tags or tag deletions waits for the run's earlier batches and goes out alone, so tags keep
    /// their order.
    /// </summary>
    public int MaxConcurrentRequests { get; set; } = 2;

    /// <summary>What a log call does when the queue is full (default <see cref="QueueFullPolicy.Wait"/>).</summary>
    public QueueFullPolicy QueueFullPolicy { get; set; } = QueueFullPolicy.Wait;

    /// <summary>
    /// How long ending a run, disposing the tracker or a process exit waits when the server takes <b>no</b> entry (default
    /// 5 s): a stall, not a backlog. While the server makes progress the end waits for every queued entry; after a stall
    /// the rest goes to the offline store on disk (sent while the tracker lives, or by <c>mlflow-sync</c>).
    /// <see cref="TimeSpan.Zero"/>: never wait for the server at the end, write the backlog to disk at once (a process
    /// that must exit quickly).
    /// </summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(5);

    internal void Validate()
    {
        if (MaxQueueEntries < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxQueueEntries), MaxQueueEntries, "MaxQueueEntries must be at least 1.");
        }

        if (MaxBatchEntries is < 1 or > MlflowLimits.MaxEntitiesPerBatch)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxBatchEntries), MaxBatchEntries, $"MaxBatchEntries must be between 1 and {MlflowLimits.MaxEntitiesPerBatch}.");
        }

        if (MaxConcurrentRequests is < 1 or > 16)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxConcurrentRequests), MaxConcurrentRequests, "MaxConcurrentRequests must be between 1 and 16.");
        }

        if (FlushInterval <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(FlushInterval), FlushInterval, "FlushInterval must be positive.");
        }

        if (ShutdownTimeout < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(ShutdownTimeout), ShutdownTimeout, "ShutdownTimeout must not be negative.");
        }
    }
}
