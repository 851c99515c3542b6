using System.Diagnostics;
using Mlflow.Client.Tests.Sync;
using Mlflow.Client.Tests.Tracking;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Offline;

/// <summary>
/// The tracker against a server that hangs, or applies a request and loses the answer: the run goes offline within
/// <see cref="MlflowOfflineOptions.OfflineAfter"/> instead of the whole HTTP retry budget, and every point ends on the
/// server once (stateful fake server on 127.0.0.1).
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.Children)]
[CancelAfter(120_000)]
internal sealed class TrackerFaultTests
{
    private static List<FakePoint> Points(FakeMlflowServer server, FakeRun run, string key) => OfflineFallbackTests.Points(server, run, key);

    /// <summary>MLflow's retry defaults (7 retries, 2 s backoff factor) and a 30 s request timeout: minutes before the HTTP layer gives up.</summary>
    private static MlflowTrackerOptions PatientClient(string url, string dir, TimeSpan offlineAfter, Resilience.CapturingLoggerFactory? logs = null)
        => OfflineFallbackTests.Options(url, dir, o =>
        {
            o.Client.RequestTimeout = TimeSpan.FromSeconds(30);
            o.Client.Retry = new MlflowRetryOptions();
            o.Offline.OfflineAfter = offlineAfter;
            o.LoggerFactory = logs;
            o.Client.LoggerFactory = logs;
        });

    /// <summary>What a failed wait shows: the tracker's log, the requests the server saw and the run's state.</summary>
    private static string Diagnose(FakeMlflowServer server, FakeRun remote, ActiveRun run, Resilience.CapturingLoggerFactory logs)
        => string.Join("\n", logs.Lines.Select(l => l.Message)) + "\nrequests: " + string.Join(", ", server.Requests)
            + $"\npoints {Points(server, remote, "m").Count}, offline {run.IsOffline}, hung {server.HungRequests}";

    [Test]
    public async Task A_hung_server_at_run_start_sends_the_run_offline_after_OfflineAfter_not_after_the_retry_budget()
    {
        using var dir = new OfflineFallbackTests.Dir();
        using var server = new FakeMlflowServer();
        server.Hang();
        await using var tracker = MlflowTracker.Create(PatientClient(server.Url, dir.Path, TimeSpan.FromSeconds(1)));

        var clock = Stopwatch.StartNew();
        var run = tracker.StartRun("hung-start");
        var waited = clock.Elapsed;

        Assert.That(run.IsOffline, Is.True);
        Assert.That(waited, Is.LessThan(TimeSpan.FromSeconds(20)), "one request timeout alone is 30 s");
        Assert.That(server.HungRequests, Is.GreaterThanOrEqualTo(1));
        for (var i = 0; i < 50; i++)
        {
            run.LogMetric("m", i, i);
        }

        server.Release();
        run.Dispose(); // ending drains the local run to the server, bounded by the shutdown timeout

        var remote = server.RunBySource(run.RunId);
        Assert.That(Points(server, remote, "m").Select(p => p.Step), Is.EqualTo(Enumerable.Range(0, 50).Select(i => (long)i)));
        Assert.That(remote.Status, Is.EqualTo("FINISHED"));
        Assert.That(server.Runs, Has.Count.EqualTo(1));
    }

