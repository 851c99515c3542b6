using Mlflow.Client.Batching;
using Mlflow.Client.Tests.Tracking;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Batching;

/// <summary>
/// When the sender takes a run again right after a drain: when a batch's worth waits, or entries someone waits for (a
/// flush, the run's end). A handful nobody waits for waits for the next batch or interval, so the sender does not contend
/// with the logging thread for the run's lock and chunks at every few entries (issue 18: LogMetric under 100 ns).
/// </summary>
[TestFixture]
[CancelAfter(60_000)]
internal sealed class SenderTurnTests
{
    [Test]
    public void A_run_wants_a_turn_now_for_a_batch_a_waiting_flush_or_its_end()
    {
        var buffer = new RunBuffer("run", _ => { });
        Assert.That(buffer.WantsTurnNow(4), Is.False, "nothing waits");
        Assert.That(buffer.WantsTurnNow(4, stopping: true), Is.False, "nothing waits, even while the tracker shuts down");

        Append(buffer, 0, 3);
        Assert.That(buffer.WantsTurnNow(4), Is.False, "3 of a batch of 4, nobody waits for them");
        Assert.That(buffer.WantsTurnNow(4, stopping: true), Is.True, "the tracker shuts down: everything goes now");

        Append(buffer, 3, 4);
        Assert.That(buffer.WantsTurnNow(4), Is.True, "a batch's worth");

        buffer.TakeAll();
        Append(buffer, 4, 5);
        Assert.That(buffer.WantsTurnNow(4), Is.False, "the batch was taken; one entry is left alone");

        var flush = buffer.WaitForAsync(buffer.Appended);
        Assert.That(buffer.WantsTurnNow(4), Is.True, "a flush waits for the entry");

        buffer.TakeAll();
        Assert.That(buffer.WantsTurnNow(4), Is.False, "the flush's entries were taken");
        buffer.Complete(5);
        Assert.That(flush.IsCompleted, Is.True);

        Append(buffer, 5, 6);
        buffer.Close();
        Assert.That(buffer.WantsTurnNow(4), Is.True, "the run ended: its rest goes now");
    }

    [Test]
    public async Task A_flush_asked_for_while_a_drain_runs_is_served_without_the_interval()
    {
        // The tracker's interval is an hour: only the follow-up after the running drain can serve the second flush.
        var gate = new FirstBatchGate();
        var store = gate.Store;
        await using var tracker = TrackerTestSupport.CreateTracker(store);
        var run = await tracker.StartRunAsync("r");
        run.LogMetric("m", 0, 0);
        var first = run.FlushAsync();
        Assert.That(TrackerTestSupport.WaitUntil(() => gate.BatchCalls == 1), "the first drain is under way");

        run.LogMetric("m", 1, 1);
        run.LogMetric("m", 2, 2);
        var second = run.FlushAsync(); // asked while the drain runs: the loop skips the run
        gate.Release.SetResult();

        await first;
        await second.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.That(store.AllMetrics(run.RunId).Select(m => m.Step), Is.EqualTo(new long[] { 0, 1, 2 }));
    }

    [Test]
    public async Task A_handful_logged_while_a_drain_runs_waits_for_the_next_batch()
    {
        var gate = new FirstBatchGate();
        var store = gate.Store;
        await using var tracker = TrackerTestSupport.CreateTracker(store, o => o.Batching.MaxBatchEntries = 10);
        var run = await tracker.StartRunAsync("r");
        run.LogMetric("m", 0, 0);
        var first = run.FlushAsync();
        Assert.That(TrackerTestSupport.WaitUntil(() => gate.BatchCalls == 1), "the first drain is under way");

        for (var i = 1; i <= 3; i++)
        {
            run.LogMetric("m", i, i);
        }

        gate.Release.SetResult();
        await first;
        // Before, the sender took the three at once after its drain. Bounded look for a send that should not come.
        Assert.That(TrackerTestSupport.WaitUntil(() => gate.BatchCalls > 1, seconds: 0.5), Is.False, "three of a batch of ten, nobody waiting: not taken yet");

        for (var i = 4; i < 13; i++)
        {
            run.LogMetric("m", i, i); // the tenth pending entry signals the sender
        }

        Assert.That(TrackerTestSupport.WaitUntil(() => store.AllMetrics(run.RunId).Count() >= 10), "a batch's worth is taken without a flush");
        await run.FlushAsync();
        Assert.That(store.AllMetrics(run.RunId).Select(m => m.Step), Is.EquivalentTo(Enumerable.Range(0, 13).Select(i => (long)i)));
    }

    /// <summary>A store whose first log-batch call waits until released; counts the calls that reached it.</summary>
    private sealed class FirstBatchGate
    {
        private int _calls;

        public FirstBatchGate()
        {
            Store.OnLogBatch = async (_, ct) =>
            {
                if (Interlocked.Increment(ref _calls) == 1)
                {
                    await Release.Task.WaitAsync(TimeSpan.FromSeconds(30), ct);
                }
            };
        }

        public FakeTrackingStore Store { get; } = new();

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int BatchCalls => Volatile.Read(ref _calls);
    }

    private static void Append(RunBuffer buffer, int from, int to)
    {
        for (var i = from; i < to; i++)
        {
            buffer.Append(LogEntry.Metric("loss", i, 1_700_000_000_000, i));
        }
    }
}
