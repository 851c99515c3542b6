using Mlflow.Client.Offline;
using NUnit.Framework;
using System.Diagnostics;
using static Mlflow.Client.Tests.Tracking.TrackerTestSupport;

namespace Mlflow.Client.Tests.Tracking;

/// <summary>The tracker's sending: flushes, batch limits, order per key, the queue-full policies and what the sender does with failures.</summary>
[CancelAfter(60_000)]
public class TrackerBatchingTests
{
    [Test]
    public async Task Flush_on_FlushAsync()
    {
        var store = new FakeTrackingStore();
        await using var tracker = CreateTracker(store);
        var run = tracker.StartRun("r");
        run.LogMetric("a", 1);
        run.LogMetric("b", 2);
        Assert.That(store.Batches, Is.Empty, "nothing is sent before a trigger (interval is 1 h)");
        await run.FlushAsync();
        Assert.That(store.Batches.Single().Metrics.Select(m => m.Key), Is.EqualTo(new[] { "a", "b" }));
        run.LogMetric("c", 3);
        Assert.That(await tracker.FlushAsync(TimeSpan.FromSeconds(10)), Is.True);
        Assert.That(store.AllMetrics(run.RunId).Select(m => m.Key), Is.EqualTo(new[] { "a", "b", "c" }));
    }

    [Test]
    public void Flush_on_interval()
    {
        var store = new FakeTrackingStore();
        using var tracker = CreateTracker(store, o => o.Batching.FlushInterval = TimeSpan.FromMilliseconds(50));
        var run = tracker.StartRun("r");
        run.LogMetric("a", 1);
        Assert.That(WaitUntil(() => !store.Batches.IsEmpty), Is.True);
    }

    [Test]
    public void Flush_when_a_batch_is_full()
    {
        var store = new FakeTrackingStore();
        using var tracker = CreateTracker(store, o => o.Batching.MaxBatchEntries = 10);
        var run = tracker.StartRun("r");
        for (var i = 0; i < 9; i++)
        {
            run.LogMetric("a", i, i);
        }

        Thread.Sleep(200);
        Assert.That(store.Batches, Is.Empty, "9 of 10 do not trigger a send");
        run.LogMetric("a", 9, 9);
        Assert.That(WaitUntil(() => store.AllMetrics(run.RunId).Count() == 10), Is.True);
        Assert.That(store.Batches.Single().Metrics, Has.Count.EqualTo(10));
    }

    [Test]
    public async Task Mixed_entries_are_split_within_the_limits_and_all_arrive_once()
    {
        var store = new FakeTrackingStore();
        await using var tracker = CreateTracker(store);
        var run = tracker.StartRun("r");
        for (var i = 0; i < 2500; i++)
        {
            run.LogMetric("m", i, i);
        }

        for (var i = 0; i < 150; i++)
        {
            run.LogParam("p" + i, i);
        }

        await run.FlushAsync();
        // The exact split depends on when the sender woke (a full batch wakes it); BatchBuilderTests pins the split itself.
        foreach (var b in store.Batches)
        {
            Assert.That(b.Metrics, Has.Count.LessThanOrEqualTo(1000));
            Assert.That(b.Params, Has.Count.LessThanOrEqualTo(100));
            Assert.That(b.Metrics.Count + b.Params.Count + b.Tags.Count, Is.LessThanOrEqualTo(1000));
            Assert.That(b.Params.Select(p => p.Key), Is.Unique);
        }

        // Every entry once; batches may be in flight side by side, so their arrival order is free.
        Assert.That(store.Batches.SelectMany(b => b.Params).Select(p => p.Key), Is.EquivalentTo(Enumerable.Range(0, 150).Select(i => "p" + i)));
        Assert.That(store.AllMetrics(run.RunId).Select(m => m.Step), Is.EquivalentTo(Enumerable.Range(0, 2500).Select(i => (long)i)));
    }

