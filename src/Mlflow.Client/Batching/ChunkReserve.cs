namespace Mlflow.Client.Batching;

/// <summary>
/// The free chunks of one run, kept ahead of its logging threads so a full chunk is followed by an empty one without an
/// allocation (<see cref="RunBuffer"/>). A stack linked through <see cref="LogChunk.Next"/>, so adding and taking
/// allocate nothing. Not thread-safe: used under the run's lock.
/// </summary>
/// <remarks>
/// The reserve's target grows with what the run holds (<see cref="Target"/>: twice as many free chunks as the run has in
/// use, its current chunk, the filled ones waiting and those the sender holds), as doubling an array would, so a burst that
/// keeps growing still finds chunks allocated ahead. Every chunk the sender gives back is kept, up to
/// <see cref="MaxChunks"/>, for the run's life (as the growable array it replaces was), so a later burst of the same size
/// allocates nothing anywhere; a run that ends gives them all to the GC.
/// </remarks>
internal sealed class ChunkReserve
{
    /// <summary>
    /// The free chunks a run starts with (allocated in StartRun, about 0.9 MB, given to the GC when it ends), and the
    /// fewest the reserve aims for. A first burst fills them before the refill thread gets a core: on a busy two-core
    /// machine it waits while the sender and the runtime's JIT and GC threads run (tracking-million's first burst: the
    /// logging thread allocated 4-17 chunks itself with 4 to start with; with 16, none in 19 of 32 runs and 2-35 in the
    /// others, all in the process's first ~60 ms).
    /// </summary>
    public const int MinChunks = 16;

    /// <summary>The most free chunks a run keeps or asks for: 2^20 entries.</summary>
    public const int MaxChunks = (1 << 20) / LogChunk.Size;

    private LogChunk? _top;

    /// <summary>Free chunks now.</summary>
    public int Count { get; private set; }

    /// <summary>
    /// The free chunks wanted while the run has <paramref name="inUse"/> chunks in use: twice as many, at least
    /// <see cref="MinChunks"/> and at most <see cref="MaxChunks"/>. Twice: the refill runs on another thread, which on a
    /// busy two-core machine may wait for a core while the logging thread fills chunks (tracking-million's first burst:
    /// 0.5-1.8 B/call on the caller with "as many", 0.1-1.2 with "twice"); the sender also tops the reserve up between
    /// its batches.
    /// </summary>
    public static int Target(int inUse) => Math.Clamp(2 * inUse, MinChunks, MaxChunks);

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

    /// <summary>Drops every free chunk (to the GC).</summary>
    public void Clear()
    {
        _top = null;
        Count = 0;
    }
}
