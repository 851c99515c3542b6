using System.Diagnostics;
using Mlflow.Client.Sync;
using Mlflow.Client.Tests.Offline;
using Mlflow.Client.Tests.Sync;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Tracking;

/// <summary>
/// Issue 18: a log call that returned is delivered or kept on disk, also when the server is healthy but slower than the
/// caller. Ending a run waits while the server takes entries (<see cref="MlflowBatchingOptions.ShutdownTimeout"/> bounds a
/// stall, not a backlog); what a stalled server leaves goes to the outbox on disk, in order, and reaches the server once,
/// from the tracker while it lives or from mlflow-sync. The server's own count is asserted, not the client's.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.Children)]
[CancelAfter(180_000)]
internal sealed class SlowServerEndTests
{
    private static MlflowTrackerOptions Options(FakeMlflowServer server, string dir, TimeSpan shutdownTimeout)
        => OfflineFallbackTests.Options(server.Url, dir, o =>
        {
            o.Batching.ShutdownTimeout = shutdownTimeout;
            o.Batching.FlushInterval = TimeSpan.FromHours(1); // only full batches and the end send
        });

    /// <summary>The steps of metric <paramref name="key"/> the fake server holds for a run, in arrival order.</summary>
    internal static List<long> ServerSteps(FakeMlflowServer server, string runId, string key)
    {
        lock (server.Runs)
        {
            return server.Runs.TryGetValue(runId, out var run) && run.Metrics.TryGetValue(key, out var points) ? [.. points.Select(p => p.Step)] : [];
        }
    }

    private static void LogBurst(ActiveRun run, int points)
    {
        for (var i = 0; i < points; i++)
        {
            run.LogMetric("m", i * 0.5, i);
        }
    }

    [Test]
    [NonParallelizable] // the hang tests below hold the fake server's threads: a stall, not a slow server (3 s of
                        // no progress, the stall bound here, is also what a loaded 2-core machine must never reach)
    public async Task A_backlog_longer_than_the_shutdown_timeout_on_a_healthy_slow_server_is_delivered_when_the_run_ends()
    {
        using var dir = new OfflineFallbackTests.Dir();
        using var server = new FakeMlflowServer { LogBatchServiceTime = TimeSpan.FromMilliseconds(50) };
        const int points = 240_000; // 240 batches, two in flight: at least 6 s of server time, twice the shutdown timeout
        string runId;
        ActiveRun run;
        var ending = Stopwatch.StartNew();
        await using (var tracker = MlflowTracker.Create(Options(server, dir.Path, TimeSpan.FromSeconds(3))))
        {
            using (run = tracker.StartRun("slow-server"))
            {
                runId = run.RunId;
                LogBurst(run, points);
                ending.Restart();
            }

            var ended = ending.Elapsed;
            TestContext.Progress.WriteLine($"run end took {ended.TotalMilliseconds:0} ms; {tracker.Counters}; {run.DataLocation}; {server.Count("runs/log-batch")} log-batch requests");
            Assert.That(ServerSteps(server, runId, "m").Order(), Is.EqualTo(Enumerable.Range(0, points).Select(i => (long)i)).AsCollection, "every point on the server, once, when the run's end returned");
            Assert.That(server.Runs[runId].Status, Is.EqualTo("FINISHED"));
            Assert.That(server.Runs[runId].Tags.Keys, Has.No.Member("mlflow.dotnet.sourceRunId"), "a run never pushed from a local store has no source tag");
            Assert.That(run.DataLocation, Is.EqualTo(RunDataLocation.Server));
            var counters = tracker.Counters;
            Assert.That((counters.Sent, counters.Failed, counters.Offline, counters.Pending), Is.EqualTo((points, 0L, 0L, 0L)));
            Assert.That(ended, Is.GreaterThan(TimeSpan.FromSeconds(3)), "premise: the backlog outlasts the shutdown timeout");
        }

        Assert.That(Directory.Exists(dir.Path) ? Directory.EnumerateFiles(dir.Path, "m", SearchOption.AllDirectories) : [], Is.Empty, "nothing was kept on disk");
    }

