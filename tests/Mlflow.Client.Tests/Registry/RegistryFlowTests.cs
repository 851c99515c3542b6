using Mlflow.Client.Tests.Infrastructure;
using Mlflow.Client.Tests.Resilience;
using NUnit.Framework;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Mlflow.Client.Tests.Registry;

/// <summary>The registry facade over a tracking server (WireMock): one-call registration, aliases, models:/ URIs, downloads.</summary>
[TestFixture]
public class RegistryFlowTests
{
    private const string Api = "/api/2.0/mlflow/";
    private const string RunId = "0123456789abcdef0123456789abcdef";
    private const string RunJson = """{"run":{"info":{"run_id":"0123456789abcdef0123456789abcdef","experiment_id":"1","status":"FINISHED","lifecycle_stage":"active","artifact_uri":"mlflow-artifacts:/1/0123456789abcdef0123456789abcdef/artifacts"},"data":{}}}""";

    private static IResponseBuilder Ok(string body) => Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(body);

    private static IResponseBuilder Version(string status, string version = "1")
        => Ok($$$"""{"model_version":{"name":"m","version":"{{{version}}}","status":"{{{status}}}","source":"mlflow-artifacts:/1/{{{RunId}}}/artifacts/model","run_id":"{{{RunId}}}"}}""");

    private static MlflowModelRegistry Registry(MlflowClient client, SteppingTimeProvider? clock = null) => new(client) { TimeProvider = clock ?? new SteppingTimeProvider() };

    [Test]
    public async Task RegisterModel_CreatesTheMissingModel_RecordsTheRunsArtifactSource_AndWaitsForReady()
    {
        using var server = FixtureServer.Start();
        server.Server.Given(Request.Create().WithPath(Api + "runs/get").UsingGet()).RespondWith(Ok(RunJson));
        server.Server.Given(Request.Create().WithPath(Api + "registered-models/create").UsingPost()).RespondWith(Ok("""{"registered_model":{"name":"m"}}"""));
        server.Server.Given(Request.Create().WithPath(Api + "model-versions/create").UsingPost()).RespondWith(Version("PENDING_REGISTRATION"));
        server.Sequence(Api + "model-versions/get", Version("PENDING_REGISTRATION"), Version("READY"));
        using var client = server.CreateClient();
        var clock = new SteppingTimeProvider();

        var version = await Registry(client, clock).RegisterModelAsync(RunId, "model", "m", new RegisterModelOptions { Tags = [new("k", "v")], Description = "first" });

        Assert.That(version.Status, Is.EqualTo(ModelVersionStatus.Ready));
        Assert.That(version.Version, Is.EqualTo("1"));
        var create = server.Requests.Single(r => r.RequestMessage.Path.EndsWith("model-versions/create", StringComparison.Ordinal));
        var body = FixtureServer.BodyJson(create)!;
        Assert.That((string?)body["source"], Is.EqualTo($"mlflow-artifacts:/1/{RunId}/artifacts/model"), "the run's artifact URI joined with the path, as MLflow's register_model");
        Assert.That((string?)body["run_id"], Is.EqualTo(RunId));
        Assert.That((string?)body["description"], Is.EqualTo("first"));
        Assert.That((string?)body["tags"]![0]!["key"], Is.EqualTo("k"));
        Assert.That(server.Requests.Count(r => r.RequestMessage.Path.EndsWith("model-versions/get", StringComparison.Ordinal)), Is.EqualTo(2));
        Assert.That(clock.TimersCreated, Is.EqualTo(2), "one pause before each status read");
    }

    [Test]
    public async Task RegisterModel_OfAnExistingModel_AddsAVersion()
    {
        using var server = FixtureServer.Start();
        server.Server.Given(Request.Create().WithPath(Api + "registered-models/create").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(400).WithBody("""{"error_code":"RESOURCE_ALREADY_EXISTS","message":"Registered Model (name=m) already exists."}"""));
        server.Server.Given(Request.Create().WithPath(Api + "model-versions/create").UsingPost()).RespondWith(Version("READY", "4"));
        using var client = server.CreateClient();

        var version = await Registry(client).RegisterModelAsync("mlflow-artifacts:/1/x/artifacts/model", "m");

        Assert.That(version.Version, Is.EqualTo("4"));
        var body = FixtureServer.BodyJson(server.Requests.Single(r => r.RequestMessage.Path.EndsWith("model-versions/create", StringComparison.Ordinal)))!;
        Assert.That((string?)body["source"], Is.EqualTo("mlflow-artifacts:/1/x/artifacts/model"), "any other URI is the source as given");
        Assert.That(body["run_id"], Is.Null);
    }

