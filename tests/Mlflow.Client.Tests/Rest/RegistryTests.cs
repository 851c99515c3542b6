using System.Text.Json.Nodes;
using Mlflow.Client.Tests.Infrastructure;
using NUnit.Framework;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Mlflow.Client.Tests.Rest;

[TestFixture]
public class RegistryTests
{
    [Test]
    public async Task SearchAllRegisteredModels_FollowsPageTokens_AndSendsOrderByRepeated()
    {
        using var server = FixtureServer.Start();
        server.Server.Given(Request.Create().WithPath("/api/2.0/mlflow/registered-models/search").WithParam("page_token", "p2").UsingGet())
            .AtPriority(1)
            .RespondWith(Response.Create().WithStatusCode(200).WithBody("""{"registered_models":[{"name":"c"}]}"""));
        server.Server.Given(Request.Create().WithPath("/api/2.0/mlflow/registered-models/search").UsingGet())
            .AtPriority(2)
            .RespondWith(Response.Create().WithStatusCode(200).WithBody("""{"registered_models":[{"name":"a"},{"name":"b"}],"next_page_token":"p2"}"""));
        using var client = server.CreateClient();

        var names = new List<string>();
        await foreach (var model in client.SearchAllRegisteredModelsAsync(new RegisteredModelSearchOptions { Filter = "name LIKE '%'", MaxResults = 2, OrderBy = ["name ASC", "last_updated_timestamp DESC"] }))
        {
            names.Add(model.Name);
        }

        Assert.That(names, Is.EqualTo(new[] { "a", "b", "c" }));
        var queries = server.Requests.Select(r => RegistryArtifactsContractTests.ParseQuery(r.RequestMessage.RawQuery)).ToList();
        Assert.That(queries, Has.Count.EqualTo(2));
        Assert.That(queries[0]["order_by"], Is.EqualTo(new[] { "name ASC", "last_updated_timestamp DESC" }));
        Assert.That(queries[0]["max_results"], Is.EqualTo(new[] { "2" }));
        Assert.That(queries[0].ContainsKey("page_token"), Is.False);
        Assert.That(queries[1]["page_token"], Is.EqualTo(new[] { "p2" }));
    }

    [Test]
    public void SearchAllModelVersions_StopsWhenTheServerRepeatsAToken()
    {
        using var server = FixtureServer.Start();
        server.Server.Given(Request.Create().WithPath("/api/2.0/mlflow/model-versions/search").UsingGet())
            .RespondWith(Response.Create().WithStatusCode(200).WithBody("""{"model_versions":[{"name":"m","version":"1"}],"next_page_token":"same"}"""));
        using var client = server.CreateClient();

        var ex = Assert.ThrowsAsync<MlflowException>(async () =>
        {
            await foreach (var _ in client.SearchAllModelVersionsAsync())
            {
            }
        });
        Assert.That(ex!.Message, Does.Contain("page token"));
        Assert.That(server.Requests, Has.Count.EqualTo(2));
    }

    [Test]
    public async Task EmptySearchAnswer_IsAnEmptyLastPage()
    {
        using var server = FixtureServer.Start();
        server.Server.Given(Request.Create().UsingGet()).RespondWith(Response.Create().WithStatusCode(200).WithBody("{}"));
        using var client = server.CreateClient();

        var page = await client.SearchModelVersionsAsync(new ModelVersionSearchOptions { Filter = "name='none'" });

        Assert.That(page.Items, Is.Empty);
        Assert.That(page.NextPageToken, Is.Null);
        Assert.That(server.SingleRequest().RequestMessage.RawQuery, Does.Not.Contain("max_results"), "no page size: the server's default applies");
    }