    [Test]
    public async Task A_server_that_stops_taking_entries_while_a_run_ends_gets_them_from_the_outbox_once_it_answers_again()
    {
        using var dir = new OfflineFallbackTests.Dir();
        using var server = new FakeMlflowServer();
        const int points = 5_000;
        await using var tracker = MlflowTracker.Create(Options(server, dir.Path, TimeSpan.FromMilliseconds(500)));
        var run = tracker.StartRun("stalled-server");
        server.Hang("runs/log-batch"); // accepted, never answered (until Release), never applied
        LogBurst(run, points);
        var ending = Stopwatch.StartNew();
        run.Dispose();
        TestContext.Progress.WriteLine($"run end took {ending.Elapsed.TotalMilliseconds:0} ms");

        Assert.That(ending.Elapsed, Is.LessThan(TimeSpan.FromSeconds(20)), "a stall is bounded: the backlog went to disk");
        Assert.That(run.DataLocation, Is.EqualTo(RunDataLocation.OfflineAwaitingSync));
        Assert.That(DrainWhileLoggingTests.LocalSteps(dir.Path, ClientKey(server, run), "m"), Has.Count.EqualTo(points), "every point is in the outbox on disk");
        var counters = tracker.Counters;
        Assert.That((counters.Failed, counters.Offline, counters.Pending), Is.EqualTo((0L, (long)points, 0L)), "kept, not failed");
        Assert.That(server.HungRequests, Is.GreaterThan(0), "premise: sends were in flight when the server stalled");

        server.Release();
        var deadline = Stopwatch.StartNew();
        while (run.DataLocation != RunDataLocation.Server && deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            await Task.Delay(50);
        }

        Assert.That(run.DataLocation, Is.EqualTo(RunDataLocation.Server), "the tracker drained the outbox while it lived");
        Assert.That(ServerSteps(server, run.RunId, "m").Order(), Is.EqualTo(Enumerable.Range(0, points).Select(i => (long)i)).AsCollection, "every point once");
        Assert.That(server.Runs[run.RunId].Status, Is.EqualTo("FINISHED"));
        Assert.That(tracker.Counters.Failed, Is.Zero);
    }

    [Test]
    public async Task A_drain_against_the_stalled_server_does_not_hold_up_the_sends_the_run_end_cut_off()
    {
        // The sends in flight when the run's end gave up on the server come back late (a slow network stack): the rest of
        // the queue is already in the outbox, so the run is offline and a drain is due after the reconnect interval. That
        // drain must not start before the cut-off sends are kept: it would hold the run's sync journal while it waits on
        // the stalled server (up to OfflineAfter), and the cut-off sends need the journal for their in-flight marks.
        using var dir = new OfflineFallbackTests.Dir();
        using var server = new FakeMlflowServer();
        const int points = 5_000;
        var options = Options(server, dir.Path, TimeSpan.FromMilliseconds(500));
        options.Offline.OfflineAfter = TimeSpan.FromSeconds(90);
        options.Client.RequestTimeout = TimeSpan.FromSeconds(90);
        options.WrapHandler = inner => new SlowCancellation(new LostAnswerHandler(inner), TimeSpan.FromSeconds(2));
        await using var tracker = MlflowTracker.Create(options);
        var run = tracker.StartRun("stalled-server-slow-cancel");
        server.Hang("runs/log-batch");
        LogBurst(run, points);
        var ending = Stopwatch.StartNew();
        run.Dispose();
        TestContext.Progress.WriteLine($"run end took {ending.Elapsed.TotalMilliseconds:0} ms");

        Assert.That(server.HungRequests, Is.GreaterThan(0), "premise: sends were in flight when the server stalled");
        Assert.That(ending.Elapsed, Is.LessThan(TimeSpan.FromSeconds(20)), "the cut-off sends were kept without waiting for a drain");
        Assert.That(DrainWhileLoggingTests.LocalSteps(dir.Path, ClientKey(server, run), "m"), Has.Count.EqualTo(points), "every point is in the outbox on disk");
        Assert.That((tracker.Counters.Failed, tracker.Counters.Offline, tracker.Counters.Pending), Is.EqualTo((0L, (long)points, 0L)));
    }

