using System.Net;
using System.Text.Json.Nodes;
using Mlflow.Client.Sync;
using Mlflow.Client.Tests.Artifacts;
using Mlflow.Client.Tests.Infrastructure;
using Mlflow.Client.Tests.Offline;
using Mlflow.Client.Tests.Sync;
using Mlflow.Client.Tests.Tracking;
using NUnit.Framework;

namespace Mlflow.Client.Tests.RealServer;

/// <summary>
/// A run started while the real server (<c>MLFLOW_TEST_TRACKING_URI</c>; ignored otherwise) cannot be reached (the tracker
/// talks to it through a loopback TCP front that is closed, then opened) logs a model: the model is kept in the run's
/// offline copy and the drain pushes it. On MLflow 3 (verified on 3.11.1, sqlite and file) it is one READY logged model
/// of the server run, read back by MLflow's Python (<c>MLFLOW_SRC</c>, <c>MLFLOW_SHIMS</c>); on MLflow 2 (verified on
/// 2.12.2) its files are the run's artifacts under <c>model/</c>.
/// </summary>
[TestFixture]
[Category("RealServer")]
[NonParallelizable]
[CancelAfter(300_000)]
internal sealed class OfflineLogModelRealServerTests
{
    [Test]
    public async Task A_model_logged_offline_is_drained_to_the_real_server()
    {
        var uri = RealServerEnvironment.RequireTrackingUri();
        var target = new Uri(uri);
        using var front = new TcpFront(new IPEndPoint(IPAddress.Loopback, target.Port));
        front.Stop();
        using var dir = new OfflineFallbackTests.Dir();
        var experimentName = "dotnet-offline-model-" + Guid.NewGuid().ToString("N")[..10];
        using var client = new MlflowClient(new MlflowClientOptions { TrackingUri = uri });
        var server = await client.GetServerInfoAsync();
        string serverRunId;
        LoggedModelInfo info;
        await using (var tracker = MlflowTracker.Create(OfflineFallbackTests.Options($"http://127.0.0.1:{front.Port}", dir.Path, o =>
        {
            o.ExperimentName = experimentName;
            o.Client!.RequestTimeout = TimeSpan.FromSeconds(30);
        })))
        {
            var run = await tracker.StartRunAsync("offline-model");
            Assert.That(run.IsOffline, Is.True);
            run.LogParam("lr", "0.1");
            run.LogMetric("acc", 0.8, step: 2);
            info = run.LogModel("model", RunTablesModelsTests.TinyOnnx, new MlflowModelOptions { Step = 2, ModelType = "classifier" });
            run.LogMetric("auc", 0.9, info.ModelId!, MlflowDataset.Create("eval-set", "abcd1234", "/data/eval.csv"), step: 3);

            front.Start(front.Port);
            Assert.That(TrackerTestSupport.WaitUntil(() => run.ServerRunId is not null && !run.IsOffline, 60), Is.True, "drained");
            serverRunId = run.ServerRunId!;
            await run.DisposeAsync();
        }

        var experiment = (await client.GetExperimentByNameAsync(experimentName))!;
        TestContext.Out.WriteLine($"server {uri}: MLflow {server.Version}, store {server.StoreType}; run {serverRunId}, local model {info.ModelId}");
        Assert.That((await client.GetRunAsync(serverRunId)).Info.Status, Is.EqualTo(RunStatus.Finished));
        MlflowPython.Require();
        var output = await MlflowPython.RunAsync(Path.Combine(RepoPaths.RepoRoot, "tests", "Mlflow.Client.Tests", "RealServer", "read_synced_model_with_mlflow.py"), uri, experiment.ExperimentId, serverRunId);
        TestContext.Out.WriteLine(output);
        var json = JsonNode.Parse(output)!;
        if (!server.SupportsLoggedModels)
        {
            Assert.That(json["run_model_files"]!.AsArray().Select(f => (string)f!), Is.EquivalentTo(new[] { "MLmodel", "model.onnx" }));
            return;
        }

        var model = json["models"]!.AsArray().Single()!;
        var modelId = (string)model["model_id"]!;
        Assert.That(((string)model["status"]!, (string)model["source_run_id"]!, (string)model["model_type"]!, (string)model["tags"]![RunSynchronizer.SourceModelIdTag]!),
            Is.EqualTo(("READY", serverRunId, "classifier", info.ModelId)));
        Assert.That(model["metrics"]!.AsArray().Select(m => ((string)m!["key"]!, (double)m["value"]!, (long)m["step"]!, (string?)m["dataset_name"])),
            Is.EquivalentTo(new[] { ("acc", 0.8, 2L, (string?)null), ("auc", 0.9, 3L, "eval-set") }));
        Assert.That(json["outputs"]!.AsArray().Select(o => ((string)o!["model_id"]!, (long)o["step"]!)), Is.EqualTo(new[] { (modelId, 2L) }));
        Assert.That(((string)model["mlmodel"]!["model_id"]!, (string)model["mlmodel"]!["run_id"]!), Is.EqualTo((modelId, serverRunId)));
        Assert.That(model["files"]!.AsArray().Select(f => (string)f!), Does.Contain("model.onnx"));
    }
}
