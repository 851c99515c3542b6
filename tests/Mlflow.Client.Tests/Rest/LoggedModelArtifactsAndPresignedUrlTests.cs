using System.Net;
using System.Text;
using Mlflow.Client.FileStore;
using Mlflow.Client.Tests.Infrastructure;
using NUnit.Framework;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Mlflow.Client.Tests.Rest;

/// <summary>
/// <see cref="MlflowClient.ListLoggedModelArtifactsAsync"/> (<c>logged-models/{id}/artifacts/directories</c>) and
/// <see cref="MlflowClient.GetPresignedDownloadUrlAsync"/> (<c>mlflow-artifacts/presigned/...</c>): the answers are the
/// ones MLflow 3.11.1 (sqlite, local proxied artifacts) gave, and the presigned shape is MLflow's
/// <c>PresignedDownloadUrlResponse.to_dict</c> (an S3 store, which the harness has not).
/// </summary>
[TestFixture]
public class LoggedModelArtifactsAndPresignedUrlTests
{
    private const string ModelId = "m-a9d441decae34dd7b3766245c72eabe1";
    private const string DirectoriesPath = "/api/2.0/mlflow/logged-models/" + ModelId + "/artifacts/directories";
    private const string ModelRoot = "mlflow-artifacts:/0/models/" + ModelId + "/artifacts";
    private const string PresignedPath = "/api/2.0/mlflow-artifacts/presigned/0/models/" + ModelId + "/artifacts/MLmodel";
    private const string Signature = "X-Amz-Signature=9f0c1d2e3b4a";

    private static readonly string[] UnsafePaths = ["/etc", "../x", "a/../../b", "a\\b", "a#b", "C:/x"];

    [Test]
    public async Task ListLoggedModelArtifacts_Root_SendsNoPath_AndReadsFilesAndFolders()
    {
        using var server = FixtureServer.Start();
        server.Server.Given(Request.Create().WithPath(DirectoriesPath).UsingGet()).RespondWith(Response.Create().WithStatusCode(200).WithBody(
            """{"root_uri": "mlflow-artifacts:/0/models/m-a9d441decae34dd7b3766245c72eabe1/artifacts", "files": [{"path": "MLmodel", "is_dir": false, "file_size": 5}, {"path": "sub", "is_dir": true}]}"""));
        using var client = server.CreateClient();

        var files = await client.ListLoggedModelArtifactsAsync(ModelId);

        Assert.That(server.SingleRequest().RequestMessage.Query, Is.Null.Or.Empty);
        Assert.That(files, Is.EqualTo(new[] { new ArtifactFileInfo("MLmodel", false, 5), new ArtifactFileInfo("sub", true) }));
    }

    [Test]
    public async Task ListLoggedModelArtifacts_Folder_SendsArtifactDirectoryPath_AndKeepsTheServersPaths()
    {
        using var server = FixtureServer.Start();
        server.Server.Given(Request.Create().WithPath(DirectoriesPath).UsingGet()).RespondWith(Response.Create().WithStatusCode(200).WithBody(
            """{"root_uri": "mlflow-artifacts:/0/models/m-a9d441decae34dd7b3766245c72eabe1/artifacts", "files": [{"path": "sub/a.bin", "is_dir": false, "file_size": 1}]}"""));
        using var client = server.CreateClient();

        var files = await client.ListLoggedModelArtifactsAsync(ModelId, "sub/");

        Assert.That(server.SingleRequest().RequestMessage.Query!["artifact_directory_path"].Single(), Is.EqualTo("sub"));
        Assert.That(files, Is.EqualTo(new[] { new ArtifactFileInfo("sub/a.bin", false, 1) }));
    }

    [Test]
    public async Task ListLoggedModelArtifacts_MissingFolder_IsEmpty()
    {
        using var server = FixtureServer.Start();
        server.Server.Given(Request.Create().WithPath(DirectoriesPath).UsingGet()).RespondWith(Response.Create().WithStatusCode(200).WithBody(
            """{"root_uri": "mlflow-artifacts:/0/models/m-a9d441decae34dd7b3766245c72eabe1/artifacts"}"""));
        using var client = server.CreateClient();

        Assert.That(await client.ListLoggedModelArtifactsAsync(ModelId, "nope"), Is.Empty);
    }

