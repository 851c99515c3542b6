using System.Net;
using System.Text.Json.Nodes;
using Mlflow.Client.Tests.Infrastructure;
using NUnit.Framework;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Mlflow.Client.Tests.Rest;

/// <summary>
/// The webhook endpoints (<c>/api/2.0/mlflow/webhooks</c>, MLflow 3.3+): paths, bodies and answers as a real MLflow
/// 3.11.1 server (sqlite) sent and answered them, paging, refusals before sending, and the write-only secret kept out
/// of every text the SDK makes.
/// </summary>
[TestFixture]
public class WebhookTests
{
    private const string Base = "/api/2.0/mlflow/webhooks";
    private const string Id = "0ce7c431-0b2e-47e8-9bc3-9b0dd3d04d9b";
    private const string Secret = "s3cr3t-hmac-key-7f21";

    // Answered by MLflow 3.11.1 (sqlite) to a create with a secret and a description.
    private const string WebhookJson = """
        {"webhook": {"webhook_id": "0ce7c431-0b2e-47e8-9bc3-9b0dd3d04d9b", "name": "w1", "description": "d",
          "url": "http://127.0.0.1:5799/hook",
          "events": [{"entity": "MODEL_VERSION", "action": "CREATED"}, {"entity": "MODEL_VERSION_TAG", "action": "SET"}],
          "status": "ACTIVE", "creation_timestamp": 1796512421625, "last_updated_timestamp": 1796512426427}}
        """;

    private static FixtureServer Answering(string method, string path, int status, string body)
    {
        var server = FixtureServer.Start();
        server.Server.Given(Request.Create().WithPath(path).UsingMethod(method))
            .RespondWith(Response.Create().WithStatusCode(status).WithHeader("Content-Type", "application/json").WithBody(body));
        return server;
    }

    private static JsonNode Body(FixtureServer server) => FixtureServer.BodyJson(server.SingleRequest())!;

    [Test]
    public async Task Create_SendsProtoNames_AndReadsTheWebhook()
    {
        using var server = Answering("POST", Base, 200, WebhookJson);
        using var client = server.CreateClient();

        var hook = await client.CreateWebhookAsync("w1", "http://127.0.0.1:5799/hook", [WebhookEvent.ModelVersionCreated, WebhookEvent.ModelVersionTagSet], "d", Secret, WebhookStatus.Disabled);

        var body = Body(server);
        Assert.That(body.ToJsonString(), Is.EqualTo(
            """{"name":"w1","description":"d","url":"http://127.0.0.1:5799/hook","events":[{"entity":"MODEL_VERSION","action":"CREATED"},{"entity":"MODEL_VERSION_TAG","action":"SET"}],"secret":"s3cr3t-hmac-key-7f21","status":"DISABLED"}"""));
        Assert.That(hook.WebhookId, Is.EqualTo(Id));
        Assert.That(hook.Name, Is.EqualTo("w1"));
        Assert.That(hook.Description, Is.EqualTo("d"));
        Assert.That(hook.Url, Is.EqualTo("http://127.0.0.1:5799/hook"));
        Assert.That(hook.Events, Is.EqualTo(new[] { WebhookEvent.ModelVersionCreated, WebhookEvent.ModelVersionTagSet }));
        Assert.That(hook.Status, Is.EqualTo(WebhookStatus.Active));
        Assert.That(hook.CreationTimestamp, Is.EqualTo(1796512421625));
        Assert.That(hook.LastUpdatedTimestamp, Is.EqualTo(1796512426427));
    }

    [Test]
    public async Task Create_LeavesOutUnsetFields_AndSendsARepeatedEventOnce()
    {
        using var server = Answering("POST", Base, 200, WebhookJson);
        using var client = server.CreateClient();

        await client.CreateWebhookAsync("w1", "https://hooks.example.com/x", [WebhookEvent.PromptAliasDeleted, new WebhookEvent(WebhookEntity.PromptAlias, WebhookAction.Deleted)], description: "", secret: "");

        Assert.That(Body(server).ToJsonString(), Is.EqualTo(
            """{"name":"w1","url":"https://hooks.example.com/x","events":[{"entity":"PROMPT_ALIAS","action":"DELETED"}]}"""));
    }

