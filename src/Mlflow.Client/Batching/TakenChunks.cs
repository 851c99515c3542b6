using System.Buffers;

namespace Mlflow.Client.Batching;

/// <summary>
/// Cuts the chunks the sender took from a run (<see cref="RunBuffer.TakeAll"/>) into log-batch requests, in append order
/// (<see cref="BatchCutter"/>). A batch may span the end of one chunk and the start of the next; see
/// <see cref="TakenBatch"/> for how it reaches the exporter.
/// </summary>
internal sealed class TakenChunks
{
    private readonly HashSet<string> _paramKeys = new(StringComparer.Ordinal);
    private readonly int _maxEntries;
    private LogChunk? _chunk;
    private int _offset;

    /// <param name="first">The first chunk taken; the rest follow through <see cref="LogChunk.Next"/>.</param>
    /// <param name="maxEntries">Most entries in one batch.</param>
    public TakenChunks(LogChunk? first, int maxEntries)
    {
        _maxEntries = maxEntries;
        _chunk = first;
        SkipEnded();
    }

    /// <summary>Whether entries are left to cut.</summary>
    public bool HasMore => _chunk is not null;

    /// <summary>Cuts the next batch (call only while <see cref="HasMore"/>).</summary>
    public TakenBatch Next()
    {
        var first = _chunk!;
        var start = _offset;
        var cutter = new BatchCutter(_maxEntries, _paramKeys);
        while (_chunk is not null)
        {
            var entries = _chunk.Entries;
            while (_offset < _chunk.Count && cutter.TryAdd(in entries[_offset]))
            {
                _offset++;
            }

            if (_offset < _chunk.Count)
            {
                break; // the batch ends inside this chunk
            }

            _chunk = _chunk.Next;
            _offset = 0;
            SkipEnded();
        }

        return new TakenBatch(first, start, cutter.Count, cutter.HoldsTagWrites);
    }

    /// <summary>Moves past chunks with no entry left.</summary>
    private void SkipEnded()
    {
        while (_chunk is not null && _offset >= _chunk.Count)
        {
            _chunk = _chunk.Next;
            _offset = 0;
        }
    }
}

/// <summary>
/// One batch cut from a run's taken chunks: <see cref="Count"/> entries from entry <see cref="Offset"/> of
/// <see cref="First"/> on. Within one chunk it is exported from the chunk's array as is; across two, it is copied into an
/// array rented from the shared pool (the sender's side, one batch at most), given back cleared once the batch was settled.
/// </summary>
internal readonly record struct TakenBatch(LogChunk First, int Offset, int Count, bool HoldsTagWrites)
{
    /// <summary>The batch as a contiguous range: the chunk's array, or a rented copy (then <paramref name="rented"/> is set: <see cref="Release"/> it).</summary>
    public (LogEntry[] Entries, int Start, int End) Materialize(out LogEntry[]? rented)
    {
        if (Offset + Count <= First.Count)
        {
            rented = null;
            return (First.Entries, Offset, Offset + Count);
        }

        rented = ArrayPool<LogEntry>.Shared.Rent(Count);
        var chunk = First;
        var from = Offset;
        for (var copied = 0; copied < Count; chunk = chunk.Next!, from = 0)
        {
            var n = Math.Min(chunk.Count - from, Count - copied);
            Array.Copy(chunk.Entries, from, rented, copied, n);
            copied += n;
        }

        return (rented, 0, Count);
    }

    /// <summary>Clears a rented copy (no key references stay in the pool) and gives it back.</summary>
    public void Release(LogEntry[]? rented)
    {
        if (rented is not null)
        {
            Array.Clear(rented, 0, Count);
            ArrayPool<LogEntry>.Shared.Return(rented);
        }
    }
}
