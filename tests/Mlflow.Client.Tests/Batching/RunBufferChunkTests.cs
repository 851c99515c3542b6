using System.Runtime.CompilerServices;
using Mlflow.Client.Batching;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Batching;

/// <summary>
/// A run's queue of fixed-size chunks (issue 18: no allocation on the caller's thread, even in a first burst): entries
/// keep their order across chunks and takes, the reserve refilled off the logging thread lets a burst append without
/// allocating, the logging thread allocates a chunk itself only when the reserve is empty, chunks the sender gives back
/// are reused, and the reserve is bounded after a burst. Refills run when the test chooses, on the test's thread.
/// </summary>
[TestFixture]
public sealed class RunBufferChunkTests
{
    private static (RunBuffer Buffer, List<IThreadPoolWorkItem> Scheduled) NewBuffer()
    {
        var scheduled = new List<IThreadPoolWorkItem>(capacity: 64); // no growth while a burst is measured
        return (new RunBuffer("run", scheduled.Add), scheduled);
    }

    /// <summary>Runs the refills asked for so far (what the grower's thread does).</summary>
    private static void RunRefills(List<IThreadPoolWorkItem> scheduled)
    {
        var items = scheduled.ToArray();
        scheduled.Clear();
        foreach (var item in items)
        {
            item.Execute();
        }
    }

    private static void AppendMetrics(RunBuffer buffer, int from, int to)
    {
        for (var i = from; i < to; i++)
        {
            buffer.Append(LogEntry.Metric("loss", i, 1_700_000_000_000, i));
        }
    }

    private static List<LogChunk> ChunkList(LogChunk? first)
    {
        var list = new List<LogChunk>();
        for (var c = first; c is not null; c = c.Next)
        {
            list.Add(c);
        }

        return list;
    }

    private static List<LogEntry> Entries(LogChunk? first) => ChunkList(first).SelectMany(c => c.Entries.Take(c.Count)).ToList();

    private static (LogEntryKind, string, string?, long) Id(LogEntry e) => (e.Kind, e.Key, e.Text, e.Step);

    [Test]
    public void A_chunk_lives_on_the_large_object_heap_so_collections_never_copy_a_backlog()
    {
        Assert.That(Unsafe.SizeOf<LogEntry>() * LogChunk.Size, Is.GreaterThan(85_000));
        Assert.That(GC.GetGeneration(new LogChunk().Entries), Is.EqualTo(GC.MaxGeneration), "a large-object-heap array reports the oldest generation from the start");
    }

    [Test]
    public void Every_entry_is_taken_once_and_in_order_across_many_chunks_and_takes()
    {
        var (buffer, scheduled) = NewBuffer();
        var random = new Random(18);
        var appended = new List<LogEntry>();
        var taken = new List<LogEntry>();
        var batched = new List<LogEntry>();
        var takes = 0;
        for (var i = 0; i < 10_000; i++)
        {
            var entry = (i % 7) switch
            {
                0 => LogEntry.Param("p" + (i % 130), "v" + i),
                1 => LogEntry.Tag("t" + (i % 11), "v" + i),
                2 when i % 5 == 0 => LogEntry.DeleteTag("t" + (i % 11)),
                _ => LogEntry.Metric("m" + (i % 3), i, 1_700_000_000_000, i),
            };
            buffer.Append(entry);
            appended.Add(entry);
            if (random.Next(900) == 0)
            {
                RunRefills(scheduled); // the grower sometimes comes in time, sometimes not
            }

            if (random.Next(1_500) == 0 || i == 9_999)
            {
                var pending = buffer.PendingCount;
                var (first, count) = buffer.TakeAll();
                var entries = Entries(first);
                Assert.That(count, Is.EqualTo(pending).And.EqualTo(entries.Count));

                // The sender's batches over the chunks: the same cut as over one array, in the same order.
                var flat = entries.ToArray();
                var cuts = new TakenChunks(first, 1000);
                var keys = new HashSet<string>();
                var start = 0;
                while (cuts.HasMore)
                {
                    var batch = cuts.Next();
                    Assert.That(start + batch.Count, Is.EqualTo(BatchBuilder.NextBatchEnd(flat, start, 1000, keys)));
                    var (array, from, to) = batch.Materialize(out var rented);
                    batched.AddRange(array.Skip(from).Take(to - from));
                    batch.Release(rented);
                    start += batch.Count;
                }

                Assert.That(start, Is.EqualTo(count));
                taken.AddRange(entries);
                buffer.Return(first);
                takes++;
            }
        }

        Assert.That(takes, Is.GreaterThan(3), "taken at several points");
        Assert.That(buffer.PendingCount, Is.Zero);
        Assert.That(taken.Select(Id), Is.EqualTo(appended.Select(Id)), "every entry once, in order");
        Assert.That(batched.Select(Id), Is.EqualTo(appended.Select(Id)), "the batches hold every entry once, in order");
        Assert.That(buffer.TakeAll().Count, Is.Zero);
    }

