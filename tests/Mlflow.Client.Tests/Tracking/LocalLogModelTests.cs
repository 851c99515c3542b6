using Mlflow.Client.FileStore;
using Mlflow.Client.Tests.Artifacts;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Tracking;

/// <summary>The tracker's LogModel on the local store: an MLflow 3 logged model in 3.11.1's layout, registered and downloaded through the local registry.</summary>
internal sealed class LocalLogModelTests
{
    private string _root = "";

    [SetUp]
    public void SetUp() => _root = Path.Combine(Directory.CreateTempSubdirectory("local-logmodel-").FullName, "mlruns");

    [TearDown]
    public void TearDown() => Directory.Delete(Path.GetDirectoryName(_root)!, recursive: true);

    private MlflowTracker NewTracker() => MlflowTracker.Create(new MlflowTrackerOptions { TrackingUri = _root, ExperimentName = "local-models" });

    [Test]
    public async Task LogModel_makes_a_READY_logged_model_with_the_runs_step_metrics_linked()
    {
        string runId, experimentId;
        LoggedModelInfo info;
        await using (var tracker = NewTracker())
        {
            await using var run = tracker.StartRun("trainer");
            runId = run.RunId;
            experimentId = run.ExperimentId;
            run.LogParam("lr", "0.1");
            run.LogMetric("acc", 0.75, step: 3);
            run.LogMetric("acc", 0.5, step: 1);
            info = run.LogModel("model", RunTablesModelsTests.TinyOnnx, new MlflowModelOptions { Step = 3, Params = new Dictionary<string, string> { ["depth"] = "4" }, Tags = new Dictionary<string, string> { ["team"] = "ml" } });
            run.LogMetric("auc", 0.9, info.ModelId!, MlflowDataset.Create("eval-set", "abcd1234", "/data/eval.csv"), step: 4);
        }

        Assert.That(info.ModelId, Does.Match("^m-[0-9a-f]{32}$"));
        Assert.That(info.ModelUri, Is.EqualTo("models:/" + info.ModelId));
        using var store = new LocalFileStore(_root);
        var model = store.GetLoggedModel(info.ModelId!);
        Assert.That((model.Info.Name, model.Info.Status, model.Info.SourceRunId, model.Info.ExperimentId), Is.EqualTo(("model", LoggedModelStatus.Ready, runId, experimentId)));
        Assert.That(model.Data.Params, Is.EquivalentTo(new[] { new Param("depth", "4"), new Param("lr", "0.1") }), "the run's params too, as Python's log_model");
        Assert.That(model.Info.Tags, Does.Contain(new Tag("team", "ml")).And.Contains(new Tag("mlflow.source.type", "LOCAL")));
        Assert.That(model.Data.Metrics.Select(m => (m.Key, m.Value, m.Step, m.RunId, m.DatasetName)),
            Is.EquivalentTo(new[] { ("acc", 0.75, 3L, runId, (string?)null), ("auc", 0.9, 4L, runId, "eval-set") }), "only the step's point is linked by LogModel");
        var stored = await store.GetRunAsync(runId, CancellationToken.None);
        Assert.That(stored.Outputs.ModelOutputs, Is.EqualTo(new[] { new ModelOutput(info.ModelId!, 3) }));
        Assert.That(stored.Data.Tags.Any(t => t.Key == "mlflow.log-model.history"), Is.False, "a logged model, not the MLflow 2 history tag");
        Assert.That(Directory.Exists(Path.Combine(store.ArtifactDirectory(runId), "model")), Is.False, "nothing under the run's artifacts");
        var files = store.LoggedModelArtifactDirectory(info.ModelId!);
        Assert.That(File.ReadAllBytes(Path.Combine(files, "model.onnx")), Is.EqualTo(File.ReadAllBytes(RunTablesModelsTests.TinyOnnx)));
        Assert.That(File.ReadAllText(Path.Combine(files, "MLmodel")), Does.Contain("model_id: " + info.ModelId + "\n").And.Contain("run_id: " + runId + "\n"));
        Assert.That(await store.GetMetricHistoryAsync(runId, "acc", CancellationToken.None), Has.Count.EqualTo(3), "the linked copy appended to the run's file, as Python does");
    }

