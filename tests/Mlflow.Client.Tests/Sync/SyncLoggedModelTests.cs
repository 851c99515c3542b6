using System.Text;
using Mlflow.Client.FileStore;
using Mlflow.Client.Sync;
using Mlflow.Client.Tests.Artifacts;
using Mlflow.Client.Tests.Resilience;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Sync;

/// <summary>
/// A local run's MLflow 3 logged model pushed by sync to a stateful fake MLflow 3 server (on 127.0.0.1), file-like
/// (appends every point) and SQL-like (keeps identical points once, refuses two copies of a point with different model
/// links in one batch): created with its source tag before the run's metrics, linked as the run's output, its metric
/// points sent with its id, its files with an MLmodel naming the server model, finalized last; each exactly once when the
/// sync is repeated, loses the create's answer, is interrupted or loses its journal. A 2.x server keeps the stopgap.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.Children)]
[CancelAfter(120_000)]
internal sealed class SyncLoggedModelTests
{
    private const string SourceModelIdTag = "mlflow.dotnet.sourceModelId";
    private static readonly CancellationToken None = CancellationToken.None;

    private sealed class Ctx : IDisposable
    {
        private readonly Offline.OfflineFallbackTests.Dir _dir = new();

        public string Root => Path.Combine(_dir.Path, "mlruns");

        public string RunId { get; set; } = "";

        public string ModelId { get; set; } = "";

        public void Dispose() => _dir.Dispose();
    }

    private static SyncOptions Options(Ctx c, FakeMlflowServer server, ILoggerFactoryHolder? logs = null) => new()
    {
        WrapHandler = inner => new LostAnswerHandler(inner),
        From = c.Root,
        To = server.Url,
        LoggerFactory = logs?.Factory,
        Client = new MlflowClientOptions
        {
            RequestTimeout = TimeSpan.FromSeconds(10),
            Retry = { MaxRetries = 2, BackoffFactor = TimeSpan.FromMilliseconds(2), BackoffJitter = TimeSpan.Zero },
        },
    };

    private sealed class ILoggerFactoryHolder
    {
        public CapturingLoggerFactory Factory { get; } = new();
    }

    /// <summary>
    /// A finished local run (the tracker on a local store): param lr, acc at steps 3 and 1, a model logged at step 3 (so
    /// the run's acc point at step 3 is linked to it and its metric file holds that point twice), auc measured on the
    /// model with a dataset.
    /// </summary>
    private static async Task<Ctx> BuildAsync()
    {
        var c = new Ctx();
        await using var tracker = MlflowTracker.Create(new MlflowTrackerOptions { TrackingUri = c.Root, ExperimentName = "sync-models" });
        await using var run = tracker.StartRun("trainer");
        c.RunId = run.RunId;
        run.LogParam("lr", "0.1");
        run.LogMetric("acc", 0.75, step: 3);
        run.LogMetric("acc", 0.5, step: 1);
        var info = run.LogModel("model", RunTablesModelsTests.TinyOnnx, new MlflowModelOptions
        {
            Step = 3,
            ModelType = "classifier",
            Params = new Dictionary<string, string> { ["depth"] = "4" },
            Tags = new Dictionary<string, string> { ["team"] = "ml" },
        });
        c.ModelId = info.ModelId!;
        run.LogMetric("auc", 0.9, info.ModelId!, MlflowDataset.Create("eval-set", "abcd1234", "/data/eval.csv"), step: 4);
        return c;
    }

    private static FakeMlflowServer Mlflow3(bool sqlLike) => new(sqlLike) { Version = "3.11.1" };

    private static (double Value, long Step)[] RunPoints(FakeMlflowServer server, FakeRun run, string key)
        => Offline.OfflineFallbackTests.Points(server, run, key).Select(p => (p.Value, p.Step)).ToArray();

    private static (string Key, double Value, long Step, string RunId, string? Dataset, string? Digest)[] ModelPoints(FakeLoggedModel model)
        => model.Metrics.Select(m => (m.Key, m.Point.Value, m.Point.Step, m.RunId, m.DatasetName, m.DatasetDigest)).ToArray();