    [TestCaseSource(nameof(UnsafePaths))]
    public void ListLoggedModelArtifacts_UnsafePath_IsRefusedBeforeSending(string path)
    {
        using var server = FixtureServer.Start();
        using var client = server.CreateClient();

        Assert.ThrowsAsync<MlflowValidationException>(() => client.ListLoggedModelArtifactsAsync(ModelId, path));
        Assert.ThrowsAsync<MlflowValidationException>(() => client.GetPresignedDownloadUrlAsync(ModelRoot, path));
        Assert.That(server.Requests, Is.Empty);
    }

    [Test]
    public void ListLoggedModelArtifacts_UnknownModel_IsResourceDoesNotExist()
    {
        using var server = FixtureServer.Start();
        server.Server.Given(Request.Create().UsingGet()).RespondWith(Response.Create().WithStatusCode(404).WithBody(
            """{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "Logged model with ID 'm-nope' not found."}"""));
        using var client = server.CreateClient();

        var ex = Assert.ThrowsAsync<MlflowException>(() => client.ListLoggedModelArtifactsAsync("m-nope"))!;

        Assert.That(ex.ErrorCode, Is.EqualTo(MlflowErrorCode.ResourceDoesNotExist));
        Assert.That(server.Requests, Has.Count.EqualTo(1));
    }