    [Test]
    public async Task DeleteTags_AreDeleteRequestsWithJsonBodies()
    {
        using var server = FixtureServer.Start();
        server.Server.Given(Request.Create().UsingDelete()).RespondWith(Response.Create().WithStatusCode(200).WithBody("{}"));
        using var client = server.CreateClient();

        await client.DeleteRegisteredModelTagAsync("m", "k");
        await client.DeleteModelVersionTagAsync("m", "3", "k2");

        var requests = server.Requests;
        Assert.That(requests.Select(r => (r.RequestMessage.Method, r.RequestMessage.Path)), Is.EqualTo(new[]
        {
            ("DELETE", "/api/2.0/mlflow/registered-models/delete-tag"),
            ("DELETE", "/api/2.0/mlflow/model-versions/delete-tag"),
        }));
        Assert.That(JsonNode.DeepEquals(FixtureServer.BodyJson(requests[0]), JsonNode.Parse("""{"name":"m","key":"k"}""")), Is.True, requests[0].RequestMessage.Body);
        Assert.That(JsonNode.DeepEquals(FixtureServer.BodyJson(requests[1]), JsonNode.Parse("""{"name":"m","version":"3","key":"k2"}""")), Is.True, requests[1].RequestMessage.Body);
        Assert.That(requests.All(r => r.RequestMessage.Headers!["Content-Type"].Single().StartsWith("application/json", StringComparison.Ordinal)), Is.True);
    }

    [Test]
    public async Task RegisteredModelWithAliases_ParsesAliasesAndLatestVersions()
    {
        var fixture = RestFixture.Load("rest", "registered-models-get.with-aliases");
        using var server = FixtureServer.Start().Answer(fixture);
        using var client = server.CreateClient();

        var model = await client.GetRegisteredModelAsync("fixtures-model");

        var recorded = fixture.ResponseJson!["registered_model"]!;
        Assert.That(model.Aliases, Is.EqualTo(recorded["aliases"]!.AsArray().Select(a => new RegisteredModelAlias(a!["alias"]!.GetValue<string>(), a["version"]!.GetValue<string>()))));
        Assert.That(model.Aliases, Is.Not.Empty);
        Assert.That(model.LatestVersions.Select(v => v.Version), Is.EqualTo(recorded["latest_versions"]!.AsArray().Select(v => v!["version"]!.GetValue<string>())));
        Assert.That(model.LatestVersions[0].Status, Is.EqualTo(ModelVersionStatus.Ready));
        Assert.That(model.LatestVersions[0].CurrentStage, Is.EqualTo("Staging"));
    }

    [Test]
    public async Task MinimalAnswers_GiveEmptyCollections_NeverNull()
    {
        using var server = FixtureServer.Start();
        server.Server.Given(Request.Create().WithPath("/api/2.0/mlflow/registered-models/get").UsingGet())
            .RespondWith(Response.Create().WithStatusCode(200).WithBody("""{"registered_model":{"name":"m"}}"""));
        server.Server.Given(Request.Create().WithPath("/api/2.0/mlflow/model-versions/get").UsingGet())
            .RespondWith(Response.Create().WithStatusCode(200).WithBody("""{"model_version":{}}"""));
        using var client = server.CreateClient();

        var model = await client.GetRegisteredModelAsync("m");
        var version = await client.GetModelVersionAsync("m", "1");

        Assert.That(model.Tags, Is.Not.Null.And.Empty);
        Assert.That(model.Aliases, Is.Not.Null.And.Empty);
        Assert.That(model.LatestVersions, Is.Not.Null.And.Empty);
        Assert.That(version.Tags, Is.Not.Null.And.Empty);
        Assert.That(version.Aliases, Is.Not.Null.And.Empty);
        Assert.That((version.Name, version.Version), Is.EqualTo(("", "")));
        Assert.That(version.Status, Is.Null);
    }

    [Test]
    public void RequiredArguments_AreCheckedBeforeSending()
    {
        using var server = FixtureServer.Start();
        using var client = server.CreateClient();

        Assert.ThrowsAsync<ArgumentException>(() => client.GetRegisteredModelAsync(""));
        Assert.ThrowsAsync<ArgumentException>(() => client.GetModelVersionAsync("m", ""));
        Assert.ThrowsAsync<ArgumentException>(() => client.CreateModelVersionAsync("m", ""));
        Assert.That(server.Requests, Is.Empty);
    }
}
