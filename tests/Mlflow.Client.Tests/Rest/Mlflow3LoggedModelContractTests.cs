using System.Net;
using System.Text.Json.Nodes;
using Mlflow.Client.Tests.Infrastructure;
using NUnit.Framework;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Mlflow.Client.Tests.Rest;

/// <summary>
/// The logged-model endpoints and runs/outputs against exchanges recorded from a real MLflow 3.11.1 server
/// (<c>tests/Fixtures/rest-mlflow3</c>): the client sends the body the server accepted, on the recorded method and path,
/// and reads what it answered.
/// </summary>
[TestFixture]
public class Mlflow3LoggedModelContractTests
{
    private const string Folder = "rest-mlflow3";

    private static (FixtureServer Server, MlflowClient Client, RestFixture Fixture) Serve(string caseName) => FixtureServer.Serve(Folder, caseName);

    private static string ModelIdInPath(RestFixture f) => f.Path.Split('/')[5];

    private static void AssertSent(FixtureServer server, RestFixture fixture)
    {
        var request = server.SingleRequest().RequestMessage;
        Assert.That(request.Method, Is.EqualTo(fixture.Method));
        Assert.That(request.AbsolutePath, Is.EqualTo(fixture.Path));
        if (fixture.RequestJson is null)
        {
            Assert.That(request.Body, Is.Null.Or.Empty);
        }
        else
        {
            Mlflow3RunWireTests.AssertSameJson(JsonNode.Parse(request.Body!), fixture.RequestJson);
        }
    }

    [Test]
    public async Task Create_SendsEveryFieldAndReadsThePendingModel()
    {
        var (server, client, f) = Serve("logged-models-create.ok");
        using (server)
        using (client)
        {
            var model = await client.CreateLoggedModelAsync(f.Arg("experiment_id")!, "classifier", "Classifier", f.Arg("source_run_id"), [new Param("alpha", "0.5")], [new Tag("team", "ml")]);

            AssertSent(server, f);
            Assert.That(model.Info.ModelId, Does.Match("^m-[0-9a-f]{32}$"));
            Assert.That(model.Info.Status, Is.EqualTo(LoggedModelStatus.Pending));
            Assert.That(model.Info.ArtifactUri, Is.EqualTo($"mlflow-artifacts:/{f.Arg("experiment_id")}/models/{model.Info.ModelId}/artifacts"));
            Assert.That(model.Info.SourceRunId, Is.EqualTo(f.Arg("source_run_id")));
            Assert.That(model.Info.ModelType, Is.EqualTo("Classifier"));
            Assert.That(model.Info.CreationTimestampMs, Is.GreaterThan(0));
            Assert.That(model.Info.Tags, Is.EqualTo(new[] { new Tag("team", "ml") }));
            Assert.That(model.Data.Params, Is.EqualTo(new[] { new Param("alpha", "0.5") }));
            Assert.That(model.Data.Metrics, Is.Empty);
        }
    }

    [Test]
    public async Task Create_WithNameOnly_SendsNoEmptyField()
    {
        var (server, client, f) = Serve("logged-models-create.minimal");
        using (server)
        using (client)
        {
            var model = await client.CreateLoggedModelAsync(f.Arg("experiment_id")!, "second", tags: [], @params: []);

            AssertSent(server, f);
            Assert.That(model.Info.Name, Is.EqualTo("second"));
            Assert.That(model.Info.SourceRunId, Is.Empty, "3.11.1 sends an empty source_run_id, not none");
        }
    }

    [Test]
    public async Task Get_ReadsTheReadyModel()
    {
        var (server, client, f) = Serve("logged-models-get.ok");
        using (server)
        using (client)
        {
            var model = await client.GetLoggedModelAsync(ModelIdInPath(f));

            AssertSent(server, f);
            Assert.That(model.Info.Status, Is.EqualTo(LoggedModelStatus.Ready));
            Assert.That(model.Info.Tags.Select(t => t.Key), Is.EquivalentTo(new[] { "stage", "team" }));
            Assert.That(model.Data.Params, Is.EquivalentTo(new[] { new Param("alpha", "0.5"), new Param("beta", "2") }));
            Assert.That(model.Info.Registrations, Is.Empty);
        }
    }

