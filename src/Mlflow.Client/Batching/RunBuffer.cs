namespace Mlflow.Client.Batching;

/// <summary>
/// The queued entries of one run: a lock-protected growable array the logging threads append to and the sender swaps
/// out whole (double buffering, so a steady state allocates nothing). Also tracks how far delivery got, for flushes,
/// and the entries the server rejected, for the run's owner to see. A burst larger than the array gets a bigger one
/// allocated ahead on the <see cref="BufferGrower"/>'s thread (<see cref="IThreadPoolWorkItem.Execute"/>) once the array
/// is half full, so the logging thread does not allocate; it grows the array itself only when that came too late.
/// </summary>
internal sealed class RunBuffer : IThreadPoolWorkItem
{
    private const int InitialCapacity = 256;

    private readonly object _lock = new();
    private readonly List<(long Target, TaskCompletionSource Done)> _waiters = [];
    private readonly List<RejectedLogEntry> _rejections = [];
    private LogEntry[] _entries = new LogEntry[InitialCapacity];
    private LogEntry[]? _spare;
    private int _count;
    private int _growAt = GrowThreshold(InitialCapacity);
    private int _growFrom; // the array length a queued grow-ahead was asked for; 0 when none is queued
    private long _appended;
    private long _completed;
    private long _settled;
    private bool _closed;
    private int _reported;
    private volatile bool _spillRequested;
    private volatile bool _outboxRequested;
    private readonly CancellationTokenSource _sends;

    /// <param name="runId">The run's id.</param>
    /// <param name="abort">Cancels every send of the tracker (its shutdown).</param>
    public RunBuffer(string runId, CancellationToken abort = default)
    {
        RunId = runId;
        _sends = CancellationTokenSource.CreateLinkedTokenSource(abort);
        BufferGrower.Shared.EnsureStarted();
    }

    public string RunId { get; }

    /// <summary>Runs a grow-ahead off the logging thread: the <see cref="BufferGrower"/> (the work item is this buffer: no allocation); tests run it when they choose.</summary>
    internal Action<IThreadPoolWorkItem> ScheduleGrowth { get; set; } = BufferGrower.Shared.Schedule;

    /// <summary>The length of the array the logging threads append to now.</summary>
    internal int Capacity
    {
        get
        {
            lock (_lock)
            {
                return _entries.Length;
            }
        }
    }

    /// <summary>Set by a log call that found the queue full under <see cref="QueueFullPolicy.SpillToLocalStore"/>: the sink takes the run's next turn.</summary>
    public bool SpillRequested { get => _spillRequested; set => _spillRequested = value; }

    /// <summary>
    /// Set when the run ended and the server stopped taking its entries (or the end's deadline passed): the rest of its
    /// queue, and its sends still in flight, go to the sink's keeping (the outbox on disk), in order.
    /// </summary>
    public bool OutboxRequested => _outboxRequested;

    /// <summary>Cancelled by <see cref="RequestOutbox"/> or the tracker's shutdown: the run's sends in flight stop waiting.</summary>
    public CancellationToken SendCancellation => _sends.Token;

    /// <summary>Entries appended and not yet sent, kept or given up on (counted batch by batch).</summary>
    public long Unsettled => Appended - Interlocked.Read(ref _settled);

    /// <summary>Counts <paramref name="n"/> entries sent, kept or given up on (the batch's, before its turn completes).</summary>
    public void AddSettled(int n) => Interlocked.Add(ref _settled, n);

    /// <summary>The sender's drain of this run now running, if any (read and written by the sender loop only).</summary>
    public Task? Drain { get; set; }

    /// <summary>Entries appended and not yet taken by the sender.</summary>
    public int PendingCount
    {
        get
        {
            lock (_lock)
            {
                return _count;
            }
        }
    }

    /// <summary>Entries appended since the run started (the flush target).</summary>
    public long Appended
    {
        get
        {
            lock (_lock)
            {
                return _appended;
            }
        }
    }

    /// <summary>Whether the run takes no more entries.</summary>
    public bool IsClosed
    {
        get
        {
            lock (_lock)
            {
                return _closed;
            }
        }
    }

    /// <summary>Whether every appended entry was sent or given up on.</summary>
    public bool IsDrained
    {
        get
        {
            lock (_lock)
            {
                return _completed >= _appended;
            }
        }
    }

    /// <summary>Appends an entry; returns the number of entries now waiting. Throws when the run has ended.</summary>
    public int Append(in LogEntry entry)
    {
        int count;
        bool growAhead;
        lock (_lock)
        {
            if (_closed)
            {
                ThrowClosed();
            }

            if (_count == _entries.Length)
            {
                GrowTo(new LogEntry[_entries.Length * 2]); // the grow-ahead came too late
            }

            _entries[_count++] = entry;
            _appended++;
            count = _count;
            growAhead = count >= _growAt && _growFrom == 0; // >=: an array the caller grew itself may start past its half
            if (growAhead)
            {
                _growFrom = _entries.Length;
            }
        }

        if (growAhead)
        {
            ScheduleGrowth(this);
        }

        return count;
    }

