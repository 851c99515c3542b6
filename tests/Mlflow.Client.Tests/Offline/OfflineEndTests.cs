using Microsoft.Extensions.Logging;
using Mlflow.Client.FileStore;
using Mlflow.Client.Offline;
using Mlflow.Client.Sync;
using Mlflow.Client.Tests.Resilience;
using Mlflow.Client.Tests.Sync;
using Mlflow.Client.Tests.Tracking;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Offline;

/// <summary>
/// The end of a run (its status and end time) is data like any other: when the server cannot take it within the end
/// budget, it is kept in the run's offline mirror, and the tracker's drains or mlflow-sync set the server run's status.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.Children)]
[CancelAfter(120_000)]
internal sealed class OfflineEndTests
{
    private const int Points = 50;

    /// <summary>
    /// HTTP retries that outlast the end budget (the second retry waits 60 s, the run's end gets ShutdownTimeout = 1 s):
    /// the final status is cut by the budget, as MLflow's retry defaults cut it with the default 5 s.
    /// </summary>
    private static MlflowTrackerOptions SlowRetries(string url, string dir, CapturingLoggerFactory logs, TimeSpan? offlineAfter = null)
        => OfflineFallbackTests.Options(url, dir, o =>
        {
            o.Client.Retry = new MlflowRetryOptions { MaxRetries = 3, BackoffFactor = TimeSpan.FromSeconds(30), BackoffJitter = TimeSpan.Zero };
            o.Batching.ShutdownTimeout = TimeSpan.FromSeconds(1);
            // Long enough that a batch of the online phase is never taken for an outage on a loaded machine (1 s was not).
            o.Offline.OfflineAfter = offlineAfter ?? TimeSpan.FromSeconds(3);
            o.LoggerFactory = logs;
        });

    /// <summary>The run as its offline mirror holds it (the mirror's run id is the client key).</summary>
    private static async Task<Run> LocalMirrorAsync(string root, FakeRun remote)
    {
        using var store = new LocalFileStore(root);
        return await store.GetRunAsync(remote.Tags[OfflineMirror.ClientRunKeyTag], CancellationToken.None);
    }

    /// <summary>Starts a run, sends <see cref="Points"/> points while the server answers, and returns it with its server run.</summary>
    private static async Task<(ActiveRun Run, FakeRun Remote)> StartOnlineAsync(MlflowTracker tracker, FakeMlflowServer server)
    {
        var run = tracker.StartRun("ends-offline");
        for (var i = 0; i < Points; i++)
        {
            run.LogMetric("m", i, i);
        }

        await run.FlushAsync();
        Assert.That(run.IsOffline, Is.False);
        return (run, server.SingleRun());
    }

    private static void AssertEndedOfflineQuietly(ActiveRun run, CapturingLoggerFactory logs)
    {
        Assert.That(run.Status, Is.EqualTo(RunStatus.Finished), "the status the caller asked for");
        Assert.That(logs.Lines.Where(l => l.Level >= LogLevel.Error).Select(l => l.Message), Is.Empty, "ending offline is not an error");
        Assert.That(logs.Warnings.Where(w => w.Contains(run.RunId, StringComparison.Ordinal) && w.Contains("FINISHED", StringComparison.OrdinalIgnoreCase)), Is.Not.Empty,
            "a warning says the end is kept offline:\n" + string.Join("\n", logs.Lines.Select(l => l.Message)));
    }

    private static void AssertFinishedOnce(FakeMlflowServer server, FakeRun remote, Run local, long before, long after, int points)
    {
        Assert.That(remote.Status, Is.EqualTo("FINISHED"));
        Assert.That(remote.EndTime, Is.EqualTo(local.Info.EndTime), "the end time the run ended with");
        Assert.That(remote.EndTime, Is.InRange(before, after));
        Assert.That(OfflineFallbackTests.Points(server, remote, "m").Select(p => p.Step), Is.EqualTo(Enumerable.Range(0, points).Select(i => (long)i)), "every point once");
        Assert.That(server.Runs, Has.Count.EqualTo(1), "no second run");
    }

    private static long Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    [Test]
    public async Task A_run_ending_while_the_server_refuses_connections_keeps_its_end_offline_and_sync_finishes_it()
    {
        using var dir = new OfflineFallbackTests.Dir();
        using var server = new FakeMlflowServer();
        var logs = new CapturingLoggerFactory();
        long before, after;
        FakeRun remote;
        await using (var tracker = MlflowTracker.Create(SlowRetries(server.Url, dir.Path, logs)))
        {
            (var run, remote) = await StartOnlineAsync(tracker, server);
            server.StopListening();
            before = Now();
            run.Dispose();
            after = Now();
            AssertEndedOfflineQuietly(run, logs);
        }

        var local = await LocalMirrorAsync(dir.Path, remote);
        Assert.That(local.Info.Status, Is.EqualTo(RunStatus.Finished), "the offline folder holds the final status");
        Assert.That(local.Info.EndTime, Is.InRange(before, after));
        Assert.That(remote.Status, Is.EqualTo("RUNNING"), "nothing reached the server");

        server.StartListening();
        var summary = await MlflowSync.SyncAsync(new SyncOptions { From = dir.Path, To = server.Url });
        Assert.That(summary.Complete, Is.True, string.Join("; ", summary.Errors));
        AssertFinishedOnce(server, remote, local, before, after, Points);
    }