    [Test]
    public void A_burst_appends_without_allocating_when_the_reserve_is_refilled_off_the_logging_thread()
    {
        var (buffer, scheduled) = NewBuffer();
        Assert.That(buffer.ReserveCount, Is.EqualTo(ChunkReserve.Target), "a new run comes with its first free chunks");
        Assert.That(scheduled, Is.Empty, "and needs no refill before its first chunk is full");

        // The measured burst, run once before on another buffer: its loop, chunk changes and refills are compiled and
        // tiered up before measuring (in a full test run, a first pass counted 7,080 B: the runtime's, not a chunk).
        var (warm, warmScheduled) = NewBuffer();
        for (var k = 0; k < 8; k++)
        {
            AppendMetrics(warm, k * LogChunk.Size, (k + 1) * LogChunk.Size);
            RunRefills(warmScheduled);
        }

        AppendMetrics(buffer, 0, 1);
        long allocated = 0;
        const int Chunks = 8;
        for (var k = 0; k < Chunks; k++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            AppendMetrics(buffer, 1 + (k * LogChunk.Size), 1 + ((k + 1) * LogChunk.Size));
            allocated += GC.GetAllocatedBytesForCurrentThread() - before;
            RunRefills(scheduled); // between chunks, as the grower's thread would (not counted: another thread's work)
        }

        Assert.That(allocated, Is.Zero, "the logging thread appended 8 chunks without allocating");
        Assert.That(buffer.CallerAllocatedChunks, Is.Zero);
        Assert.That(buffer.ReserveCount, Is.EqualTo(ChunkReserve.Target), "the reserve is refilled to its target, whatever the backlog");

        var (first, count) = buffer.TakeAll();
        Assert.That(count, Is.EqualTo(1 + (Chunks * LogChunk.Size)));
        Assert.That(Entries(first).Select(e => e.Step), Is.EqualTo(Enumerable.Range(0, count).Select(i => (long)i)));
    }

    [Test]
    public void Without_a_refill_the_logging_thread_allocates_chunks_itself_and_loses_nothing()
    {
        var (buffer, scheduled) = NewBuffer();
        const int Chunks = ChunkReserve.Target + 5;
        AppendMetrics(buffer, 0, (Chunks * LogChunk.Size) + 1);

        Assert.That(buffer.CallerAllocatedChunks, Is.EqualTo(5), "one chunk per full chunk once the run's first free chunks are used up");
        Assert.That(scheduled, Has.Count.EqualTo(1), "the refill asked for is not asked again while it is queued");
        var (first, count) = buffer.TakeAll();
        Assert.That(ChunkList(first), Has.Count.EqualTo(Chunks + 1));
        Assert.That(Entries(first).Select(e => e.Step), Is.EqualTo(Enumerable.Range(0, count).Select(i => (long)i)));

        RunRefills(scheduled); // late: fills the reserve to its target, and no more
        Assert.That(buffer.ReserveCount, Is.EqualTo(ChunkReserve.Target));
        buffer.Return(first);
    }

