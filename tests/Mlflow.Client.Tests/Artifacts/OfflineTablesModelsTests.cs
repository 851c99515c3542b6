using Mlflow.Client.Tests.Offline;
using Mlflow.Client.Tests.Sync;
using Mlflow.Client.Tests.Tracking;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Artifacts;

/// <summary>A table, a dataset input and a model logged while the server cannot be reached reach it once it answers (drained from the offline copy; see <see cref="Offline.OfflineLogModelTests"/> for the model on an MLflow 3 server).</summary>
internal sealed class OfflineTablesModelsTests
{
    [Test]
    public async Task What_a_run_started_offline_logs_is_drained_to_the_server()
    {
        using var dir = new OfflineFallbackTests.Dir();
        Directory.CreateDirectory(dir.Path);
        using var server = new FakeMlflowServer();
        server.StopListening();
        await using var tracker = MlflowTracker.Create(OfflineFallbackTests.Options(server.Url, Path.Combine(dir.Path, "offline")));
        var run = await tracker.StartRunAsync("offline-tables");
        Assert.That(run.IsOffline, Is.True);
        run.LogTable(MlflowTable.FromColumns([new("a", new object?[] { 1 })]), "t.json");
        run.LogTable(MlflowTable.FromColumns([new("a", new object?[] { 2 })]), "t.json");
        run.LogInput(MlflowDataset.Create("eval-set", "abcd1234", "/data/eval.csv"), "evaluation");
        run.LogModel("model", RunTablesModelsTests.TinyOnnx);
        Assert.That(run.LoadTable("t.json").RowCount, Is.EqualTo(2), "appended in the offline copy");

        server.StartListening();
        Assert.That(TrackerTestSupport.WaitUntil(() => run.ServerRunId is not null && server.Count("artifacts") >= 3, 30), Is.True, "drained");
        await run.DisposeAsync();
        var onServer = server.RunBySource(run.RunId);
        Assert.That(onServer.Tags["mlflow.loggedArtifacts"], Is.EqualTo("""[{"path": "t.json", "type": "table"}]"""));
        // The server's version was never learned: the model was kept as a logged model in the copy, and this server
        // (no /version, no MLflow 3 endpoints) got its files as the run's artifacts under its name.
        Assert.That(onServer.Tags.ContainsKey("mlflow.log-model.history"), Is.False);
        Assert.That(onServer.Inputs, Is.EqualTo(new[] { "eval-set/abcd1234" }));
        var artifacts = server.Artifacts.Keys.ToArray().Where(k => k.StartsWith(onServer.RunId + "/", StringComparison.Ordinal)).Select(k => k[(onServer.RunId.Length + 1)..]).Order(StringComparer.Ordinal);
        Assert.That(artifacts, Is.EqualTo(new[] { "model/MLmodel", "model/model.onnx", "t.json" }));
        Assert.That(System.Text.Encoding.UTF8.GetString(server.Artifacts[onServer.RunId + "/t.json"]), Is.EqualTo("""{"columns":["a"],"data":[[1],[2]]}"""));
    }
}
