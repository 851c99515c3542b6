using System.Net;
using System.Text;
using Mlflow.Client.Tests.Infrastructure;
using NUnit.Framework;
using WireMock.ResponseBuilders;
using static Mlflow.Client.Tests.Resilience.ResilienceTestKit;

namespace Mlflow.Client.Tests.Resilience;

/// <summary>The retry pipeline on a caller's <see cref="HttpClient"/> or <see cref="IHttpClientFactory"/>, and what its logs never hold.</summary>
[TestFixture]
public class RetryPipelineClientsTests
{
    [Test]
    public async Task CallersHttpClient_GetsTheSamePipeline_AndItsHeadersOnEveryAttempt()
    {
        using var server = FixtureServer.Start();
        server.Sequence(RunGet, Status(503), Status(502), Ok());
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Add("X-Caller", "yes");
        var options = FastOptions(server.Url);
        options.Token = "tok-SECRET-1";

        using (var client = new MlflowClient(http, options))
        {
            await client.GetRunAsync("r1");
        }

        Assert.That(server.Count(RunGet), Is.EqualTo(3));
        Assert.That(server.Requests.Select(r => r.RequestMessage.Headers!["X-Caller"].Single()), Has.All.EqualTo("yes"));
        Assert.That(server.Requests.Select(r => r.RequestMessage.Headers!["Authorization"].Single()), Has.All.EqualTo("Bearer tok-SECRET-1"));
        using var after = await http.GetAsync(new Uri(server.Url + RunGet + "?run_id=r1"));
        Assert.That(after.StatusCode, Is.EqualTo(HttpStatusCode.OK), "the caller's client is not disposed");
    }

    [Test]
    public async Task CallersHttpClient_PostBody_IsResentOnRetry()
    {
        using var server = FixtureServer.Start();
        server.Sequence(RunCreate, Status(503), Ok());
        using var http = new HttpClient();
        using var client = new MlflowClient(http, FastOptions(server.Url));

        await client.CreateRunAsync("0", runName: "again");

        var bodies = server.Requests.Select(r => FixtureServer.BodyJson(r)!["run_name"]!.GetValue<string>()).ToList();
        Assert.That(bodies, Is.EqualTo(new[] { "again", "again" }));
    }

    [Test]
    public async Task FactoryHttpClient_GetsTheSamePipeline()
    {
        using var server = FixtureServer.Start();
        server.Sequence(RunGet, Status(500), Ok());
        using var factory = new SingleClientFactory();

        using (var client = new MlflowClient(factory, FastOptions(server.Url)))
        {
            await client.GetRunAsync("r1");
        }

        Assert.That(server.Count(RunGet), Is.EqualTo(2));
    }

    [Test]
    public async Task RetryLogs_NeverContainCredentialsOrQueryStrings()
    {
        const string password = "pa55-SECRET-word";
        const string token = "tok-SECRET-123";
        using var server = FixtureServer.Start();
        server.Sequence(RunGet, Status(503), Response.Create().WithFault(FaultType.MALFORMED_RESPONSE_CHUNK), Ok());
        var logs = new CapturingLoggerFactory();
        var options = FastOptions(server.Url.Replace("http://", $"http://bob:{password}@", StringComparison.Ordinal), logs);
        options.Username = "bob";
        options.Password = password;
        options.Token = token;
        using var client = new MlflowClient(options);

        await client.GetRunAsync("secret-run-id");

        Assert.That(server.Requests[0].RequestMessage.Headers!["Authorization"].Single(), Does.StartWith("Basic "), "credentials were sent");
        var all = string.Join("\n", logs.Lines.Select(l => l.Message));
        Assert.That(logs.Warnings, Has.Count.EqualTo(2));
        Assert.That(all, Does.Not.Contain(password).And.Not.Contain(token)
            .And.Not.Contain(Convert.ToBase64String(Encoding.UTF8.GetBytes("bob:" + password)))
            .And.Not.Contain("Basic").And.Not.Contain("secret-run-id").And.Not.Contain("run_id"));
    }

    private sealed class SingleClientFactory : IHttpClientFactory, IDisposable
    {
        private readonly HttpClient _client = new();

        public HttpClient CreateClient(string name) => _client;

        public void Dispose() => _client.Dispose();
    }
}