    /// <summary>
    /// Faults on the log-batch requests of a running run, on a file-like (appends duplicates) and a SQL-like (keeps one
    /// copy, 400 for a re-sent NaN) server: the server ends with exactly the points logged, once each, in order.
    /// </summary>
    [Test]
    public async Task Each_fault_on_log_batch_ends_with_every_point_once(
        [Values("burst-500", "burst-502", "burst-503", "burst-504", "429-seconds", "429-date", "slow-applied", "malformed-applied", "reset-applied", "reset-unapplied")] string fault,
        [Values(false, true)] bool sqlLike)
    {
        using var dir = new OfflineFallbackTests.Dir();
        using var server = new FakeMlflowServer(sqlLike);
        const string Batch = "runs/log-batch";
        switch (fault)
        {
            case var burst when burst.StartsWith("burst-", StringComparison.Ordinal):
                var status = int.Parse(burst["burst-".Length..], System.Globalization.CultureInfo.InvariantCulture);
                for (var nth = 2; nth <= 4; nth++)
                {
                    server.Answer(Batch, nth, status); // not applied
                }

                break;
            case "429-seconds":
                server.Answer(Batch, 2, 429, body: "", retryAfter: "1");
                break;
            case "429-date":
                server.Answer(Batch, 2, 429, body: "", retryAfter: DateTimeOffset.UtcNow.AddSeconds(2).ToString("r", System.Globalization.CultureInfo.InvariantCulture));
                break;
            case "slow-applied":
                server.Answer(Batch, 2, 200, apply: true, body: "{}", delay: TimeSpan.FromSeconds(3)); // longer than the 1 s timeout
                break;
            case "malformed-applied":
                server.Answer(Batch, 2, 200, apply: true, body: "{\"metr");
                break;
            case "reset-applied":
                server.DropAnswerOf(Batch, 2);
                break;
            case "reset-unapplied":
                server.DropWithoutApplying(Batch, 2);
                break;
        }

        await using var tracker = MlflowTracker.Create(OfflineFallbackTests.Options(server.Url, dir.Path, o =>
        {
            o.Client.RequestTimeout = TimeSpan.FromSeconds(1);
            o.Client.Retry = new MlflowRetryOptions { MaxRetries = 3, BackoffFactor = TimeSpan.FromMilliseconds(10), BackoffJitter = TimeSpan.Zero, MaxBackoff = TimeSpan.FromSeconds(5) };
        }));
        var run = tracker.StartRun("fault-" + fault);
        run.LogParam("fault", fault);
        await run.FlushAsync(); // log-batch #1
        for (var chunk = 0; chunk < 3; chunk++)
        {
            run.LogMetric("n", double.NaN, chunk);
            for (var i = chunk * 100; i < (chunk + 1) * 100; i++)
            {
                run.LogMetric("m", i * 0.25, i);
            }

            await run.FlushAsync(); // log-batch #2, #3, #4 (more when kept locally and drained)
        }

        var remote = server.SingleRun();
        Assert.That(TrackerTestSupport.WaitUntil(() => Points(server, remote, "m").Count >= 300 && !run.IsOffline, 30), Is.True, $"delivered: {Points(server, remote, "m").Count}; requests: {string.Join(", ", server.Requests)}");
        run.Dispose();

        Assert.That(Points(server, remote, "m").Select(p => p.Step), Is.EqualTo(Enumerable.Range(0, 300).Select(i => (long)i)), "every point once, in order");
        Assert.That(Points(server, remote, "n").Select(p => p.Step), Is.EqualTo(new long[] { 0, 1, 2 }), "each NaN once");
        Assert.That(remote.Params["fault"], Is.EqualTo(fault));
        Assert.That(remote.Status, Is.EqualTo("FINISHED"));
        Assert.That(server.Runs, Has.Count.EqualTo(1));
        Assert.That(tracker.Counters.Failed, Is.Zero, "nothing rejected");
        Assert.That(server.FaultsHit, Is.EqualTo(fault.StartsWith("burst-", StringComparison.Ordinal) ? 3 : 1), "every planned fault was met");
    }

