using System.Security.Cryptography;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Rest;

/// <summary>
/// Round trips against a real MLflow server; they run only when <c>MLFLOW_TEST_TRACKING_URI</c> is set, for example
/// after <c>tests/RealServer/mlflow-server.sh start /tmp/mlf-reg 5063 sqlite</c> with <c>MLFLOW_TEST_TRACKING_URI=http://127.0.0.1:5063</c>.
/// </summary>
[TestFixture]
[Category("RealServer")]
public class RegistryArtifactsRealServerTests
{
    private MlflowClient _client = null!;

    [SetUp]
    public void SetUp()
    {
        var uri = RealServer.RealServerEnvironment.RequireTrackingUri();

        _client = new MlflowClient(new MlflowClientOptions { TrackingUri = uri, RequestTimeout = TimeSpan.FromSeconds(60) });
    }

    [TearDown]
    public void TearDown() => _client?.Dispose();

    [Test]
    public async Task Probes_AnswerOkAndAVersion()
    {
        Assert.That(await _client.GetHealthAsync(), Is.EqualTo("OK"));
        Assert.That(await _client.GetServerVersionAsync(), Does.Match(@"^\d+\.\d+"));
    }

    [Test]
    public async Task Registry_RoundTrip()
    {
        var name = "dotnet-reg-" + Guid.NewGuid().ToString("N")[..8];
        var run = await NewRunAsync();
        var source = run.Info.ArtifactUri + "/model";

        var created = await _client.CreateRegisteredModelAsync(name, "first", [new Tag("team", "dotnet")]);
        Assert.That(created.Name, Is.EqualTo(name));
        var dup = Assert.ThrowsAsync<MlflowException>(() => _client.CreateRegisteredModelAsync(name));
        Assert.That(dup!.ErrorCode, Is.EqualTo(MlflowErrorCode.ResourceAlreadyExists));

        var v1 = await _client.CreateModelVersionAsync(name, source, run.Info.RunId, "v1", [new Tag("validated", "yes")]);
        var v2 = await _client.CreateModelVersionAsync(name, source, run.Info.RunId);
        Assert.That((v1.Version, v2.Version), Is.EqualTo(("1", "2")));

        await _client.SetRegisteredModelAliasAsync(name, "champion", "2");
        Assert.That((await _client.GetModelVersionByAliasAsync(name, "champion")).Version, Is.EqualTo("2"));
        await _client.SetRegisteredModelTagAsync(name, "k", "v");
        await _client.SetModelVersionTagAsync(name, "1", "k", "v");
        var staged = await _client.TransitionModelVersionStageAsync(name, "1", "Staging");
        Assert.That(staged.CurrentStage, Is.EqualTo("Staging"));
        Assert.That((await _client.GetLatestModelVersionsAsync(name, ["Staging"])).Single().Version, Is.EqualTo("1"));
        Assert.That((await _client.UpdateModelVersionAsync(name, "1", "updated")).Description, Is.EqualTo("updated"));
        Assert.That((await _client.UpdateRegisteredModelAsync(name, "second")).Description, Is.EqualTo("second"));
        Assert.That(await _client.GetModelVersionDownloadUriAsync(name, "1"), Is.EqualTo(source));

        var model = await _client.GetRegisteredModelAsync(name);
        Assert.That(model.Aliases, Is.EqualTo(new[] { new RegisteredModelAlias("champion", "2") }));
        Assert.That(model.Tags, Does.Contain(new Tag("k", "v")));

        var found = new List<ModelVersion>();
        await foreach (var v in _client.SearchAllModelVersionsAsync(new ModelVersionSearchOptions { Filter = $"name='{name}'", MaxResults = 1 }))
        {
            found.Add(v);
        }

        Assert.That(found.Select(v => v.Version).Order(), Is.EqualTo(new[] { "1", "2" }));
        var models = await _client.SearchRegisteredModelsAsync(new RegisteredModelSearchOptions { Filter = $"name = '{name}'" });
        Assert.That(models.Items.Single().Name, Is.EqualTo(name));

        await _client.DeleteModelVersionTagAsync(name, "1", "k");
        Assert.That((await _client.GetModelVersionAsync(name, "1")).Tags, Does.Not.Contain(new Tag("k", "v")));
        await _client.DeleteRegisteredModelTagAsync(name, "k");
        await _client.DeleteRegisteredModelAliasAsync(name, "champion");
        Assert.That((await _client.GetRegisteredModelAsync(name)).Aliases, Is.Empty);

        // A file-backed 2.12.2 server fails (500) to rename a model while one of its versions has tags (a FileStore
        // bug recorded in the fixtures), so the version's last tag goes first; sqlite does not care.
        await _client.DeleteModelVersionTagAsync(name, "1", "validated");
        var renamed = await _client.RenameRegisteredModelAsync(name, name + "-renamed");
        Assert.That(renamed.Name, Is.EqualTo(name + "-renamed"));
        await _client.DeleteModelVersionAsync(name + "-renamed", "2");
        await _client.DeleteRegisteredModelAsync(name + "-renamed");
        var gone = Assert.ThrowsAsync<MlflowException>(() => _client.GetRegisteredModelAsync(name + "-renamed"));
        Assert.That(gone!.ErrorCode, Is.EqualTo(MlflowErrorCode.ResourceDoesNotExist));
    }