    /// <summary>
    /// Answers the first cancelled request at once and every later one only <paramref name="delay"/> after its
    /// cancellation, as a slow network stack does: the cut-off sends come back apart.
    /// </summary>
    private sealed class SlowCancellation(HttpMessageHandler inner, TimeSpan delay) : DelegatingHandler(inner)
    {
        private int _cancelled;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            try
            {
                return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                if (Interlocked.Increment(ref _cancelled) > 1)
                {
                    await Task.Delay(delay, CancellationToken.None).ConfigureAwait(false);
                }

                throw;
            }
        }
    }

    [Test]
    public async Task A_backlog_left_in_the_outbox_when_the_tracker_is_disposed_is_sent_once_by_mlflow_sync()
    {
        using var dir = new OfflineFallbackTests.Dir();
        using var server = new FakeMlflowServer();
        const int points = 3_000;
        string runId;
        await using (var tracker = MlflowTracker.Create(Options(server, dir.Path, TimeSpan.FromMilliseconds(300))))
        {
            var run = tracker.StartRun("stalled-then-disposed");
            runId = run.RunId;
            server.Hang("runs/log-batch");
            LogBurst(run, points);
        }

        Assert.That(ServerSteps(server, runId, "m"), Is.Empty, "premise: nothing got through the stalled server");
        server.Release();
        var summary = await MlflowSync.SyncAsync(new SyncOptions
        {
            From = dir.Path,
            To = server.Url,
            WrapHandler = inner => new LostAnswerHandler(inner),
        });

        Assert.That(summary.RunsFailed, Is.Zero);
        Assert.That(ServerSteps(server, runId, "m").Order(), Is.EqualTo(Enumerable.Range(0, points).Select(i => (long)i)).AsCollection, "every point once, on the run the tracker created");
        Assert.That(server.Runs[runId].Status, Is.EqualTo("FINISHED"));
        Assert.That(server.Runs, Has.Count.EqualTo(1), "no second run");
    }

    [Test]
    public async Task Disposing_a_run_never_throws_but_its_rejected_entries_stay_reported()
    {
        using var dir = new OfflineFallbackTests.Dir();
        using var server = new FakeMlflowServer();
        await using var tracker = MlflowTracker.Create(Options(server, dir.Path, TimeSpan.FromSeconds(5)));
        var run = tracker.StartRun("rejected");
        var ended = tracker.StartRun("rejected-explicit");
        lock (server.Runs)
        {
            // Another client logged these params first: MLflow refuses a param re-logged with another value.
            server.Runs[run.RunId].Params["p"] = "0";
            server.Runs[ended.RunId].Params["p"] = "0";
        }

        run.LogParam("p", "1");
        run.LogMetric("m", 1, 0);

        Assert.DoesNotThrow(run.Dispose);
        Assert.That(run.RejectedEntries.Select(r => (r.Kind, r.Key)), Is.EqualTo(new[] { ("param", "p") }));
        Assert.That(tracker.Counters.Failed, Is.EqualTo(1));
        Assert.That(ServerSteps(server, run.RunId, "m"), Has.Count.EqualTo(1), "the rest of the batch was delivered");

        ended.LogParam("p", "1");
        Assert.Throws<MlflowRejectedEntriesException>(() => ended.End(), "an explicit End still throws");
    }

    private static string ClientKey(FakeMlflowServer server, ActiveRun run)
    {
        lock (server.Runs)
        {
            return server.Runs[run.RunId].Tags["mlflow.dotnet.clientRunKey"];
        }
    }
}
