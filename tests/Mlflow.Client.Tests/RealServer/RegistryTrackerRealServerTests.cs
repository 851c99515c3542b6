using System.Text;
using System.Text.Json.Nodes;
using Mlflow.Client.Tests.Infrastructure;
using NUnit.Framework;

namespace Mlflow.Client.Tests.RealServer;

/// <summary>
/// Against a real MLflow server (<c>MLFLOW_TEST_TRACKING_URI</c>; MLflow's Python from <c>MLFLOW_SRC</c> reads back):
/// a model folder uploaded through the artifact proxy, registered in one call, aliased, resolved by MLflow's own client
/// and downloaded; a finished run reopened and ended again.
/// </summary>
[TestFixture]
[Category("RealServer")]
[NonParallelizable]
public class RegistryTrackerRealServerTests
{
    [Test]
    [CancelAfter(300_000)]
    public async Task RegisterModel_Alias_ResolvedByMlflow_AndDownloaded()
    {
        var uri = RealServerEnvironment.RequireTrackingUri();
        MlflowPython.Require();
        var name = "dotnet-registry-" + Guid.NewGuid().ToString("N")[..10];
        using var client = new MlflowClient(new MlflowClientOptions { TrackingUri = uri });
        await using var tracker = MlflowTracker.Create(new MlflowTrackerOptions { TrackingUri = uri, ExperimentName = name });
        string runId;
        await using (var run = await tracker.StartRunAsync("train"))
        {
            runId = run.RunId;
            run.LogParam("kind", "registry");
        }

        var artifactUri = (await client.GetRunAsync(runId)).Info.ArtifactUri!;
        Assert.That(artifactUri, Does.StartWith("mlflow-artifacts:"), "the harness serves artifacts through the proxy");
        var mlmodel = "artifact_path: model\nflavors: {}\n";
        byte[] weights = [0, 1, 2, 3, 250];
        await client.UploadArtifactAsync(artifactUri, "model/MLmodel", new MemoryStream(Encoding.UTF8.GetBytes(mlmodel)));
        await client.UploadArtifactAsync(artifactUri, "model/data/weights.bin", new MemoryStream(weights));

        try
        {
            var version = await tracker.Registry.RegisterModelAsync(runId, "model", name, new RegisterModelOptions { Tags = [new("origin", "dotnet")] });
            Assert.That(version.Version, Is.EqualTo("1"));
            Assert.That(version.Status, Is.EqualTo(ModelVersionStatus.Ready));
            Assert.That(version.Source, Is.EqualTo(artifactUri + "/model"), "MLflow 2.12 records the run's artifact URI joined with the path");
            var second = await tracker.Registry.RegisterModelAsync($"runs:/{runId}/model", name);
            Assert.That(second.Version, Is.EqualTo("2"), "the existing model gets a new version");
            await tracker.Registry.SetAliasAsync(name, "champion", "1");

            var script = Path.Combine(Path.GetTempPath(), "alias-" + Guid.NewGuid().ToString("N") + ".py");
            await File.WriteAllTextAsync(script, """
                import json, sys, mlflow
                c = mlflow.MlflowClient(tracking_uri=sys.argv[1])
                mv = c.get_model_version_by_alias(sys.argv[2], "champion")
                json.dump({"version": mv.version, "source": mv.source, "run_id": mv.run_id, "tags": mv.tags,
                           "download_uri": c.get_model_version_download_uri(sys.argv[2], mv.version)}, sys.stdout)
                """);
            JsonNode theirs;
            try
            {
                theirs = JsonNode.Parse(await MlflowPython.RunAsync(script, uri, name))!;
            }
            finally
            {
                File.Delete(script);
            }

            Assert.That((string?)theirs["version"], Is.EqualTo("1"));
            Assert.That((string?)theirs["source"], Is.EqualTo(artifactUri + "/model"));
            Assert.That((string?)theirs["run_id"], Is.EqualTo(runId));
            Assert.That((string?)theirs["tags"]!["origin"], Is.EqualTo("dotnet"));
            Assert.That((await tracker.Registry.ResolveModelUriAsync($"models:/{name}@champion")).Version, Is.EqualTo("1"));
            Assert.That((await tracker.Registry.ResolveModelUriAsync($"models:/{name}/latest")).Version, Is.EqualTo("2"));

            var target = Path.Combine(Path.GetTempPath(), "dl-" + Guid.NewGuid().ToString("N"));
            try
            {
                await tracker.Registry.DownloadModelAsync($"models:/{name}@champion", target);
                Assert.That(await File.ReadAllTextAsync(Path.Combine(target, "MLmodel")), Is.EqualTo(mlmodel));
                Assert.That(await File.ReadAllBytesAsync(Path.Combine(target, "data", "weights.bin")), Is.EqualTo(weights));
            }
            finally
            {
                if (Directory.Exists(target))
                {
                    Directory.Delete(target, recursive: true);
                }
            }

            await tracker.Registry.DeleteAliasAsync(name, "champion");
            Assert.ThrowsAsync<MlflowException>(() => tracker.Registry.GetVersionByAliasAsync(name, "champion"));
        }
        finally
        {
            await client.DeleteRegisteredModelAsync(name);
        }
    }

    [Test]
    [CancelAfter(120_000)]
    public async Task ResumeRun_IsRunningAgain_ThenFinished_WithItsData()
    {
        var uri = RealServerEnvironment.RequireTrackingUri();
        using var client = new MlflowClient(new MlflowClientOptions { TrackingUri = uri });
        await using var tracker = MlflowTracker.Create(new MlflowTrackerOptions { TrackingUri = uri, ExperimentName = "dotnet-resume-" + Guid.NewGuid().ToString("N")[..10] });
        string runId;
        await using (var run = await tracker.StartRunAsync("train"))
        {
            runId = run.RunId;
            run.LogMetric("loss", 1.0, step: 0);
        }

        var firstEnd = (await client.GetRunAsync(runId)).Info.EndTime;
        var again = await tracker.StartRunAsync(new StartRunOptions { RunId = runId, Description = "evaluated later" });
        var reopened = await client.GetRunAsync(runId);
        Assert.That(reopened.Info.Status, Is.EqualTo(RunStatus.Running));
        Assert.That(reopened.Info.EndTime, Is.EqualTo(firstEnd));
        again.LogMetric("loss", 0.5, step: 1);
        await again.DisposeAsync();

        var ended = await client.GetRunAsync(runId);
        Assert.That(ended.Info.Status, Is.EqualTo(RunStatus.Finished));
        Assert.That(ended.Data.Tags, Does.Contain(new Tag("mlflow.note.content", "evaluated later")));
        Assert.That((await client.GetMetricHistoryAsync(runId, "loss")).Select(m => m.Step), Is.EquivalentTo(new[] { 0L, 1L }));
    }
}