    /// <summary>What the run and the model must hold on the server after any number of syncs.</summary>
    private static void AssertPushedOnce(Ctx c, FakeMlflowServer server, bool sqlLike)
    {
        var run = server.RunBySource(c.RunId);
        Assert.That(server.LoggedModels, Has.Count.EqualTo(1), "one server model for the local one");
        var model = server.ModelBySource(c.ModelId);
        Assert.That((model.Name, model.ModelType, model.SourceRunId, model.Status, model.ExperimentId), Is.EqualTo(("model", "classifier", run.RunId, "LOGGED_MODEL_READY", run.ExperimentId)));
        Assert.That(model.Params, Is.EquivalentTo(new Dictionary<string, string> { ["depth"] = "4", ["lr"] = "0.1" }));
        Assert.That(model.Tags["team"], Is.EqualTo("ml"));
        Assert.That(run.Outputs, Is.EqualTo(new[] { (model.ModelId, 3L) }), "the run's output at the local step, once");

        // The run holds every line of its local metric files (a SQL store each distinct point once); the model holds
        // each line of its local metric file once, naming the server run.
        Assert.That(RunPoints(server, run, "acc"), Is.EquivalentTo(sqlLike ? new[] { (0.75, 3L), (0.5, 1L) } : [(0.75, 3L), (0.5, 1L), (0.75, 3L)]));
        Assert.That(RunPoints(server, run, "auc"), Is.EqualTo(new[] { (0.9, 4L) }));
        Assert.That(ModelPoints(model), Is.EquivalentTo(new[]
        {
            ("acc", 0.75, 3L, run.RunId, (string?)null, (string?)null),
            ("auc", 0.9, 4L, run.RunId, "eval-set", "abcd1234"),
        }));

        Assert.That(server.Artifacts[FakeMlflowServer.ModelArtifactKey(model.ModelId, "model.onnx")], Is.EqualTo(File.ReadAllBytes(RunTablesModelsTests.TinyOnnx)));
        var mlmodel = Encoding.UTF8.GetString(server.Artifacts[FakeMlflowServer.ModelArtifactKey(model.ModelId, "MLmodel")]);
        Assert.That(mlmodel, Does.Contain("\nmodel_id: " + model.ModelId + "\n").And.Contain("\nmodel_uuid: " + model.ModelId + "\n")
            .And.Contain("\nrun_id: " + run.RunId + "\n").And.StartWith("artifact_path: " + model.ArtifactUri + "\n"), mlmodel);
        Assert.That(mlmodel, Does.Not.Contain(c.ModelId).And.Not.Contain(c.RunId).And.Not.Contain("file:"), "nothing local is left in it");
        Assert.That(mlmodel, Does.Contain("loader_module: mlflow.onnx"), "the rest is kept");
        Assert.That(server.Artifacts.Keys.Where(k => k.StartsWith(run.RunId + "/", StringComparison.Ordinal)), Is.Empty, "nothing under the run's artifacts");
    }

    [TestCase(false)]
    [TestCase(true)]
    public async Task A_local_logged_model_arrives_once_as_a_READY_logged_model_of_the_pushed_run(bool sqlLike)
    {
        using var c = await BuildAsync();
        using var server = Mlflow3(sqlLike);

        var summary = await MlflowSync.SyncAsync(Options(c, server));

        Assert.That(summary.Complete, Is.True, string.Join(" | ", summary.Errors));
        Assert.That((summary.RunsCreated, summary.LoggedModelsSent), Is.EqualTo((1, 1)));
        AssertPushedOnce(c, server, sqlLike);
        var model = server.ModelBySource(c.ModelId);
        Assert.That(model.Tags[SourceModelIdTag], Is.EqualTo(c.ModelId));

        // Created and linked before any point goes (the points carry its id); finalized after its files, before the status.
        var order = server.Requests.Where(r => r.Contains("logged-models", StringComparison.Ordinal) || r.EndsWith("runs/outputs", StringComparison.Ordinal)
            || r.EndsWith("runs/log-batch", StringComparison.Ordinal) || r.EndsWith(" artifacts", StringComparison.Ordinal) || r.EndsWith("runs/update", StringComparison.Ordinal)).ToList();
        Assert.That(order.Take(3), Is.EqualTo(new[] { "POST logged-models/search", "POST logged-models", "POST runs/outputs" }), string.Join(", ", order));
        Assert.That(order.Skip(3).TakeWhile(r => r.EndsWith("runs/log-batch", StringComparison.Ordinal)).Count(), Is.GreaterThan(0));
        Assert.That(order.SkipWhile(r => !r.EndsWith(" artifacts", StringComparison.Ordinal)), Is.EqualTo(new[] { "PUT artifacts", "PUT artifacts", "PATCH logged-models/" + model.ModelId, "POST runs/update" }));

        var writes = server.Writes;
        var again = await MlflowSync.SyncAsync(Options(c, server));
        Assert.That((again.Complete, again.RunsUpToDate, again.LoggedModelsSent, again.MetricPointsSent, again.ArtifactsSent), Is.EqualTo((true, 1, 0, 0L, 0)));
        Assert.That(server.Writes, Is.EqualTo(writes), "a repeated sync sends nothing");
        Assert.That(server.Requests.Count(r => r.Contains("logged-models", StringComparison.Ordinal)), Is.EqualTo(3), "nor reads the model");
        AssertPushedOnce(c, server, sqlLike);
    }

