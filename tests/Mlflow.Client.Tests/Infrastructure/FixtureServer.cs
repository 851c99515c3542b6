using System.Text.Json.Nodes;
using WireMock.Logging;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using WireMock.Settings;

namespace Mlflow.Client.Tests.Infrastructure;

/// <summary>A WireMock.Net server on 127.0.0.1 that answers recorded fixtures and keeps what the client sent.</summary>
internal sealed class FixtureServer : IDisposable
{
    private FixtureServer(WireMockServer server) => Server = server;

    public WireMockServer Server { get; }

    public string Url => Server.Url!;

    /// <summary>A server answering the recorded exchange <paramref name="caseName"/> of <c>tests/Fixtures/<paramref name="folder"/></c>, a client bound to it, and the fixture.</summary>
    public static (FixtureServer Server, MlflowClient Client, RestFixture Fixture) Serve(string folder, string caseName)
    {
        var fixture = RestFixture.Load(folder, caseName);
        var server = Start().Answer(fixture);
        return (server, server.CreateClient(), fixture);
    }

    public static FixtureServer Start()
        => new(WireMockServer.Start(new WireMockServerSettings { Urls = ["http://127.0.0.1:0"], StartAdminInterface = false }));

    /// <summary>Answers the fixture's method (or <paramref name="method"/>) and path (any query) with its recorded status, content type and body.</summary>
    public FixtureServer Answer(RestFixture fixture, string? method = null)
    {
        Server
            .Given(Request.Create().WithPath(fixture.Path).UsingMethod(method ?? fixture.Method))
            .RespondWith(Response.Create()
                .WithStatusCode(fixture.Status)
                .WithHeader("Content-Type", fixture.ContentType ?? "application/json")
                .WithBody(fixture.ResponseBody));
        return this;
    }

    /// <summary>A client of this server, with no retries and a short timeout.</summary>
    public MlflowClient CreateClient(MlflowClientOptions? options = null)
    {
        options ??= new MlflowClientOptions();
        options.TrackingUri = Url;
        options.RequestTimeout = TimeSpan.FromSeconds(10);
        options.Retry.MaxRetries = 0;
        return new MlflowClient(options);
    }

    /// <summary>The requests received so far.</summary>
    public IReadOnlyList<ILogEntry> Requests => Server.LogEntries.ToList();

    /// <summary>The single request received; fails when there was not exactly one.</summary>
    public ILogEntry SingleRequest()
    {
        var entries = Requests;
        NUnit.Framework.Assert.That(entries, NUnit.Framework.Has.Count.EqualTo(1), "expected exactly one request");
        return entries[0];
    }

    /// <summary>The JSON body of a received request.</summary>
    public static JsonNode? BodyJson(ILogEntry entry)
        => string.IsNullOrEmpty(entry.RequestMessage.Body) ? null : JsonNode.Parse(entry.RequestMessage.Body);

    public void Dispose() => Server.Stop();
}
