using System.Net;
using System.Text;
using NUnit.Framework;

namespace Mlflow.Client.Tests.RealServer;

/// <summary>
/// MLflow 3's logged models end to end against a real server (<c>MLFLOW_TEST_TRACKING_URI</c>; ignored otherwise).
/// Needs an MLflow 3 server (verified on 3.11.1, sqlite); on a 2.x server the logged-model scenario is ignored and the
/// 2.x behaviour is checked instead.
/// </summary>
[TestFixture]
[Category("RealServer")]
[NonParallelizable]
public class LoggedModelRealServerTests : RealServerClientTest
{
    protected override string PrefixStem => "dotnet-lm-";

    private Task<MlflowServerInfo> RequireMlflow3Async() => RequireMlflow3Async("Logged models need");

    [Test]
    public async Task LoggedModel_CreateUploadFinalizeLinkSearchReadDownloadAndRegister()
    {
        var info = await RequireMlflow3Async();
        Assert.That(info.MajorVersion, Is.GreaterThanOrEqualTo(3));
        Assert.That(info.HasServerInfoEndpoint, Is.True);

        var experimentId = await Client.CreateExperimentAsync(Prefix + "-exp");
        var run = await Client.CreateRunAsync(experimentId, "trainer");
        var runId = run.Info.RunId;

        var created = await Client.CreateLoggedModelAsync(experimentId, Prefix + "-clf", "Classifier", runId, [new Param("alpha", "0.5")], [new Tag("team", "dotnet")]);
        var modelId = created.Info.ModelId;
        Assert.That(modelId, Does.Match("^m-[0-9a-f]{32}$"));
        Assert.That(created.Info.Status, Is.EqualTo(LoggedModelStatus.Pending));
        Assert.That(created.Info.ArtifactUri, Does.StartWith("mlflow-artifacts:/").And.Contain(modelId));

        // The model's files, through the artifact proxy, where the server said.
        using (var file = new MemoryStream(Encoding.UTF8.GetBytes("artifact_path: model\nflavors: {}\n")))
        {
            await Client.UploadArtifactAsync(created.Info.ArtifactUri!, "MLmodel", file);
        }

        await Client.LogLoggedModelParamsAsync(modelId, [new Param("beta", "2")]);
        await Client.SetLoggedModelTagsAsync(modelId, [new Tag("stage", "dev"), new Tag("tmp", "x")]);
        await Client.DeleteLoggedModelTagAsync(modelId, "tmp");
        var finalized = await Client.FinalizeLoggedModelAsync(modelId, LoggedModelStatus.Ready);
        Assert.That(finalized.Info.Status, Is.EqualTo(LoggedModelStatus.Ready));

        await Client.LogOutputsAsync(runId, [new ModelOutput(modelId, 5)]);
        await Client.LogMetricAsync(runId, new Metric("accuracy", 0.93, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), 5) { ModelId = modelId, DatasetName = "eval", DatasetDigest = "d1" });
        await Client.LogBatchAsync(runId, [new Metric("f1", 0.81, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), 5) { ModelId = modelId }]);

        var read = await Client.GetLoggedModelAsync(modelId);
        Assert.That(read.Info.Status, Is.EqualTo(LoggedModelStatus.Ready));
        Assert.That(read.Info.SourceRunId, Is.EqualTo(runId));
        Assert.That(read.Info.Tags, Is.EquivalentTo(new[] { new Tag("team", "dotnet"), new Tag("stage", "dev") }));
        Assert.That(read.Data.Params, Is.EquivalentTo(new[] { new Param("alpha", "0.5"), new Param("beta", "2") }));
        var accuracy = read.Data.Metrics.Single(m => m.Key == "accuracy");
        Assert.That((accuracy.ModelId, accuracy.DatasetName, accuracy.DatasetDigest, accuracy.RunId), Is.EqualTo((modelId, "eval", "d1", runId)));
        Assert.That(read.Data.Metrics.Select(m => m.Key), Is.EquivalentTo(new[] { "accuracy", "f1" }));

        var found = await Client.SearchLoggedModelsAsync([experimentId], new LoggedModelSearchOptions { Filter = $"name = '{Prefix}-clf'", OrderBy = [new LoggedModelOrderBy("creation_timestamp", Ascending: false)] });
        Assert.That(found.Items.Select(m => m.Info.ModelId), Is.EqualTo(new[] { modelId }));
        var all = new List<LoggedModel>();
        await foreach (var m in Client.SearchAllLoggedModelsAsync([experimentId], new LoggedModelSearchOptions { MaxResults = 1 }))
        {
            all.Add(m);
        }

        Assert.That(all.Select(m => m.Info.ModelId), Is.EqualTo(new[] { modelId }));

        var runBack = await Client.GetRunAsync(runId);
        Assert.That(runBack.Outputs.ModelOutputs, Is.EqualTo(new[] { new ModelOutput(modelId, 5) }));

        // models:/m-<id>, directly and as the source of a registered version.
        var registry = new MlflowModelRegistry(Client);
        var target = Path.Combine(Path.GetTempPath(), Prefix + "-dl");
        try
        {
            await registry.DownloadModelAsync("models:/" + modelId, Path.Combine(target, "direct"));
            Assert.That(File.ReadAllText(Path.Combine(target, "direct", "MLmodel")), Does.StartWith("artifact_path: model"));

            var name = Prefix + "-registered";
            await Client.CreateRegisteredModelAsync(name);
            var version = await Client.CreateModelVersionAsync(name, "models:/" + modelId, runId);
            Assert.That(version.Source, Is.EqualTo("models:/" + modelId));
            Assert.That(version.ModelId, Is.Null, "3.11.1 does not fill model_id in its answers");
            await registry.DownloadModelAsync($"models:/{name}/{version.Version}", Path.Combine(target, "version"));
            Assert.That(File.Exists(Path.Combine(target, "version", "MLmodel")), Is.True);
        }
        finally
        {
            if (Directory.Exists(target))
            {
                Directory.Delete(target, recursive: true);
            }
        }

        await Client.DeleteLoggedModelAsync(modelId);
        var gone = Assert.ThrowsAsync<MlflowException>(() => Client.GetLoggedModelAsync(modelId));
        Assert.That(gone!.ErrorCode, Is.EqualTo(MlflowErrorCode.ResourceDoesNotExist));
    }

    [Test]
    public async Task ParamsSentTwice_AreRefusedBySqlStores_SoTheClientNeverResendsThem()
    {
        // A SQL store refuses the repeat (unique constraint, 400); MLflow 3's file store accepts it. Either way the
        // client must not re-send params after a lost answer: it reads the model back instead.
        await RequireMlflow3Async();
        var experimentId = await Client.CreateExperimentAsync(Prefix + "-twice");
        var model = await Client.CreateLoggedModelAsync(experimentId, "m", @params: [new Param("a", "1")]);
        var fileStore = (await Client.GetServerInfoAsync()).StoreType is { } store && store.Contains("File", StringComparison.OrdinalIgnoreCase);

        if (fileStore)
        {
            Assert.DoesNotThrowAsync(() => Client.LogLoggedModelParamsAsync(model.Info.ModelId, [new Param("a", "1")]));
        }
        else
        {
            var ex = Assert.ThrowsAsync<MlflowException>(() => Client.LogLoggedModelParamsAsync(model.Info.ModelId, [new Param("a", "1")]));
            Assert.That(ex!.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(ex.IsTransient, Is.False);
        }

        var read = await Client.GetLoggedModelAsync(model.Info.ModelId);
        Assert.That(read.Data.Params.Where(p => p.Key == "a").Select(p => p.Value), Is.EqualTo(new[] { "1" }));
    }

    [Test]
    public async Task AHostOutsideAllowedHosts_GetsTheAdvice()
    {
        var info = await Client.GetServerInfoAsync();
        if (info.MajorVersion is not >= 3)
        {
            Assert.Ignore("The DNS-rebinding guard is MLflow 3's (3.5 and later).");
        }

        // The same server, asked with a Host header it does not allow by default.
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Host = "mlflow.example.com";
        using var client = new MlflowClient(http, new MlflowClientOptions { TrackingUri = TrackingUri, RequestTimeout = TimeSpan.FromSeconds(30) });

        var ex = Assert.ThrowsAsync<MlflowException>(() => client.GetExperimentAsync("0"));

        Assert.That(ex!.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That(ex.Message, Does.Contain("Invalid Host header").And.Contain("--allowed-hosts"));
    }

    [Test]
    public async Task OnA2xServer_LoggedModelsSayTheyNeedMlflow3()
    {
        var info = await Client.GetServerInfoAsync();
        if (info.SupportsLoggedModels)
        {
            Assert.Ignore($"{TrackingUri} runs MLflow {info.Version}, which has logged models.");
        }

        var ex = Assert.ThrowsAsync<MlflowException>(() => Client.CreateLoggedModelAsync("0", "m"));
        Assert.That(ex!.Message, Does.Contain("need an MLflow 3 tracking server"));
    }
}