    [Test]
    public void Get_UnknownModel_IsResourceDoesNotExist_NotAnOldServer()
    {
        var (server, client, f) = Serve("logged-models-get.not-found");
        using (server)
        using (client)
        {
            var ex = Assert.ThrowsAsync<MlflowException>(() => client.GetLoggedModelAsync(ModelIdInPath(f)));

            Assert.That(ex!.ErrorCode, Is.EqualTo(MlflowErrorCode.ResourceDoesNotExist));
            Assert.That(ex.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
            Assert.That(ex.Message, Does.Contain("not found").And.Not.Contain("MLflow 3"));
            Assert.That(server.Requests, Has.Count.EqualTo(1), "a model that does not exist is no reason to ask the server's version");
        }
    }

    [Test]
    public async Task Finalize_SendsTheIdInTheBodyAndTheStatusName()
    {
        var (server, client, f) = Serve("logged-models-finalize.ready");
        using (server)
        using (client)
        {
            var model = await client.FinalizeLoggedModelAsync(ModelIdInPath(f), LoggedModelStatus.Ready);

            AssertSent(server, f);
            Assert.That(f.RequestJson!["status"]!.GetValue<string>(), Is.EqualTo("LOGGED_MODEL_READY"));
            Assert.That(model.Info.Status, Is.EqualTo(LoggedModelStatus.Ready));
        }
    }

    [Test]
    public async Task Finalize_UploadFailed_SendsItsName()
    {
        var (server, client, f) = Serve("logged-models-finalize.ready");
        using (server)
        using (client)
        {
            await client.FinalizeLoggedModelAsync(ModelIdInPath(f), LoggedModelStatus.UploadFailed);

            var body = JsonNode.Parse(server.SingleRequest().RequestMessage.Body!)!;
            Assert.That(body["status"]!.GetValue<string>(), Is.EqualTo("LOGGED_MODEL_UPLOAD_FAILED"));
            Assert.That(body["model_id"]!.GetValue<string>(), Is.EqualTo(ModelIdInPath(f)));
        }
    }

    [TestCase(LoggedModelStatus.Pending)]
    [TestCase(LoggedModelStatus.Unspecified)]
    public void Finalize_ToAStatusThatIsNotFinal_IsRefusedBeforeSending(LoggedModelStatus status)
    {
        var (server, client, f) = Serve("logged-models-finalize.ready");
        using (server)
        using (client)
        {
            Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => client.FinalizeLoggedModelAsync(ModelIdInPath(f), status));
            Assert.That(server.Requests, Is.Empty);
        }
    }

    [Test]
    public async Task Delete_SendsDeleteOnTheModelPath()
    {
        var (server, client, f) = Serve("logged-models-delete.ok");
        using (server)
        using (client)
        {
            await client.DeleteLoggedModelAsync(ModelIdInPath(f));
            AssertSent(server, f);
        }
    }

    [Test]
    public async Task Search_SendsFilterOrderAndPageSize_AndReadsTheModels()
    {
        var (server, client, f) = Serve("logged-models-search.ok");
        using (server)
        using (client)
        {
            var page = await client.SearchLoggedModelsAsync(
                [f.RequestJson!["experiment_ids"]![0]!.GetValue<string>()],
                new LoggedModelSearchOptions { Filter = "name = 'classifier'", MaxResults = 10, OrderBy = [new LoggedModelOrderBy("creation_timestamp", Ascending: false)] });

            AssertSent(server, f);
            Assert.That(page.Items.Select(m => m.Info.Name), Is.EqualTo(new[] { "classifier" }));
            Assert.That(page.Items[0].Data.Metrics.Select(m => m.Key), Is.EquivalentTo(new[] { "accuracy", "f1" }));
            Assert.That(page.NextPageToken, Is.Null);
        }
    }