    [Test]
    public async Task A_model_link_the_local_store_would_refuse_is_refused_on_the_callers_thread_not_at_flush()
    {
        await using var tracker = NewTracker();
        await using var run = tracker.StartRun("trainer");
        var spaced = MlflowDataset.Create("eval set", "abcd1234", "/data/eval.csv");

        var dataset = Assert.Throws<MlflowValidationException>(() => run.LogMetric("auc", 0.9, "m-0123456789abcdef0123456789abcdef", spaced))!;
        var model = Assert.Throws<MlflowValidationException>(() => run.LogMetric("auc", 0.9, "../m-1"))!;
        var many = Assert.Throws<MlflowValidationException>(() => run.LogMetrics([new("precision", 0.7)], "m-0123456789abcdef0123456789abcdef", spaced))!;

        Assert.That((dataset.Key, dataset.Subject), Is.EqualTo(("eval set", "dataset of metric auc")));
        Assert.That(dataset.Rule, Does.Contain("no spaces"));
        Assert.That((model.Key, model.Subject), Is.EqualTo(("../m-1", "model id of metric auc")));
        Assert.That(model.Rule, Does.Contain("one folder name"));
        Assert.That(many.Subject, Is.EqualTo("dataset of the metrics"));
        run.LogMetric("loss", 0.1);
        await run.FlushAsync();
        using var store = new LocalFileStore(_root);
        var stored = await store.GetRunAsync(run.RunId, CancellationToken.None);
        Assert.That(stored.Data.Metrics.Select(m => m.Key), Is.EqualTo(new[] { "loss" }), "nothing refused was queued, and the run still flushes");
    }

    [Test]
    public async Task The_run_path_registers_the_logged_model_and_its_version_downloads()
    {
        string runId;
        await using var tracker = NewTracker();
        await using (var run = tracker.StartRun("trainer"))
        {
            runId = run.RunId;
            run.LogModel("model", RunTablesModelsTests.TinyOnnx);
        }

        var version = tracker.Registry.RegisterModel(runId, "model", "clf");
        Assert.That(version.Source, Does.Match("^models:/m-[0-9a-f]{32}$"), "as Python 3.11.1 resolves runs:/<run>/model to the logged model");
        var target = Path.Combine(Path.GetDirectoryName(_root)!, "download");
        tracker.Registry.DownloadModel("models:/clf/1", target);
        Assert.That(File.ReadAllBytes(Path.Combine(target, "model.onnx")), Is.EqualTo(File.ReadAllBytes(RunTablesModelsTests.TinyOnnx)));
        var direct = Path.Combine(Path.GetDirectoryName(_root)!, "direct");
        tracker.Registry.DownloadModel(version.Source!, direct);
        Assert.That(File.Exists(Path.Combine(direct, "MLmodel")), Is.True);
    }

    [Test]
    public async Task A_model_that_cannot_be_read_is_finalized_FAILED_and_the_error_thrown()
    {
        await using var tracker = NewTracker();
        await using var run = tracker.StartRun("trainer");
        var folder = Directory.CreateTempSubdirectory("weights-");
        try
        {
            File.WriteAllBytes(Path.Combine(folder.FullName, "w.bin"), [1]);
            Assert.That(() => run.LogModel("model", folder.FullName, new MlflowModelOptions { Flavor = MlflowModelFlavor.Onnx }), Throws.ArgumentException);
        }
        finally
        {
            folder.Delete(recursive: true);
        }

        using var store = new LocalFileStore(_root);
        var model = store.ListLoggedModels(run.ExperimentId).Single();
        Assert.That(model.Info.Status, Is.EqualTo(LoggedModelStatus.UploadFailed));
    }
}
