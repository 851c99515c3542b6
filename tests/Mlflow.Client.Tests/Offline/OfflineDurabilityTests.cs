using System.Net;
using Mlflow.Client.FileStore;
using Mlflow.Client.Offline;
using Mlflow.Client.Sync;
using Mlflow.Client.Tests.Sync;
using Mlflow.Client.Tests.Tracking;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Offline;

/// <summary>
/// What a process killed while offline leaves on disk is enough for a later sync: tag deletions made offline are kept in
/// the run's sync journal, not only in memory. A crash is simulated by copying the local store right after a flush
/// returned (what a kill -9 at that moment leaves) and syncing the copy; the live tracker never reaches the server.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.Children)]
[CancelAfter(120_000)]
internal sealed class OfflineDurabilityTests
{
    private const int Points = 100;

    /// <summary>The tracker's local store after a crash, and who the run is.</summary>
    private sealed record Crashed(string ServerRunId, string LocalRunId, string CopyRoot);

    /// <summary>
    /// A run sets tags online, goes offline (the server stops), runs <paramref name="offline"/> and logs points 1..Points,
    /// flushes; the store is then copied as a kill would leave it and the tracker is cut off from the server for good
    /// (<paramref name="killed"/>), so that nothing it does later (a drain, its disposal) can reach the server.
    /// </summary>
    private static async Task<Crashed> CrashOfflineAsync(FakeMlflowServer server, string dir, string copy, MlflowTracker tracker, CancellationTokenSource killed, Action<ActiveRun> online, Action<ActiveRun> offline)
    {
        var run = tracker.StartRun("crashed");
        online(run);
        run.LogMetric("m", 0, 0);
        await run.FlushAsync();
        Assert.That(run.IsOffline, Is.False);
        server.StopListening();
        offline(run);
        for (var i = 1; i <= Points; i++)
        {
            run.LogMetric("m", i, i);
        }

        await run.FlushAsync();
        Assert.That(run.IsOffline, Is.True);
        CopyTree(dir, copy); // what a kill -9 right now leaves on disk
        await killed.CancelAsync(); // before the server listens again: the "dead" tracker never reaches it
        FakeRun remote;
        lock (server.Runs)
        {
            remote = server.Runs[run.RunId];
        }

        return new Crashed(run.RunId, remote.Tags[OfflineMirror.ClientRunKeyTag], copy);
    }

    /// <summary>Tracker settings whose HTTP calls all fail as "connection refused" once <paramref name="killed"/> is cancelled.</summary>
    private static MlflowTrackerOptions Killable(string url, string dir, CancellationTokenSource killed)
        => OfflineFallbackTests.Options(url, dir, o =>
        {
            o.WrapHandler = inner => new KillSwitchHandler(new LostAnswerHandler(inner), killed.Token);
            o.Batching.ShutdownTimeout = TimeSpan.FromSeconds(1); // its disposal only waits for a server it cannot reach
        });

