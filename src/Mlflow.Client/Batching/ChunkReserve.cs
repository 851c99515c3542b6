namespace Mlflow.Client.Batching;

/// <summary>
/// The free chunks of one run, kept ahead of its logging threads so a full chunk is followed by an empty one without an
/// allocation (<see cref="RunBuffer"/>). A stack linked through <see cref="LogChunk.Next"/>, so adding and taking
/// allocate nothing. Not thread-safe: used under the run's lock.
/// </summary>
/// <remarks>
/// The reserve's target grows with the run's backlog (<see cref="Target"/>: as many free chunks as filled chunks wait
/// for the sender), as doubling an array would, so a burst that keeps growing still finds chunks allocated ahead. What it
/// keeps once the sender gives chunks back is bounded (<see cref="KeepBound"/>): enough for the run's recent peak, so
/// a steady state reuses its chunks, and never more than <see cref="MaxChunks"/>, so memory after a burst goes back to
/// the GC.
/// </remarks>
internal sealed class ChunkReserve
{
    /// <summary>The fewest free chunks the reserve aims for, however small the backlog.</summary>
    public const int MinChunks = 2;

    /// <summary>The most free chunks a run keeps or asks for: 2^20 entries.</summary>
    public const int MaxChunks = (1 << 20) / LogChunk.Size;

    private LogChunk? _top;

    /// <summary>Free chunks now.</summary>
    public int Count { get; private set; }

    /// <summary>The free chunks wanted while <paramref name="filled"/> chunks wait for the sender: as many, at least <see cref="MinChunks"/>, at most <see cref="MaxChunks"/>.</summary>
    public static int Target(int filled) => Math.Clamp(filled, MinChunks, MaxChunks);

    /// <summary>
    /// The most free chunks kept when chunks come back, after a peak of <paramref name="peak"/> chunks in the run's queue
    /// (or in one take): twice the peak, at least <see cref="MinChunks"/>, at most <see cref="MaxChunks"/>. Twice: while
    /// the sender holds one peak's chunks, the reserve is asked for as many again (<see cref="Target"/>); keeping less
    /// would drop chunks that the next peak allocates anew.
    /// </summary>
    public static int KeepBound(int peak) => Math.Clamp(2 * peak, MinChunks, MaxChunks);

    /// <summary>Takes a free chunk; <see langword="null"/> when there is none.</summary>
    public LogChunk? Take()
    {
        var chunk = _top;
        if (chunk is not null)
        {
            _top = chunk.Next;
            chunk.Next = null;
            Count--;
        }

        return chunk;
    }

    /// <summary>Adds an empty chunk.</summary>
    public void Add(LogChunk chunk)
    {
        chunk.Next = _top;
        _top = chunk;
        Count++;
    }

    /// <summary>Drops free chunks beyond <paramref name="keep"/> (to the GC).</summary>
    public void TrimTo(int keep)
    {
        while (Count > keep)
        {
            Take();
        }
    }
}