    [Test]
    public void Create_WithoutEvents_OrWithARelativeUrl_IsRefusedBeforeSending()
    {
        using var server = Answering("POST", Base, 200, WebhookJson);
        using var client = server.CreateClient();

        Assert.ThrowsAsync<ArgumentException>(() => client.CreateWebhookAsync("w", "https://h/x", []));
        Assert.ThrowsAsync<ArgumentException>(() => client.CreateWebhookAsync("w", "https://h/x", [null!]));
        Assert.ThrowsAsync<ArgumentException>(() => client.CreateWebhookAsync("w", "/hook", [WebhookEvent.ModelVersionCreated]));
        Assert.ThrowsAsync<ArgumentException>(() => client.CreateWebhookAsync("", "https://h/x", [WebhookEvent.ModelVersionCreated]));
        Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => client.CreateWebhookAsync("w", "https://h/x", [WebhookEvent.ModelVersionCreated], status: WebhookStatus.Unspecified));
        Assert.That(server.Requests, Is.Empty);
    }

    [Test]
    public void AnEventMlflowRefuses_CannotBeBuilt_AndTheMessageNamesTheRule()
    {
        var ex = Assert.Throws<MlflowValidationException>(() => _ = new WebhookEvent(WebhookEntity.ModelVersion, WebhookAction.Set))!;
        Assert.That(ex.Message, Does.Contain("model_version.set").And.Contain("only with the action 'created'"));
        Assert.That(ex.Subject, Is.EqualTo("webhook event"));

        var tag = Assert.Throws<MlflowValidationException>(() => _ = new WebhookEvent(WebhookEntity.ModelVersionTag, WebhookAction.Created))!;
        Assert.That(tag.Message, Does.Contain("actions 'set', 'deleted'"));

        var none = Assert.Throws<MlflowValidationException>(() => _ = new WebhookEvent(WebhookEntity.Unspecified, WebhookAction.Created))!;
        Assert.That(none.Message, Does.Contain("not an entity a webhook can listen to"));
    }

    [Test]
    public void TheNamedEvents_AreExactlyTheCombinationsMlflowAccepts()
    {
        var pairs = WebhookEvent.All.Select(e => e.ToString()).ToList();

        // MLflow 3.11.1's WebhookEventStr (mlflow/entities/webhook.py).
        Assert.That(pairs, Is.EquivalentTo(new[]
        {
            "registered_model.created", "model_version.created", "model_version_tag.set", "model_version_tag.deleted",
            "model_version_alias.created", "model_version_alias.deleted", "prompt.created", "prompt_version.created",
            "prompt_tag.set", "prompt_tag.deleted", "prompt_version_tag.set", "prompt_version_tag.deleted",
            "prompt_alias.created", "prompt_alias.deleted", "budget_policy.exceeded",
        }));
        var valid = Enum.GetValues<WebhookEntity>().SelectMany(e => Enum.GetValues<WebhookAction>().Where(a => WebhookEvent.IsValid(e, a)).Select(a => (e, a))).Count();
        Assert.That(valid, Is.EqualTo(15));
        Assert.That(WebhookEvent.ValidActions(WebhookEntity.PromptVersionTag), Is.EqualTo(new[] { WebhookAction.Set, WebhookAction.Deleted }));
        Assert.That(WebhookEvent.BudgetPolicyExceeded.ToString(), Is.EqualTo("budget_policy.exceeded"));
    }

    [TestCase("model_version_tag.set", WebhookEntity.ModelVersionTag, WebhookAction.Set)]
    [TestCase("REGISTERED_MODEL.CREATED", WebhookEntity.RegisteredModel, WebhookAction.Created)]
    public void Parse_ReadsMlflowsText(string text, WebhookEntity entity, WebhookAction action)
    {
        var e = WebhookEvent.Parse(text);
        Assert.That((e.Entity, e.Action), Is.EqualTo((entity, action)));
    }

    [TestCase("model_version", "entity.action")]
    [TestCase("model_version.created.x", "entity.action")]
    [TestCase("model.created", "unknown entity 'model'")]
    [TestCase("model_version.renamed", "unknown action 'renamed'")]
    [TestCase("model_version.deleted", "only with the action 'created'")]
    public void Parse_RefusesWhatMlflowRefuses(string text, string rule)
    {
        var ex = Assert.Throws<MlflowValidationException>(() => WebhookEvent.Parse(text))!;
        Assert.That(ex.Message, Does.Contain(rule));
    }

    [Test]
    public void TheSecret_IsNeverInToString()
    {
        var update = new WebhookUpdate { Name = "n", Secret = Secret, Events = [WebhookEvent.PromptCreated] };
        Assert.That(update.ToString(), Does.Not.Contain(Secret).And.Contain("Secret = ***").And.Contain("prompt.created").And.Contain("Name = n"));
        Assert.That(new WebhookUpdate { Name = "n" }.ToString(), Does.Not.Contain("***"));

        var create = new global::Mlflow.Client.Rest.CreateWebhookRequest("n", null, "https://h/x", [], Secret, null);
        var patch = new global::Mlflow.Client.Rest.UpdateWebhookRequest("n", null, null, null, Secret, null);
        Assert.That(create.ToString(), Does.Not.Contain(Secret).And.Contain("***"));
        Assert.That(patch.ToString(), Does.Not.Contain(Secret).And.Contain("***"));
    }

    /// <summary>A client with the retry pipeline on (error answers leave it decided) or off (Refit's ApiException, which holds the request, is the cause).</summary>
    private static MlflowClient Client(FixtureServer server, bool pipeline)
        => new(new MlflowClientOptions { TrackingUri = server.Url, Retry = { Enabled = pipeline, MaxRetries = 0 } });

    [TestCase("https://hooks.slack.com/services/T0001/B0002/tok3nInThePath", "https://hooks.slack.com/…")]
    [TestCase("https://example.webhook.office.com/webhookflows?api-version=1&sig=tok3nInTheQuery", "https://example.webhook.office.com/…")]
    [TestCase("https://user:tok3nAsPassword@h.example.com:8443/", "https://h.example.com:8443")]
    [TestCase("http://127.0.0.1:5799", "http://127.0.0.1:5799")]
    public void TheUrlsPathQueryAndUserInfo_AreNeverInToString(string url, string shown)
    {
        var hook = new Webhook { WebhookId = Id, Name = "n", Url = url, Events = [WebhookEvent.PromptCreated] };
        var update = new WebhookUpdate { Url = url };
        var create = new global::Mlflow.Client.Rest.CreateWebhookRequest("n", null, url, [], null, null);
        var patch = new global::Mlflow.Client.Rest.UpdateWebhookRequest(null, null, url, null, null, null);
        var wire = new global::Mlflow.Client.Rest.WebhookWire(Id, "n", null, url, null, "ACTIVE", null, null);

        foreach (var text in new[] { hook.ToString(), update.ToString(), create.ToString(), patch.ToString(), wire.ToString() })
        {
            Assert.That(text, Does.Not.Contain("tok3n").And.Contain("Url = " + shown + ","));
        }

        Assert.That(hook.ToString(), Does.Contain("Name = n").And.Contain("prompt.created"));
        Assert.That(hook.Url, Is.EqualTo(url), "the property keeps the whole URL");
    }

    [TestCase(true)]
    [TestCase(false)]
    public void ASecretTheServerEchoes_IsNotInTheException(bool pipeline)
    {
        using var server = Answering("POST", Base, 400, $$"""{"error_code": "INVALID_PARAMETER_VALUE", "message": "Invalid value '{{Secret}}' for parameter 'secret'"}""");
        using var client = Client(server, pipeline);

        var ex = Assert.ThrowsAsync<MlflowException>(() => client.CreateWebhookAsync("w", "https://h/x", [WebhookEvent.ModelVersionCreated], secret: Secret))!;

        Assert.That(ex.ErrorCode, Is.EqualTo(MlflowErrorCode.InvalidParameterValue));
        Assert.That(ex.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(ex.ToString(), Does.Not.Contain(Secret).And.Contain("Invalid value '***'"));
        Assert.That(ex.ServerMessage, Does.Not.Contain(Secret));
        Assert.That(ex.InnerException, Is.Null, "Refit's exception holds the request and its body");
    }

    [TestCase(true)]
    [TestCase(false)]
    public void AnUpdateFailure_DoesNotCarryTheRequestWithTheSecret(bool pipeline)
    {
        using var server = Answering("PATCH", $"{Base}/{Id}", 500, "<html><body>Internal Server Error</body></html>");
        using var client = Client(server, pipeline);

        var ex = Assert.ThrowsAsync<MlflowException>(() => client.UpdateWebhookAsync(Id, new WebhookUpdate { Secret = Secret, Status = WebhookStatus.Active }))!;

        Assert.That(ex.StatusCode, Is.EqualTo(HttpStatusCode.InternalServerError));
        Assert.That(ex.ServerMessage, Is.EqualTo("Internal Server Error"));
        Assert.That(ex.InnerException, Is.Null);
        Assert.That(ex.ToString(), Does.Not.Contain(Secret));
    }

    [TestCase(true)]
    [TestCase(false)]
    public void ACancelledCreate_DoesNotCarryTheRequestWithTheSecret(bool pipeline)
    {
        using var server = FixtureServer.Start();
        server.Server.Given(Request.Create().WithPath(Base).UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody(WebhookJson).WithDelay(TimeSpan.FromSeconds(10)));
        using var client = Client(server, pipeline);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));

        var ex = Assert.CatchAsync<OperationCanceledException>(() => client.CreateWebhookAsync("w", "https://h/x", [WebhookEvent.ModelVersionCreated], secret: Secret, cancellationToken: cancel.Token))!;

        Assert.That(ex.CancellationToken, Is.EqualTo(cancel.Token));
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            Assert.That(e, Is.Not.InstanceOf<Refit.ApiRequestException>().And.Not.InstanceOf<Refit.ApiException>(), "Refit's exception holds the request and its body");
        }

        Assert.That(ex.ToString(), Does.Not.Contain(Secret));
    }

    [Test]
    public async Task Get_SendsTheIdInThePath()
    {
        using var server = Answering("GET", $"{Base}/{Id}", 200, WebhookJson);
        using var client = server.CreateClient();

        var hook = await client.GetWebhookAsync(Id);

        Assert.That(server.SingleRequest().RequestMessage.Path, Is.EqualTo($"{Base}/{Id}"));
        Assert.That(hook.WebhookId, Is.EqualTo(Id));
    }

    [Test]
    public void Get_Unknown_IsResourceDoesNotExist_WithoutAskingTheVersion()
    {
        using var server = Answering("GET", $"{Base}/nope", 404, """{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "Webhook with ID nope not found."}""");
        using var client = server.CreateClient();

        var ex = Assert.ThrowsAsync<MlflowException>(() => client.GetWebhookAsync("nope"))!;

        Assert.That(ex.ErrorCode, Is.EqualTo(MlflowErrorCode.ResourceDoesNotExist));
        Assert.That(ex.Message, Does.Contain("Webhook with ID nope not found."));
        Assert.That(server.Requests, Has.Count.EqualTo(1));
    }

    [TestCase("..")]
    [TestCase(".")]
    [TestCase("a/b")]
    [TestCase("")]
    public void AnIdThatWouldChangeThePath_IsRefused(string id)
    {
        using var server = Answering("GET", Base, 200, "{}");
        using var client = server.CreateClient();

        Assert.ThrowsAsync<ArgumentException>(() => client.GetWebhookAsync(id));
        Assert.ThrowsAsync<ArgumentException>(() => client.DeleteWebhookAsync(id));
        Assert.That(server.Requests, Is.Empty);
    }

    [Test]
    public async Task Update_SendsOnlyWhatIsSet_AndNoIdInTheBody()
    {
        using var server = Answering("PATCH", $"{Base}/{Id}", 200, WebhookJson);
        using var client = server.CreateClient();

        await client.UpdateWebhookAsync(Id, new WebhookUpdate { Description = "new", Status = WebhookStatus.Disabled, Events = [WebhookEvent.PromptAliasDeleted], Secret = Secret });
        Assert.That(Body(server).ToJsonString(), Is.EqualTo(
            """{"description":"new","events":[{"entity":"PROMPT_ALIAS","action":"DELETED"}],"secret":"s3cr3t-hmac-key-7f21","status":"DISABLED"}"""));

        server.Server.ResetLogEntries();
        await client.UpdateWebhookAsync(Id, new WebhookUpdate { Name = "renamed", Events = [], Status = WebhookStatus.Active });
        Assert.That(Body(server).ToJsonString(), Is.EqualTo("""{"name":"renamed","status":"ACTIVE"}"""), "empty events keep the old ones, as MLflow reads them");
    }

    [Test]
    public async Task Update_WithoutStatus_SendsTheCurrentOne_MlflowWouldReadNoneAsActive()
    {
        using var server = Answering("PATCH", $"{Base}/{Id}", 200, WebhookJson);
        server.Server.Given(Request.Create().WithPath($"{Base}/{Id}").UsingGet())
            .RespondWith(Response.Create().WithStatusCode(200).WithBody(WebhookJson.Replace("\"ACTIVE\"", "\"DISABLED\"", StringComparison.Ordinal)));
        using var client = server.CreateClient();

        await client.UpdateWebhookAsync(Id, new WebhookUpdate { Description = "x" });

        var requests = server.Requests;
        Assert.That(requests.Select(r => r.RequestMessage.Method), Is.EqualTo(new[] { "GET", "PATCH" }));
        Assert.That(FixtureServer.BodyJson(requests[1])!.ToJsonString(), Is.EqualTo("""{"description":"x","status":"DISABLED"}"""));
    }

    [Test]
    public async Task Delete_SendsDeleteOnThePath()
    {
        using var server = Answering("DELETE", $"{Base}/{Id}", 200, "{}");
        using var client = server.CreateClient();

        await client.DeleteWebhookAsync(Id);

        var request = server.SingleRequest().RequestMessage;
        Assert.That((request.Method, request.Path), Is.EqualTo(("DELETE", $"{Base}/{Id}")));
    }

    [Test]
    public async Task Test_SendsTheEvent_AndReadsWhatTheUrlAnswered()
    {
        using var server = Answering("POST", $"{Base}/{Id}/test", 200, """{"result": {"success": true, "response_status": 200, "response_body": "pong"}}""");
        using var client = server.CreateClient();

        var result = await client.TestWebhookAsync(Id, WebhookEvent.ModelVersionTagSet);
        Assert.That(Body(server).ToJsonString(), Is.EqualTo("""{"event":{"entity":"MODEL_VERSION_TAG","action":"SET"}}"""));
        Assert.That(result, Is.EqualTo(new WebhookTestResult(true, 200, "pong", null)));

        server.Server.ResetLogEntries();
        await client.TestWebhookAsync(Id);
        Assert.That(Body(server).ToJsonString(), Is.EqualTo("{}"), "no event: the server takes the webhook's first");
    }

    [Test]
    public async Task Test_ThatReachedNothing_ReadsTheServersError()
    {
        using var server = Answering("POST", $"{Base}/{Id}/test", 200, """{"result": {"success": false, "error_message": "Failed to test webhook: ConnectionError('refused')"}}""");
        using var client = server.CreateClient();

        var result = await client.TestWebhookAsync(Id);

        Assert.That(result.Success, Is.False);
        Assert.That(result.ResponseStatus, Is.Null);
        Assert.That(result.ResponseBody, Is.Null);
        Assert.That(result.ErrorMessage, Does.Contain("ConnectionError"));
    }

    [Test]
    public async Task List_SendsPageSizeAndToken_AndReturnsOnePage()
    {
        using var server = FixtureServer.Start();
        server.Server.Given(Request.Create().WithPath(Base).UsingGet())
            .RespondWith(Response.Create().WithStatusCode(200).WithBody($$"""{"webhooks": [{{WebhookJson[WebhookJson.IndexOf('{', 1)..WebhookJson.LastIndexOf('}')]}}], "next_page_token": "eyJvZmZzZXQiOiAyfQ=="}"""));
        using var client = server.CreateClient();

        var page = await client.ListWebhooksAsync(2, "eyJvZmZzZXQiOiAxfQ==");

        var request = server.SingleRequest().RequestMessage;
        Assert.That(request.Query!["max_results"].Single(), Is.EqualTo("2"));
        Assert.That(request.Query["page_token"].Single(), Is.EqualTo("eyJvZmZzZXQiOiAxfQ=="));
        Assert.That(page.Items.Select(w => w.WebhookId), Is.EqualTo(new[] { Id }));
        Assert.That(page.NextPageToken, Is.EqualTo("eyJvZmZzZXQiOiAyfQ=="));
    }

    [Test]
    public async Task ListAll_FollowsTokensToTheEnd()
    {
        using var server = FixtureServer.Start();
        server.Server.Given(Request.Create().WithPath(Base).UsingGet().WithParam("page_token", "p2")).AtPriority(1)
            .RespondWith(Response.Create().WithStatusCode(200).WithBody("""{"webhooks": [{"webhook_id": "b", "status": "DISABLED", "events": [{"entity": "PROMPT", "action": "CREATED"}]}]}"""));
        server.Server.Given(Request.Create().WithPath(Base).UsingGet()).AtPriority(2)
            .RespondWith(Response.Create().WithStatusCode(200).WithBody("""{"webhooks": [{"webhook_id": "a", "status": "ACTIVE"}], "next_page_token": "p2"}"""));
        using var client = server.CreateClient();

        var all = new List<Webhook>();
        await foreach (var w in client.ListAllWebhooksAsync(pageSize: 1))
        {
            all.Add(w);
        }

        Assert.That(all.Select(w => (w.WebhookId, w.Status)), Is.EqualTo(new[] { ("a", WebhookStatus.Active), ("b", WebhookStatus.Disabled) }));
        Assert.That(all[1].Events, Is.EqualTo(new[] { WebhookEvent.PromptCreated }));
        Assert.That(server.Requests, Has.Count.EqualTo(2));
    }

    [Test]
    public void ListAll_StopsWhenTheServerRepeatsAToken()
    {
        using var server = FixtureServer.Start();
        server.Server.Given(Request.Create().WithPath(Base).UsingGet())
            .RespondWith(Response.Create().WithStatusCode(200).WithBody("""{"webhooks": [], "next_page_token": "same"}"""));
        using var client = server.CreateClient();

        Assert.ThrowsAsync<MlflowException>(async () =>
        {
            await foreach (var _ in client.ListAllWebhooksAsync())
            {
            }
        });
        Assert.That(server.Requests, Has.Count.EqualTo(2));
    }

    [Test]
    public void List_PageSizeBelowOne_IsRefused_MlflowWouldReadZeroAs100()
    {
        using var server = FixtureServer.Start();
        using var client = server.CreateClient();

        Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => client.ListWebhooksAsync(0));
        Assert.That(server.Requests, Is.Empty);
    }

    [Test]
    public async Task AnEntityOrStatusThisSdkDoesNotKnow_StillReads()
    {
        using var server = Answering("GET", $"{Base}/{Id}", 200,
            """{"webhook": {"webhook_id": "x", "events": [{"entity": "TRACE", "action": "ARCHIVED"}, {"entity": "MODEL_VERSION", "action": "CREATED"}], "status": "PAUSED"}}""");
        using var client = server.CreateClient();

        var hook = await client.GetWebhookAsync(Id);

        Assert.That(hook.Events.Select(e => (e.Entity, e.Action)), Is.EqualTo(new[] { (WebhookEntity.Unspecified, WebhookAction.Unspecified), (WebhookEntity.ModelVersion, WebhookAction.Created) }));
        Assert.That(hook.Status, Is.EqualTo(WebhookStatus.Unspecified));
        Assert.That(hook.Description, Is.Null);
    }

    [Test]
    public void OnAnMlflow2Server_TheMessageSaysWebhooksNeedMlflow3()
    {
        using var server = FixtureServer.Start()
            .Answer(RestFixture.Load("rest", "server-version.ok"));
        server.Server.Given(Request.Create().WithPath(Base).UsingPost())
            .RespondWith(Response.Create().WithStatusCode(404).WithHeader("Content-Type", "text/html").WithBody("<!doctype html><title>404 Not Found</title><h1>Not Found</h1>"));
        using var client = server.CreateClient();

        var ex = Assert.ThrowsAsync<MlflowException>(() => client.CreateWebhookAsync("w", "https://h/x", [WebhookEvent.ModelVersionCreated], secret: Secret))!;

        Assert.That(ex.Message, Does.Contain("Webhooks need an MLflow 3 tracking server").And.Contain("2.12.2").And.Contain("3.3"));
        Assert.That(ex.ToString(), Does.Not.Contain(Secret));
    }

    [Test]
    public void OnALocalStore_EveryWebhookCallNeedsAServer()
    {
        var root = Path.Combine(Path.GetTempPath(), "mlflow-webhooks-local", Guid.NewGuid().ToString("N"));
        try
        {
            using var client = new MlflowClient(new MlflowClientOptions { TrackingUri = root });
            Assert.That(client.IsLocal, Is.True);

            var ex = Assert.CatchAsync<NotSupportedException>(() => client.CreateWebhookAsync("w", "https://h/x", [WebhookEvent.ModelVersionCreated], secret: Secret))!;
            Assert.That(ex.Message, Does.Contain("/api/2.0/mlflow/webhooks").And.Not.Contain(Secret));
            Assert.CatchAsync<NotSupportedException>(() => client.GetWebhookAsync(Id));
            Assert.CatchAsync<NotSupportedException>(() => client.ListWebhooksAsync());
            Assert.CatchAsync<NotSupportedException>(() => client.UpdateWebhookAsync(Id, new WebhookUpdate { Name = "n" }));
            Assert.CatchAsync<NotSupportedException>(() => client.DeleteWebhookAsync(Id));
            Assert.CatchAsync<NotSupportedException>(() => client.TestWebhookAsync(Id));
        }
        finally
        {
            if (Directory.Exists(root))
            {
                Directory.Delete(root, recursive: true);
            }
        }
    }
}
