using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;

namespace Mlflow.Client.Batching;

/// <summary>
/// One background thread of the process that refills the runs' reserves of free chunks (<see cref="RunBuffer"/>,
/// <see cref="ChunkReserve"/>) ahead of their logging threads, so a logging thread never allocates a chunk. A thread of
/// its own rather than the thread pool: the pool's threads are the sender's too, and on a busy machine a queued work item
/// waited until the logging thread had run out of room and allocated itself. Asking is allocation-free (a queue slot and
/// a semaphore release); the thread is started by the first run, not by a log call.
/// </summary>
[SuppressMessage("Design", "CA1001:Types that own disposable fields should be disposable", Justification = "One instance for the process's lifetime; its thread waits on the semaphore until the process ends.")]
internal sealed class BufferGrower
{
    private readonly ConcurrentQueue<IThreadPoolWorkItem> _pending = new();
    private readonly SemaphoreSlim _signal = new(0, int.MaxValue);
    private int _started;

    /// <summary>The process's grower.</summary>
    public static BufferGrower Shared { get; } = new();

    /// <summary>Starts the thread once (called when a run starts, off the logging path).</summary>
    public void EnsureStarted()
    {
        if (Volatile.Read(ref _started) != 0 || Interlocked.Exchange(ref _started, 1) != 0)
        {
            return;
        }

        var thread = new Thread(Loop) { IsBackground = true, Name = "Mlflow.Client buffer grower" };
        thread.Start();
    }

    /// <summary>Queues a refill (the run's buffer is the work item); it runs on the grower's thread.</summary>
    public void Schedule(IThreadPoolWorkItem item)
    {
        _pending.Enqueue(item);
        _signal.Release();
    }

    private void Loop()
    {
        while (true)
        {
            _signal.Wait();
            while (_pending.TryDequeue(out var item))
            {
                try
                {
                    item.Execute();
                }
                catch (Exception)
                {
                    // An exception here would end the process (this thread has no caller). A refill that failed only
                    // means the logging thread allocates its next chunk itself, where an exception reaches the caller.
                }
            }
        }
    }
}
