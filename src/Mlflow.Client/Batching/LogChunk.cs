namespace Mlflow.Client.Batching;

/// <summary>
/// A fixed-size block of a run's queued entries (<see cref="RunBuffer"/>). The logging threads fill one chunk at a time;
/// a full chunk is linked onto the run's queue and the next one comes from the run's <see cref="ChunkReserve"/>, so an
/// entry is never copied. <see cref="Next"/> links a chunk into one list at a time: the queue of filled chunks, the
/// chunks the sender took, or the reserve.
/// </summary>
internal sealed class LogChunk
{
    /// <summary>
    /// Entries per chunk: 1536 entries of 56 bytes, about 86 KB, just above the 85,000 bytes from which an array lives on
    /// the large object heap. Chunks live as long as their run and are reused, which is what that heap is for: it is not
    /// compacted by the frequent collections, so a growing queue is never copied. Below it (1024 entries), each gen0 and
    /// gen1 collection copied every chunk of a backlog: tracking-million's first burst spent 50-60 ms of 200 in GC pauses
    /// and the logging thread allocated 60-330 chunks itself; above it, 0-12 ms and none (or one) in 12 runs.
    /// </summary>
    public const int Size = 1536;

    /// <summary>The entries; [0, <see cref="Count"/>) are set once the chunk was filled or taken.</summary>
    public LogEntry[] Entries { get; } = new LogEntry[Size];

    /// <summary>How many entries the chunk holds: set when it leaves the logging threads (full, or taken partly filled).</summary>
    public int Count { get; set; }

    /// <summary>The next chunk of the list this one is in, or <see langword="null"/>.</summary>
    public LogChunk? Next { get; set; }

    /// <summary>Empties the chunk so it holds no key references (off the logging threads: the sender, after sending); <see cref="Next"/> is kept.</summary>
    public void Clear()
    {
        Array.Clear(Entries, 0, Count);
        Count = 0;
    }
}
