using System.Text;
using Mlflow.Client.FileStore;
using Mlflow.Client.Sync;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Sync;

/// <summary>Sync of a local store to a stateful fake server: exactly-once data across repeats, crashes and lost answers.</summary>
[TestFixture]
[Parallelizable(ParallelScope.Children)]
[CancelAfter(120_000)]
internal sealed class SyncTests
{
    internal const int BigPoints = 2_500;

    private sealed class Ctx : IDisposable
    {
        public string Parent { get; } = Path.Combine(Path.GetTempPath(), "mlflow-sync-tests", Guid.NewGuid().ToString("N"));
        public string Root => Path.Combine(Parent, "mlruns");
        public Dictionary<string, string> RunIds { get; } = [];

        public void Dispose()
        {
            try
            {
                Directory.Delete(Parent, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>A local store with a finished parent (params, tags, NaN/±Inf, steps, a 2500-point metric, artifacts) and a child.</summary>
    internal static async Task<Dictionary<string, string>> BuildStoreAsync(string root, string experimentName = "sync-exp", bool duplicateNan = false)
    {
        using var store = new LocalFileStore(root);
        var ct = CancellationToken.None;
        var exp = await store.CreateExperimentAsync(experimentName, null, [new Tag("team", "dotnet")], ct);
        var parent = await store.CreateRunAsync(exp, "parent-run", 1_700_000_000_000, [new Tag("mlflow.user", "alice"), new Tag("mlflow.source.type", "LOCAL")], "alice", ct);
        var pid = parent.Info.RunId;
        await store.LogBatchAsync(pid, [], [new Param("lr", "0.01"), new Param("layers", "3")], [new Tag("note", "multi\nline"), new Tag("nested/key", "v")], ct);
        var metrics = new List<Metric>
        {
            new("loss", 1.0, 1_700_000_000_100, 0),
            new("loss", 0.5, 1_700_000_000_200, 1),
            new("loss", 0.25, 1_700_000_000_300, 2),
            new("odd", double.NaN, 1_700_000_000_400, 0),
            new("odd", double.PositiveInfinity, 1_700_000_000_500, 1),
            new("odd", double.NegativeInfinity, 1_700_000_000_600, 2),
            new("nested/metric", -0.125, 1_700_000_000_700, -3),
        };
        if (duplicateNan)
        {
            metrics.Add(new("odd", double.NaN, 1_700_000_000_400, 0)); // a retried NaN point, as MLflow's FileStore keeps it
            metrics.Add(new("loss", 1.0, 1_700_000_000_100, 0));
        }

        await store.LogBatchAsync(pid, metrics, [], [], ct);
        for (var i = 0; i < BigPoints; i += 500)
        {
            await store.LogBatchAsync(pid, Enumerable.Range(i, 500).Select(s => new Metric("big", s * 0.001, 1_700_000_001_000 + s, s)).ToList(), [], [], ct);
        }

        await using (var a = new MemoryStream(Encoding.UTF8.GetBytes("summary text\n")))
        {
            await store.LogArtifactAsync(pid, "reports/summary.txt", a, ct);
        }

        await using (var b = new MemoryStream(Enumerable.Range(0, 70_000).Select(i => (byte)i).ToArray()))
        {
            await store.LogArtifactAsync(pid, "model/weights.bin", b, ct);
        }

        await store.UpdateRunAsync(pid, RunStatus.Finished, 1_700_000_009_000, null, ct);

        var child = await store.CreateRunAsync(exp, "child-run", 1_700_000_000_050, [new Tag("mlflow.parentRunId", pid)], "alice", ct);
        var cid = child.Info.RunId;
        await store.LogBatchAsync(cid, [new Metric("acc", 0.9, 1_700_000_002_000, 5)], [new Param("fold", "1")], [], ct);
        await store.UpdateRunAsync(cid, RunStatus.Failed, 1_700_000_003_000, null, ct);
        return new Dictionary<string, string> { ["parent"] = pid, ["child"] = cid, ["experiment"] = exp };
    }

    private static SyncOptions Options(Ctx c, FakeMlflowServer server, bool dryRun = false) => new()
    {
        WrapHandler = inner => new LostAnswerHandler(inner),
        From = c.Root,
        To = server.Url,
        DryRun = dryRun,
        // The HTTP layer keeps retrying what is provably not applied, with test-sized backoffs.
        Client = new MlflowClientOptions { RequestTimeout = TimeSpan.FromSeconds(10), Retry = { BackoffFactor = TimeSpan.FromMilliseconds(2), BackoffJitter = TimeSpan.Zero } },
    };

    /// <summary>Asserts the server holds exactly the local data of every run, once.</summary>
    internal static async Task AssertMirroredAsync(string root, FakeMlflowServer server)
    {
        using var store = new LocalFileStore(root);
        var experimentIds = (await store.SearchExperimentsAsync(new ExperimentSearchOptions(), null, CancellationToken.None)).Items.Select(e => e.ExperimentId).ToList();
        var runs = await store.SearchRunsAsync(new RunSearchOptions { ExperimentIds = experimentIds }, null, CancellationToken.None);
        Assert.That(server.Runs, Has.Count.EqualTo(runs.Items.Count), "one server run per local run");
        foreach (var local in runs.Items)
        {
            var remote = server.RunBySource(local.Info.RunId);
            Assert.That(remote.RunName, Is.EqualTo(local.Info.RunName));
            Assert.That(remote.StartTime, Is.EqualTo(local.Info.StartTime));
            Assert.That(remote.UserId, Is.EqualTo(local.Info.UserId));
            Assert.That(remote.Status, Is.EqualTo(local.Info.Status.ToString().ToUpperInvariant()));
            Assert.That(remote.EndTime, Is.EqualTo(local.Info.EndTime));
            Assert.That(remote.Params, Is.EquivalentTo(local.Data.Params.ToDictionary(p => p.Key, p => p.Value)));
            foreach (var tag in local.Data.Tags)
            {
                var expected = tag.Key == "mlflow.parentRunId" ? server.RunBySource(tag.Value).RunId : tag.Value;
                Assert.That(remote.Tags.GetValueOrDefault(tag.Key), Is.EqualTo(expected), "tag " + tag.Key);
            }

            var runDir = store.GetRunDirectory(local.Info.RunId);
            foreach (var metric in local.Data.Metrics)
            {
                var history = store.ReadMetricFile(Path.Combine(runDir, "metrics", metric.Key), metric.Key);
                var expected = history.Select(m => (m.Timestamp, m.Step, Norm(m.Value, server.Deduplicating))).ToList();
                if (server.Deduplicating)
                {
                    expected = expected.Distinct().ToList();
                }

                var actual = remote.Metrics[metric.Key].Select(p => (p.Timestamp, p.Step, Norm(p.Value, server.Deduplicating))).ToList();
                Assert.That(actual, Is.EquivalentTo(expected), "metric " + metric.Key + " holds every point exactly once");
            }

            Assert.That(remote.Metrics.Keys, Is.EquivalentTo(local.Data.Metrics.Select(m => m.Key)));
            var artifacts = Path.Combine(runDir, "artifacts");
            foreach (var file in Directory.EnumerateFiles(artifacts, "*", SearchOption.AllDirectories))
            {
                var rel = Path.GetRelativePath(artifacts, file).Replace('\\', '/');
                Assert.That(server.Artifacts[remote.RunId + "/" + rel], Is.EqualTo(File.ReadAllBytes(file)), "artifact " + rel);
            }
        }
    }

    private static string Norm(double v, bool sql) => double.IsNaN(v) ? "NaN" : sql && double.IsInfinity(v) ? (v > 0 ? double.MaxValue : double.MinValue).ToString("R", System.Globalization.CultureInfo.InvariantCulture) : v.ToString("R", System.Globalization.CultureInfo.InvariantCulture);

    [Test]
    public async Task Sync_SeveralRuns_ServerEndsWithExactlyTheLocalData([Values] bool sqlLike)
    {
        using var c = new Ctx();
        var ids = await BuildStoreAsync(c.Root);
        using var server = new FakeMlflowServer(deduplicating: sqlLike);
        var progress = new List<SyncProgress>();
        var summary = await MlflowSync.SyncAsync(Options(c, server), new SyncProgressSink(progress));

        Assert.That(summary.Errors, Is.Empty);
        Assert.That(summary.Complete, Is.True);
        Assert.That(summary.RunsCreated, Is.EqualTo(2));
        Assert.That(summary.ParamsSent, Is.EqualTo(3));
        Assert.That(summary.MetricPointsSent, Is.EqualTo(7 + BigPoints + 1));
        Assert.That(summary.ArtifactsSent, Is.EqualTo(2));
        Assert.That(summary.Runs.Select(r => r.LocalRunId), Is.EqualTo(new[] { ids["parent"], ids["child"] }), "parent first, although the child started earlier");
        await AssertMirroredAsync(c.Root, server);
        Assert.That(server.Experiments.Values.Count(e => e.Name == "sync-exp"), Is.EqualTo(1));
        Assert.That(server.RunBySource(ids["child"]).Tags["mlflow.parentRunId"], Is.EqualTo(server.RunBySource(ids["parent"]).RunId));
        Assert.That(server.Count("runs/log-batch"), Is.LessThanOrEqualTo(12), "batched: 2500+ points in a few requests");
        Assert.That(progress.Select(p => p.Phase), Does.Contain(SyncPhase.Metrics).And.Contain(SyncPhase.Done));
        // the journal lives in the run folder, outside what MLflow reads
        Assert.That(Directory.GetFiles(Path.Combine(c.Root, ids["experiment"], ids["parent"], ".mlflow-dotnet"), "sync-*.json"), Has.Length.EqualTo(1));
    }

    [Test]
    public async Task A_local_logged_models_files_reach_the_server_as_the_runs_artifacts_once()
    {
        using var c = new Ctx();
        string runId;
        LoggedModelInfo info;
        await using (var tracker = MlflowTracker.Create(new MlflowTrackerOptions { TrackingUri = c.Root, ExperimentName = "sync-models" }))
        {
            await using var run = tracker.StartRun("trainer");
            runId = run.RunId;
            run.LogMetric("acc", 0.5);
            info = run.LogModel("model", Artifacts.RunTablesModelsTests.TinyOnnx);
        }

        using var server = new FakeMlflowServer();
        var first = await MlflowSync.SyncAsync(Options(c, server));
        Assert.That(first.Errors, Is.Empty);
        var remote = server.RunBySource(runId);
        Assert.That(server.Artifacts[remote.RunId + "/model/model.onnx"], Is.EqualTo(File.ReadAllBytes(Artifacts.RunTablesModelsTests.TinyOnnx)));
        Assert.That(System.Text.Encoding.UTF8.GetString(server.Artifacts[remote.RunId + "/model/MLmodel"]), Does.Contain("model_id: " + info.ModelId));
        Assert.That(first.ArtifactsSent, Is.EqualTo(2));

        var second = await MlflowSync.SyncAsync(Options(c, server));
        Assert.That(second.ArtifactsSent + second.MetricPointsSent, Is.Zero, "sent once");
    }

    [Test]
    public async Task SyncTwice_SecondSendsNothing_AndCreatesNoSecondRun()
    {
        using var c = new Ctx();
        await BuildStoreAsync(c.Root);
        using var server = new FakeMlflowServer();
        await MlflowSync.SyncAsync(Options(c, server));
        var writes = server.Writes;

        var second = await MlflowSync.SyncAsync(Options(c, server));

        Assert.That(second.RunsUpToDate, Is.EqualTo(2));
        Assert.That(second.MetricPointsSent + second.ParamsSent + second.TagsSent + second.ArtifactsSent, Is.Zero);
        Assert.That(server.Writes, Is.EqualTo(writes), "no write request at all");
        Assert.That(server.Runs, Has.Count.EqualTo(2));
        await AssertMirroredAsync(c.Root, server);
    }

    [Test]
    public async Task NewLocalData_AfterSync_OnlyTheRestIsSent()
    {
        using var c = new Ctx();
        var ids = await BuildStoreAsync(c.Root);
        using var server = new FakeMlflowServer();
        await MlflowSync.SyncAsync(Options(c, server));
        using (var store = new LocalFileStore(c.Root))
        {
            await store.LogBatchAsync(ids["child"], [new Metric("acc", 0.95, 1_700_000_004_000, 6)], [new Param("extra", "x")], [new Tag("late", "yes")], CancellationToken.None);
        }

        var again = await MlflowSync.SyncAsync(Options(c, server));

        Assert.That(again.RunsResumed, Is.EqualTo(1));
        Assert.That(again.RunsUpToDate, Is.EqualTo(1));
        Assert.That((again.MetricPointsSent, again.ParamsSent, again.TagsSent), Is.EqualTo((1L, 1, 1)));
        await AssertMirroredAsync(c.Root, server);
    }

    [Test]
    public async Task CancelledHalfway_ThenSyncedAgain_NoDuplicates([Values(1, 2, 3)] int batchesBeforeCancel)
    {
        using var c = new Ctx();
        await BuildStoreAsync(c.Root);
        using var server = new FakeMlflowServer(); // appending: a blind re-send would duplicate points
        using var cts = new CancellationTokenSource();
        var batches = 0;
        // Cancel while the batch is applied but before its answer: the worst case (outcome unknown to the client).
        server.OnApplied = endpoint =>
        {
            if (endpoint == "runs/log-batch" && ++batches == batchesBeforeCancel + 2)
            {
                cts.Cancel();
            }
        };
        var options = Options(c, server) with { MetricBatchSize = 400 }; // two in flight: at most 5 of 7 batches land before the cancel

        Assert.That(async () => await MlflowSync.SyncAsync(options, null, cts.Token), Throws.InstanceOf<OperationCanceledException>());
        Assert.That(server.SingleRun().Metrics.Values.Sum(v => v.Count), Is.GreaterThan(0).And.LessThan(BigPoints), "stopped halfway");
        server.OnApplied = null;

        var resumed = await MlflowSync.SyncAsync(options);

        Assert.That(resumed.Complete, Is.True, string.Join("; ", resumed.Errors));
        Assert.That(resumed.RunsResumed, Is.EqualTo(1));
        Assert.That(resumed.RunsCreated, Is.EqualTo(1));
        await AssertMirroredAsync(c.Root, server);
    }

    [Test]
    public async Task LostAnswerOfRunsCreate_OneRunOnly()
    {
        using var c = new Ctx();
        await BuildStoreAsync(c.Root);
        using var server = new FakeMlflowServer();
        server.DropAnswerOf("runs/create", 1);

        var summary = await MlflowSync.SyncAsync(Options(c, server));

        Assert.That(summary.Complete, Is.True, string.Join("; ", summary.Errors));
        Assert.That(server.Count("runs/create"), Is.EqualTo(2), "the parent's create was applied once and answered never; the child's once");
        Assert.That(server.Runs, Has.Count.EqualTo(2));
        await AssertMirroredAsync(c.Root, server);
    }

    [Test]
    public async Task LostAnswerOfLogBatch_NoDuplicatePoints([Values] bool sqlLike, [Values(0, 504)] int fault)
    {
        using var c = new Ctx();
        await BuildStoreAsync(c.Root, duplicateNan: true);
        using var server = new FakeMlflowServer(deduplicating: sqlLike);
        // params batch = 1, tags = 2, metrics from 3 on
        if (fault == 0)
        {
            server.DropAnswerOf("runs/log-batch", 3);
            server.DropAnswerOf("runs/log-batch", 5);
        }
        else
        {
            server.ApplyThenFail("runs/log-batch", 3, fault);
            server.ApplyThenFail("runs/log-batch", 5, fault);
        }

        var summary = await MlflowSync.SyncAsync(Options(c, server));

        Assert.That(summary.Complete, Is.True, string.Join("; ", summary.Errors));
        Assert.That(server.Count("metrics/get-history"), Is.GreaterThan(0), "the server's history was consulted");
        await AssertMirroredAsync(c.Root, server);
    }

    [Test]
    public async Task DuplicateNanLine_OnSqlLikeServer_IsNotAFailure()
    {
        using var c = new Ctx();
        await BuildStoreAsync(c.Root, duplicateNan: true);
        using var server = new FakeMlflowServer(deduplicating: true);

        var summary = await MlflowSync.SyncAsync(Options(c, server));

        Assert.That(summary.Complete, Is.True, string.Join("; ", summary.Errors));
        await AssertMirroredAsync(c.Root, server);
        Assert.That((await MlflowSync.SyncAsync(Options(c, server))).RunsUpToDate, Is.EqualTo(2));
    }

    [Test]
    public async Task JournalLost_RunFoundByItsSourceTag_AndReconciled()
    {
        using var c = new Ctx();
        var ids = await BuildStoreAsync(c.Root);
        using var server = new FakeMlflowServer();
        await MlflowSync.SyncAsync(Options(c, server));
        foreach (var dir in Directory.GetDirectories(c.Root, ".mlflow-dotnet", SearchOption.AllDirectories))
        {
            Directory.Delete(dir, recursive: true);
        }

        var again = await MlflowSync.SyncAsync(Options(c, server));

        Assert.That(again.Complete, Is.True, string.Join("; ", again.Errors));
        Assert.That(again.RunsCreated, Is.Zero);
        Assert.That(again.MetricPointsSent, Is.Zero, "every point was found in the server's history");
        Assert.That(server.Runs, Has.Count.EqualTo(2));
        await AssertMirroredAsync(c.Root, server);
        Assert.That(again.Runs.Single(r => r.LocalRunId == ids["parent"]).ServerRunId, Is.EqualTo(server.RunBySource(ids["parent"]).RunId));
    }

    [Test]
    public async Task DryRun_SendsNothing_AndCountsWhatWouldGo()
    {
        using var c = new Ctx();
        await BuildStoreAsync(c.Root);
        using var server = new FakeMlflowServer();

        var summary = await MlflowSync.SyncAsync(Options(c, server, dryRun: true));

        Assert.That(server.Requests, Is.Empty, "a dry run does not contact the server");
        Assert.That(summary.DryRun, Is.True);
        Assert.That(summary.RunsCreated, Is.EqualTo(2));
        Assert.That(summary.MetricPointsSent, Is.EqualTo(7 + BigPoints + 1));
        Assert.That(summary.ArtifactsSent, Is.EqualTo(2));

        await MlflowSync.SyncAsync(Options(c, server));
        var after = await MlflowSync.SyncAsync(Options(c, server, dryRun: true));
        Assert.That(after.RunsUpToDate, Is.EqualTo(2), "a dry run after a sync reads the journals");
    }

    [Test]
    public async Task DeletedServerExperiment_IsNotRestored_RunsFailClearly()
    {
        using var c = new Ctx();
        await BuildStoreAsync(c.Root);
        using var server = new FakeMlflowServer();
        server.Experiments["7"] = new FakeExperiment("7", "sync-exp") { Deleted = true };

        var summary = await MlflowSync.SyncAsync(Options(c, server));

        Assert.That(summary.RunsFailed, Is.EqualTo(2));
        Assert.That(summary.Complete, Is.False);
        Assert.That(summary.Errors[0], Does.Contain("is deleted").And.Contain("restore"));
        Assert.That(server.Runs, Is.Empty);
        Assert.That(server.Experiments["7"].Deleted, Is.True);
    }

    [Test]
    public async Task NonProxiedArtifactStore_ArtifactsReportedSkipped()
    {
        using var c = new Ctx();
        await BuildStoreAsync(c.Root);
        using var server = new FakeMlflowServer { ProxiedArtifacts = false };

        var summary = await MlflowSync.SyncAsync(Options(c, server));

        Assert.That(summary.ArtifactsSkipped, Is.EqualTo(2));
        Assert.That(summary.Complete, Is.False, "not everything was sent");
        Assert.That(summary.RunsFailed, Is.Zero);
        Assert.That(summary.Runs[0].ArtifactsSkippedReason, Does.Contain("'s3:'").And.Contain("--serve-artifacts"));
        Assert.That(server.Artifacts, Is.Empty);
    }

    [Test]
    public async Task LocalFolderArtifactStore_ArtifactsAreWrittenThere()
    {
        // A server started as the tutorial starts it (--default-artifact-root ./mlruns, no proxy) on this machine: the
        // tracker writes a run's files straight into that folder, and so does the sync.
        using var c = new Ctx();
        await BuildStoreAsync(c.Root);
        var serverArtifacts = Path.Combine(Path.GetDirectoryName(c.Root)!, "server-artifacts");
        using var server = new FakeMlflowServer { LocalArtifactRoot = serverArtifacts };

        var summary = await MlflowSync.SyncAsync(Options(c, server));

        Assert.That(summary.Complete, Is.True, string.Join("; ", summary.Errors));
        Assert.That(summary.ArtifactsSkipped, Is.Zero);
        Assert.That(summary.ArtifactsSent, Is.EqualTo(2));
        var written = Directory.EnumerateFiles(serverArtifacts, "*", SearchOption.AllDirectories).ToList();
        Assert.That(written, Has.Count.EqualTo(2));
        Assert.That((await MlflowSync.SyncAsync(Options(c, server))).ArtifactsSent, Is.Zero, "sent once");
    }

    [Test]
    public async Task RunFilter_SyncsTheRunAndItsParent()
    {
        using var c = new Ctx();
        var ids = await BuildStoreAsync(c.Root);
        using (var store = new LocalFileStore(c.Root))
        {
            await store.CreateRunAsync(ids["experiment"], "other", 1_700_000_000_000, null, "bob", CancellationToken.None);
        }

        using var server = new FakeMlflowServer();
        var summary = await MlflowSync.SyncAsync(Options(c, server) with { RunId = ids["child"] });

        Assert.That(summary.Runs.Select(r => r.LocalRunId), Is.EqualTo(new[] { ids["parent"], ids["child"] }));
        Assert.That(server.Runs, Has.Count.EqualTo(2));
    }

    [Test]
    public async Task UnreachableServer_FailsFast_WithoutCredentialsInErrors()
    {
        using var c = new Ctx();
        await BuildStoreAsync(c.Root);
        int port;
        using (var server = new FakeMlflowServer())
        {
            port = new Uri(server.Url).Port;
        }

        var summary = await MlflowSync.SyncAsync(new SyncOptions
        {
            From = c.Root,
            To = $"http://127.0.0.1:{port}",
            Client = new MlflowClientOptions { Username = "user", Password = "s3cret-pw", RequestTimeout = TimeSpan.FromSeconds(2), Retry = { BackoffFactor = TimeSpan.FromMilliseconds(2), BackoffJitter = TimeSpan.Zero } },
        });

        Assert.That(summary.RunsFailed, Is.EqualTo(2));
        Assert.That(summary.Errors.Any(e => e.Contains("did not answer", StringComparison.Ordinal)), Is.True);
        Assert.That(string.Join("\n", summary.Errors), Does.Not.Contain("s3cret-pw"));
    }

    private sealed class SyncProgressSink(List<SyncProgress> sink) : IProgress<SyncProgress>
    {
        public void Report(SyncProgress value)
        {
            lock (sink)
            {
                sink.Add(value);
            }
        }
    }
}
