using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Mlflow.Client.Tests.Infrastructure;
using NUnit.Framework;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Mlflow.Client.Tests.RealServer;

/// <summary>
/// Webhooks, logged-model artifact listing and presigned download URLs against a real MLflow 3 server
/// (<c>MLFLOW_TEST_TRACKING_URI</c>; verified on 3.11.1 with sqlite). The webhooks point at a WireMock listener on
/// 127.0.0.1 that this test starts, which MLflow refuses unless started with <c>MLFLOW_WEBHOOK_ALLOWED_SCHEMES=http,https</c>
/// and <c>MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS=true</c> (tests/RealServer/SETUP.md, section 7); without them, or on a 2.x
/// server, the webhook tests are ignored and say why.
/// </summary>
[TestFixture]
[Category("RealServer")]
[NonParallelizable]
public class WebhookRealServerTests : RealServerClientTest
{
    private const string SetupHint = "see tests/RealServer/SETUP.md, section 7";
    private FixtureServer _listener = null!;
    private readonly List<string> _created = [];

    protected override string PrefixStem => "dotnet-wh-";

    protected override TimeSpan RequestTimeout => TimeSpan.FromSeconds(60);

    [SetUp]
    public void StartListener()
    {
        _listener = FixtureServer.Start();
        _listener.Server.Given(Request.Create().WithPath("/hook").UsingPost()).RespondWith(Response.Create().WithStatusCode(200).WithBody("pong"));
    }

    [TearDown]
    public async Task DeleteWebhooksAndStopListener()
    {
        foreach (var id in _created)
        {
            try
            {
                await Client.DeleteWebhookAsync(id);
            }
            catch (MlflowException)
            {
                // already deleted by the test
            }
        }

        _listener?.Dispose();
    }

    private string HookUrl => _listener.Url + "/hook";

    /// <summary>Ignores the test unless the server is MLflow 3 with a SQL store (the file store answers 500 to webhooks/create).</summary>
    private async Task RequireWebhooksAsync()
    {
        var info = await RequireMlflow3Async("Webhooks need");
        if (info.IsFileStore)
        {
            Assert.Ignore($"Webhooks need a SQL tracking store; {TrackingUri} runs on MLflow's file store, which answers 500 to webhooks/create.");
        }
    }

    /// <summary>Creates a webhook on the loopback listener; ignores the test when the server refuses loopback URLs.</summary>
    private async Task<Webhook> CreateOnListenerAsync(string name, IReadOnlyList<WebhookEvent> events, string? secret, WebhookStatus status, string? description = null)
    {
        Webhook hook;
        try
        {
            hook = await Client.CreateWebhookAsync(name, HookUrl, events, description, secret, status);
        }
        catch (MlflowException ex) when (ex.ErrorCode == MlflowErrorCode.InvalidParameterValue && (ex.Message.Contains("scheme", StringComparison.Ordinal) || ex.Message.Contains("non-public", StringComparison.Ordinal)))
        {
            Assert.Ignore($"The server refuses a webhook on {HookUrl} ({ex.ServerMessage}): start it with MLFLOW_WEBHOOK_ALLOWED_SCHEMES=http,https and MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS=true; {SetupHint}.");
            throw;
        }

        _created.Add(hook.WebhookId);
        return hook;
    }