    [Test]
    public async Task A_run_ending_while_the_server_answers_503_is_finished_by_the_trackers_drain()
    {
        using var dir = new OfflineFallbackTests.Dir();
        using var server = new FakeMlflowServer();
        var logs = new CapturingLoggerFactory();
        await using var tracker = MlflowTracker.Create(SlowRetries(server.Url, dir.Path, logs));
        var (run, remote) = await StartOnlineAsync(tracker, server);
        for (var nth = 1; nth <= 4; nth++)
        {
            server.Answer("runs/update", nth, 503);
        }

        var before = Now();
        run.Dispose();
        var after = Now();
        AssertEndedOfflineQuietly(run, logs);
        var local = await LocalMirrorAsync(dir.Path, remote);
        Assert.That(local.Info.Status, Is.EqualTo(RunStatus.Finished), "the offline folder holds the final status");

        // The server answers again after four 503s: the tracker's drain sets the status while it lives.
        Assert.That(TrackerTestSupport.WaitUntil(() => remote.Status == "FINISHED", 30), Is.True, "requests: " + string.Join(", ", server.Requests));
        Assert.That(server.FaultsHit, Is.EqualTo(4));
        AssertFinishedOnce(server, remote, local, before, after, Points);
    }

    [Test]
    public async Task Entries_pending_at_the_end_and_the_status_reach_the_server_through_one_mirror()
    {
        // The batch is still in its retries when the end budget is spent: it goes offline later (OfflineAfter 4 s), into
        // the mirror the end opened; the mirror must say FINISHED, and the drain sends the data and then the status.
        using var dir = new OfflineFallbackTests.Dir();
        using var server = new FakeMlflowServer();
        var logs = new CapturingLoggerFactory();
        await using var tracker = MlflowTracker.Create(SlowRetries(server.Url, dir.Path, logs, TimeSpan.FromSeconds(4)));
        var (run, remote) = await StartOnlineAsync(tracker, server);
        server.StopListening();
        for (var i = Points; i < 2 * Points; i++)
        {
            run.LogMetric("m", i, i);
        }

        var before = Now();
        run.Dispose();
        var after = Now();
        AssertEndedOfflineQuietly(run, logs);
        Assert.That(TrackerTestSupport.WaitUntil(() => tracker.Counters.Offline >= Points, 30), Is.True, "the pending batch went to the mirror");
        var local = await LocalMirrorAsync(dir.Path, remote);
        Assert.That(local.Info.Status, Is.EqualTo(RunStatus.Finished), "the mirror ends with the final status");
        Assert.That(local.Info.EndTime, Is.InRange(before, after));

        server.StartListening();
        Assert.That(TrackerTestSupport.WaitUntil(() => remote.Status == "FINISHED", 30), Is.True, "requests: " + string.Join(", ", server.Requests));
        AssertFinishedOnce(server, remote, local, before, after, 2 * Points);
        var requests = server.Requests.ToList();
        Assert.That(requests.FindLastIndex(r => r.EndsWith("runs/log-batch", StringComparison.Ordinal)), Is.LessThan(requests.FindLastIndex(r => r.EndsWith("runs/update", StringComparison.Ordinal))), "the status goes last");
    }

    [Test]
    public async Task A_mirror_drained_before_the_end_ends_with_the_final_status_and_a_sync_sends_nothing()
    {
        using var dir = new OfflineFallbackTests.Dir();
        using var server = new FakeMlflowServer();
        await using var tracker = MlflowTracker.Create(OfflineFallbackTests.Options(server.Url, dir.Path));
        var (run, remote) = await StartOnlineAsync(tracker, server);
        server.StopListening();
        run.LogMetric("m", Points, Points);
        await run.FlushAsync();
        Assert.That(TrackerTestSupport.WaitUntil(() => run.IsOffline, 10), Is.True);
        server.StartListening();
        Assert.That(TrackerTestSupport.WaitUntil(() => run.Mirror is { Active: false }, 20), Is.True, "drained: the run sends directly again");

        run.Dispose();
        Assert.That(remote.Status, Is.EqualTo("FINISHED"));
        var local = await LocalMirrorAsync(dir.Path, remote);
        Assert.That(local.Info.Status, Is.EqualTo(RunStatus.Finished), "the mirror does not stay RUNNING");
        Assert.That(local.Info.EndTime, Is.EqualTo(remote.EndTime));
        var updates = server.Count("runs/update");
        var summary = await MlflowSync.SyncAsync(new SyncOptions { From = dir.Path, To = server.Url });
        Assert.That(summary.Complete, Is.True, string.Join("; ", summary.Errors));
        Assert.That(summary.RunsUpToDate, Is.EqualTo(1), "the server already has the status");
        Assert.That(server.Count("runs/update"), Is.EqualTo(updates));
    }
}