    [Test]
    public void The_sender_tops_the_reserve_up_while_the_growers_queued_refill_has_not_run()
    {
        var (buffer, scheduled) = NewBuffer();
        AppendMetrics(buffer, 0, LogChunk.Size + 1); // the first chunk change queues the grower's refill
        Assert.That(scheduled, Has.Count.EqualTo(1));
        var (first, _) = buffer.TakeAll(); // the sender's take tops the reserve up itself, the refill still queued
        var target = buffer.ReserveCount;
        Assert.That(target, Is.EqualTo(ChunkReserve.Target));

        AppendMetrics(buffer, LogChunk.Size + 1, (3 * LogChunk.Size) + 1);
        Assert.That(buffer.ReserveCount, Is.LessThan(target), "premise: the logging thread used free chunks");
        buffer.TopUpReserve(); // between two batches of the sender's take
        Assert.That(buffer.ReserveCount, Is.EqualTo(ChunkReserve.Target), "topped up to the target");
        Assert.That(scheduled, Has.Count.EqualTo(1), "the grower's refill stays queued, and is not queued twice");
        Assert.That(buffer.CallerAllocatedChunks, Is.Zero);

        RunRefills(scheduled); // the grower comes late: nothing left to do, and the next chunk change may ask again
        AppendMetrics(buffer, (3 * LogChunk.Size) + 1, (40 * LogChunk.Size) + 1);
        Assert.That(scheduled, Is.Not.Empty, "a later chunk change asks the grower again");
        buffer.Return(first);
    }

    [Test]
    public void Chunks_given_back_by_the_sender_are_reused_by_the_next_burst_of_the_same_size()
    {
        var (buffer, scheduled) = NewBuffer();
        const int Chunks = ChunkReserve.Target + 4;
        AppendMetrics(buffer, 0, (Chunks * LogChunk.Size) + 1); // no refill runs: the caller allocates past the first free chunks
        Assert.That(buffer.CallerAllocatedChunks, Is.EqualTo(4));
        var (first, _) = buffer.TakeAll();
        var firstBurst = ChunkList(first);
        var free = buffer.ReserveCount; // what the sender's take topped the reserve up with
        buffer.Return(first);
        Assert.That(buffer.ReserveCount, Is.EqualTo(free + Chunks + 1), "every chunk given back is kept for the next burst");
        Assert.That(firstBurst.All(c => c.Count == 0 && c.Entries.All(e => e.Key is null)), Is.True, "chunks given back hold no key references");

        AppendMetrics(buffer, 0, (Chunks * LogChunk.Size) + 1);
        Assert.That(buffer.CallerAllocatedChunks, Is.EqualTo(4), "the second burst needed no new chunk");
        var (again, count) = buffer.TakeAll();
        var secondBurst = ChunkList(again);
        Assert.That(count, Is.EqualTo((Chunks * LogChunk.Size) + 1));
        Assert.That(secondBurst.Skip(1), Is.SubsetOf(firstBurst), "the chunks filled after the first are the ones given back");
        buffer.Return(again);
    }