    [Test]
    public async Task Webhook_CreateGetListPageUpdateAndDelete()
    {
        await RequireWebhooksAsync();

        // Disabled: an event another test raises on the same server must not be delivered here.
        var first = await CreateOnListenerAsync(Prefix + "-a", [WebhookEvent.ModelVersionCreated, WebhookEvent.ModelVersionTagSet], null, WebhookStatus.Disabled, "first");
        var second = await CreateOnListenerAsync(Prefix + "-b", [WebhookEvent.PromptAliasDeleted], null, WebhookStatus.Disabled);
        Assert.That(first.WebhookId, Is.Not.Empty);
        Assert.That(first.Name, Is.EqualTo(Prefix + "-a"));
        Assert.That(first.Url, Is.EqualTo(HookUrl));
        Assert.That(first.Description, Is.EqualTo("first"));
        Assert.That(first.Events, Is.EquivalentTo(new[] { WebhookEvent.ModelVersionTagSet, WebhookEvent.ModelVersionCreated }), "3.11.1 keeps its own order");
        Assert.That(first.Status, Is.EqualTo(WebhookStatus.Disabled));
        Assert.That(first.CreationTimestamp, Is.GreaterThan(0));
        Assert.That(second.Description, Is.Null);

        var read = await Client.GetWebhookAsync(first.WebhookId);
        Assert.That(read, Is.EqualTo(first).Using<Webhook>((a, b) => a.WebhookId == b.WebhookId && a.Name == b.Name && a.Url == b.Url && a.Description == b.Description
            && a.Events.ToHashSet().SetEquals(b.Events) && a.Status == b.Status && a.CreationTimestamp == b.CreationTimestamp));

        // Newest first, one a page: the second page exists, and following the tokens finds both.
        var page = await Client.ListWebhooksAsync(1);
        Assert.That(page.Items, Has.Count.EqualTo(1));
        Assert.That(page.NextPageToken, Is.Not.Null);
        var all = new List<Webhook>();
        await foreach (var w in Client.ListAllWebhooksAsync(pageSize: 1))
        {
            all.Add(w);
            Assert.That(all, Has.Count.LessThan(1000), "paging must end");
        }

        Assert.That(all.Select(w => w.WebhookId), Does.Contain(first.WebhookId).And.Contain(second.WebhookId));
        Assert.That(all.Select(w => w.WebhookId), Is.Unique);

        var updated = await Client.UpdateWebhookAsync(first.WebhookId, new WebhookUpdate { Description = "changed", Events = [WebhookEvent.ModelVersionAliasCreated] });
        Assert.That(updated.Description, Is.EqualTo("changed"));
        Assert.That(updated.Events, Is.EqualTo(new[] { WebhookEvent.ModelVersionAliasCreated }));
        Assert.That(updated.Name, Is.EqualTo(first.Name), "unset fields keep their value");
        Assert.That(updated.Status, Is.EqualTo(WebhookStatus.Disabled), "a PATCH without a status must not re-enable it (3.11.1 reads none as ACTIVE)");
        Assert.That(updated.LastUpdatedTimestamp, Is.GreaterThanOrEqualTo(first.LastUpdatedTimestamp!.Value));
        Assert.That((await Client.GetWebhookAsync(first.WebhookId)).Events, Is.EqualTo(new[] { WebhookEvent.ModelVersionAliasCreated }));

        var refused = Assert.ThrowsAsync<MlflowException>(() => Client.UpdateWebhookAsync(first.WebhookId, new WebhookUpdate { Name = "not a name!", Status = WebhookStatus.Disabled }))!;
        Assert.That(refused.ErrorCode, Is.EqualTo(MlflowErrorCode.InvalidParameterValue));
        Assert.That(refused.Message, Does.Contain("is invalid"));
        Assert.ThrowsAsync<ArgumentException>(() => Client.UpdateWebhookAsync(first.WebhookId, new WebhookUpdate { Url = "ftp://127.0.0.1/x" }));

        await Client.DeleteWebhookAsync(first.WebhookId);
        await Client.DeleteWebhookAsync(second.WebhookId);
        var gone = Assert.ThrowsAsync<MlflowException>(() => Client.GetWebhookAsync(first.WebhookId))!;
        Assert.That(gone.ErrorCode, Is.EqualTo(MlflowErrorCode.ResourceDoesNotExist));
        Assert.That(_listener.Requests, Is.Empty, "nothing was delivered to disabled webhooks");
    }

    [Test]
    public async Task Webhook_Test_DeliversASignedPayloadToTheListener()
    {
        await RequireWebhooksAsync();
        const string secret = "first-secret-for-hmac";
        var hook = await CreateOnListenerAsync(Prefix + "-signed", [WebhookEvent.RegisteredModelCreated, WebhookEvent.ModelVersionTagSet], secret, WebhookStatus.Disabled);

        WebhookTestResult result;
        try
        {
            result = await Client.TestWebhookAsync(hook.WebhookId, WebhookEvent.ModelVersionTagSet);
        }
        catch (MlflowException ex) when (ex.StatusCode == HttpStatusCode.InternalServerError)
        {
            // Seen on Debian 12: MLflow 3.11.1 builds its delivery session with urllib3 2's Retry(backoff_max=...), and
            // without MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY each gunicorn worker encrypts secrets with a key of its own.
            Assert.Ignore($"The server failed to run the test ({ex.ShortReason}): it needs urllib3 2 and MLFLOW_WEBHOOK_SECRET_ENCRYPTION_KEY; {SetupHint}.");
            throw;
        }

        Assert.That(result.Success, Is.True, result.ErrorMessage);
        Assert.That(result.ResponseStatus, Is.EqualTo(200));
        Assert.That(result.ResponseBody, Is.EqualTo("pong"));
        AssertSignedDelivery(_listener.Requests.Single(), secret, "model_version_tag", "set");

        // A new secret signs the next delivery; with no event given, the first the server lists is sent.
        const string rotated = "rotated-secret-2";
        var rotatedHook = await Client.UpdateWebhookAsync(hook.WebhookId, new WebhookUpdate { Secret = rotated });
        Assert.That(rotatedHook.Status, Is.EqualTo(WebhookStatus.Disabled));
        _listener.Server.ResetLogEntries();
        var again = await Client.TestWebhookAsync(hook.WebhookId);
        Assert.That(again.Success, Is.True, again.ErrorMessage);
        var firstListed = rotatedHook.Events[0];
        AssertSignedDelivery(_listener.Requests.Single(), rotated, firstListed.ToString().Split('.')[0], firstListed.ToString().Split('.')[1]);
    }

