using System.Runtime.CompilerServices;

namespace Mlflow.Client.Batching;

/// <summary>
/// The chunks of a run's queue. The logging threads append into the current chunk; a full one is linked onto the queue
/// of filled chunks and the next comes from the <see cref="ChunkReserve"/>, all under the run's lock and without an
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
    private int _filledCount;
    private int _peakFilled; // the most filled chunks waiting at once since chunks last came back
    private bool _refillQueued;
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
    internal int ReserveCount
    {
        get
        {
            lock (_lock)
            {
                return _reserve.Count;
            }
        }
    }

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
        if (_filledCount > _peakFilled)
        {
            _peakFilled = _filledCount;
        }

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
        _filledCount++;
    }

    /// <summary>Whether the reserve is below its target and no refill is queued; marks one queued (under the lock).</summary>
    private bool WantsRefill()
    {
        if (_refillQueued || _closed || _reserve.Count >= ChunkReserve.Target(_filledCount))
        {
            return false;
        }

        _refillQueued = true;
        return true;
    }

    /// <summary>Refills the reserve up to its target, one chunk at a time and each allocated outside the lock, off the logging thread (queued by <see cref="Append"/>).</summary>
    void IThreadPoolWorkItem.Execute()
    {
        LogChunk? made = null;
        while (true)
        {
            lock (_lock)
            {
                var wanted = !_closed && _reserve.Count < ChunkReserve.Target(_filledCount);
                if (made is not null && wanted)
                {
                    _reserve.Add(made);
                    wanted = _reserve.Count < ChunkReserve.Target(_filledCount);
                }

                if (!wanted)
                {
                    _refillQueued = false; // the target may grow again: the next chunk change asks anew
                    return;
                }
            }

            try
            {
                made = new LogChunk();
            }
            catch (OutOfMemoryException)
            {
                lock (_lock)
                {
                    _refillQueued = false; // no refill now: a logging thread allocates its next chunk itself, and the exception reaches it there
                }

                return;
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
            _filledCount = 0;
            _taken = _appended;
            refill = WantsRefill();
        }

        if (refill)
        {
            _scheduleRefill(this);
        }

        return (first, count);
    }

    /// <summary>
    /// Gives taken chunks back, cleared so they hold no key references: to the reserve, up to twice the run's recent peak
    /// (<see cref="ChunkReserve.KeepBound"/>); the rest, and every chunk of a closed run, go to the GC.
    /// </summary>
    public void Return(LogChunk? first)
    {
        var returned = 0;
        for (var chunk = first; chunk is not null; returned++)
        {
            var next = chunk.Next;
            chunk.Clear();
            chunk = next;
        }

        lock (_lock)
        {
            if (_closed)
            {
                return;
            }

            var keep = ChunkReserve.KeepBound(Math.Max(Math.Max(_peakFilled, _filledCount), returned));
            _peakFilled = _filledCount;
            for (var chunk = first; chunk is not null && _reserve.Count < keep;)
            {
                var next = chunk.Next; // read before the reserve relinks the chunk
                _reserve.Add(chunk);
                chunk = next;
            }

            _reserve.TrimTo(keep);
        }
    }
}