    [Test]
    public void RegisterModel_ThatStaysPending_TimesOutWithAClearError()
    {
        using var server = FixtureServer.Start();
        server.Server.Given(Request.Create().WithPath(Api + "registered-models/create").UsingPost()).RespondWith(Ok("""{"registered_model":{"name":"m"}}"""));
        server.Server.Given(Request.Create().WithPath(Api + "model-versions/create").UsingPost()).RespondWith(Version("PENDING_REGISTRATION"));
        server.Server.Given(Request.Create().WithPath(Api + "model-versions/get").UsingGet()).RespondWith(Version("PENDING_REGISTRATION"));
        using var client = server.CreateClient();

        var ex = Assert.ThrowsAsync<MlflowException>(() => Registry(client).RegisterModelAsync("mlflow-artifacts:/1/x/artifacts/model", "m",
            new RegisterModelOptions { AwaitReadyTimeout = TimeSpan.FromSeconds(10), PollInterval = TimeSpan.FromSeconds(3) }));

        Assert.That(ex!.Message, Does.Contain("not READY within 10 s"));
        Assert.That(server.Requests.Count(r => r.RequestMessage.Path.EndsWith("model-versions/get", StringComparison.Ordinal)), Is.EqualTo(4), "polls at 3, 6, 9 and 12 s of the fake clock, then gives up");
    }

    [Test]
    public void RegisterModel_ThatFailsToRegister_Throws()
    {
        using var server = FixtureServer.Start();
        server.Server.Given(Request.Create().WithPath(Api + "registered-models/create").UsingPost()).RespondWith(Ok("""{"registered_model":{"name":"m"}}"""));
        server.Server.Given(Request.Create().WithPath(Api + "model-versions/create").UsingPost()).RespondWith(Version("FAILED_REGISTRATION"));
        using var client = server.CreateClient();

        var ex = Assert.ThrowsAsync<MlflowException>(() => Registry(client).RegisterModelAsync("mlflow-artifacts:/1/x/artifacts/model", "m"));

        Assert.That(ex!.Message, Does.Contain("failed to register"));
    }

    [Test]
    public async Task ModelUris_ResolveByVersionAliasLatestAndStage()
    {
        using var server = FixtureServer.Start();
        server.Server.Given(Request.Create().WithPath(Api + "registered-models/alias").WithParam("alias", "champion").UsingGet()).RespondWith(Version("READY", "2"));
        server.Server.Given(Request.Create().WithPath(Api + "model-versions/get").WithParam("version", "7").UsingGet()).RespondWith(Version("READY", "7"));
        server.Server.Given(Request.Create().WithPath(Api + "registered-models/get-latest-versions").UsingAnyMethod()).RespondWith(Ok(
            """{"model_versions":[{"name":"m","version":"10","current_stage":"None"},{"name":"m","version":"9","current_stage":"Production"}]}"""));
        using var client = server.CreateClient();
        var registry = Registry(client);

        Assert.That((await registry.ResolveModelUriAsync("models:/m@champion")).Version, Is.EqualTo("2"));
        Assert.That((await registry.ResolveModelUriAsync("models:/m/7")).Version, Is.EqualTo("7"));
        Assert.That((await registry.ResolveModelUriAsync("models:/m/latest")).Version, Is.EqualTo("10"), "the highest version of any stage");
        Assert.That((await registry.ResolveModelUriAsync("models:/m/production")).Version, Is.EqualTo("9"), "stages compare without case");
        Assert.Throws<MlflowException>(() => registry.ResolveModelUri("models:/m/Staging"));
        Assert.Throws<MlflowException>(() => registry.ResolveModelUri("models:/m/1/2"));
        Assert.Throws<MlflowException>(() => registry.ResolveModelUri("models:/m@"));
    }