    [Test]
    public async Task A_run_started_offline_learns_its_server_run_id_once_it_was_sent()
    {
        using var dir = new OfflineFallbackTests.Dir();
        using var server = new FakeMlflowServer();
        server.StopListening();
        await using var tracker = MlflowTracker.Create(OfflineFallbackTests.Options(server.Url, dir.Path));
        var run = tracker.StartRun("started-offline");
        run.LogMetric("m", 1, 0);
        await run.FlushAsync();
        Assert.That(run.IsOffline, Is.True);
        Assert.That(run.ServerRunId, Is.Null, "no server run yet");
        Assert.That(run.DataLocation, Is.EqualTo(RunDataLocation.OfflineAwaitingSync));

        server.StartListening();
        Assert.That(TrackerTestSupport.WaitUntil(() => run.ServerRunId is not null, 20), Is.True);
        Assert.That(TrackerTestSupport.WaitUntil(() => run.DataLocation == RunDataLocation.Server, 20), Is.True, "a run started offline is on the server once drained");
        var remote = server.RunBySource(run.RunId);
        Assert.That(run.ServerRunId, Is.EqualTo(remote.RunId));
        Assert.That(run.ServerRunId, Is.Not.EqualTo(run.RunId));

        var online = tracker.StartRun("started-online");
        Assert.That(online.ServerRunId, Is.EqualTo(online.RunId));
        online.Dispose();
        run.Dispose();
    }

    [Test]
    public void A_hung_server_with_ThrowOnConnectivityFailure_throws_after_OfflineAfter()
    {
        using var dir = new OfflineFallbackTests.Dir();
        using var server = new FakeMlflowServer();
        server.Hang();
        using var tracker = MlflowTracker.Create(PatientClient(server.Url, dir.Path, TimeSpan.FromSeconds(1)).WithThrow());

        var ex = Assert.Throws<MlflowException>(() => tracker.StartRun("r"));

        Assert.That(ex!.Message, Does.Contain("OfflineAfter"));
        server.Release();
    }

    [Test]
    public async Task A_server_that_hangs_mid_run_sends_the_batch_offline_and_the_run_catches_up_once_it_answers()
    {
        using var dir = new OfflineFallbackTests.Dir();
        using var server = new FakeMlflowServer();
        var logs = new Resilience.CapturingLoggerFactory();
        await using var tracker = MlflowTracker.Create(PatientClient(server.Url, dir.Path, TimeSpan.FromSeconds(1), logs));
        var run = tracker.StartRun("hung-mid-run");
        for (var i = 0; i < 100; i++)
        {
            run.LogMetric("m", i, i);
        }

        await run.FlushAsync();
        server.Hang("runs/log-batch");
        for (var i = 100; i < 200; i++)
        {
            run.LogMetric("m", i, i);
        }

        Assert.That(TrackerTestSupport.WaitUntil(() => run.IsOffline, 20), Is.True, "offline after OfflineAfter, not after minutes of retries");
        Assert.That(server.HungRequests, Is.GreaterThanOrEqualTo(1));
        server.Release();
        for (var i = 200; i < 300; i++)
        {
            run.LogMetric("m", i, i);
        }

        var remote = server.SingleRun();
        Assert.That(TrackerTestSupport.WaitUntil(() => Points(server, remote, "m").Count >= 300 && !run.IsOffline, 30), Is.True, "drained once the server answers: " + Diagnose(server, remote, run, logs));
        run.Dispose();
        Assert.That(Points(server, remote, "m").Select(p => p.Step), Is.EqualTo(Enumerable.Range(0, 300).Select(i => (long)i)), "every point once, in order");
        Assert.That(remote.Status, Is.EqualTo("FINISHED"));
        Assert.That(server.Runs, Has.Count.EqualTo(1));
    }

    [Test]
    public async Task A_drain_into_a_hung_server_gives_up_after_OfflineAfter_and_tries_again()
    {
        using var dir = new OfflineFallbackTests.Dir();
        using var server = new FakeMlflowServer();
        var logs = new Resilience.CapturingLoggerFactory();
        await using var tracker = MlflowTracker.Create(PatientClient(server.Url, dir.Path, TimeSpan.FromSeconds(1), logs));
        var run = tracker.StartRun("hung-drain");
        run.LogMetric("m", 0, 0);
        await run.FlushAsync();
        server.Hang("runs/log-batch");
        for (var i = 1; i < 100; i++)
        {
            run.LogMetric("m", i, i);
        }

        // The batch hangs (1), the first drain's batch hangs (2); only a drain bounded by OfflineAfter comes back for a
        // third try before the 30 s request timeout of the patient client.
        Assert.That(TrackerTestSupport.WaitUntil(() => server.HungRequests >= 3, 15), Is.True, $"hung requests: {server.HungRequests}");
        server.Release();
        var remote = server.SingleRun();
        Assert.That(TrackerTestSupport.WaitUntil(() => Points(server, remote, "m").Count >= 100 && !run.IsOffline, 30), Is.True, "drained once the server answers: " + Diagnose(server, remote, run, logs));
        run.Dispose();
        Assert.That(Points(server, remote, "m").Select(p => p.Step), Is.EqualTo(Enumerable.Range(0, 100).Select(i => (long)i)), "every point once, in order");
    }