    [Test]
    public async Task Search_ReadsTheNextPageToken()
    {
        var (server, client, f) = Serve("logged-models-search.page");
        using (server)
        using (client)
        {
            var page = await client.SearchLoggedModelsAsync([f.RequestJson!["experiment_ids"]![0]!.GetValue<string>()], new LoggedModelSearchOptions { MaxResults = 1 });

            AssertSent(server, f);
            Assert.That(page.Items, Has.Count.EqualTo(1));
            Assert.That(page.NextPageToken, Is.EqualTo(f.ResponseJson!["next_page_token"]!.GetValue<string>()));
        }
    }

    [Test]
    public async Task SetTags_PatchesTheTagsPath()
    {
        var (server, client, f) = Serve("logged-models-set-tags.ok");
        using (server)
        using (client)
        {
            await client.SetLoggedModelTagsAsync(ModelIdInPath(f), [new Tag("stage", "dev"), new Tag("tmp", "x")]);
            AssertSent(server, f);
        }
    }

    [Test]
    public async Task DeleteTag_PutsTheKeyInThePath()
    {
        var (server, client, f) = Serve("logged-models-delete-tag.ok");
        using (server)
        using (client)
        {
            await client.DeleteLoggedModelTagAsync(ModelIdInPath(f), "tmp");
            AssertSent(server, f);
        }
    }

    [Test]
    public void DeleteTag_KeyWithSlash_IsRefusedBeforeSending()
    {
        var (server, client, f) = Serve("logged-models-delete-tag.ok");
        using (server)
        using (client)
        {
            Assert.ThrowsAsync<ArgumentException>(() => client.DeleteLoggedModelTagAsync(ModelIdInPath(f), "a/b"));
            Assert.That(server.Requests, Is.Empty);
        }
    }

    [Test]
    public async Task LogParams_SendsTheIdInTheBodyToo()
    {
        var (server, client, f) = Serve("logged-models-log-params.ok");
        using (server)
        using (client)
        {
            await client.LogLoggedModelParamsAsync(ModelIdInPath(f), [new Param("beta", "2")]);
            AssertSent(server, f);
        }
    }

    [Test]
    public async Task LogOutputs_LinksTheModelToTheRun()
    {
        var (server, client, f) = Serve("runs-outputs.ok");
        using (server)
        using (client)
        {
            var sent = f.RequestJson!;
            await client.LogOutputsAsync(sent["run_id"]!.GetValue<string>(), [new ModelOutput(sent["models"]![0]!["model_id"]!.GetValue<string>(), 3)]);
            AssertSent(server, f);
        }
    }