    [Test]
    public async Task A_create_whose_answer_is_lost_is_found_by_its_source_tag_and_not_made_twice()
    {
        using var c = await BuildAsync();
        using var server = Mlflow3(sqlLike: false);
        server.DropAnswerOf("logged-models");

        var summary = await MlflowSync.SyncAsync(Options(c, server));

        Assert.That(summary.Complete, Is.True, string.Join(" | ", summary.Errors));
        Assert.That(server.FaultsHit, Is.EqualTo(1));
        Assert.That((server.Count("logged-models"), server.Count("logged-models/search")), Is.EqualTo((1, 2)), "one create; the search after it settled the lost answer");
        AssertPushedOnce(c, server, sqlLike: false);
    }

    [TestCase(false)]
    [TestCase(true)]
    public async Task A_sync_stopped_by_a_refused_upload_resumes_and_sends_each_thing_once(bool sqlLike)
    {
        using var c = await BuildAsync();
        using var server = Mlflow3(sqlLike);
        server.Answer("artifacts", 1, 400, body: """{"error_code": "INVALID_PARAMETER_VALUE", "message": "refused once"}""");

        var first = await MlflowSync.SyncAsync(Options(c, server));

        Assert.That(first.Complete, Is.False);
        Assert.That(first.Errors.Single(), Does.Contain("MLmodel").And.Contain(c.ModelId));
        var model = server.ModelBySource(c.ModelId);
        Assert.That(model.Status, Is.EqualTo("LOGGED_MODEL_PENDING"), "not finalized without all its files");
        Assert.That(server.RunBySource(c.RunId).Status, Is.EqualTo("RUNNING"), "nor the run's status sent");

        var second = await MlflowSync.SyncAsync(Options(c, server));

        Assert.That(second.Complete, Is.True, string.Join(" | ", second.Errors));
        Assert.That((second.RunsCreated, second.LoggedModelsSent, second.ArtifactsSent, second.MetricPointsSent), Is.EqualTo((0, 1, 1, 0L)), "only the refused file, then the finalize");
        Assert.That(server.Count("logged-models"), Is.EqualTo(1));
        AssertPushedOnce(c, server, sqlLike);
        Assert.That(server.RunBySource(c.RunId).Status, Is.EqualTo("FINISHED"));
    }

    [TestCase(false)]
    [TestCase(true)]
    public async Task Without_its_journal_a_sync_finds_the_model_by_its_tag_and_duplicates_nothing(bool sqlLike)
    {
        using var c = await BuildAsync();
        using var server = Mlflow3(sqlLike);
        Assert.That((await MlflowSync.SyncAsync(Options(c, server))).Complete, Is.True);
        foreach (var dir in Directory.GetDirectories(c.Root, SyncJournal.FolderName, SearchOption.AllDirectories))
        {
            Directory.Delete(dir, recursive: true);
        }

        var again = await MlflowSync.SyncAsync(Options(c, server));

        Assert.That(again.Complete, Is.True, string.Join(" | ", again.Errors));
        Assert.That((again.RunsCreated, server.Count("logged-models"), server.Count("runs/outputs")), Is.EqualTo((0, 1, 1)), "found by their tags: no second run, model or output");
        AssertPushedOnce(c, server, sqlLike);
    }

