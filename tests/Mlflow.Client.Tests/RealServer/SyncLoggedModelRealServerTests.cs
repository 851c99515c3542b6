using System.Text.Json.Nodes;
using Mlflow.Client.Sync;
using Mlflow.Client.Tests.Artifacts;
using Mlflow.Client.Tests.Infrastructure;
using NUnit.Framework;

namespace Mlflow.Client.Tests.RealServer;

/// <summary>
/// A model logged into a local store, pushed by <c>mlflow-sync</c> to a real server (<c>MLFLOW_TEST_TRACKING_URI</c>;
/// ignored otherwise), twice and once more without journals, then read back by MLflow's own Python (<c>MLFLOW_SRC</c>,
/// <c>MLFLOW_SHIMS</c>; the MLflow 3 tree for an MLflow 3 server). On MLflow 3 (verified on 3.11.1, sqlite and file):
/// one logged model, READY, the server run its source and output, its params and tags, its metrics with its id and
/// dataset (a SQL store lists every model metric row, so there each shows once; a file store lists the latest per key),
/// <c>models:/m-…</c> downloads with an MLmodel naming it. On MLflow 2 (verified on 2.12.2): the model's files under the
/// run's <c>model/</c>.
/// </summary>
[TestFixture]
[Category("RealServer")]
[NonParallelizable]
[CancelAfter(300_000)]
internal sealed class SyncLoggedModelRealServerTests
{
    [Test]
    public async Task A_synced_local_logged_model_is_one_logged_model_on_the_server_and_python_reads_it()
    {
        var uri = RealServerEnvironment.RequireTrackingUri();
        var parent = Directory.CreateTempSubdirectory("sync-model-real-").FullName;
        var root = Path.Combine(parent, "mlruns");
        var experimentName = "dotnet-sync-model-" + Guid.NewGuid().ToString("N")[..10];
        try
        {
            string localRunId, localModelId;
            await using (var tracker = MlflowTracker.Create(new MlflowTrackerOptions { TrackingUri = root, ExperimentName = experimentName }))
            {
                await using var run = tracker.StartRun("trainer");
                localRunId = run.RunId;
                run.LogParam("lr", "0.1");
                run.LogMetric("acc", 0.75, step: 3);
                run.LogMetric("acc", 0.5, step: 1);
                var info = run.LogModel("model", RunTablesModelsTests.TinyOnnx, new MlflowModelOptions
                {
                    Step = 3,
                    ModelType = "classifier",
                    Tags = new Dictionary<string, string> { ["team"] = "dotnet" },
                });
                localModelId = info.ModelId!;
                run.LogMetric("auc", 0.9, localModelId, MlflowDataset.Create("eval-set", "abcd1234", "/data/eval.csv"), step: 4);
            }

            var options = new SyncOptions { From = root, To = uri, ExperimentName = experimentName, Client = new MlflowClientOptions { RequestTimeout = TimeSpan.FromSeconds(60) } };
            var first = await MlflowSync.SyncAsync(options);
            using var client = new MlflowClient(new MlflowClientOptions { TrackingUri = uri });
            var server = await client.GetServerInfoAsync();
            TestContext.Out.WriteLine($"server {uri}: MLflow {server.Version}, store {server.StoreType}; first sync: {first.LoggedModelsSent} models, {first.MetricPointsSent} points, {first.ArtifactsSent} files; errors: {string.Join(" | ", first.Errors)}");
            Assert.That(first.Complete, Is.True, string.Join(" | ", first.Errors));
            Assert.That(first.LoggedModelsSent, Is.EqualTo(server.SupportsLoggedModels ? 1 : 0));
            Assert.That(first.MetricPointsSent, Is.EqualTo(4), "acc twice at step 3 (the point and its linked copy, as the local store holds them), acc at step 1, auc");

            var second = await MlflowSync.SyncAsync(options);
            Assert.That((second.Complete, second.RunsUpToDate, second.LoggedModelsSent, second.MetricPointsSent, second.ArtifactsSent), Is.EqualTo((true, 1, 0, 0L, 0)), "a repeated sync sends nothing");
            foreach (var dir in Directory.GetDirectories(root, SyncJournal.FolderName, SearchOption.AllDirectories))
            {
                Directory.Delete(dir, recursive: true);
            }

            var third = await MlflowSync.SyncAsync(options);
            Assert.That((third.Complete, third.RunsCreated), Is.EqualTo((true, 0)), "without journals: " + string.Join(" | ", third.Errors));

            var experiment = (await client.GetExperimentByNameAsync(experimentName))!;
            var serverRun = (await client.SearchRunsAsync(new RunSearchOptions { ExperimentIds = [experiment.ExperimentId] })).Items.Single();
            var serverRunId = serverRun.Info.RunId;
            MlflowPython.Require();
            var output = await MlflowPython.RunAsync(Path.Combine(RepoPaths.RepoRoot, "tests", "Mlflow.Client.Tests", "RealServer", "read_synced_model_with_mlflow.py"), uri, experiment.ExperimentId, serverRunId);
            TestContext.Out.WriteLine(output);
            var json = JsonNode.Parse(output)!;
            var sqlLike = json["run_metrics"]!["acc"]!.AsArray().Count == 2; // a SQL store keeps the point and its copy once
            Assert.That(json["run_metrics"]!["acc"]!.AsArray().Select(m => ((double)m!["value"]!, (long)m["step"]!)),
                Is.EquivalentTo(sqlLike ? new[] { (0.75, 3L), (0.5, 1L) } : [(0.75, 3L), (0.5, 1L), (0.75, 3L)]), "the run's points once, after three syncs");
            // MLflow 3.11.1's file store writes a point with a dataset as a five-word line and reads it back at step 0.
            Assert.That(json["run_metrics"]!["auc"]!.AsArray().Select(m => ((double)m!["value"]!, (long)m["step"]!)), Is.EqualTo(new[] { (0.9, sqlLike || !server.SupportsLoggedModels ? 4L : 0L) }));
            if (!server.SupportsLoggedModels)
            {
                Assert.That(json["run_model_files"]!.AsArray().Select(f => (string)f!), Is.EquivalentTo(new[] { "MLmodel", "model.onnx" }));
                return;
            }

            var model = json["models"]!.AsArray().Single()!;
            var modelId = (string)model["model_id"]!;
            Assert.That(((string)model["name"]!, (string)model["status"]!, (string)model["model_type"]!, (string)model["source_run_id"]!),
                Is.EqualTo(("model", "READY", "classifier", serverRunId)));
            Assert.That((string)model["params"]!["lr"]!, Is.EqualTo("0.1"));
            Assert.That(((string)model["tags"]!["team"]!, (string)model["tags"]![RunSynchronizer.SourceModelIdTag]!), Is.EqualTo(("dotnet", localModelId)));
            Assert.That(model["metrics"]!.AsArray().Select(m => ((string)m!["key"]!, (double)m["value"]!, (long)m["step"]!, (string)m["model_id"]!, (string?)m["dataset_name"], (string)m["run_id"]!)),
                Is.EquivalentTo(new[] { ("acc", 0.75, 3L, modelId, (string?)null, serverRunId), ("auc", 0.9, 4L, modelId, "eval-set", serverRunId) }));
            Assert.That(json["outputs"]!.AsArray().Select(o => ((string)o!["model_id"]!, (long)o["step"]!)), Is.EqualTo(new[] { (modelId, 3L) }));
            // download_artifacts("models:/…") adds registered_model_meta beside the model's files.
            Assert.That(model["files"]!.AsArray().Select(f => (string)f!).Where(f => f != "registered_model_meta"), Is.EquivalentTo(new[] { "MLmodel", "model.onnx" }));
            Assert.That(((string)model["mlmodel"]!["model_id"]!, (string)model["mlmodel"]!["run_id"]!), Is.EqualTo((modelId, serverRunId)), "the MLmodel names the server model and run");
            Assert.That((string)model["mlmodel"]!["artifact_path"]!, Does.Not.StartWith("file:"));
            Assert.That(serverRunId, Is.Not.EqualTo(localRunId));
        }
        finally
        {
            try
            {
                Directory.Delete(parent, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
