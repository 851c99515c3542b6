using Mlflow.Client.FileStore;
using Mlflow.Client.Tests.Artifacts;
using Mlflow.Client.Tests.Sync;
using Mlflow.Client.Tests.Tracking;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Offline;

/// <summary>
/// <see cref="ActiveRun.LogModel"/> on a run kept offline: a logged model in the run's offline copy (MLflow 3.11.1's
/// layout, as the local store makes it), which the drain pushes to an MLflow 3 server as a logged model of the server
/// run; the MLflow 2 way when the tracker already knows the server is 2.x.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.Children)]
[CancelAfter(120_000)]
internal sealed class OfflineLogModelTests
{
    [Test]
    public async Task A_run_started_offline_keeps_a_logged_model_in_its_copy_and_the_drain_pushes_it_as_one()
    {
        using var dir = new OfflineFallbackTests.Dir();
        var offlineRoot = Path.Combine(dir.Path, "offline");
        using var server = new FakeMlflowServer { Version = "3.11.1" };
        server.StopListening();
        await using var tracker = MlflowTracker.Create(OfflineFallbackTests.Options(server.Url, offlineRoot));
        var run = await tracker.StartRunAsync("offline-model");
        Assert.That(run.IsOffline, Is.True);
        run.LogParam("lr", "0.1");
        run.LogMetric("acc", 0.8, step: 2);
        var info = run.LogModel("model", RunTablesModelsTests.TinyOnnx, new MlflowModelOptions { Step = 2, ModelType = "classifier" });

        Assert.That(info.ModelId, Does.Match("^m-[0-9a-f]{32}$"));
        Assert.That(info.ModelUri, Is.EqualTo("models:/" + info.ModelId));
        using (var copy = new LocalFileStore(offlineRoot))
        {
            // The copy holds the model as the local store makes it: READY, the local run its source and output, its
            // files under the model, the run's point at its step linked; nothing under the run's artifacts.
            var local = copy.GetRunWithoutMetrics(run.RunId);
            var model = copy.ListLoggedModels(local.Info.ExperimentId).Single();
            Assert.That((model.Info.ModelId, model.Info.Status, model.Info.SourceRunId, model.Info.ModelType), Is.EqualTo((info.ModelId, LoggedModelStatus.Ready, run.RunId, "classifier")));
            Assert.That(model.Data.Params, Does.Contain(new Param("lr", "0.1")));
            Assert.That(local.Outputs.ModelOutputs, Is.EqualTo(new[] { new ModelOutput(info.ModelId!, 2) }));
            var files = copy.LoggedModelArtifactDirectory(info.ModelId!);
            Assert.That(Directory.GetFiles(files).Select(Path.GetFileName).Order(StringComparer.Ordinal), Is.EqualTo(new[] { "MLmodel", "model.onnx" }));
            Assert.That(Directory.Exists(Path.Combine(copy.ArtifactDirectory(run.RunId), "model")), Is.False);
            Assert.That(local.Data.Tags.Any(t => t.Key == "mlflow.log-model.history"), Is.False);
            Assert.That(copy.ReadLoggedModelMetricLines(info.ModelId!)["acc"].Select(m => (m.Value, m.Step, m.RunId)), Is.EqualTo(new[] { (0.8, 2L, (string?)run.RunId) }));
        }

        server.StartListening();
        Assert.That(TrackerTestSupport.WaitUntil(() => server.LoggedModels.Values.Any(m => m.Status == "LOGGED_MODEL_READY") && run.ServerRunId is not null, 30), Is.True, "drained");
        await run.DisposeAsync();
        var onServer = server.RunBySource(run.RunId);
        var pushed = server.ModelBySource(info.ModelId!);
        Assert.That((server.LoggedModels.Count, pushed.Name, pushed.SourceRunId, pushed.ModelType), Is.EqualTo((1, "model", onServer.RunId, "classifier")));
        Assert.That(onServer.Outputs, Is.EqualTo(new[] { (pushed.ModelId, 2L) }));
        Assert.That(pushed.Metrics.Select(m => (m.Key, m.Point.Value, m.Point.Step, m.RunId)), Is.EqualTo(new[] { ("acc", 0.8, 2L, onServer.RunId) }));
        Assert.That(OfflineFallbackTests.Points(server, onServer, "acc").Select(p => (p.Value, p.Step)), Is.EqualTo(new[] { (0.8, 2L), (0.8, 2L) }), "the run's point and its linked copy, as the local store holds them");
        Assert.That(server.Artifacts[FakeMlflowServer.ModelArtifactKey(pushed.ModelId, "model.onnx")], Is.EqualTo(File.ReadAllBytes(RunTablesModelsTests.TinyOnnx)));
        Assert.That(System.Text.Encoding.UTF8.GetString(server.Artifacts[FakeMlflowServer.ModelArtifactKey(pushed.ModelId, "MLmodel")]), Does.Contain("model_id: " + pushed.ModelId + "\n").And.Contain("run_id: " + onServer.RunId + "\n"));
        Assert.That(onServer.Tags.ContainsKey("mlflow.log-model.history"), Is.False);
    }

