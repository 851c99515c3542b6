using System.Collections.Concurrent;
using Mlflow.Client.Tests.Tracking;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Batching;

/// <summary>
/// The sender keeps up to <see cref="MlflowBatchingOptions.MaxConcurrentRequests"/> log-batch requests in flight, within
/// one run and across runs; metric batches overlap, tag writes keep their order.
/// </summary>
[TestFixture]
[CancelAfter(60_000)]
internal sealed class ConcurrentSendingTests
{
    /// <summary>A store whose log-batch calls wait (bounded) for a second call to arrive, recording how many overlapped.</summary>
    private sealed class OverlapProbe
    {
        private readonly TimeSpan _waitForCompany;
        private int _current;
        private TaskCompletionSource _company = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public OverlapProbe(TimeSpan waitForCompany) => _waitForCompany = waitForCompany;

        public int MaxInFlight;

        public async Task OnBatch(FakeTrackingStore.BatchCall call, CancellationToken ct)
        {
            var now = Interlocked.Increment(ref _current);
            InterlockedMax(ref MaxInFlight, now);
            if (now >= 2)
            {
                _company.TrySetResult();
            }

            await Task.WhenAny(_company.Task, Task.Delay(_waitForCompany, ct));
            if (Interlocked.Decrement(ref _current) == 0)
            {
                Interlocked.Exchange(ref _company, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
            }
        }

        private static void InterlockedMax(ref int target, int value)
        {
            var seen = Volatile.Read(ref target);
            while (value > seen)
            {
                var prior = Interlocked.CompareExchange(ref target, value, seen);
                if (prior == seen)
                {
                    return;
                }

                seen = prior;
            }
        }
    }

    [TestCase(1, 1)]
    [TestCase(2, 2)]
    public async Task One_run_keeps_up_to_the_configured_requests_in_flight(int limit, int expected)
    {
        var store = new FakeTrackingStore();
        var probe = new OverlapProbe(TimeSpan.FromMilliseconds(limit == 1 ? 200 : 5_000));
        store.OnLogBatch = probe.OnBatch;
        await using var tracker = TrackerTestSupport.CreateTracker(store, o => o.Batching.MaxConcurrentRequests = limit);
        var run = await tracker.StartRunAsync("r");
        for (var i = 0; i < 4_000; i++)
        {
            run.LogMetric("m", i, i);
        }

        await run.FlushAsync();
        await run.DisposeAsync();

        Assert.That(probe.MaxInFlight, Is.EqualTo(expected));
        Assert.That(store.AllMetrics(run.RunId).Select(m => m.Step), Is.EquivalentTo(Enumerable.Range(0, 4_000).Select(i => (long)i)), "every point once");
        Assert.That(tracker.Counters.Sent, Is.EqualTo(4_000));
    }

    [Test]
    public async Task Two_runs_send_side_by_side()
    {
        var store = new FakeTrackingStore();
        var probe = new OverlapProbe(TimeSpan.FromSeconds(5));
        store.OnLogBatch = probe.OnBatch;
        await using var tracker = TrackerTestSupport.CreateTracker(store);
        var a = await tracker.StartRunAsync("a");
        var b = await tracker.StartRunAsync("b");
        a.LogMetric("m", 1, 0);
        b.LogMetric("m", 2, 0);

        await Task.WhenAll(a.FlushAsync(), b.FlushAsync());
        await a.DisposeAsync();
        await b.DisposeAsync();

        Assert.That(probe.MaxInFlight, Is.EqualTo(2), "one request of each run in flight at once");
        Assert.That(store.AllMetrics(a.RunId).Single().Value, Is.EqualTo(1));
        Assert.That(store.AllMetrics(b.RunId).Single().Value, Is.EqualTo(2));
    }

    [Test]
    public async Task Tag_writes_keep_their_order_while_metric_batches_overlap()
    {
        // Early metric batches are slow, later ones fast: without the tag barrier a later tag batch would overtake.
        var store = new FakeTrackingStore();
        var tagOrder = new ConcurrentQueue<string>();
        store.OnLogBatch = async (call, ct) =>
        {
            if (call.Metrics.Count > 0 && call.Metrics[0].Step < 2_000)
            {
                await Task.Delay(100, ct);
            }

            foreach (var tag in call.Tags.Where(t => t.Key == "phase"))
            {
                tagOrder.Enqueue(tag.Value);
            }
        };
        await using var tracker = TrackerTestSupport.CreateTracker(store);
        var run = await tracker.StartRunAsync("r");
        for (var i = 0; i < 6_000; i++)
        {
            if (i % 1_500 == 0)
            {
                run.SetTag("phase", (i / 1_500).ToString(System.Globalization.CultureInfo.InvariantCulture));
            }

            run.LogMetric("m", i, i);
        }

        run.DeleteTag("phase");
        run.SetTag("phase", "last");
        await run.FlushAsync();
        await run.DisposeAsync();

        Assert.That(tagOrder, Is.EqualTo(new[] { "0", "1", "2", "3", "last" }));
        var calls = store.Calls.Where(c => c.StartsWith("delete-tag", StringComparison.Ordinal) || c.StartsWith("batch", StringComparison.Ordinal)).ToList();
        Assert.That(calls.IndexOf(calls.First(c => c.StartsWith("delete-tag", StringComparison.Ordinal))), Is.EqualTo(calls.Count - 2), "the deletion went after every earlier batch and before the last tag");
        Assert.That(store.AllMetrics(run.RunId).Select(m => m.Step), Is.EquivalentTo(Enumerable.Range(0, 6_000).Select(i => (long)i)));
    }
}