    [Test]
    public async Task Many_threads_keep_the_order_of_each_key()
    {
        const int Threads = 8, PerThread = 20_000;
        var store = new FakeTrackingStore();
        await using var tracker = CreateTracker(store, o => o.Batching.FlushInterval = TimeSpan.FromMilliseconds(20));
        var run = tracker.StartRun("r");
        var keys = Enumerable.Range(0, Threads).Select(t => "k" + t).ToArray();
        var threads = keys.Select(key => new Thread(() =>
        {
            for (var i = 0; i < PerThread; i++)
            {
                run.LogMetric(key, i, i);
                if (i % 1000 == 0)
                {
                    run.SetTag("progress/" + key, i.ToString(System.Globalization.CultureInfo.InvariantCulture));
                }
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => Assert.That(t.Join(TimeSpan.FromSeconds(30)), Is.True));
        await run.FlushAsync();

        var all = store.AllMetrics(run.RunId).ToList();
        Assert.That(all, Has.Count.EqualTo(Threads * PerThread));
        foreach (var key in keys)
        {
            Assert.That(all.Where(m => m.Key == key).Select(m => m.Step), Is.EqualTo(Enumerable.Range(0, PerThread).Select(i => (long)i)), key);
        }

        Assert.That(tracker.Counters, Is.EqualTo(new MlflowTrackerCounters(Threads * PerThread + Threads * (PerThread / 1000), Threads * PerThread + Threads * (PerThread / 1000), 0, 0, 0)));
    }

    [Test]
    public async Task A_million_points_return_quickly_and_each_arrives_once_in_order()
    {
        const int N = 1_000_000;
        var store = new FakeTrackingStore();
        await using var tracker = CreateTracker(store, o => o.Batching.FlushInterval = TimeSpan.FromMilliseconds(100));
        var run = tracker.StartRun("r");
        var sw = Stopwatch.StartNew();
        for (var i = 0; i < N; i++)
        {
            run.LogMetric(i % 2 == 0 ? "even" : "odd", i, i);
        }

        sw.Stop();
        Assert.That(sw.Elapsed, Is.LessThan(TimeSpan.FromSeconds(20)), "the loop only queues");
        Assert.That(await tracker.FlushAsync(TimeSpan.FromSeconds(30)), Is.True);
        var steps = store.AllMetrics(run.RunId).GroupBy(m => m.Key).ToDictionary(g => g.Key, g => g.Select(m => m.Step).ToList());
        Assert.That(steps["even"], Is.EqualTo(Enumerable.Range(0, N / 2).Select(i => (long)(2 * i))));
        Assert.That(steps["odd"], Is.EqualTo(Enumerable.Range(0, N / 2).Select(i => (long)((2 * i) + 1))));
        Assert.That(store.Batches.All(b => b.Metrics.Count <= 1000), Is.True);
    }

    [Test]
    public void Wait_policy_blocks_the_caller_under_a_slow_store_and_loses_nothing()
    {
        var store = new FakeTrackingStore();
        MlflowTracker? trackerRef = null;
        long maxPending = 0;
        store.OnLogBatch = async (call, ct) =>
        {
            maxPending = Math.Max(maxPending, trackerRef!.Counters.Pending);
            await Task.Delay(50, ct); // 20 batches of 50, two in flight: the caller waits about 0.5 s
        };
        using var tracker = CreateTracker(store, o =>
        {
            o.Batching.MaxQueueEntries = 100;
            o.Batching.MaxBatchEntries = 50;
        });
        trackerRef = tracker;
        var run = tracker.StartRun("r");
        var sw = Stopwatch.StartNew();
        for (var i = 0; i < 1000; i++)
        {
            run.LogMetric("m", i, i);
        }

        sw.Stop();
        Assert.That(sw.Elapsed, Is.GreaterThan(TimeSpan.FromMilliseconds(200)), "the caller had to wait for the slow store");
        run.Dispose();
        Assert.That(store.AllMetrics(run.RunId).Select(m => m.Step), Is.EquivalentTo(Enumerable.Range(0, 1000).Select(i => (long)i)), "every point once (batches overlap: history order is free)");
        Assert.That(maxPending, Is.LessThanOrEqualTo(100));
    }

    [Test]
    public void Spill_policy_keeps_overflow_in_the_local_store_in_order()
    {
        var store = new FakeTrackingStore();
        var dir = Path.Combine(Path.GetTempPath(), "mlflow-spill-tests", Guid.NewGuid().ToString("N"));
        try
        {
            var offline = new MlflowOfflineOptions { Directory = dir };
            using var mirror = new OfflineMirror(dir, offline, null, false, "http://127.0.0.1:1/", Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
            using var tracker = CreateTracker(store, o =>
            {
                o.Batching.MaxQueueEntries = 10;
                o.Batching.QueueFullPolicy = QueueFullPolicy.SpillToLocalStore;
            }, mirror);
            var run = tracker.StartRun("r");
            for (var i = 0; i < 30; i++)
            {
                run.LogMetric("m", i, i);
            }

            run.Dispose();
            Assert.That(tracker.Counters.Spilled, Is.InRange(1, 20));
            Assert.That(tracker.Counters.Offline, Is.EqualTo(30), "from the first spill on, the run's queue goes to the local store");
            Assert.That(store.AllMetrics(run.RunId), Is.Empty);
            var local = mirror.Store.ReadMetricFile(Path.Combine(mirror.Store.GetRunDirectory(run.Mirror!.LocalRunId), "metrics", "m"), "m");
            Assert.That(local.Select(m => m.Step), Is.EqualTo(Enumerable.Range(0, 30).Select(i => (long)i)));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void The_sender_does_not_retry_on_top_of_the_http_pipeline()
    {
        // The HTTP pipeline below the store is the only retry layer: a transient failure that reaches the sender has
        // spent its budget. Without the offline fallback the batch is reported, once, and never sent a second time.
        var store = new FakeTrackingStore();
        var attempts = 0;
        store.OnLogBatch = (_, _) =>
        {
            Interlocked.Increment(ref attempts);
            throw new MlflowException(System.Net.HttpStatusCode.ServiceUnavailable, "TEMPORARILY_UNAVAILABLE", "busy", "POST", "/api/2.0/mlflow/runs/log-batch");
        };
        using var tracker = CreateTracker(store);
        var run = tracker.StartRun("r");
        run.LogMetric("m", 1);
        run.LogMetric("n", 2);
        var ex = Assert.Throws<MlflowRejectedEntriesException>(() => run.End());

        Assert.That(attempts, Is.EqualTo(1), "one send per batch: no second retry layer");
        Assert.That(ex!.Rejected.Select(r => r.Key), Is.EquivalentTo(new[] { "m", "n" }));
        Assert.That(ex.Rejected.Select(r => r.Message), Has.All.Contain("TEMPORARILY_UNAVAILABLE"));
        Assert.That(tracker.Counters, Is.EqualTo(new MlflowTrackerCounters(2, 0, 0, 2, 0)));
    }

    [Test]
    public void A_500_with_an_mlflow_error_body_rejects_input_and_is_bisected()
    {
        // A file-backed server answers 500 INTERNAL_ERROR "File name too long" for one bad key: a rejection of that
        // entry, not an outage. The others are delivered.
        var store = new FakeTrackingStore();
        store.OnLogBatch = (call, _) => call.Metrics.Any(m => m.Key == "bad")
            ? throw new MlflowException(System.Net.HttpStatusCode.InternalServerError, "INTERNAL_ERROR", "[Errno 36] File name too long", "POST", "/api/2.0/mlflow/runs/log-batch")
            : Task.CompletedTask;
        using var tracker = CreateTracker(store);
        var run = tracker.StartRun("r");
        for (var i = 0; i < 8; i++)
        {
            run.LogMetric(i == 5 ? "bad" : "k" + i, i);
        }

        var ex = Assert.Throws<MlflowRejectedEntriesException>(() => run.End());
        Assert.That(ex!.Rejected.Select(r => r.Key), Is.EqualTo(new[] { "bad" }));
        Assert.That(store.AllMetrics(run.RunId).Select(m => m.Key), Is.EqualTo(new[] { "k0", "k1", "k2", "k3", "k4", "k6", "k7" }));
    }
}
