using System.Threading.Channels;

namespace Mlflow.Client.Tracing;

/// <summary>
/// A bounded queue with one background writer, so that logging a trace never blocks the code that ended it: an item
/// that finds the queue full is refused (the caller logs and counts it), a flush waits until what was queued before it
/// was written or given up on, and shutdown writes what is left within a timeout, then abandons the rest.
/// </summary>
/// <typeparam name="T">The queued item.</typeparam>
internal sealed class TraceExportQueue<T> : IDisposable
{
    private readonly Channel<T> _channel;
    private readonly Func<T, CancellationToken, Task> _write;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _abort = new();
    private readonly Task _loop;
    private TaskCompletionSource _progress = NewProgress();
    private long _enqueued;
    private long _completed;

    /// <param name="capacity">Items that may wait.</param>
    /// <param name="write">Writes one item; its failures are its own to report (an exception is swallowed).</param>
    /// <param name="time">The clock of the timeouts.</param>
    public TraceExportQueue(int capacity, Func<T, CancellationToken, Task> write, TimeProvider time)
    {
        _channel = Channel.CreateBounded<T>(new BoundedChannelOptions(capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        _write = write;
        _time = time;
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>Items queued and not yet written or given up on.</summary>
    public long Pending => Interlocked.Read(ref _enqueued) - Interlocked.Read(ref _completed);

    /// <summary>Queues an item; <see langword="false"/> when the queue is full or shut down.</summary>
    public bool TryEnqueue(T item)
    {
        // Counted before it is written: once in the channel the writer may complete it at once, and a completion counted
        // ahead of its item would let a flush return before an item queued ahead of it was written (and Pending dip
        // below zero).
        Interlocked.Increment(ref _enqueued);
        if (!_channel.Writer.TryWrite(item))
        {
            Interlocked.Decrement(ref _enqueued);
            Interlocked.Exchange(ref _progress, NewProgress()).TrySetResult(); // a flush that counted it looks again
            return false;
        }

        return true;
    }

    /// <summary>Waits until every item queued before the call was written or given up on.</summary>
    /// <param name="timeout">How long to wait; <see cref="Timeout.InfiniteTimeSpan"/> waits until done or cancelled.</param>
    /// <param name="cancellationToken">Stops the wait.</param>
    /// <returns><see langword="false"/> when the timeout passed first.</returns>
    public async Task<bool> FlushAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var infinite = timeout == Timeout.InfiniteTimeSpan;
        var target = Interlocked.Read(ref _enqueued);
        var started = _time.GetTimestamp();
        while (!Reached(target))
        {
            var progress = Volatile.Read(ref _progress).Task;
            if (Reached(target))
            {
                break;
            }

            if (_loop.IsCompleted)
            {
                return Reached(target);
            }

            if (infinite)
            {
                // Timeout.InfiniteTimeSpan (-1 ms): wait for the writer, however long it takes, or for the caller to cancel
                await Task.WhenAny(progress, _loop).WaitAsync(cancellationToken).ConfigureAwait(false);
                continue;
            }

            var remaining = timeout - _time.GetElapsedTime(started);
            if (remaining <= TimeSpan.Zero)
            {
                return Reached(target);
            }

            using var delayCancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            await Task.WhenAny(progress, Task.Delay(remaining, _time, delayCancel.Token)).ConfigureAwait(false);
            await delayCancel.CancelAsync().ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
        }

        return true;
    }

    /// <summary>
    /// Whether the items counted when a flush began are done: an item counted then but refused since (full queue) is
    /// no longer counted, so the flush waits for <paramref name="target"/> or the current count, whichever is lower.
    /// </summary>
    private bool Reached(long target)
        => Interlocked.Read(ref _completed) >= Math.Min(target, Interlocked.Read(ref _enqueued));

    /// <summary>Stops taking items, writes what is queued within <paramref name="timeout"/>, then abandons the rest.</summary>
    /// <returns>How many items were abandoned.</returns>
    public async Task<long> ShutdownAsync(TimeSpan timeout)
    {
        _channel.Writer.TryComplete();
        if (!await FlushAsync(timeout).ConfigureAwait(false))
        {
            await _abort.CancelAsync().ConfigureAwait(false);
        }

        try
        {
            await _loop.WaitAsync(TimeSpan.FromSeconds(5), _time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // a write that ignores cancellation: it finishes on its own
        }

        return Pending;
    }

    private async Task LoopAsync()
    {
        try
        {
            while (await _channel.Reader.WaitToReadAsync(_abort.Token).ConfigureAwait(false))
            {
                while (_channel.Reader.TryRead(out var item))
                {
                    try
                    {
                        await _write(item, _abort.Token).ConfigureAwait(false);
                    }
#pragma warning disable CA1031 // the writer reports its own failures; the loop must survive any
                    catch (Exception)
#pragma warning restore CA1031
                    {
                    }
                    finally
                    {
                        Interlocked.Increment(ref _completed);
                        Interlocked.Exchange(ref _progress, NewProgress()).TrySetResult();
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
            // shut down with items left
        }
        finally
        {
            Interlocked.Exchange(ref _progress, NewProgress()).TrySetResult();
        }
    }

    private static TaskCompletionSource NewProgress() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Dispose()
    {
        _channel.Writer.TryComplete();
        _abort.Cancel();
        if (_loop.IsCompleted)
        {
            _abort.Dispose(); // else the loop may still read its token; it is collected with it
        }
    }
}