    [Test]
    public async Task DownloadModel_ByAlias_FetchesEveryFileThroughTheProxy()
    {
        using var server = FixtureServer.Start();
        AnswerAliasAndDownloadUri(server);
        server.Server.Given(Request.Create().WithPath("/api/2.0/mlflow-artifacts/artifacts").WithParam("path", "1/r/artifacts/model").UsingGet())
            .RespondWith(Ok("""{"files":[{"path":"MLmodel","is_dir":false,"file_size":5},{"path":"data","is_dir":true}]}"""));
        server.Server.Given(Request.Create().WithPath("/api/2.0/mlflow-artifacts/artifacts").WithParam("path", "1/r/artifacts/model/data").UsingGet())
            .RespondWith(Ok("""{"files":[{"path":"w.bin","is_dir":false,"file_size":3}]}"""));
        server.Server.Given(Request.Create().WithPath("/api/2.0/mlflow-artifacts/artifacts/1/r/artifacts/model/MLmodel").UsingGet()).RespondWith(Response.Create().WithStatusCode(200).WithBody("flav!"));
        server.Server.Given(Request.Create().WithPath("/api/2.0/mlflow-artifacts/artifacts/1/r/artifacts/model/data/w.bin").UsingGet()).RespondWith(Response.Create().WithStatusCode(200).WithBody("abc"));
        using var client = server.CreateClient();
        var target = Path.Combine(Path.GetTempPath(), "dl-" + Guid.NewGuid().ToString("N"));
        try
        {
            var folder = await Registry(client).DownloadModelAsync("models:/m@champion", target);

            Assert.That(folder, Is.EqualTo(Path.GetFullPath(target)));
            Assert.That(await File.ReadAllTextAsync(Path.Combine(target, "MLmodel")), Is.EqualTo("flav!"));
            Assert.That(await File.ReadAllTextAsync(Path.Combine(target, "data", "w.bin")), Is.EqualTo("abc"));
        }
        finally
        {
            Directory.Delete(target, recursive: true);
        }
    }

    [TestCase("../evil.txt")]
    [TestCase("/tmp/evil.txt")]
    [TestCase("a/../../evil.txt")]
    [TestCase("..\\evil.txt")]
    public void DownloadModel_RefusesAListedPathOutsideTheTarget(string path)
    {
        using var server = FixtureServer.Start();
        AnswerAliasAndDownloadUri(server);
        server.Server.Given(Request.Create().WithPath("/api/2.0/mlflow-artifacts/artifacts").UsingGet())
            .RespondWith(Ok($$"""{"files":[{"path":{{System.Text.Json.JsonSerializer.Serialize(path)}},"is_dir":false,"file_size":3}]}"""));
        server.Server.Given(Request.Create().WithPath("/api/2.0/mlflow-artifacts/artifacts/*").UsingGet()).RespondWith(Response.Create().WithStatusCode(200).WithBody("bad"));
        using var client = server.CreateClient();
        var parent = Path.Combine(Path.GetTempPath(), "dl-" + Guid.NewGuid().ToString("N"));
        var target = Path.Combine(parent, "inner", "target");
        try
        {
            Assert.ThrowsAsync<MlflowValidationException>(() => Registry(client).DownloadModelAsync("models:/m@champion", target));

            Assert.That(Directory.EnumerateFiles(parent, "*", SearchOption.AllDirectories), Is.Empty, "nothing written anywhere");
            Assert.That(server.Requests.Any(r => r.RequestMessage.Path.StartsWith("/api/2.0/mlflow-artifacts/artifacts/", StringComparison.Ordinal)), Is.False, "no file fetched");
        }
        finally
        {
            Directory.Delete(parent, recursive: true);
        }
    }

    [Test]
    public void DownloadModel_FromAnUnreadableScheme_SaysWhy()
    {
        using var server = FixtureServer.Start();
        server.Server.Given(Request.Create().WithPath(Api + "registered-models/alias").UsingGet()).RespondWith(Version("READY", "2"));
        server.Server.Given(Request.Create().WithPath(Api + "model-versions/get-download-uri").UsingGet()).RespondWith(Ok("""{"artifact_uri":"s3://bucket/1/r/artifacts/model"}"""));
        using var client = server.CreateClient();

        var ex = Assert.ThrowsAsync<NotSupportedException>(() => Registry(client).DownloadModelAsync("models:/m@champion", Path.Combine(Path.GetTempPath(), "never-" + Guid.NewGuid().ToString("N"))));

        Assert.That(ex!.Message, Does.Contain("s3:").And.Contain("--serve-artifacts"));
    }

    private static void AnswerAliasAndDownloadUri(FixtureServer server)
    {
        server.Server.Given(Request.Create().WithPath(Api + "registered-models/alias").WithParam("alias", "champion").UsingGet()).RespondWith(Version("READY", "2"));
        server.Server.Given(Request.Create().WithPath(Api + "model-versions/get-download-uri").WithParam("version", "2").UsingGet())
            .RespondWith(Ok("""{"artifact_uri":"mlflow-artifacts:/1/r/artifacts/model"}"""));
    }
}
