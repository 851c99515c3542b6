using System.Net;
using System.Text.Json.Nodes;
using Mlflow.Client.Tests.Infrastructure;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Rest;

[TestFixture]
public class ClientPlumbingTests
{
    [Test]
    public async Task CreateExperiment_SendsRecordedBody_AndParsesId()
    {
        var fixture = RestFixture.Load("rest", "experiments-create.ok");
        using var server = FixtureServer.Start().Answer(fixture);
        using var client = server.CreateClient();

        var tags = fixture.RequestJson!["tags"]!.AsArray().Select(t => new Tag(t!["key"]!.GetValue<string>(), t["value"]!.GetValue<string>()));
        var id = await client.CreateExperimentAsync(fixture.Arg("name")!, null, tags);

        Assert.That(id, Is.EqualTo(fixture.ResponseJson!["experiment_id"]!.GetValue<string>()));
        var sent = server.SingleRequest();
        Assert.That(sent.RequestMessage.Method, Is.EqualTo("POST"));
        Assert.That(sent.RequestMessage.Headers!["Content-Type"].Single(), Does.StartWith("application/json"));
        Assert.That(JsonNode.DeepEquals(FixtureServer.BodyJson(sent), fixture.RequestJson), Is.True, sent.RequestMessage.Body);
    }

    [Test]
    public async Task EmptyJsonAnswer_IsSuccess()
    {
        var fixture = RestFixture.Load("rest", "runs-set-tag.ok");
        using var server = FixtureServer.Start().Answer(fixture);
        using var client = server.CreateClient();

        await client.SetTagAsync(fixture.Arg("run_id")!, fixture.Arg("key")!, fixture.Arg("value")!);

        Assert.That(JsonNode.DeepEquals(FixtureServer.BodyJson(server.SingleRequest()), fixture.RequestJson), Is.True);
    }

    [Test]
    public void HtmlError_BecomesMlflowException_WithStatusAndExcerpt()
    {
        var fixture = RestFixture.Load("rest", "server-wrong-method");
        using var server = FixtureServer.Start();
        server.Server.Given(WireMock.RequestBuilders.Request.Create().UsingAnyMethod())
            .RespondWith(WireMock.ResponseBuilders.Response.Create().WithStatusCode(fixture.Status).WithHeader("Content-Type", fixture.ContentType!).WithBody(fixture.ResponseBody));
        using var client = server.CreateClient();

        var ex = Assert.ThrowsAsync<MlflowException>(() => client.GetRunAsync("0123456789abcdef0123456789abcdef"));
        Assert.That(ex!.StatusCode, Is.EqualTo(HttpStatusCode.MethodNotAllowed));
        Assert.That(ex.ErrorCode, Is.EqualTo(MlflowErrorCode.Unknown));
        Assert.That(ex.ServerMessage, Does.Contain("Method Not Allowed").And.Not.Contain("<"));
        Assert.That(ex.Method, Is.EqualTo("GET"));
        Assert.That(ex.Path, Is.EqualTo("/api/2.0/mlflow/runs/get"));
    }
}