    [Test]
    public async Task Webhook_Test_OfAUrlAnswering404_ReportsTheFailure()
    {
        await RequireWebhooksAsync();
        var hook = await CreateOnListenerAsync(Prefix + "-down", [WebhookEvent.PromptCreated], null, WebhookStatus.Disabled);
        _listener.Server.Reset();
        _listener.Server.Given(Request.Create().WithPath("/hook").UsingPost()).RespondWith(Response.Create().WithStatusCode(404).WithBody("no hook here"));

        WebhookTestResult result;
        try
        {
            result = await Client.TestWebhookAsync(hook.WebhookId);
        }
        catch (MlflowException ex) when (ex.StatusCode == HttpStatusCode.InternalServerError)
        {
            Assert.Ignore($"The server failed to run the test ({ex.ShortReason}); {SetupHint}.");
            throw;
        }

        Assert.That(result.Success, Is.False);
        Assert.That(result.ResponseStatus, Is.EqualTo(404));
        Assert.That(result.ResponseBody, Is.EqualTo("no hook here"));
    }

    private static void AssertSignedDelivery(WireMock.Logging.ILogEntry delivery, string secret, string entity, string action)
    {
        var request = delivery.RequestMessage;
        string Header(string name) => request.Headers!.First(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value.Single();
        var deliveryId = Header("X-MLflow-Delivery-Id");
        var timestamp = Header("X-MLflow-Timestamp");
        var signature = Header("X-MLflow-Signature");
        var body = request.Body!;

        Assert.That(Guid.TryParse(deliveryId, out _), Is.True, deliveryId);
        Assert.That(long.Parse(timestamp, System.Globalization.CultureInfo.InvariantCulture), Is.GreaterThan(1_600_000_000));
        var expected = "v1," + Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{deliveryId}.{timestamp}.{body}")));
        Assert.That(signature, Is.EqualTo(expected), "HMAC-SHA256 over '<delivery id>.<timestamp>.<body>' with the webhook's secret");
        var json = JsonNode.Parse(body)!;
        Assert.That(json["entity"]!.GetValue<string>(), Is.EqualTo(entity));
        Assert.That(json["action"]!.GetValue<string>(), Is.EqualTo(action));
        Assert.That(json["data"], Is.Not.Null);
    }

    [Test]
    public async Task LoggedModelArtifacts_AreListed_AndAPresignedUrlIsRefusedByALocalArtifactStore()
    {
        await RequireMlflow3Async("Logged models need");
        var experimentId = await Client.CreateExperimentAsync(Prefix + "-exp");
        var model = await Client.CreateLoggedModelAsync(experimentId, Prefix + "-clf");
        var root = model.Info.ArtifactUri!;
        using (var file = new MemoryStream(Encoding.UTF8.GetBytes("flavors: {}\n")))
        {
            await Client.UploadArtifactAsync(root, "MLmodel", file);
        }

        using (var file = new MemoryStream([1, 2, 3]))
        {
            await Client.UploadArtifactAsync(root, "sub/a.bin", file);
        }

        Assert.That(await Client.ListLoggedModelArtifactsAsync(model.Info.ModelId), Is.EquivalentTo(new[] { new ArtifactFileInfo("MLmodel", false, 12), new ArtifactFileInfo("sub", true) }));
        Assert.That(await Client.ListLoggedModelArtifactsAsync(model.Info.ModelId, "sub"), Is.EqualTo(new[] { new ArtifactFileInfo("sub/a.bin", false, 3) }));
        Assert.That(await Client.ListLoggedModelArtifactsAsync(model.Info.ModelId, "missing"), Is.Empty);
        var unknown = Assert.ThrowsAsync<MlflowException>(() => Client.ListLoggedModelArtifactsAsync("m-00000000000000000000000000000000"))!;
        Assert.That(unknown.ErrorCode, Is.EqualTo(MlflowErrorCode.ResourceDoesNotExist));

        // The harness proxies a local folder (--artifacts-destination), which cannot sign URLs; an S3 store would answer one.
        try
        {
            var presigned = await Client.GetPresignedDownloadUrlAsync(root, "MLmodel");
            Assert.That(presigned.Url.IsAbsoluteUri, Is.True);
        }
        catch (MlflowException ex) when (ex.ErrorCode == MlflowErrorCode.NotImplemented)
        {
            Assert.That(ex.StatusCode, Is.EqualTo(HttpStatusCode.NotImplemented));
            Assert.That(ex.Message, Does.Contain("cannot hand out presigned download URLs").And.Contain("DownloadArtifactAsync"));
        }
    }
}