    [Test]
    public async Task Artifacts_UploadListDownloadDelete_RoundTrip()
    {
        var run = await NewRunAsync();
        var root = run.Info.ArtifactUri!;
        Assume.That(root, Does.StartWith("mlflow-artifacts:"), "the server must proxy artifacts (--serve-artifacts)");

        var bytes = new byte[5 * 1024 * 1024 + 11];
        new Random(3).NextBytes(bytes);
        await _client.UploadArtifactAsync(root, "outputs/blob.bin", new MemoryStream(bytes));
        await _client.UploadArtifactAsync(root, "outputs/sub dir/ü.txt", new Mlflow.Client.Tests.Infrastructure.NonSeekableStream("hällo"u8.ToArray()));

        var listed = await _client.ListProxiedArtifactsAsync(root, "outputs");
        Assert.That(listed.Select(f => f.Path).Order(), Is.EqualTo(new[] { "outputs/blob.bin", "outputs/sub dir" }));
        Assert.That(listed.Single(f => f.Path == "outputs/blob.bin").FileSize, Is.EqualTo(bytes.Length));
        var viaTracking = await _client.ListArtifactsAsync(run.Info.RunId, "outputs/sub dir");
        Assert.That(viaTracking.Select(f => f.Path), Is.EqualTo(new[] { "outputs/sub dir/ü.txt" }));

        await using (var stream = await _client.DownloadArtifactAsync(root, "outputs/blob.bin"))
        {
            Assert.That(SHA256.HashData(stream), Is.EqualTo(SHA256.HashData(bytes)));
        }

        await using (var stream = await _client.DownloadRunArtifactAsync(run.Info.RunId, "outputs/sub dir/ü.txt"))
        using (var reader = new StreamReader(stream))
        {
            Assert.That(await reader.ReadToEndAsync(), Is.EqualTo("hällo"));
        }

        // MLflow 2.12's proxy answers a missing file with a bare 500, which the client retries as MLflow's own client
        // does (7 times with backoff: minutes); one attempt is enough to see the refusal.
        using var once = new MlflowClient(new MlflowClientOptions { TrackingUri = RealServer.RealServerEnvironment.RequireTrackingUri(), Retry = new MlflowRetryOptions { MaxRetries = 0 } });
        var missing = Assert.ThrowsAsync<MlflowException>(() => once.DownloadArtifactAsync(root, "outputs/none.txt"));
        Assert.That((int?)missing!.StatusCode, Is.GreaterThanOrEqualTo(400));

        await _client.DeleteArtifactAsync(root, "outputs/sub dir");
        Assert.That((await _client.ListProxiedArtifactsAsync(root, "outputs")).Select(f => f.Path), Is.EqualTo(new[] { "outputs/blob.bin" }));
    }

    private async Task<Run> NewRunAsync()
    {
        var experimentId = await _client.CreateExperimentAsync("dotnet-reg-art-" + Guid.NewGuid().ToString("N")[..8]);
        return await _client.CreateRunAsync(experimentId, "registry-artifacts");
    }
}