    private static void CopyTree(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var dir in Directory.EnumerateDirectories(from, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, dir)));
        }

        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            if (file.EndsWith(".lock", StringComparison.Ordinal))
            {
                continue; // held (exclusively) by a drain attempt; a killed process holds no lock anyway
            }

            try
            {
                File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)), overwrite: true);
            }
            catch (FileNotFoundException)
            {
                // a temp file renamed meanwhile: not part of the state
            }
        }
    }

    /// <summary>The one sync journal of a local run (the tracker and mlflow-sync name it alike for one server).</summary>
    private static string JournalFile(string root, string localRunId)
    {
        using var store = new LocalFileStore(root);
        var files = Directory.GetFiles(Path.Combine(store.GetRunDirectory(localRunId), SyncJournal.FolderName), "sync-*.json");
        Assert.That(files, Has.Length.EqualTo(1), "one journal: the tracker's and the sync's target keys agree");
        return files[0];
    }

    private static SyncOptions SyncTo(FakeMlflowServer server, string root, Func<HttpMessageHandler, HttpMessageHandler>? wrap = null) => new()
    {
        From = root,
        To = server.Url,
        Client = new MlflowClientOptions { RequestTimeout = TimeSpan.FromSeconds(10), Retry = { MaxRetries = 1, BackoffFactor = TimeSpan.FromMilliseconds(2), BackoffJitter = TimeSpan.Zero } },
        WrapHandler = wrap,
    };

    private static void AssertEveryPointOnce(FakeMlflowServer server, string serverRunId)
    {
        lock (server.Runs)
        {
            Assert.That(server.Runs[serverRunId].Metrics["m"].Select(p => p.Step), Is.EqualTo(Enumerable.Range(0, Points + 1).Select(i => (long)i)), "every point once, in order");
        }
    }

    private static Dictionary<string, string> ServerTags(FakeMlflowServer server, string serverRunId)
    {
        lock (server.Runs)
        {
            return new Dictionary<string, string>(server.Runs[serverRunId].Tags, StringComparer.Ordinal);
        }
    }

    [Test]
    public async Task Tag_deleted_offline_is_deleted_on_the_server_by_a_sync_after_a_crash()
    {
        using var dir = new OfflineFallbackTests.Dir();
        using var copy = new OfflineFallbackTests.Dir();
        using var server = new FakeMlflowServer();
        using var killed = new CancellationTokenSource();
        var tracker = MlflowTracker.Create(Killable(server.Url, dir.Path, killed));
        try
        {
            var crashed = await CrashOfflineAsync(server, dir.Path, copy.Path, tracker, killed,
                online: run => run.SetTag("t", "set online"),
                offline: run => run.DeleteTag("t"));
            Assert.That(ServerTags(server, crashed.ServerRunId)["t"], Is.EqualTo("set online"), "the server still has it while offline");
            Assert.That(SyncJournal.Load(JournalFile(copy.Path, crashed.LocalRunId)).TagDeletes, Is.EqualTo(new[] { "t" }), "the deletion is on disk, not only in memory");

            server.StartListening();
            var summary = await MlflowSync.SyncAsync(SyncTo(server, copy.Path));
            Assert.That(summary.Complete, Is.True, string.Join("; ", summary.Errors));
            Assert.That(summary.Runs.Single().ServerRunId, Is.EqualTo(crashed.ServerRunId));
            Assert.That(ServerTags(server, crashed.ServerRunId), Does.Not.ContainKey("t"));
            AssertEveryPointOnce(server, crashed.ServerRunId);
            Assert.That(server.Runs, Has.Count.EqualTo(1));
            Assert.That(SyncJournal.Load(JournalFile(copy.Path, crashed.LocalRunId)).TagDeletes, Is.Empty);

            // A second sync sends nothing.
            var writes = server.Writes;
            var again = await MlflowSync.SyncAsync(SyncTo(server, copy.Path));
            Assert.That(again.Runs.Select(r => r.Outcome), Is.EqualTo(new[] { SyncRunOutcome.UpToDate }));
            Assert.That(server.Writes, Is.EqualTo(writes));
            Assert.That(server.Count("runs/delete-tag"), Is.EqualTo(1));
        }
        finally
        {
            await tracker.DisposeAsync();
        }
    }

    [Test]
    public async Task Tag_deleted_then_set_again_offline_ends_with_the_new_value()
    {
        using var dir = new OfflineFallbackTests.Dir();
        using var copy = new OfflineFallbackTests.Dir();
        using var server = new FakeMlflowServer();
        using var killed = new CancellationTokenSource();
        var tracker = MlflowTracker.Create(Killable(server.Url, dir.Path, killed));
        try
        {
            var crashed = await CrashOfflineAsync(server, dir.Path, copy.Path, tracker, killed,
                online: run =>
                {
                    run.SetTag("t", "old");
                    run.SetTag("same", "v");
                },
                offline: run =>
                {
                    run.DeleteTag("t");
                    run.SetTag("t", "new");
                    run.DeleteTag("same");
                    run.SetTag("same", "v");
                });
            Assert.That(SyncJournal.Load(JournalFile(copy.Path, crashed.LocalRunId)).TagDeletes, Is.EquivalentTo(new[] { "t", "same" }));

            server.StartListening();
            var summary = await MlflowSync.SyncAsync(SyncTo(server, copy.Path));
            Assert.That(summary.Complete, Is.True, string.Join("; ", summary.Errors));
            var tags = ServerTags(server, crashed.ServerRunId);
            Assert.That(tags["t"], Is.EqualTo("new"));
            Assert.That(tags["same"], Is.EqualTo("v"));
            Assert.That(server.Count("runs/delete-tag"), Is.Zero, "a key set again is sent, not deleted");
            AssertEveryPointOnce(server, crashed.ServerRunId);
            Assert.That(SyncJournal.Load(JournalFile(copy.Path, crashed.LocalRunId)).TagDeletes, Is.Empty);

            var again = await MlflowSync.SyncAsync(SyncTo(server, copy.Path));
            Assert.That(again.Runs.Select(r => r.Outcome), Is.EqualTo(new[] { SyncRunOutcome.UpToDate }));
        }
        finally
        {
            await tracker.DisposeAsync();
        }
    }

    [TestCase(HttpStatusCode.ServiceUnavailable)]
    [TestCase(HttpStatusCode.Forbidden)]
    public async Task Refused_tag_deletion_stays_pending_and_fails_the_run_until_a_later_sync_applies_it(HttpStatusCode status)
    {
        using var dir = new OfflineFallbackTests.Dir();
        using var copy = new OfflineFallbackTests.Dir();
        using var server = new FakeMlflowServer();
        using var killed = new CancellationTokenSource();
        var tracker = MlflowTracker.Create(Killable(server.Url, dir.Path, killed));
        try
        {
            var crashed = await CrashOfflineAsync(server, dir.Path, copy.Path, tracker, killed,
                online: run => run.SetTag("t", "set online"),
                offline: run => run.DeleteTag("t"));
            server.StartListening();

            var refused = await MlflowSync.SyncAsync(SyncTo(server, copy.Path, inner => new RefuseDeleteTagHandler(inner, status)));
            Assert.That(refused.Runs.Single().Outcome, Is.EqualTo(SyncRunOutcome.Failed));
            Assert.That(refused.Complete, Is.False);
            Assert.That(ServerTags(server, crashed.ServerRunId)["t"], Is.EqualTo("set online"));
            Assert.That(SyncJournal.Load(JournalFile(copy.Path, crashed.LocalRunId)).TagDeletes, Is.EqualTo(new[] { "t" }), "still pending");

            var summary = await MlflowSync.SyncAsync(SyncTo(server, copy.Path));
            Assert.That(summary.Complete, Is.True, string.Join("; ", summary.Errors));
            Assert.That(ServerTags(server, crashed.ServerRunId), Does.Not.ContainKey("t"));
            AssertEveryPointOnce(server, crashed.ServerRunId);
            Assert.That(SyncJournal.Load(JournalFile(copy.Path, crashed.LocalRunId)).TagDeletes, Is.Empty);
        }
        finally
        {
            await tracker.DisposeAsync();
        }
    }

    [Test]
    public async Task Tracker_drain_deletes_a_tag_deleted_offline_when_the_server_is_back()
    {
        using var dir = new OfflineFallbackTests.Dir();
        using var server = new FakeMlflowServer();
        await using var tracker = MlflowTracker.Create(OfflineFallbackTests.Options(server.Url, dir.Path));
        var run = tracker.StartRun("drained");
        run.SetTag("t", "set online");
        await run.FlushAsync();
        server.StopListening();
        run.DeleteTag("t");
        for (var i = 1; i <= Points; i++)
        {
            run.LogMetric("m", i, i);
        }

        await run.FlushAsync();
        Assert.That(run.IsOffline, Is.True);
        server.StartListening();
        Assert.That(TrackerTestSupport.WaitUntil(() => !run.IsOffline, 30), Is.True, "the tracker drained its local copy");
        Assert.That(ServerTags(server, run.RunId), Does.Not.ContainKey("t"));
        lock (server.Runs)
        {
            Assert.That(server.Runs[run.RunId].Metrics["m"].Select(p => p.Step), Is.EqualTo(Enumerable.Range(1, Points).Select(i => (long)i)));
        }

        var clientKey = ServerTags(server, run.RunId)[OfflineMirror.ClientRunKeyTag];
        Assert.That(SyncJournal.Load(JournalFile(dir.Path, clientKey)).TagDeletes, Is.Empty);
        run.Dispose();
        Assert.That(ServerTags(server, run.RunId), Does.Not.ContainKey("t"));
    }

    [Test]
    public async Task Flush_forces_the_params_tags_and_journal_written_offline_to_disk()
    {
        using var dir = new OfflineFallbackTests.Dir();
        using var server = new FakeMlflowServer();
        server.StopListening();
        // No periodic durable write: only the flush forces anything.
        await using var tracker = MlflowTracker.Create(OfflineFallbackTests.Options(server.Url, dir.Path, o => o.Offline.DurableWriteInterval = TimeSpan.FromHours(1)));
        var run = tracker.StartRun("durable");
        var store = tracker.Offline!.Store;
        var flushed = new System.Collections.Concurrent.ConcurrentBag<string>();
        store.FileFlushedToDisk = flushed.Add;
        run.LogParam("p", "1");
        run.SetTag("t", "x");
        run.DeleteTag("never-set");
        await run.FlushAsync();
        Assert.That(run.IsOffline, Is.True);
        Assert.That(store.FilesAwaitingFlushToDisk, Is.Empty, "everything written before the flush is on disk when it returns");
        var runDir = store.GetRunDirectory(run.RunId);
        Assert.That(flushed, Does.Contain(Path.Combine(runDir, "params", "p")).And.Contain(Path.Combine(runDir, "tags", "t")));
        Assert.That(flushed, Does.Contain(JournalFile(dir.Path, run.RunId)), "the journal holding the tag deletion");
    }

    [Test]
    public async Task A_forced_flush_waits_for_a_flush_already_running_on_another_thread()
    {
        using var dir = new OfflineFallbackTests.Dir();
        using var mirror = new OfflineMirror(dir.Path, new MlflowOfflineOptions { Directory = dir.Path }, null, false, "http://127.0.0.1:1/", Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        mirror.CreateLocalRun(Guid.NewGuid().ToString("N"), null, "exp", null, "r", 1_700_000_000_000, [], null);
        using var entered = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        mirror.Store.FileFlushedToDisk = _ =>
        {
            entered.Set();
            release.Wait(TimeSpan.FromSeconds(20));
        };
        var first = Task.Run(() => mirror.FlushToDisk(force: true)); // the sender's periodic flush, say
        Assert.That(entered.Wait(TimeSpan.FromSeconds(10)), Is.True);
        var second = Task.Run(() => mirror.FlushToDisk(force: true)); // a FlushAsync whose entries the first one covers
        await Task.Delay(300);
        Assert.That(second.IsCompleted, Is.False, "returned while the files were not on disk yet");
        release.Set();
        await Task.WhenAll(first, second).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.That(mirror.Store.FilesAwaitingFlushToDisk, Is.Empty);
    }

    [Test]
    public void Journal_of_an_older_version_without_tag_deletes_still_loads()
    {
        using var dir = new OfflineFallbackTests.Dir();
        Directory.CreateDirectory(dir.Path);
        var path = Path.Combine(dir.Path, "sync-old.json");
        File.WriteAllText(path, """
            {
              "version": 1,
              "target": "http://127.0.0.1:5000/",
              "server_experiment_id": "3",
              "server_run_id": "abc",
              "params": { "lr": "0011223344556677" },
              "tags": { "note": "8899AABBCCDDEEFF" },
              "metrics": { "loss": 42 },
              "inputs": [],
              "artifacts": {}
            }
            """);
        var old = SyncJournal.Load(path);
        Assert.That(old.ServerRunId, Is.EqualTo("abc"), "read, not started afresh");
        Assert.That(old.Metrics["loss"], Is.EqualTo(42));
        Assert.That(old.TagDeletes, Is.Not.Null.And.Empty);

        File.WriteAllText(path, """{ "version": 1, "server_run_id": "abc", "tag_deletes": null }""");
        Assert.That(SyncJournal.Load(path).TagDeletes, Is.Not.Null.And.Empty);

        old.TagDeletes.Add("t");
        old.Save(path);
        Assert.That(File.ReadAllText(path), Does.Contain("\"tag_deletes\""));
        var reloaded = SyncJournal.Load(path);
        Assert.That(reloaded.TagDeletes, Is.EqualTo(new[] { "t" }));
        Assert.That(reloaded.ServerRunId, Is.EqualTo("abc"));
    }

    /// <summary>The process is dead once <paramref name="killed"/> is cancelled: every request fails as if no server listened.</summary>
    private sealed class KillSwitchHandler(HttpMessageHandler inner, CancellationToken killed) : DelegatingHandler(inner)
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
            => killed.IsCancellationRequested
                ? throw new HttpRequestException(HttpRequestError.ConnectionError, "Connection refused (the test killed this tracker).")
                : base.SendAsync(request, cancellationToken);
    }

    /// <summary>Answers every <c>runs/delete-tag</c> with <paramref name="status"/> without sending it (nothing is applied).</summary>
    private sealed class RefuseDeleteTagHandler(HttpMessageHandler inner, HttpStatusCode status) : DelegatingHandler(inner)
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.RequestUri!.AbsolutePath.EndsWith("/runs/delete-tag", StringComparison.Ordinal))
            {
                var code = status == HttpStatusCode.Forbidden ? "PERMISSION_DENIED" : "TEMPORARILY_UNAVAILABLE";
                return Task.FromResult(new HttpResponseMessage(status)
                {
                    Content = new StringContent($$"""{"error_code":"{{code}}","message":"refused by the test"}""", System.Text.Encoding.UTF8, "application/json"),
                    RequestMessage = request,
                });
            }

            return base.SendAsync(request, cancellationToken);
        }
    }
}
