using System.Runtime.CompilerServices;

namespace Mlflow.Client.Batching;

/// <summary>
/// The chunks of a run's queue. The logging threads append into the current chunk; a full one is linked onto the queue
/// of filled chunks and the next comes from the <see cref="ChunkReserve"/> (a lock of its own), without an
/// allocation. The reserve is refilled ahead of the logging threads on the <see cref="BufferGrower"/>'s thread
/// (<see cref="IThreadPoolWorkItem.Execute"/>) whenever it drops below its target; a logging thread allocates a chunk
/// itself only when the reserve is empty (counted in <see cref="CallerAllocatedChunks"/>). The sender takes the filled
/// chunks and the partly filled current one (<see cref="TakeAll"/>) and gives them back, cleared, once sent
/// (<see cref="Return"/>).
/// </summary>
internal sealed partial class RunBuffer : IThreadPoolWorkItem
{
    private readonly Action<IThreadPoolWorkItem> _scheduleRefill;
    private readonly ChunkReserve _reserve = new();
    private LogChunk _current;
    private LogEntry[] _entries; // _current.Entries: the hot path reads one field
    private int _fill; // entries in the current chunk
    private LogChunk? _filledHead;
    private LogChunk? _filledTail;
    private int _refillQueued; // 1 while a refill is queued on the grower
    private long _callerAllocated;

    /// <summary>Chunks a logging thread allocated itself because the reserve was empty (the refill came too late).</summary>
    internal long CallerAllocatedChunks
    {
        get
        {
            lock (_lock)
            {
                return _callerAllocated;
            }
        }
    }

    /// <summary>Free chunks in the reserve now.</summary>
    internal int ReserveCount => _reserve.Count;

    /// <summary>Appends an entry; returns the number of entries now waiting. Throws when the run has ended.</summary>
    public int Append(in LogEntry entry)
    {
        int count;
        var refill = false;
        lock (_lock)
        {
            if (_closed)
            {
                ThrowClosed();
            }

            if (_fill == LogChunk.Size)
            {
                refill = NextChunk();
            }

            _entries[_fill++] = entry;
            _appended++;
            count = (int)(_appended - _taken);
        }

        if (refill)
        {
            _scheduleRefill(this);
        }

        return count;
    }

    /// <summary>
    /// Queues the full current chunk and continues on a free one (under the lock); <see langword="true"/> when the
    /// reserve fell below its target and a refill is to be scheduled.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool NextChunk()
    {
        _current.Count = LogChunk.Size;
        Enqueue(_current);
        var next = _reserve.Take();
        if (next is null)
        {
            next = new LogChunk(); // the refill came too late
            _callerAllocated++;
        }

        _current = next;
        _entries = next.Entries;
        _fill = 0;
        return WantsRefill();
    }

    /// <summary>Links a chunk that left the logging threads onto the queue of filled chunks.</summary>
    private void Enqueue(LogChunk chunk)
    {
        if (_filledTail is null)
        {
            _filledHead = chunk;
        }
        else
        {
            _filledTail.Next = chunk;
        }

        _filledTail = chunk;
    }

    /// <summary>Whether the run takes entries and its reserve is below its target.</summary>
    private bool NeedsChunks => !_reserve.IsClosed && _reserve.Count < ChunkReserve.Target;

    /// <summary>Whether the reserve is below its target and no refill is queued; marks one queued.</summary>
    private bool WantsRefill() => NeedsChunks && Interlocked.CompareExchange(ref _refillQueued, 1, 0) == 0;

    /// <summary>Refills the reserve up to its target off the logging thread, without the run's lock (queued by <see cref="Append"/>).</summary>
    void IThreadPoolWorkItem.Execute() => Refill(queued: true);

    /// <summary>
    /// Tops the reserve up to its target on the sender's thread, between the batches of a take: the sender is running,
    /// while the grower's thread, its refill queued, may wait for a core the logging and sending threads hold
    /// (tracking-million: the caller then allocated up to 20 chunks in a row of a first burst, each with a refill queued).
    /// </summary>
    public void TopUpReserve()
    {
        if (NeedsChunks)
        {
            Refill(queued: false);
        }
    }

    /// <summary>
    /// Allocates chunks and adds them while the reserve is below its target, never taking the run's lock (the logging
    /// threads take it at every call: a refill that waited for it at every chunk stood in line behind them, 0.25 ms a
    /// time in an instrumented first burst). <paramref name="queued"/>: the grower's queued work item, which clears the
    /// queued mark when it is done (the sender's top-up leaves it).
    /// </summary>
    private void Refill(bool queued)
    {
        try
        {
            while (NeedsChunks && _reserve.Add(new LogChunk(), ChunkReserve.Target))
            {
            }
        }
        catch (OutOfMemoryException)
        {
            // No refill now: a logging thread allocates its next chunk itself, and the exception reaches it there.
        }
        finally
        {
            if (queued)
            {
                Volatile.Write(ref _refillQueued, 0); // the next chunk change that finds the reserve short asks anew
            }
        }
    }

    /// <summary>
    /// Takes every waiting entry: the filled chunks and the partly filled current one, in append order (the sender owns
    /// them until <see cref="Return"/>); the logging threads continue on a free chunk. <see langword="null"/> and 0 when
    /// nothing waits.
    /// </summary>
    public (LogChunk? First, int Count) TakeAll()
    {
        LogChunk? first;
        int count;
        bool refill;
        lock (_lock)
        {
            count = (int)(_appended - _taken);
            if (count == 0)
            {
                return (null, 0);
            }

            if (_fill > 0)
            {
                _current.Count = _fill;
                Enqueue(_current);
                if (!_closed)
                {
                    // Allocated here, on the sender's thread, only when the reserve is empty.
                    _current = _reserve.Take() ?? new LogChunk();
                    _entries = _current.Entries;
                }

                // A closed run takes no more entries: the taken chunk stays current, never written again.
                _fill = 0;
            }

            first = _filledHead;
            _filledHead = _filledTail = null;
            _taken = _appended;
            refill = NeedsChunks;
        }

        if (refill)
        {
            // On the sender's own thread, now, whether or not the grower's refill is queued: the sender is running anyway,
            // while the grower's thread may wait for a core the logging and sending threads hold.
            Refill(queued: false);
        }

        return (first, count);
    }

    /// <summary>
    /// Gives taken chunks back, cleared so they hold no key references: to the reserve, for the run's life, up to
    /// <see cref="ChunkReserve.MaxChunks"/> free chunks; the rest, and every chunk of a closed run, go to the GC.
    /// </summary>
    public void Return(LogChunk? first)
    {
        for (var chunk = first; chunk is not null;)
        {
            var next = chunk.Next; // read before the reserve relinks the chunk
            chunk.Clear();
            if (!_reserve.Add(chunk))
            {
                return; // the reserve is full or the run ended: the rest go to the GC
            }

            chunk = next;
        }
    }
}
