using Mlflow.Client.FileStore;
using Mlflow.Client.Sync;
using Mlflow.Client.Tests.Sync;
using Mlflow.Client.Tests.Tracking;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Offline;

/// <summary>The tracker's offline fallback against a stateful fake server on 127.0.0.1: nothing logged is lost, nothing arrives twice.</summary>
[TestFixture]
[Parallelizable(ParallelScope.Children)]
[CancelAfter(120_000)]
internal sealed class OfflineFallbackTests
{
    internal sealed class Dir : IDisposable
    {
        public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "mlflow-offline-tests", Guid.NewGuid().ToString("N"));

        public void Dispose()
        {
            try
            {
                Directory.Delete(Path, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    internal static MlflowTrackerOptions Options(string url, string dir, Action<MlflowTrackerOptions>? configure = null)
    {
        var o = new MlflowTrackerOptions
        {
            TrackingUri = url,
            ExperimentName = "offline-exp",
            Client = new MlflowClientOptions
            {
                RequestTimeout = TimeSpan.FromSeconds(5),
                Retry = new MlflowRetryOptions { MaxRetries = 1, BackoffFactor = TimeSpan.FromMilliseconds(10), BackoffJitter = TimeSpan.Zero },
            },
            Offline = new MlflowOfflineOptions { Directory = dir, ReconnectInterval = TimeSpan.FromMilliseconds(200), DurableWriteInterval = TimeSpan.FromMilliseconds(200) },
            WrapHandler = inner => new LostAnswerHandler(inner),
        };
        o.Batching.FlushInterval = TimeSpan.FromMilliseconds(50);
        o.Batching.ShutdownTimeout = TimeSpan.FromSeconds(10);
        configure?.Invoke(o);
        return o;
    }

    /// <summary>A copy of the points of one metric of a fake server run.</summary>
    internal static List<FakePoint> Points(FakeMlflowServer server, FakeRun run, string key)
    {
        lock (server.Runs)
        {
            return run.Metrics.TryGetValue(key, out var list) ? [.. list] : [];
        }
    }

    [Test]
    public async Task A_refused_connection_at_run_start_goes_offline_without_waiting_out_the_retry_budget()
    {
        // The retry clock is a fake that never advances: a run start that waited for even one retry delay would never
        // return. OfflineAfter is ten minutes, so only "refused means not there" can bring the run up in time.
        using var dir = new Dir();
        using var server = new FakeMlflowServer();
        server.StopListening();
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var options = Options(server.Url, dir.Path, o =>
        {
            o.Client!.Retry = new MlflowRetryOptions { MaxRetries = 7, TimeProvider = clock };
            o.Offline!.OfflineAfter = TimeSpan.FromMinutes(10);
        });
        await using var tracker = MlflowTracker.Create(options);

        var run = await tracker.StartRunAsync("refused").WaitAsync(TimeSpan.FromSeconds(60));

        Assert.That(run.IsOffline, Is.True);
        run.LogMetric("m", 1);
        await run.FlushAsync();
        Assert.That(Directory.EnumerateFiles(dir.Path, "m", SearchOption.AllDirectories).Count(), Is.EqualTo(1), "the point is in the offline mirror");
        await run.DisposeAsync();
        Assert.That(run.DataLocation, Is.EqualTo(RunDataLocation.OfflineAwaitingSync));
        Assert.That(tracker.OfflineDirectory, Is.EqualTo(dir.Path));
    }

    [Test]
    public async Task A_server_that_is_back_gets_the_offline_entries_within_the_reconnect_interval_not_the_breaks_duration()
    {
        // The outage opens the client's circuit breaker for two minutes; the offline layer reconnects every 200 ms on
        // its own schedule, so the drain reaches the server as soon as it answers (it used to wait out a second
        // client's breaker).
        using var dir = new Dir();
        using var server = new FakeMlflowServer();
        var options = Options(server.Url, dir.Path, o => o.Client!.Retry = new MlflowRetryOptions
        {
            MaxRetries = 1,
            BackoffFactor = TimeSpan.FromMilliseconds(10),
            BackoffJitter = TimeSpan.Zero,
            CircuitBreakerMinimumThroughput = 2,
            CircuitBreakerFailureRatio = 0.1,
            CircuitBreakerSamplingDuration = TimeSpan.FromMinutes(5),
            CircuitBreakerBreakDuration = TimeSpan.FromMinutes(2),
        });
        await using var tracker = MlflowTracker.Create(options);
        var run = tracker.StartRun("breaker");
        run.LogMetric("m", 0, 0);
        await run.FlushAsync();
        server.StopListening();
        for (var i = 1; i < 50; i++)
        {
            run.LogMetric("m", i, i);
        }

        await run.FlushAsync();
        Assert.That(TrackerTestSupport.WaitUntil(() => run.IsOffline, 10), Is.True, "the run noticed the outage");
        server.StartListening();

        var remote = server.SingleRun();
        Assert.That(TrackerTestSupport.WaitUntil(() => Points(server, remote, "m").Count >= 50 && !run.IsOffline, 30), Is.True, "drained while the breaker would still be open");
        run.Dispose();
        Assert.That(Points(server, remote, "m").Select(p => p.Step).Order(), Is.EqualTo(Enumerable.Range(0, 50).Select(i => (long)i)));
    }

    [Test]
    public async Task Server_down_for_the_whole_run_then_sync_delivers_everything_once()
    {
        using var dir = new Dir();
        using var server = new FakeMlflowServer();
        server.StopListening();
        string runId;
        await using (var tracker = MlflowTracker.Create(Options(server.Url, dir.Path)))
        {
            var run = tracker.StartRun("offline-run");
            runId = run.RunId;
            Assert.That(run.IsOffline, Is.True);
            run.LogParam("lr", 0.01);
            run.SetTag("note", "kept");
            for (var i = 0; i < 300; i++)
            {
                run.LogMetric("loss", 1.0 / (i + 1), i);
            }

            run.LogMetric("odd", double.NaN, 0);
            using (var child = run.StartChildRun("child"))
            {
                child.LogMetric("acc", 0.5, 1);
            }

            await run.FlushAsync();
            Assert.That(tracker.Counters.Offline, Is.EqualTo(304), "300 + NaN + param + tag + the child's point");
            run.Dispose();
        }

        server.StartListening();
        var summary = await MlflowSync.SyncAsync(new SyncOptions { From = dir.Path, To = server.Url, Client = new MlflowClientOptions { RequestTimeout = TimeSpan.FromSeconds(10) } });
        Assert.That(summary.Complete, Is.True, string.Join("; ", summary.Errors));
        await SyncTests.AssertMirroredAsync(dir.Path, server);
        var remote = server.RunBySource(runId);
        Assert.That(Points(server, remote, "loss").Select(p => p.Step), Is.EqualTo(Enumerable.Range(0, 300).Select(i => (long)i)));
        Assert.That(remote.Status, Is.EqualTo("FINISHED"));
        Assert.That(server.Experiments.Values.Count(e => e.Name == "offline-exp"), Is.EqualTo(1));

        // A second sync sends nothing.
        var again = await MlflowSync.SyncAsync(new SyncOptions { From = dir.Path, To = server.Url });
        Assert.That(again.Runs.All(r => r.Outcome == SyncRunOutcome.UpToDate), Is.True);
    }

    [TestCase(false)]
    [TestCase(true)]
    public async Task Server_restarted_on_the_same_port_mid_run_every_point_once_in_order(bool sqlLike)
    {
        using var dir = new Dir();
        using var server = new FakeMlflowServer(sqlLike);
        await using var tracker = MlflowTracker.Create(Options(server.Url, dir.Path));
        var run = tracker.StartRun("restart");
        run.LogParam("before", "1");
        for (var i = 0; i < 100; i++)
        {
            run.LogMetric("m", i, i);
        }

        await run.FlushAsync();
        Assert.That(run.IsOffline, Is.False);
        server.StopListening();
        for (var i = 100; i < 200; i++)
        {
            run.LogMetric("m", i, i);
        }

        run.LogParam("during", "2");
        run.SetTag("t", "offline");
        await run.FlushAsync(); // durable locally
        Assert.That(TrackerTestSupport.WaitUntil(() => run.IsOffline, 10), Is.True, "the run noticed the server is down");
        server.StartListening();
        for (var i = 200; i < 300; i++)
        {
            run.LogMetric("m", i, i);
        }

        var remote = server.SingleRun();
        Assert.That(TrackerTestSupport.WaitUntil(() => Points(server, remote, "m").Count >= 300 && !run.IsOffline, 20), Is.True, "drained after the restart");
        run.Dispose();
        Assert.That(Points(server, remote, "m").Select(p => p.Step), Is.EqualTo(Enumerable.Range(0, 300).Select(i => (long)i)), "every point once, in order");
        Assert.That(remote.Params, Is.EquivalentTo(new Dictionary<string, string> { ["before"] = "1", ["during"] = "2" }));
        Assert.That(remote.Tags["t"], Is.EqualTo("offline"));
        Assert.That(remote.Status, Is.EqualTo("FINISHED"));
        Assert.That(server.Runs, Has.Count.EqualTo(1));
        Assert.That(run.DataLocation, Is.EqualTo(RunDataLocation.Server), "drained: everything is on the server");
        var counters = tracker.Counters;
        Assert.That(counters.Offline, Is.Zero, "entries delivered by the drain count as sent, not as offline");
        Assert.That(counters.Sent, Is.EqualTo(counters.Queued).And.GreaterThanOrEqualTo(303));
    }

    [Test]
    public async Task Create_run_applied_with_the_answer_lost_makes_one_run()
    {
        using var dir = new Dir();
        using var server = new FakeMlflowServer();
        server.ApplyThenFail("runs/create", 1, 504);
        await using var tracker = MlflowTracker.Create(Options(server.Url, dir.Path));
        var run = tracker.StartRun("once");
        run.LogMetric("m", 1, 0);
        run.Dispose();
        Assert.That(server.Runs, Has.Count.EqualTo(1));
        Assert.That(server.SingleRun().RunId, Is.EqualTo(run.RunId));
        Assert.That(server.SingleRun().Metrics["m"], Has.Count.EqualTo(1));
        Assert.That(run.IsOffline, Is.False);
    }

    [Test]
    public async Task Create_experiment_applied_with_the_answer_lost_is_read_back()
    {
        using var dir = new Dir();
        using var server = new FakeMlflowServer();
        server.ApplyThenFail("experiments/create", 1, 504);
        await using var tracker = MlflowTracker.Create(Options(server.Url, dir.Path));
        var run = tracker.StartRun("r");
        run.Dispose();
        Assert.That(server.Experiments.Values.Count(e => e.Name == "offline-exp"), Is.EqualTo(1));
        Assert.That(server.SingleRun().ExperimentId, Is.EqualTo(server.Experiments.Values.Single(e => e.Name == "offline-exp").Id));
    }

    [TestCase(false, 0)]
    [TestCase(false, 504)]
    [TestCase(true, 0)]
    public async Task Log_batch_applied_with_the_answer_lost_adds_no_duplicates(bool sqlLike, int fault)
    {
        using var dir = new Dir();
        using var server = new FakeMlflowServer(sqlLike);
        if (fault == 0)
        {
            server.DropAnswerOf("runs/log-batch");
        }
        else
        {
            server.ApplyThenFail("runs/log-batch", 1, fault);
        }

        await using var tracker = MlflowTracker.Create(Options(server.Url, dir.Path));
        var run = tracker.StartRun("lost-batch");
        run.LogParam("p", "v");
        for (var i = 0; i < 50; i++)
        {
            run.LogMetric("m", i * 0.5, i);
        }

        run.LogMetric("n", double.NaN, 0);
        await run.FlushAsync();
        var remote = server.SingleRun();
        Assert.That(TrackerTestSupport.WaitUntil(() => !run.IsOffline && run.Mirror is { Active: false }, 20), Is.True, "the kept batch was reconciled");
        for (var i = 50; i < 60; i++)
        {
            run.LogMetric("m", i * 0.5, i);
        }

        run.Dispose();
        Assert.That(Points(server, remote, "m").Select(p => p.Step), Is.EqualTo(Enumerable.Range(0, 60).Select(i => (long)i)));
        Assert.That(Points(server, remote, "n"), Has.Count.EqualTo(1));
        Assert.That(remote.Params["p"], Is.EqualTo("v"));
        Assert.That(remote.Status, Is.EqualTo("FINISHED"));
        Assert.That(server.Count("runs/log-batch"), Is.GreaterThanOrEqualTo(2));
    }

    [Test]
    public async Task Spilled_entries_reach_the_server_once_each()
    {
        using var dir = new Dir();
        using var server = new FakeMlflowServer();
        await using var tracker = MlflowTracker.Create(Options(server.Url, dir.Path, o =>
        {
            o.Batching.MaxQueueEntries = 50;
            o.Batching.QueueFullPolicy = QueueFullPolicy.SpillToLocalStore;
        }));
        var run = tracker.StartRun("spill");
        for (var i = 0; i < 3000; i++)
        {
            run.LogMetric("m", i, i);
        }

        run.Dispose();
        Assert.That(tracker.Counters.Spilled, Is.GreaterThan(0));
        // Every point once; batches sent before the spill may overlap (two requests in flight), so history order is free.
        Assert.That(Points(server, server.SingleRun(), "m").Select(p => p.Step), Is.EquivalentTo(Enumerable.Range(0, 3000).Select(i => (long)i)));
        Assert.That(server.SingleRun().Status, Is.EqualTo("FINISHED"));
    }

    [Test]
    public void Throw_option_makes_an_unreachable_server_an_error()
    {
        using var dir = new Dir();
        using var server = new FakeMlflowServer();
        server.StopListening();
        using var tracker = MlflowTracker.Create(Options(server.Url, dir.Path, o => o.Offline.ThrowOnConnectivityFailure = true));
        var ex = Assert.Throws<MlflowException>(() => tracker.StartRun("r"));
        Assert.That(ex!.StatusCode, Is.Null);
        Assert.That(Directory.Exists(dir.Path), Is.False, "nothing written locally");
    }

    [Test]
    public void Offline_directory_comes_from_the_option_or_the_environment()
    {
        var env = EnvironmentReader.FromDictionary(new Dictionary<string, string> { [MlflowEnvironmentVariables.OfflineDir] = "/tmp/from-env" });
        Assert.That(new MlflowOfflineOptions().ResolveDirectory(env), Is.EqualTo(Path.GetFullPath("/tmp/from-env")));
        Assert.That(new MlflowOfflineOptions { Directory = "/tmp/from-option" }.ResolveDirectory(env), Is.EqualTo(Path.GetFullPath("/tmp/from-option")));
        var none = EnvironmentReader.FromDictionary(new Dictionary<string, string>());
        Assert.That(new MlflowOfflineOptions().ResolveDirectory(none), Is.EqualTo(LocalFileStore.ResolveRoot(null)));
    }
}
