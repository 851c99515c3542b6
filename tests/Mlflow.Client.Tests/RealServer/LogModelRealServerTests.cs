using Mlflow.Client.Tests.Artifacts;
using NUnit.Framework;

namespace Mlflow.Client.Tests.RealServer;

/// <summary>
/// <see cref="ActiveRun.LogModel"/> through the tracker against a real server (<c>MLFLOW_TEST_TRACKING_URI</c>; ignored
/// otherwise). On an MLflow 3 server (verified on 3.11.1, sqlite and file) the model is a logged model: READY, the run
/// its source and output, metrics linked, its files under its own location, registered by its run path. On a 2.x server
/// (verified on 2.12.2) the model is run artifacts with the history tag, as before.
/// </summary>
[TestFixture]
[Category("RealServer")]
[NonParallelizable]
public class LogModelRealServerTests : RealServerClientTest
{
    private string? _work;

    protected override string PrefixStem => "dotnet-logmodel-";

    [SetUp]
    public void CreateWorkFolder() => _work = Directory.CreateTempSubdirectory("logmodel-real-").FullName;

    [TearDown]
    public void DeleteWorkFolder()
    {
        if (_work is not null) // null when the base SetUp skipped the test (no server)
        {
            Directory.Delete(_work, recursive: true);
        }
    }

    [Test]
    [CancelAfter(300_000)]
    public async Task On_MLflow3_LogModel_is_a_ready_logged_model_of_the_run_with_linked_metrics_and_registers_by_run_path()
    {
        await RequireMlflow3Async("This test needs"); // the 2.x test covers older servers

        var dataset = MlflowDataset.Create("eval-set", "d1g35t", "/data/eval.csv");
        string runId;
        LoggedModelInfo info;
        await using (var tracker = MlflowTracker.Create(new MlflowTrackerOptions { TrackingUri = TrackingUri, ExperimentName = Prefix }))
        {
            await using (var run = await tracker.StartRunAsync("train"))
            {
                runId = run.RunId;
                run.LogParam("lr", "0.1");
                run.LogMetric("train_acc", 0.9); // step 0: linked to the model by LogModel, as in Python
                info = await run.LogModelAsync("model", RunTablesModelsTests.TinyOnnx, new MlflowModelOptions
                {
                    ModelType = "classifier",
                    Tags = new Dictionary<string, string> { ["team"] = "dotnet" },
                });
                run.LogMetric("f1", 0.8, info.ModelId!, dataset);
            }

            Assert.That(info.ModelId, Does.Match("^m-[0-9a-f]{32}$"));
            Assert.That(info.ModelUri, Is.EqualTo("models:/" + info.ModelId));
            TestContext.Progress.WriteLine($"logged model {info.ModelId} of run {runId} in experiment {Prefix}");

            var model = await Client.GetLoggedModelAsync(info.ModelId!);
            Assert.That(model.Info.Status, Is.EqualTo(LoggedModelStatus.Ready));
            Assert.That(model.Info.Name, Is.EqualTo("model"));
            Assert.That(model.Info.SourceRunId, Is.EqualTo(runId));
            Assert.That(model.Info.ModelType, Is.EqualTo("classifier"));
            Assert.That(model.Info.Tags, Does.Contain(new Tag("team", "dotnet")));
            Assert.That(model.Data.Params, Does.Contain(new Param("lr", "0.1")), "the run's params, as Python's log_model");
            Assert.That(model.Data.Metrics.Select(m => (m.Key, m.DatasetName)), Is.EquivalentTo(new[] { ("train_acc", (string?)null), ("f1", "eval-set") }));

            var serverRun = await Client.GetRunAsync(runId);
            Assert.That(serverRun.Outputs.ModelOutputs.Select(o => o.ModelId), Does.Contain(info.ModelId));
            Assert.That(await Client.ListArtifactsAsync(runId), Is.Empty, "no copy under the run's artifacts (MLflow 3.11.1)");
            Assert.That(serverRun.Data.Tags.Select(t => t.Key), Has.None.EqualTo("mlflow.log-model.history"));

            var downloaded = await tracker.Registry.DownloadModelAsync(info.ModelUri, Path.Combine(_work!, "by-id"));
            var mlmodel = await File.ReadAllTextAsync(Path.Combine(downloaded, "MLmodel"));
            Assert.That(mlmodel, Does.Contain("model_id: " + info.ModelId));
            Assert.That(new FileInfo(Path.Combine(downloaded, "model.onnx")).Length, Is.EqualTo(new FileInfo(RunTablesModelsTests.TinyOnnx).Length));

            var version = await tracker.Registry.RegisterModelAsync(runId, "model", Prefix);
            Assert.That(version.Source, Is.EqualTo("models:/" + info.ModelId));
            Assert.That(version.RunId, Is.EqualTo(runId));
            var byVersion = await tracker.Registry.DownloadModelAsync($"models:/{Prefix}/{version.Version}", Path.Combine(_work!, "by-version"));
            Assert.That(File.Exists(Path.Combine(byVersion, "model.onnx")), Is.True);

            var found = await Client.SearchLoggedModelsAsync([model.Info.ExperimentId]);
            Assert.That(found.Items.Select(m => m.Info.ModelId), Is.EqualTo(new[] { info.ModelId }));
        }
    }

    [Test]
    [CancelAfter(300_000)]
    public async Task On_MLflow2_LogModel_writes_run_artifacts_and_the_history_tag()
    {
        if ((await Client.GetServerInfoAsync()).SupportsLoggedModels)
        {
            Assert.Ignore($"Needs an MLflow 2 server; {TrackingUri} has logged models (the MLflow 3 test covers it).");
        }

        string runId;
        LoggedModelInfo info;
        await using (var tracker = MlflowTracker.Create(new MlflowTrackerOptions { TrackingUri = TrackingUri, ExperimentName = Prefix }))
        {
            await using (var run = await tracker.StartRunAsync("train"))
            {
                runId = run.RunId;
                info = run.LogModel("model", RunTablesModelsTests.TinyOnnx);
            }
        }

        Assert.That(info.ModelId, Is.Null);
        Assert.That(info.ModelUri, Is.EqualTo($"runs:/{runId}/model"));
        Assert.That((await Client.ListArtifactsAsync(runId, "model")).Select(a => a.Path), Is.EquivalentTo(new[] { "model/MLmodel", "model/model.onnx" }));
        Assert.That((await Client.GetRunAsync(runId)).Data.Tags.Single(t => t.Key == "mlflow.log-model.history").Value, Does.Contain(info.ModelUuid));
    }
}