    [Test]
    public async Task On_a_2x_server_the_model_files_go_with_the_run_artifacts_and_no_logged_model_endpoint_is_called()
    {
        using var c = await BuildAsync();
        using var server = new FakeMlflowServer { Version = "2.12.2" };

        var summary = await MlflowSync.SyncAsync(Options(c, server));

        Assert.That(summary.Complete, Is.True, string.Join(" | ", summary.Errors));
        Assert.That((summary.LoggedModelsSent, summary.ArtifactsSent), Is.EqualTo((0, 2)));
        var run = server.RunBySource(c.RunId);
        Assert.That(server.Artifacts[run.RunId + "/model/model.onnx"], Is.EqualTo(File.ReadAllBytes(RunTablesModelsTests.TinyOnnx)));
        Assert.That(Encoding.UTF8.GetString(server.Artifacts[run.RunId + "/model/MLmodel"]), Does.Contain("model_id: " + c.ModelId), "the stopgap uploads the files as they are");
        Assert.That(server.Requests.Where(r => r.Contains("logged-models", StringComparison.Ordinal) || r.Contains("outputs", StringComparison.Ordinal)), Is.Empty);
        Assert.That(RunPoints(server, run, "acc"), Is.EquivalentTo(new[] { (0.75, 3L), (0.5, 1L), (0.75, 3L) }));
        var again = await MlflowSync.SyncAsync(Options(c, server));
        Assert.That((again.ArtifactsSent, again.MetricPointsSent, again.RunsUpToDate), Is.EqualTo((0, 0L, 1)));
    }

    [Test]
    public async Task A_PENDING_model_waits_with_a_message_and_a_FAILED_one_arrives_FAILED_without_files()
    {
        using var c = new Ctx();
        string pendingId, failedId;
        using (var store = new LocalFileStore(c.Root))
        {
            var experimentId = await store.CreateExperimentAsync("sync-models", null, null, None);
            c.RunId = (await store.CreateRunAsync(experimentId, "trainer", 1_765_000_000_000, null, "me", None)).Info.RunId;
            pendingId = store.CreateLoggedModel(experimentId, "half", null, c.RunId, [], []).Info.ModelId;
            failedId = store.CreateLoggedModel(experimentId, "broken", "clf", c.RunId, [new Param("p", "1")], []).Info.ModelId;
            store.LogOutputs(c.RunId, [new ModelOutput(failedId, 2), new ModelOutput(pendingId, 0)]);
            await store.LoggedModelArtifacts(failedId).WriteAsync("partial.bin", new MemoryStream([1, 2, 3]), None);
            store.FinalizeLoggedModel(failedId, LoggedModelStatus.UploadFailed);
            await store.UpdateRunAsync(c.RunId, RunStatus.Finished, 1_765_000_009_000, null, None);
        }

        using var server = Mlflow3(sqlLike: false);
        var logs = new ILoggerFactoryHolder();
        var first = await MlflowSync.SyncAsync(Options(c, server, logs));

        Assert.That(first.Complete, Is.True, string.Join(" | ", first.Errors));
        Assert.That(first.LoggedModelsSent, Is.EqualTo(1));
        var failed = server.ModelBySource(failedId);
        Assert.That((server.LoggedModels.Count, failed.Name, failed.Status), Is.EqualTo((1, "broken", "LOGGED_MODEL_UPLOAD_FAILED")));
        Assert.That(server.RunBySource(c.RunId).Outputs, Is.EqualTo(new[] { (failed.ModelId, 2L) }));
        Assert.That(server.Artifacts.Keys, Is.Empty, "the files of a failed LogModel are incomplete: none is uploaded");
        Assert.That(logs.Factory.Warnings.Single(w => w.Contains(pendingId, StringComparison.Ordinal)), Does.Contain("Pending"));

        using (var store = new LocalFileStore(c.Root))
        {
            store.FinalizeLoggedModel(pendingId, LoggedModelStatus.Ready);
        }

        var second = await MlflowSync.SyncAsync(Options(c, server));
        Assert.That((second.Complete, second.LoggedModelsSent), Is.EqualTo((true, 1)), string.Join(" | ", second.Errors));
        Assert.That(server.ModelBySource(pendingId).Status, Is.EqualTo("LOGGED_MODEL_READY"));
        Assert.That(server.RunBySource(c.RunId).Outputs, Is.EquivalentTo(new[] { (failed.ModelId, 2L), (server.ModelBySource(pendingId).ModelId, 0L) }));
        Assert.That(server.LoggedModels, Has.Count.EqualTo(2));
    }

    [Test]
    public async Task A_dry_run_counts_the_model_and_sends_nothing()
    {
        using var c = await BuildAsync();
        using var server = Mlflow3(sqlLike: false);

        var dry = await MlflowSync.SyncAsync(Options(c, server) with { DryRun = true });

        Assert.That((dry.LoggedModelsSent, dry.ArtifactsSent), Is.EqualTo((1, 0)));
        Assert.That(server.Requests, Is.Empty);
    }
}