    [Test]
    public void Chunks_of_a_large_burst_are_kept_for_the_runs_life_so_a_later_burst_allocates_nothing_anywhere()
    {
        var (buffer, scheduled) = NewBuffer();
        const int Chunks = 64;
        for (var k = 0; k < Chunks; k++)
        {
            AppendMetrics(buffer, k * LogChunk.Size, (k + 1) * LogChunk.Size);
            RunRefills(scheduled);
        }

        Assert.That(buffer.CallerAllocatedChunks, Is.Zero);
        var (first, _) = buffer.TakeAll();
        buffer.Return(first);
        var afterBurst = buffer.ReserveCount;
        Assert.That(afterBurst, Is.GreaterThanOrEqualTo(Chunks), "the burst's chunks came back to the reserve");

        AppendMetrics(buffer, 0, 10); // a quiet turn keeps them: a steady state with bursts reuses them
        var (small, _) = buffer.TakeAll();
        buffer.Return(small);
        Assert.That(buffer.ReserveCount, Is.GreaterThanOrEqualTo(afterBurst - 1));

        scheduled.Clear();
        AppendMetrics(buffer, 0, Chunks * LogChunk.Size); // the same burst again, with no refill at all
        Assert.That(buffer.CallerAllocatedChunks, Is.Zero, "the second burst took only kept chunks");
        RunRefills(scheduled);
        var (again, count) = buffer.TakeAll();
        Assert.That(count, Is.EqualTo(Chunks * LogChunk.Size));
        buffer.Return(again);

        Assert.That(ChunkReserve.MaxChunks * LogChunk.Size, Is.InRange((1 << 20) - LogChunk.Size + 1, 1 << 20), "about 2^20 entries kept at most");
    }

    [Test]
    public void Refills_that_run_at_once_fill_the_reserve_to_its_target_and_no_further()
    {
        var (buffer, _) = NewBuffer();
        const int Threads = 4;
        using var start = new Barrier(Threads + 1);
        using var done = new Barrier(Threads + 1);
        var overshoots = new List<int>();
        var workers = Enumerable.Range(0, Threads).Select(_ => new Thread(() =>
        {
            for (var round = 0; round < 300 && start.SignalAndWait(TimeSpan.FromSeconds(30)); round++)
            {
                buffer.TopUpReserve(); // what the grower and the sender do between batches, here all at once
                if (!done.SignalAndWait(TimeSpan.FromSeconds(30)))
                {
                    return; // the test thread stopped (a failed assertion): no more rounds
                }
            }
        }) { IsBackground = true }).ToList();
        workers.ForEach(w => w.Start());

        for (var round = 0; round < 300; round++)
        {
            AppendMetrics(buffer, 0, 2 * LogChunk.Size); // uses a free chunk or two
            _ = buffer.TakeAll(); // the chunks are dropped, not returned: the reserve stays below its target
            AppendMetrics(buffer, 0, 2 * LogChunk.Size);
            Assert.That(buffer.ReserveCount, Is.LessThan(ChunkReserve.Target), "premise: the reserve is below its target");
            Assert.That(start.SignalAndWait(TimeSpan.FromSeconds(30)), Is.True);
            Assert.That(done.SignalAndWait(TimeSpan.FromSeconds(30)), Is.True);
            if (buffer.ReserveCount != ChunkReserve.Target)
            {
                overshoots.Add(buffer.ReserveCount);
            }

            _ = buffer.TakeAll();
        }

        workers.ForEach(w => w.Join(TimeSpan.FromSeconds(30)));
        Assert.That(overshoots, Is.Empty, "reserve sizes other than the target after concurrent refills");
    }

    [Test]
    public void A_closed_run_gives_its_chunks_to_the_gc_and_takes_no_entry()
    {
        var (buffer, scheduled) = NewBuffer();
        RunRefills(scheduled);
        AppendMetrics(buffer, 0, LogChunk.Size + 10);
        Assert.That(buffer.Close(), Is.EqualTo(LogChunk.Size + 10));
        Assert.That(buffer.ReserveCount, Is.Zero);
        Assert.Throws<InvalidOperationException>(() => buffer.Append(LogEntry.Metric("m", 1, 1, 1)));

        var (first, count) = buffer.TakeAll();
        Assert.That(count, Is.EqualTo(LogChunk.Size + 10), "what was queued before the end is still sent");
        buffer.Return(first);
        Assert.That(buffer.ReserveCount, Is.Zero);
        Assert.That(buffer.TakeAll().Count, Is.Zero);
        RunRefills(scheduled);
        Assert.That(buffer.ReserveCount, Is.Zero, "no refill for a closed run");
    }
}