    [Test]
    public async Task A_run_gone_offline_mid_run_gets_its_model_pushed_to_its_server_run()
    {
        using var dir = new OfflineFallbackTests.Dir();
        using var server = new FakeMlflowServer { Version = "3.11.1" };
        await using var tracker = MlflowTracker.Create(OfflineFallbackTests.Options(server.Url, Path.Combine(dir.Path, "offline")));
        var run = await tracker.StartRunAsync("mid-run");
        run.LogMetric("acc", 0.5, step: 1);
        await run.FlushAsync();
        server.StopListening();
        run.LogMetric("acc", 0.7, step: 2);
        await run.FlushAsync();
        Assert.That(TrackerTestSupport.WaitUntil(() => run.IsOffline, 10), Is.True, "the run noticed the outage");

        var info = run.LogModel("model", RunTablesModelsTests.TinyOnnx, new MlflowModelOptions { Step = 2 });

        server.StartListening();
        Assert.That(TrackerTestSupport.WaitUntil(() => server.LoggedModels.Values.Any(m => m.Status == "LOGGED_MODEL_READY"), 30), Is.True, "drained");
        await run.DisposeAsync();
        var onServer = server.Runs[run.RunId];
        Assert.That(server.Runs, Has.Count.EqualTo(1), "the copy was pushed to the run's server run");
        var pushed = server.ModelBySource(info.ModelId!);
        Assert.That((server.LoggedModels.Count, pushed.SourceRunId), Is.EqualTo((1, run.RunId)));
        Assert.That(onServer.Outputs, Is.EqualTo(new[] { (pushed.ModelId, 2L) }));
        Assert.That(pushed.Metrics.Select(m => (m.Key, m.Point.Value, m.Point.Step, m.RunId)), Is.EqualTo(new[] { ("acc", 0.7, 2L, run.RunId) }),
            "the copy's point at the model's step is linked (points the server had before the outage are not in the copy)");
        Assert.That(OfflineFallbackTests.Points(server, onServer, "acc").Select(p => (p.Value, p.Step)), Is.EquivalentTo(new[] { (0.5, 1L), (0.7, 2L), (0.7, 2L) }));
        Assert.That(server.Count("logged-models"), Is.EqualTo(1));
    }

    [Test]
    public async Task A_run_offline_from_a_server_known_to_be_2x_logs_its_model_the_MLflow_2_way()
    {
        using var dir = new OfflineFallbackTests.Dir();
        using var server = new FakeMlflowServer { Version = "2.12.2" };
        await using var tracker = MlflowTracker.Create(OfflineFallbackTests.Options(server.Url, Path.Combine(dir.Path, "offline")));
        var run = await tracker.StartRunAsync("on-2x");
        var online = run.LogModel("first", RunTablesModelsTests.TinyOnnx); // the tracker learns the server's version here
        Assert.That(online.ModelId, Is.Null);
        server.StopListening();
        run.LogMetric("acc", 0.7, step: 2);
        await run.FlushAsync();
        Assert.That(TrackerTestSupport.WaitUntil(() => run.IsOffline, 10), Is.True, "the run noticed the outage");

        var offline = run.LogModel("second", RunTablesModelsTests.TinyOnnx);

        Assert.That((offline.ModelId, offline.ModelUri), Is.EqualTo(((string?)null, $"runs:/{run.RunId}/second")));
        server.StartListening();
        Assert.That(TrackerTestSupport.WaitUntil(() => server.Artifacts.ContainsKey(run.RunId + "/second/MLmodel") && !run.IsOffline, 30), Is.True, "drained");
        await run.DisposeAsync();
        Assert.That(server.Runs[run.RunId].Tags["mlflow.log-model.history"], Does.Contain("\"artifact_path\": \"second\"").And.Contain("\"artifact_path\": \"first\""));
        Assert.That(server.Requests.Where(r => r.Contains("logged-models", StringComparison.Ordinal)), Is.Empty);
    }
}
