using Mlflow.Client.Batching;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Batching;

/// <summary>
/// A burst larger than the run's array: the bigger array is allocated off the logging thread (issue 18: no allocation
/// on the caller's thread), and the logging thread grows it itself only when that came too late, without losing or
/// reordering an entry. The grow-ahead is run by the test when it chooses, not by the grower's thread.
/// </summary>
[TestFixture]
public sealed class RunBufferGrowthTests
{
    private static readonly LogEntry Entry = LogEntry.Metric("loss", 0.5, 1_700_000_000_000, 0);

    private static (RunBuffer Buffer, List<IThreadPoolWorkItem> Scheduled) NewBuffer()
    {
        var scheduled = new List<IThreadPoolWorkItem>();
        var buffer = new RunBuffer("run") { ScheduleGrowth = scheduled.Add };
        return (buffer, scheduled);
    }

    private static void Append(RunBuffer buffer, int from, int to)
    {
        for (var i = from; i < to; i++)
        {
            buffer.Append(LogEntry.Metric("loss", i, 1_700_000_000_000, i));
        }
    }

    [Test]
    public void Half_full_schedules_one_grow_ahead_and_the_caller_then_appends_without_allocating()
    {
        var (buffer, scheduled) = NewBuffer();
        var start = buffer.Capacity;
        Append(buffer, 0, (start / 2) - 1);
        Assert.That(scheduled, Is.Empty, "below half nothing is scheduled");
        Append(buffer, (start / 2) - 1, start - 1);
        Assert.That(scheduled, Has.Count.EqualTo(1), "one grow-ahead, however many appends follow");

        scheduled[0].Execute();
        Assert.That(buffer.Capacity, Is.EqualTo(start * 2));

        buffer.Append(Entry); // warm the path once
        var before = GC.GetAllocatedBytesForCurrentThread();
        Append(buffer, start, start + (start / 2));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.That(allocated, Is.Zero, "the logging thread appended past the old size without allocating");

        var (entries, count) = buffer.TakeAll();
        Assert.That(count, Is.EqualTo(start + (start / 2)));
        Assert.That(entries.Take(start - 1).Select(e => e.Step), Is.EqualTo(Enumerable.Range(0, start - 1).Select(i => (long)i)), "order kept across the move");
    }

    [Test]
    public void A_grow_ahead_that_comes_too_late_is_dropped_after_the_caller_grew_the_array_itself()
    {
        var (buffer, scheduled) = NewBuffer();
        var start = buffer.Capacity;
        Append(buffer, 0, start + 1); // past full before the grow-ahead ran: the caller grows
        Assert.That(buffer.Capacity, Is.EqualTo(start * 2));
        Assert.That(scheduled, Has.Count.EqualTo(1));

        var before = GC.GetAllocatedBytesForCurrentThread();
        scheduled[0].Execute(); // late: the array is no longer the size it was asked for
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero, "no array allocated for nothing");
        Assert.That(buffer.Capacity, Is.EqualTo(start * 2));

        Append(buffer, start + 1, start + 2); // the grown array is already past its half: the next append asks again
        Assert.That(scheduled, Has.Count.EqualTo(2), "the next threshold schedules again");
        var (entries, count) = buffer.TakeAll();
        Assert.That(entries.Take(count).Select(e => e.Step), Is.EqualTo(Enumerable.Range(0, count).Select(i => (long)i)));
    }

    [Test]
    public void A_grow_ahead_after_the_sender_took_the_array_leaves_the_new_one_alone()
    {
        var (buffer, scheduled) = NewBuffer();
        var start = buffer.Capacity;
        Append(buffer, 0, start / 2);
        var (taken, count) = buffer.TakeAll();
        Assert.That(count, Is.EqualTo(start / 2));
        buffer.Return(taken, count);

        scheduled.Single().Execute();
        Assert.That(buffer.Capacity, Is.EqualTo(start), "the emptied array needs no growth");
        Assert.That(buffer.PendingCount, Is.Zero);
    }
}
