using System.Net;
using Mlflow.Client.Tests.Infrastructure;
using NUnit.Framework;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Mlflow.Client.Tests.Rest;

/// <summary>
/// <see cref="MlflowClient.GetServerInfoAsync"/>: what the server is, read from <c>/version</c> and
/// <c>/api/3.0/mlflow/server-info</c> (answers recorded from MLflow 3.11.1 and 2.12.2), once per client.
/// </summary>
[TestFixture]
public class ServerInfoTests
{
    private static int Hits(FixtureServer server, string path) => server.Requests.Count(r => r.RequestMessage.AbsolutePath == path);

    [Test]
    public async Task Mlflow3_ReadsVersionAndServerInfo_Once()
    {
        using var server = FixtureServer.Start()
            .Answer(RestFixture.Load("rest-mlflow3", "server-version.ok"))
            .Answer(RestFixture.Load("rest-mlflow3", "server-info.ok"));
        using var client = server.CreateClient();

        var info = await client.GetServerInfoAsync();
        var again = await client.GetServerInfoAsync();

        Assert.That(info.Version, Is.EqualTo("3.11.1"));
        Assert.That(info.MajorVersion, Is.EqualTo(3));
        Assert.That(info.SupportsLoggedModels, Is.True);
        Assert.That(info.HasServerInfoEndpoint, Is.True);
        Assert.That(info.StoreType, Is.EqualTo("SqlStore"));
        Assert.That(info.IsFileStore, Is.False);
        Assert.That(info.WorkspacesEnabled, Is.False);
        Assert.That(again, Is.SameAs(info));
        Assert.That(Hits(server, "/version"), Is.EqualTo(1));
        Assert.That(Hits(server, "/api/3.0/mlflow/server-info"), Is.EqualTo(1));
    }

    [Test]
    public async Task Mlflow2_NoLoggedModels_AndServerInfoNotAsked()
    {
        using var server = FixtureServer.Start().Answer(RestFixture.Load("rest", "server-version.ok"));
        using var client = server.CreateClient();

        var info = await client.GetServerInfoAsync();

        Assert.That(info.Version, Is.EqualTo("2.12.2"));
        Assert.That(info.MajorVersion, Is.EqualTo(2));
        Assert.That(info.SupportsLoggedModels, Is.False);
        Assert.That(info.HasServerInfoEndpoint, Is.False);
        Assert.That(info.IsFileStore, Is.False, "no store type given");
        Assert.That(server.Requests, Has.Count.EqualTo(1));
    }

    [Test]
    public async Task NoVersionEndpoint_ServerInfoDecides([Values] bool hasServerInfo)
    {
        var unknown = RestFixture.Load("rest", "server-unknown-endpoint");
        using var server = FixtureServer.Start();
        server.Server.Given(Request.Create().WithPath("/version").UsingGet())
            .RespondWith(Response.Create().WithStatusCode(unknown.Status).WithBody(unknown.ResponseBody));
        if (hasServerInfo)
        {
            server.Answer(RestFixture.Load("rest-mlflow3", "server-info.ok"));
        }

        using var client = server.CreateClient();

        var info = await client.GetServerInfoAsync();

        Assert.That(info.Version, Is.Null);
        Assert.That(info.MajorVersion, Is.Null);
        Assert.That(info.SupportsLoggedModels, Is.EqualTo(hasServerInfo));
        Assert.That(info.HasServerInfoEndpoint, Is.EqualTo(hasServerInfo));
    }

    [Test]
    public async Task ATransientFailure_IsNotKept()
    {
        using var server = FixtureServer.Start();
        server.Server.Given(Request.Create().WithPath("/version").UsingGet())
            .RespondWith(Response.Create().WithStatusCode(503).WithBody("busy"));
        using var client = server.CreateClient();

        var ex = Assert.ThrowsAsync<MlflowException>(() => client.GetServerInfoAsync());
        Assert.That(ex!.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));

        server.Server.Reset();
        server.Answer(RestFixture.Load("rest-mlflow3", "server-version.ok")).Answer(RestFixture.Load("rest-mlflow3", "server-info.ok"));
        var info = await client.GetServerInfoAsync();
        Assert.That(info.SupportsLoggedModels, Is.True);
    }

    [TestCase("3.11.1", 3)]
    [TestCase("2.12.2", 2)]
    [TestCase("3.0.0rc1", 3)]
    [TestCase(" 10.2.0\n", 10)]
    [TestCase("OK", null)]
    [TestCase("3", null)]
    [TestCase("", null)]
    public void MajorOf(string text, int? expected) => Assert.That(MlflowClient.MajorOf(text), Is.EqualTo(expected));

    [TestCase("FileStore", true)]
    [TestCase("SqlStore", false)]
    [TestCase("filestore", false)]
    [TestCase(null, false)]
    public void IsFileStore_is_MLflows_FileStore_name_exactly(string? storeType, bool expected)
        => Assert.That(new MlflowServerInfo { StoreType = storeType }.IsFileStore, Is.EqualTo(expected));
}