    /// <summary>Grows the array ahead of a burst, off the logging thread (queued by <see cref="Append"/>).</summary>
    void IThreadPoolWorkItem.Execute()
    {
        int length;
        lock (_lock)
        {
            length = _growFrom;
            if (!StillWantsGrowth(length))
            {
                _growFrom = 0;
                return;
            }
        }

        var bigger = new LogEntry[length * 2]; // allocated outside the lock
        lock (_lock)
        {
            _growFrom = 0;
            if (StillWantsGrowth(length))
            {
                GrowTo(bigger);
            }
        }
    }

    /// <summary>Whether the array is still the size a grow-ahead was asked for and still fuller than its threshold (the sender may have taken it, or the caller grown it).</summary>
    private bool StillWantsGrowth(int length) => _entries.Length == length && _count >= _growAt;

    /// <summary>Moves the waiting entries to <paramref name="bigger"/> (under the lock).</summary>
    private void GrowTo(LogEntry[] bigger)
    {
        Array.Copy(_entries, bigger, _count);
        _entries = bigger;
        _growAt = GrowThreshold(bigger.Length);
    }

    /// <summary>The count at which a grow-ahead is asked for: half the array, so the grower has the other half's appends to allocate in.</summary>
    private static int GrowThreshold(int length) => length / 2;

    /// <summary>Stops intake; returns the flush target (everything appended so far).</summary>
    public long Close()
    {
        lock (_lock)
        {
            _closed = true;
            return _appended;
        }
    }

    /// <summary>Sends the rest of the run to the outbox: see <see cref="OutboxRequested"/>.</summary>
    public void RequestOutbox()
    {
        _outboxRequested = true;
        try
        {
            _sends.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // the run was forgotten: nothing is in flight
        }
    }

    /// <summary>Releases the run's cancellation source once the sender forgot it.</summary>
    public void Forget() => _sends.Dispose();

    /// <summary>Takes every waiting entry (the sender owns the array until <see cref="Return"/>).</summary>
    public (LogEntry[] Entries, int Count) TakeAll()
    {
        lock (_lock)
        {
            if (_count == 0)
            {
                return ([], 0);
            }

            var taken = _entries;
            var count = _count;
            // Ping-pong: the producers get the spare (the array the sender gave back) when it is as large as the taken one
            // (up to 2^20 entries), else a new one of that size, allocated here on the sender's thread: the logging threads
            // grow their array only in a burst larger than any before, never again for one of a size already seen.
            var wanted = Math.Min(taken.Length, 1 << 20);
            _entries = _spare is { } s && s.Length >= wanted ? s : new LogEntry[wanted];
            _growAt = GrowThreshold(_entries.Length);
            _spare = null;
            _count = 0;
            return (taken, count);
        }
    }

    /// <summary>Gives a taken array back for reuse, cleared so it holds no key references.</summary>
    public void Return(LogEntry[] array, int count)
    {
        if (array.Length == 0)
        {
            return;
        }

        Array.Clear(array, 0, count);
        lock (_lock)
        {
            if (_spare is null || _spare.Length < array.Length)
            {
                _spare = array;
            }
        }
    }

    /// <summary>Records that <paramref name="n"/> more entries were sent or given up on; wakes flushes that are done.</summary>
    public void Complete(int n)
    {
        List<TaskCompletionSource>? done = null;
        lock (_lock)
        {
            _completed += n;
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Target <= _completed)
                {
                    (done ??= []).Add(_waiters[i].Done);
                    _waiters.RemoveAt(i);
                }
            }
        }

        if (done is not null)
        {
            foreach (var tcs in done)
            {
                tcs.TrySetResult();
            }
        }
    }

    /// <summary>Completes when every entry up to <paramref name="target"/> was sent or given up on.</summary>
    public Task WaitForAsync(long target)
    {
        lock (_lock)
        {
            if (_completed >= target)
            {
                return Task.CompletedTask;
            }

            var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((target, tcs));
            return tcs.Task;
        }
    }

    public void AddRejection(RejectedLogEntry rejection)
    {
        lock (_lock)
        {
            _rejections.Add(rejection);
        }
    }

    /// <summary>Every rejection so far (a copy).</summary>
    public IReadOnlyList<RejectedLogEntry> Rejections
    {
        get
        {
            lock (_lock)
            {
                return [.. _rejections];
            }
        }
    }

    /// <summary>Rejections not yet handed to the caller; marks them handed.</summary>
    public IReadOnlyList<RejectedLogEntry> TakeUnreportedRejections()
    {
        lock (_lock)
        {
            if (_reported == _rejections.Count)
            {
                return [];
            }

            var list = _rejections.GetRange(_reported, _rejections.Count - _reported);
            _reported = _rejections.Count;
            return list;
        }
    }

    private void ThrowClosed() => throw new InvalidOperationException($"Run {RunId} has ended; it takes no more metrics, params or tags.");
}