    [Test]
    public async Task ListLoggedModelArtifacts_OnALocalStore_ListsTheModelsArtifactFolder()
    {
        var root = Path.Combine(Path.GetTempPath(), "mlflow-lm-artifacts", Guid.NewGuid().ToString("N"), "mlruns");
        try
        {
            string modelId;
            using (var store = new LocalFileStore(root))
            {
                var exp = await store.CreateExperimentAsync("lm", null, null, CancellationToken.None);
                modelId = store.CreateLoggedModel(exp, "clf", null, null, [], []).Info.ModelId;
                await store.LoggedModelArtifacts(modelId).WriteAsync("MLmodel", new MemoryStream(Encoding.UTF8.GetBytes("flavors: {}\n")), CancellationToken.None);
                await store.LoggedModelArtifacts(modelId).WriteAsync("sub/a.bin", new MemoryStream([1, 2, 3]), CancellationToken.None);
            }

            using var client = new MlflowClient(new MlflowClientOptions { TrackingUri = root });
            Assert.That(client.IsLocal, Is.True);

            Assert.That(await client.ListLoggedModelArtifactsAsync(modelId), Is.EqualTo(new[] { new ArtifactFileInfo("MLmodel", false, 12), new ArtifactFileInfo("sub", true) }));
            Assert.That(await client.ListLoggedModelArtifactsAsync(modelId, "sub"), Is.EqualTo(new[] { new ArtifactFileInfo("sub/a.bin", false, 3) }));
            Assert.ThrowsAsync<MlflowValidationException>(() => client.ListLoggedModelArtifactsAsync(modelId, "../../x"));
            var missing = Assert.ThrowsAsync<MlflowException>(() => client.ListLoggedModelArtifactsAsync("m-00000000000000000000000000000000"))!;
            Assert.That(missing.ErrorCode, Is.EqualTo(MlflowErrorCode.ResourceDoesNotExist));
            Assert.CatchAsync<NotSupportedException>(() => client.GetPresignedDownloadUrlAsync(ModelRoot, "MLmodel"));
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(root)!, recursive: true);
        }
    }

    [Test]
    public async Task PresignedUrl_ReadsUrlHeadersAndSize()
    {
        using var server = FixtureServer.Start();
        server.Server.Given(Request.Create().WithPath(PresignedPath).UsingGet()).RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(
            $$"""{"url": "https://bucket.s3.amazonaws.com/0/models/{{ModelId}}/artifacts/MLmodel?X-Amz-Expires=300&{{Signature}}", "headers": {"x-amz-server-side-encryption-customer-key": "c2VjcmV0LWtleQ=="}, "file_size": 5}"""));
        using var client = server.CreateClient();

        var presigned = await client.GetPresignedDownloadUrlAsync(ModelRoot, "MLmodel");

        Assert.That(server.SingleRequest().RequestMessage.Path, Is.EqualTo(PresignedPath));
        Assert.That(presigned.Url.Host, Is.EqualTo("bucket.s3.amazonaws.com"));
        Assert.That(presigned.Url.Query, Does.Contain(Signature));
        Assert.That(presigned.Headers, Is.EqualTo(new Dictionary<string, string> { ["x-amz-server-side-encryption-customer-key"] = "c2VjcmV0LWtleQ==" }));
        Assert.That(presigned.FileSize, Is.EqualTo(5));
        Assert.That(presigned.ToString(), Does.Not.Contain("X-Amz-Signature").And.Not.Contain("c2VjcmV0LWtleQ==")
            .And.Contain("https://bucket.s3.amazonaws.com/0/models/" + ModelId + "/artifacts/MLmodel?…").And.Contain("x-amz-server-side-encryption-customer-key"));
    }

    [Test]
    public async Task PresignedUrl_WithoutHeadersOrSize_ReadsEmpty()
    {
        using var server = FixtureServer.Start();
        server.Server.Given(Request.Create().WithPath(PresignedPath).UsingGet()).RespondWith(Response.Create().WithStatusCode(200).WithBody(
            """{"url": "https://u:p@bucket.example/o", "headers": {}}"""));
        using var client = server.CreateClient();

        var presigned = await client.GetPresignedDownloadUrlAsync(ModelRoot, "MLmodel");

        Assert.That(presigned.Headers, Is.Empty);
        Assert.That(presigned.FileSize, Is.Null);
        Assert.That(presigned.ToString(), Does.Not.Contain("u:p"));
    }

    [TestCase("""{"headers": {}}""")]
    [TestCase("""{"url": "/relative"}""")]
    [TestCase("""{"url": "file:///etc/passwd"}""")]
    [TestCase("""not json""")]
    public void PresignedUrl_AnAnswerWithoutAnHttpUrl_IsAnError(string body)
    {
        using var server = FixtureServer.Start();
        server.Server.Given(Request.Create().WithPath(PresignedPath).UsingGet()).RespondWith(Response.Create().WithStatusCode(200).WithBody(body));
        using var client = server.CreateClient();

        var ex = Assert.ThrowsAsync<MlflowException>(() => client.GetPresignedDownloadUrlAsync(ModelRoot, "MLmodel"))!;
        Assert.That(ex.Message, Does.Contain("response"));
    }

    [Test]
    public void PresignedUrl_StoreThatCannotSign_SaysSoAndNamesTheWayAround()
    {
        // What MLflow 3.11.1 answered with a local --artifacts-destination.
        using var server = FixtureServer.Start();
        server.Server.Given(Request.Create().WithPath(PresignedPath).UsingGet()).RespondWith(Response.Create().WithStatusCode(501).WithHeader("Content-Type", "application/json").WithBody(
            """{"error_code": "NOT_IMPLEMENTED", "message": "Multipart download is not supported for the current artifact repository"}"""));
        using var client = server.CreateClient();

        var ex = Assert.ThrowsAsync<MlflowException>(() => client.GetPresignedDownloadUrlAsync(ModelRoot, "MLmodel"))!;

        Assert.That(ex.StatusCode, Is.EqualTo(HttpStatusCode.NotImplemented));
        Assert.That(ex.ErrorCode, Is.EqualTo(MlflowErrorCode.NotImplemented));
        Assert.That(ex.Kind, Is.EqualTo(MlflowFailureKind.Rejected));
        Assert.That(ex.Message, Does.Contain("cannot hand out presigned download URLs").And.Contain("Multipart download is not supported").And.Contain("DownloadArtifactAsync"));
        Assert.That(server.Requests, Has.Count.EqualTo(1));
    }

    [Test]
    public void PresignedUrl_OfAnUriThatIsNotProxied_IsNotSupported()
    {
        using var server = FixtureServer.Start();
        using var client = server.CreateClient();

        Assert.ThrowsAsync<NotSupportedException>(() => client.GetPresignedDownloadUrlAsync("s3://bucket/0/models/m-1/artifacts", "MLmodel"));
        Assert.That(server.Requests, Is.Empty);
    }
}
