using Mlflow.Client.Tracing;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Tracing.Capture;

/// <summary>The background queue never blocks its caller: bounded, flushed on demand, abandoning what is left at shutdown.</summary>
[TestFixture]
public class TraceExportQueueTests
{
    [Test]
    public async Task AFullQueue_RefusesInsteadOfBlocking_AndAFlushWaitsForWhatWasQueued()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var firstStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var written = new List<int>();
        using var queue = new TraceExportQueue<int>(1, async (item, ct) =>
        {
            firstStarted.TrySetResult();
            await release.Task.WaitAsync(ct);
            lock (written)
            {
                written.Add(item);
            }
        }, TimeProvider.System);

        Assert.That(queue.TryEnqueue(1), Is.True);
        await firstStarted.Task.WaitAsync(TimeSpan.FromSeconds(10)); // the writer holds item 1
        Assert.That(queue.TryEnqueue(2), Is.True, "one item may wait");
        Assert.That(queue.TryEnqueue(3), Is.False, "a second waiting item is refused, not waited for");
        Assert.That(await queue.FlushAsync(TimeSpan.FromMilliseconds(100)), Is.False, "the writer is stuck");

        release.SetResult();

        Assert.That(await queue.FlushAsync(TimeSpan.FromSeconds(10)), Is.True);
        Assert.That(written, Is.EqualTo(new[] { 1, 2 }));
        Assert.That(queue.Pending, Is.Zero);
    }

    [Test]
    public async Task AFailingWrite_DoesNotStopTheQueue()
    {
        var written = new List<int>();
        using var queue = new TraceExportQueue<int>(10, (item, _) =>
        {
            if (item == 1)
            {
                throw new InvalidOperationException("server down");
            }

            written.Add(item);
            return Task.CompletedTask;
        }, TimeProvider.System);

        queue.TryEnqueue(1);
        queue.TryEnqueue(2);

        Assert.That(await queue.FlushAsync(TimeSpan.FromSeconds(10)), Is.True);
        Assert.That(written, Is.EqualTo(new[] { 2 }));
    }

    [Test]
    public async Task Shutdown_WritesWhatIsQueued_ThenRefusesMore_AndAbandonsAStuckWrite()
    {
        var written = 0;
        using var queue = new TraceExportQueue<int>(10, async (item, ct) =>
        {
            if (item == 3)
            {
                await Task.Delay(Timeout.Infinite, ct);
            }

            Interlocked.Increment(ref written);
        }, TimeProvider.System);
        queue.TryEnqueue(1);
        queue.TryEnqueue(2);
        queue.TryEnqueue(3);

        var left = await queue.ShutdownAsync(TimeSpan.FromMilliseconds(300));

        Assert.That(written, Is.EqualTo(2));
        Assert.That(left, Is.EqualTo(0), "the stuck write was cancelled and counts as done");
        Assert.That(queue.TryEnqueue(4), Is.False);
    }

    [Test]
    public async Task AnInfiniteFlush_WaitsForASlowWriter_InsteadOfGivingUpAtOnce()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var written = 0;
        using var queue = new TraceExportQueue<int>(10, async (_, ct) =>
        {
            await release.Task.WaitAsync(ct);
            Interlocked.Increment(ref written);
        }, TimeProvider.System);
        queue.TryEnqueue(1);

        var flush = queue.FlushAsync(Timeout.InfiniteTimeSpan);
        await Task.Delay(200);
        Assert.That(flush.IsCompleted, Is.False, "infinite (-1 ms) is not an elapsed timeout");

        release.SetResult();

        Assert.That(await flush.WaitAsync(TimeSpan.FromSeconds(10)), Is.True);
        Assert.That(written, Is.EqualTo(1));
    }

    [Test]
    public async Task AnInfiniteFlush_StopsWhenCancelled()
    {
        using var queue = new TraceExportQueue<int>(10, (_, ct) => Task.Delay(Timeout.Infinite, ct), TimeProvider.System);
        queue.TryEnqueue(1);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        Assert.That(async () => await queue.FlushAsync(Timeout.InfiniteTimeSpan, cancel.Token).WaitAsync(TimeSpan.FromSeconds(10)),
            Throws.InstanceOf<OperationCanceledException>());
    }

    [Test]
    public async Task AnItemIsCountedBeforeTheWriterCanTakeIt_SoAFlushWaitsForIt_AndPendingNeverGoesNegative()
    {
        // The writer runs on another thread: were an item counted after it entered the channel, the writer could
        // finish it first (Pending -1), and a flush right after the enqueue could return before it was written.
        var violations = 0;
        long written = 0;
        TraceExportQueue<int>? queue = null;
        using var q = queue = new TraceExportQueue<int>(1000, (_, _) =>
        {
            if (queue!.Pending < 1)
            {
                Interlocked.Increment(ref violations); // the item being written is not counted
            }

            Interlocked.Increment(ref written);
            return Task.CompletedTask;
        }, TimeProvider.System);

        var deadline = DateTime.UtcNow.AddSeconds(5);
        for (var i = 0; i < 2000 && DateTime.UtcNow < deadline; i++)
        {
            Assert.That(q.TryEnqueue(i), Is.True);
            Assert.That(await q.FlushAsync(TimeSpan.FromSeconds(10)), Is.True);
            if (Interlocked.Read(ref written) != i + 1)
            {
                Interlocked.Increment(ref violations); // the flush returned before the item queued ahead of it was written
            }

            if (q.Pending < 0)
            {
                Interlocked.Increment(ref violations);
            }
        }

        Assert.That(violations, Is.Zero);
    }

    [Test]
    public async Task AFlush_IsNotHeldByAnItemThatWasRefused()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var queue = new TraceExportQueue<int>(1, async (_, ct) =>
        {
            started.TrySetResult();
            await release.Task.WaitAsync(ct);
        }, TimeProvider.System);
        queue.TryEnqueue(1);
        await started.Task.WaitAsync(TimeSpan.FromSeconds(10));
        queue.TryEnqueue(2);
        Assert.That(queue.TryEnqueue(3), Is.False);
        Assert.That(queue.Pending, Is.EqualTo(2), "a refused item is not counted");

        release.SetResult();

        Assert.That(await queue.FlushAsync(Timeout.InfiniteTimeSpan).WaitAsync(TimeSpan.FromSeconds(10)), Is.True);
        Assert.That(queue.Pending, Is.Zero);
    }
}