    [Test]
    public void OnA2xServer_TheMissingRouteSaysLoggedModelsNeedMlflow3_AndTheVersionIsAskedOnce()
    {
        // What 2.12.2 answers for a route it does not have, and its /version.
        var unknown = RestFixture.Load("rest", "server-unknown-endpoint");
        var version = RestFixture.Load("rest", "server-version.ok");
        using var server = FixtureServer.Start().Answer(version);
        server.Server.Given(Request.Create().WithPath("/api/2.0/mlflow/logged-models*").UsingAnyMethod())
            .RespondWith(Response.Create().WithStatusCode(unknown.Status).WithHeader("Content-Type", unknown.ContentType ?? "text/html").WithBody(unknown.ResponseBody));
        using var client = server.CreateClient();

        var first = Assert.ThrowsAsync<MlflowException>(() => client.GetLoggedModelAsync("m-0123"));
        var second = Assert.ThrowsAsync<MlflowException>(() => client.CreateLoggedModelAsync("1", "x"));

        foreach (var ex in new[] { first!, second! })
        {
            Assert.That(ex.Message, Does.Contain("Logged models need an MLflow 3 tracking server").And.Contain(version.ResponseBody.Trim()));
            Assert.That(ex.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
            Assert.That(ex.IsTransient, Is.False);
        }

        Assert.That(server.Requests.Count(r => r.RequestMessage.AbsolutePath == "/version"), Is.EqualTo(1));
        Assert.That(server.Requests.Count(r => r.RequestMessage.AbsolutePath.StartsWith("/api/3.0", StringComparison.Ordinal)), Is.Zero, "a 2.x version needs no server-info");
    }

    [TestCase("logged-models-log-params.again")]
    [TestCase("runs-outputs.again")]
    public void SentTwice_TheServerRefuses_AndTheClientDoesNotRetry(string caseName)
    {
        // Why these writes are non-idempotent: 3.11.1 answers 400 the second time.
        var (server, client, f) = (FixtureServer.Start(), (MlflowClient?)null, RestFixture.Load(Folder, caseName));
        using (server.Answer(f))
        using (client = server.CreateClient(new MlflowClientOptions { Retry = { MaxRetries = 3 } }))
        {
            var sent = f.RequestJson!;
            var ex = Assert.ThrowsAsync<MlflowException>(() => caseName.StartsWith("runs", StringComparison.Ordinal)
                ? client.LogOutputsAsync(sent["run_id"]!.GetValue<string>(), [new ModelOutput(sent["models"]![0]!["model_id"]!.GetValue<string>(), 3)])
                : client.LogLoggedModelParamsAsync(ModelIdInPath(f), [new Param("beta", "2")]));

            Assert.That(ex!.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(ex.RawErrorCode, Is.EqualTo("BAD_REQUEST"));
            Assert.That(ex.IsTransient, Is.False);
            AssertSent(server, f);
        }
    }

    [TestCase("PATCH", "/api/2.0/mlflow/logged-models/m-1", "IdempotentWrite")]
    [TestCase("PATCH", "/api/2.0/mlflow/logged-models/m-1/tags", "IdempotentWrite")]
    [TestCase("POST", "/api/2.0/mlflow/logged-models", "NonIdempotentWrite")]
    [TestCase("POST", "/api/2.0/mlflow/logged-models/m-1/params", "NonIdempotentWrite")]
    [TestCase("DELETE", "/api/2.0/mlflow/logged-models/m-1", "NonIdempotentWrite")]
    [TestCase("DELETE", "/api/2.0/mlflow/logged-models/m-1/tags/k", "NonIdempotentWrite")]
    [TestCase("POST", "/api/2.0/mlflow/runs/outputs", "NonIdempotentWrite")]
    [TestCase("POST", "/api/2.0/mlflow/logged-models/search", "Read")]
    public void EndpointKinds(string method, string path, string expected)
        => Assert.That(Mlflow.Client.Resilience.EndpointClassifier.Classify(new HttpMethod(method), new Uri("http://h:5000" + path)).ToString(), Is.EqualTo(expected));

    [Test]
    public async Task LogParams_AfterALostAnswer_ReadsTheModelBackInsteadOfSendingAgain()
    {
        // A gateway's 504 after the server applied the write (outcome unknown); the read-back finds the param.
        var got = RestFixture.Load(Folder, "logged-models-get.ok");
        var modelId = ModelIdInPath(got);
        using var server = FixtureServer.Start().Answer(got);
        server.Server.Given(Request.Create().WithPath($"/api/2.0/mlflow/logged-models/{modelId}/params").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(504).WithBody("<html>gateway timeout</html>"));
        using var client = server.CreateClient();

        await client.LogLoggedModelParamsAsync(modelId, [new Param("beta", "2")]);

        Assert.That(server.Requests.Count(r => r.RequestMessage.Method == "POST"), Is.EqualTo(1), "never sent twice");
        Assert.That(server.Requests.Count(r => r.RequestMessage.Method == "GET"), Is.EqualTo(1));
    }
}
