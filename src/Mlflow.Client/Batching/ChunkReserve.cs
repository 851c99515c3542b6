namespace Mlflow.Client.Batching;

/// <summary>
/// The free chunks of one run, kept ahead of its logging threads so a full chunk is followed by an empty one without an
/// allocation (<see cref="RunBuffer"/>). A stack linked through <see cref="LogChunk.Next"/>, so adding and taking
/// allocate nothing. Thread-safe with a lock of its own, apart from the run's: the logging threads take from it once per
/// chunk, while the threads that refill it never contend for the run's lock, which the logging threads take at every call.
/// </summary>
/// <remarks>
/// The reserve aims for <see cref="Target"/> free chunks, allocated on the grower's thread (and by the sender between its
/// batches) as the logging threads use them. Every chunk the sender gives back is kept, up to <see cref="MaxChunks"/>,
/// for the run's life, so a later burst of the same size allocates nothing anywhere; a run that ends gives them all to
/// the GC.
/// </remarks>
internal sealed class ChunkReserve
{
    /// <summary>
    /// The free chunks a run starts with (allocated in StartRun, about 2.8 MB, given to the GC when it ends) and that its
    /// reserve is refilled to: about 49,000 entries, 2-3 ms of a logging loop at full speed, which is how long the refill
    /// thread waited for a core in an instrumented first burst (sender's JIT, GC). tracking-million on a two-core machine:
    /// with 16 the logging thread allocated 0-20 chunks itself in a first burst into a slow store, with 32 none in 12 runs.
    /// A fixed lead rather than one growing with the backlog: growing it doubled the memory a backlog holds, and the extra
    /// chunks, given to the GC when returned beyond <see cref="MaxChunks"/>, made the next burst write into fresh pages
    /// (170-280 ns a call instead of 40-80).
    /// </summary>
    public const int Target = 32;

    /// <summary>The most free chunks a run keeps: about 2^20 entries.</summary>
    public const int MaxChunks = (1 << 20) / LogChunk.Size;

    private readonly object _lock = new();
    private LogChunk? _top;
    private int _count;
    private bool _closed;

    /// <summary>Free chunks now (read without the lock: a moment's value).</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Whether the run ended: the reserve keeps no chunk any more.</summary>
    public bool IsClosed => Volatile.Read(ref _closed);

    /// <summary>Takes a free chunk; <see langword="null"/> when there is none.</summary>
    public LogChunk? Take()
    {
        lock (_lock)
        {
            var chunk = _top;
            if (chunk is not null)
            {
                _top = chunk.Next;
                chunk.Next = null;
                _count--;
            }

            return chunk;
        }
    }

    /// <summary>Adds an empty chunk while the reserve holds fewer than <paramref name="limit"/>; <see langword="false"/> when it was not kept (full, or the run ended: it goes to the GC).</summary>
    public bool Add(LogChunk chunk, int limit = MaxChunks)
    {
        lock (_lock)
        {
            if (_closed || _count >= limit)
            {
                return false;
            }

            chunk.Next = _top;
            _top = chunk;
            _count++;
            return true;
        }
    }

    /// <summary>Drops every free chunk (to the GC) and keeps none from now on: the run ended.</summary>
    public void Close()
    {
        lock (_lock)
        {
            _closed = true;
            _top = null;
            _count = 0;
        }
    }
}