    [TestCase(false)]
    [TestCase(true)]
    public async Task A_log_batch_with_a_NaN_applied_with_the_answer_lost_is_reconciled_not_resent(bool sqlLike)
    {
        // sqlite answers 400 to a batch re-sending a stored NaN point; a file store would store it twice.
        using var dir = new OfflineFallbackTests.Dir();
        using var server = new FakeMlflowServer(sqlLike);
        server.DropAnswerOf("runs/log-batch");
        await using var tracker = MlflowTracker.Create(OfflineFallbackTests.Options(server.Url, dir.Path));
        var run = tracker.StartRun("nan-lost");
        run.LogMetric("n", double.NaN, 0); // the first entry: it is in the first batch, whose answer is lost
        for (var i = 0; i < 20; i++)
        {
            run.LogMetric("m", i, i);
        }

        await run.FlushAsync();
        var remote = server.SingleRun();
        Assert.That(TrackerTestSupport.WaitUntil(() => !run.IsOffline && run.Mirror is { Active: false }, 20), Is.True, "the kept batch was reconciled");
        run.LogMetric("n", double.NaN, 1);
        run.Dispose();

        var nan = Points(server, remote, "n");
        Assert.That(nan.Select(p => p.Step), Is.EqualTo(new long[] { 0, 1 }));
        Assert.That(nan.All(p => double.IsNaN(p.Value)), Is.True);
        Assert.That(Points(server, remote, "m").Select(p => p.Step), Is.EqualTo(Enumerable.Range(0, 20).Select(i => (long)i)));
        Assert.That(tracker.Counters.Failed, Is.Zero, "nothing was rejected (no 400 for a re-sent NaN)");
        Assert.That(remote.Status, Is.EqualTo("FINISHED"));
    }

    [Test]
    public async Task A_tag_deletion_applied_with_the_answer_lost_keeps_the_run_online()
    {
        using var dir = new OfflineFallbackTests.Dir();
        using var server = new FakeMlflowServer();
        await using var tracker = MlflowTracker.Create(OfflineFallbackTests.Options(server.Url, dir.Path));
        var run = tracker.StartRun("tag-lost");
        run.SetTag("doomed", "x");
        run.SetTag("kept", "y");
        await run.FlushAsync();
        server.DropAnswerOf("runs/delete-tag");

        run.DeleteTag("doomed");
        run.LogMetric("m", 1, 0);
        await run.FlushAsync();

        var remote = server.SingleRun();
        Assert.That(remote.Tags.ContainsKey("doomed"), Is.False);
        Assert.That(remote.Tags["kept"], Is.EqualTo("y"));
        Assert.That(run.IsOffline, Is.False, "the read-back confirmed the deletion: no detour through the local store");
        Assert.That(tracker.Counters.Offline, Is.Zero);
        Assert.That(server.Count("runs/delete-tag"), Is.EqualTo(1));
        run.Dispose();
        Assert.That(remote.Status, Is.EqualTo("FINISHED"));
    }
}

internal static class TrackerFaultTestOptions
{
    public static MlflowTrackerOptions WithThrow(this MlflowTrackerOptions options)
    {
        options.Offline.ThrowOnConnectivityFailure = true;
        return options;
    }
}
