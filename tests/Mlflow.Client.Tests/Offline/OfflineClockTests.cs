using Microsoft.Extensions.Time.Testing;
using Mlflow.Client.Offline;
using Mlflow.Client.Sync;
using Mlflow.Client.Tests.Sync;
using Mlflow.Client.Tests.Tracking;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Offline;

/// <summary>
/// The offline layer's schedule (durable writes, reconnection) follows the tracker's clock: a fake clock drives it, so
/// these tests neither sleep through the intervals nor depend on the machine's speed.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.Children)]
[CancelAfter(120_000)]
internal sealed class OfflineClockTests
{
    private static MlflowTrackerOptions Options(FakeMlflowServer server, string dir, FakeTimeProvider clock)
        => OfflineFallbackTests.Options(server.Url, dir, o =>
        {
            o.TimeProvider = clock;
            o.Client!.Retry = new MlflowRetryOptions { MaxRetries = 0 }; // no retry delay to wait out on the fake clock
            o.Batching.FlushInterval = TimeSpan.FromHours(1);
            o.Offline!.DurableWriteInterval = TimeSpan.FromMinutes(1);
            o.Offline.ReconnectInterval = TimeSpan.FromMinutes(10);
            o.Offline.OfflineAfter = TimeSpan.FromDays(1);
        });

    /// <summary>Starts a run, logs point 0 online, stops the server and logs point 1, which goes to the local copy.</summary>
    private static async Task<(ActiveRun Run, string ClientKey)> GoOfflineAsync(MlflowTracker tracker, FakeMlflowServer server)
    {
        var run = tracker.StartRun("clock");
        run.LogMetric("m", 0, 0);
        await run.FlushAsync();
        string clientKey;
        lock (server.Runs)
        {
            clientKey = server.Runs[run.RunId].Tags[OfflineMirror.ClientRunKeyTag];
        }

        server.StopListening();
        run.LogMetric("m", 1, 1);
        await run.FlushAsync();
        Assert.That(run.IsOffline, Is.True);
        return (run, clientKey);
    }

    [Test]
    public async Task While_offline_the_sender_writes_to_the_local_copy_every_durable_interval_of_the_trackers_clock()
    {
        using var dir = new OfflineFallbackTests.Dir();
        using var server = new FakeMlflowServer();
        var clock = new FakeTimeProvider();
        await using var tracker = MlflowTracker.Create(Options(server, dir.Path, clock));
        var (run, clientKey) = await GoOfflineAsync(tracker, server);
        for (var i = 2; i <= 20; i++)
        {
            run.LogMetric("m", i, i); // no flush, and the flush interval is an hour: only the durable interval wakes the sender
        }

        var expected = Enumerable.Range(1, 20).Select(i => (long)i).ToList();
        var minutes = 0;
        while (minutes < 100 && !DrainWhileLoggingTests.LocalSteps(dir.Path, clientKey, "m").IsSupersetOf(expected))
        {
            clock.Advance(TimeSpan.FromMinutes(1));
            minutes++;
            Thread.Sleep(20);
        }

        Assert.That(DrainWhileLoggingTests.LocalSteps(dir.Path, clientKey, "m"), Is.SupersetOf(expected), "written to the local copy once the durable interval passed on the tracker's clock");
        server.StartListening();
        run.Dispose();
    }

    [Test]
    public async Task A_failed_drain_is_tried_again_after_the_reconnect_interval_of_the_trackers_clock()
    {
        using var dir = new OfflineFallbackTests.Dir();
        using var server = new FakeMlflowServer();
        var clock = new FakeTimeProvider();
        await using var tracker = MlflowTracker.Create(Options(server, dir.Path, clock));
        var (run, _) = await GoOfflineAsync(tracker, server);

        // The first drain runs at once, finds the server down and schedules the next one a reconnect interval later.
        var mirror = run.Mirror!;
        var interval = (long)(TimeSpan.FromMinutes(10).TotalSeconds * clock.TimestampFrequency);
        Assert.That(TrackerTestSupport.WaitUntil(() => mirror.NextAttempt > clock.GetTimestamp(), 20), Is.True, "a drain attempt failed");
        Assert.That(mirror.NextAttempt, Is.EqualTo(clock.GetTimestamp() + interval), "the next attempt is one reconnect interval away on the tracker's clock");

        server.StartListening();
        var remote = server.SingleRun();
        // One fake minute per step, with real time for the drain to run once it is due (bounded in steps and in time).
        var minutes = 0;
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (minutes < 100 && waited.Elapsed < TimeSpan.FromSeconds(60) && OfflineFallbackTests.Points(server, remote, "m").Count < 2)
        {
            clock.Advance(TimeSpan.FromMinutes(1));
            minutes++;
            Thread.Sleep(mirror.NextAttempt > clock.GetTimestamp() ? 20 : 300);
        }

        Assert.That(OfflineFallbackTests.Points(server, remote, "m").Select(p => p.Step), Is.EquivalentTo(new long[] { 0, 1 }), "drained once the interval passed");
        Assert.That(minutes, Is.GreaterThanOrEqualTo(10), "not before the reconnect interval passed on the tracker's clock");
        run.Dispose();
    }

    [Test]
    public async Task An_outside_mlflow_sync_of_the_same_folder_is_read_by_the_next_drain_so_no_point_is_sent_twice()
    {
        // The tracker keeps a run's sync journal in memory; mlflow-sync run by hand on the same folder while the tracker
        // lives moves the journal on disk. The next drain must start from there (re-read because the file changed),
        // not from its own older copy, or the points the sync sent arrive a second time.
        using var dir = new OfflineFallbackTests.Dir();
        using var server = new FakeMlflowServer();
        var clock = new FakeTimeProvider();
        await using var tracker = MlflowTracker.Create(Options(server, dir.Path, clock));
        var (run, _) = await GoOfflineAsync(tracker, server);
        for (var i = 2; i <= 20; i++)
        {
            run.LogMetric("m", i, i);
        }

        await run.FlushAsync();
        var mirror = run.Mirror!;
        Assert.That(TrackerTestSupport.WaitUntil(() => mirror.NextAttempt > clock.GetTimestamp(), 20), Is.True, "the first drain found the server down");

        server.StartListening();
        var outside = await MlflowSync.SyncAsync(new SyncOptions { From = dir.Path, To = server.Url, Client = new MlflowClientOptions { RequestTimeout = TimeSpan.FromSeconds(30) } });
        Assert.That(outside.Errors, Is.Empty);
        var remote = server.SingleRun();
        Assert.That(OfflineFallbackTests.Points(server, remote, "m").Select(p => p.Step).Order(), Is.EqualTo(Enumerable.Range(0, 21).Select(i => (long)i)), "the outside sync sent the offline points");

        for (var i = 21; i <= 25; i++)
        {
            run.LogMetric("m", i, i); // still offline for the tracker: to its local copy
        }

        await run.FlushAsync();
        var minutes = 0;
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (minutes < 100 && waited.Elapsed < TimeSpan.FromSeconds(60) && (run.IsOffline || OfflineFallbackTests.Points(server, remote, "m").Count < 26))
        {
            clock.Advance(TimeSpan.FromMinutes(1));
            minutes++;
            Thread.Sleep(mirror.NextAttempt > clock.GetTimestamp() ? 20 : 300);
        }

        Assert.That(OfflineFallbackTests.Points(server, remote, "m").Select(p => p.Step).Order(), Is.EqualTo(Enumerable.Range(0, 26).Select(i => (long)i)), "each point once: the drain sent only what the outside sync had not");
        run.Dispose();
    }
}
