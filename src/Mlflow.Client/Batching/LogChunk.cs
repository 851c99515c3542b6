namespace Mlflow.Client.Batching;

/// <summary>
/// A fixed-size block of a run's queued entries (<see cref="RunBuffer"/>). The logging threads fill one chunk at a time;
/// a full chunk is linked onto the run's queue and the next one comes from the run's <see cref="ChunkReserve"/>, so an
/// entry is never copied and no large array is ever allocated: <see cref="Size"/> entries stay below the 85,000 bytes of
/// the large object heap. <see cref="Next"/> links a chunk into one list at a time: the queue of filled chunks, the
/// chunks the sender took, or the reserve.
/// </summary>
internal sealed class LogChunk
{
    /// <summary>Entries per chunk: 1024 entries of about 56 bytes, about 56 KB (below the large object heap's threshold).</summary>
    public const int Size = 1024;

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
