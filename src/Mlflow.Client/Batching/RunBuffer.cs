namespace Mlflow.Client.Batching;

/// <summary>
/// The queued entries of one run: a queue of fixed-size chunks (<see cref="LogChunk"/>) the logging threads append to
/// under one short lock, and the sender takes whole (<see cref="TakeAll"/>) and gives back once sent
/// (<see cref="Return"/>), so a steady state allocates nothing. Also tracks how far delivery got, for flushes, and the
/// entries the server rejected, for the run's owner to see. How chunks are filled, taken, given back and allocated ahead
/// of a burst is in RunBuffer.Chunks.cs.
/// </summary>
internal sealed partial class RunBuffer
{
    private readonly object _lock = new();
    private readonly List<(long Target, TaskCompletionSource Done)> _waiters = [];
    private readonly List<RejectedLogEntry> _rejections = [];
    private long _appended;
    private long _taken;
    private long _completed;
    private long _settled;
    private bool _closed;
    private int _reported;
    private volatile bool _spillRequested;
    private volatile bool _outboxRequested;
    private readonly CancellationTokenSource _sends;

    /// <param name="runId">The run's id.</param>
    /// <param name="scheduleRefill">
    /// Runs a refill of the reserve off the logging thread (the work item is this buffer: no allocation); by default the
    /// process's <see cref="BufferGrower"/>. Tests pass their own to run it when they choose.
    /// </param>
    /// <param name="abort">Cancels every send of the tracker (its shutdown).</param>
    public RunBuffer(string runId, Action<IThreadPoolWorkItem>? scheduleRefill = null, CancellationToken abort = default)
    {
        RunId = runId;
        _sends = CancellationTokenSource.CreateLinkedTokenSource(abort);
        if (scheduleRefill is null)
        {
            BufferGrower.Shared.EnsureStarted();
            scheduleRefill = BufferGrower.Shared.Schedule;
        }

        _scheduleRefill = scheduleRefill;
        _current = new LogChunk();
        _entries = _current.Entries;
        for (var i = 0; i < ChunkReserve.Target; i++)
        {
            // The run's first free chunks come with it (in StartRun): a refill thread that is slow to get a core would leave
            // the first burst to allocate them on the logging thread (see ChunkReserve.Target).
            _reserve.Add(new LogChunk(), ChunkReserve.Target);
        }
    }

    public string RunId { get; }

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
                return (int)(_appended - _taken);
            }
        }
    }

    /// <summary>
    /// Whether the sender should take this run again now rather than at its next interval: at least
    /// <paramref name="batchSize"/> entries wait, or entries someone waits for (a flush or a run's end whose target is not
    /// taken yet, the run's end itself, the outbox or a spill, or the tracker's shutdown: <paramref name="stopping"/>).
    /// </summary>
    public bool WantsTurnNow(int batchSize, bool stopping = false)
    {
        lock (_lock)
        {
            var pending = _appended - _taken;
            if (pending == 0)
            {
                return false;
            }

            if (stopping || pending >= batchSize || _closed || _outboxRequested || _spillRequested)
            {
                return true;
            }

            foreach (var (target, _) in _waiters)
            {
                if (target > _taken)
                {
                    return true;
                }
            }

            return false;
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

    /// <summary>Stops intake; returns the flush target (everything appended so far).</summary>
    public long Close()
    {
        lock (_lock)
        {
            _closed = true;
            _reserve.Close(); // nothing is appended any more: the free chunks go back to the GC
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
