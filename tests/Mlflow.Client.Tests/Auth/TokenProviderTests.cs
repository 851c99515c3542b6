using System.Net;
using Mlflow.Client.Tests.Infrastructure;
using Mlflow.Client.Tests.Resilience;
using NUnit.Framework;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Mlflow.Client.Tests.Auth;

[TestFixture]
[Parallelizable(ParallelScope.Children)]
public class TokenProviderTests
{
    private const string Old = "tok-SECRET-old";
    private const string New = "tok-SECRET-new";
    private const string Unauthenticated = """{"error_code":"UNAUTHENTICATED","message":"Credential was not sent or was of an unsupported type"}""";
    private const string RunId = "0123456789abcdef0123456789abcdef";

    /// <summary>200 for requests that carry <paramref name="goodToken"/>, 401 for any other.</summary>
    private static FixtureServer ServerAccepting(string goodToken)
    {
        var server = FixtureServer.Start();
        server.Server.Given(Request.Create().UsingAnyMethod().WithHeader("Authorization", "Bearer " + goodToken)).AtPriority(1)
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody("{}"));
        server.Server.Given(Request.Create().UsingAnyMethod()).AtPriority(10)
            .RespondWith(Response.Create().WithStatusCode(401).WithHeader("Content-Type", "application/json").WithBody(Unauthenticated));
        return server;
    }

    private static string[] SentTokens(FixtureServer server)
        => server.Requests.Select(r => r.RequestMessage.Headers!.TryGetValue("Authorization", out var v) ? v.Single() : "(none)").ToArray();

    private static MlflowClientOptions Options(FixtureServer server, IMlflowTokenProvider provider, int maxRetries = 3)
    {
        var options = ResilienceTestKit.FastOptions(server.Url);
        options.TokenProvider = provider;
        options.Token = "static-token-loses";
        options.Retry.MaxRetries = maxRetries;
        return options;
    }

    [Test]
    public async Task ProviderIsAskedBeforeTheRequest_AndItsTokenIsSent()
    {
        using var server = ServerAccepting(Old);
        var provider = new RefreshingProvider(Old, New);
        using var client = new MlflowClient(Options(server, provider));

        await client.SetTagAsync(RunId, "k", "v");

        Assert.That(SentTokens(server), Is.EqualTo(new[] { "Bearer " + Old }), "the provider's token wins over the static one");
        Assert.That(provider.Calls, Is.EqualTo(1));
        Assert.That(provider.ForcedCalls, Is.Zero);
    }

    [TestCase(false)]
    [TestCase(true)]
    public async Task ExpiredToken_IsRefreshedOnceOn401_AndTheRequestSucceeds(bool callersHttpClient)
    {
        using var server = ServerAccepting(New);
        var provider = new RefreshingProvider(Old, New);
        using var http = new HttpClient();
        using var client = callersHttpClient ? new MlflowClient(http, Options(server, provider)) : new MlflowClient(Options(server, provider));

        await client.SetTagAsync(RunId, "k", "v");
        await client.SetTagAsync(RunId, "k2", "v2");

        Assert.That(SentTokens(server), Is.EqualTo(new[] { "Bearer " + Old, "Bearer " + New, "Bearer " + New }));
        Assert.That(provider.ForcedCalls, Is.EqualTo(1));
        Assert.That(server.Requests[0].RequestMessage.Body, Is.EqualTo(server.Requests[1].RequestMessage.Body), "the same request was sent again");
        Assert.That(client.RetriedRequests, Is.Zero, "the 401 round trip is not a retry of the pipeline");
    }

    [Test]
    public async Task RefreshWorks_WithNoRetryBudgetAtAll()
    {
        using var server = ServerAccepting(New);
        var provider = new RefreshingProvider(Old, New);
        using var client = new MlflowClient(Options(server, provider, maxRetries: 0));

        await client.SetTagAsync(RunId, "k", "v");

        Assert.That(SentTokens(server), Is.EqualTo(new[] { "Bearer " + Old, "Bearer " + New }));
    }

    [Test]
    public void Second401_IsRejected_WithoutTheTokenInTheMessage()
    {
        using var server = ServerAccepting("never-valid");
        var provider = new RefreshingProvider(Old, New);
        using var client = new MlflowClient(Options(server, provider));

        var ex = Assert.ThrowsAsync<MlflowException>(() => client.SetTagAsync(RunId, "k", "v"));

        Assert.That(ex!.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(ex.Kind, Is.EqualTo(MlflowFailureKind.Rejected));
        Assert.That(ex.ToString(), Does.Not.Contain(Old).And.Not.Contain(New).And.Not.Contain("SECRET"));
        Assert.That(server.Requests, Has.Count.EqualTo(2), "one refresh and one resend, never more");
        Assert.That(provider.ForcedCalls, Is.EqualTo(1));
    }

    [Test]
    public async Task PipelineRetries_AskTheProviderAgain()
    {
        using var server = FixtureServer.Start();
        server.Server.Given(Request.Create().UsingAnyMethod()).InScenario("once").WillSetStateTo("answered")
            .RespondWith(ResilienceTestKit.Status(503));
        server.Server.Given(Request.Create().UsingAnyMethod()).InScenario("once").WhenStateIs("answered")
            .RespondWith(ResilienceTestKit.Ok("{}"));
        var issued = 0;
        var provider = MlflowTokenProvider.Create((_, _) => ValueTask.FromResult("t" + Interlocked.Increment(ref issued)));
        using var client = new MlflowClient(Options(server, provider));

        await client.SetTagAsync(RunId, "k", "v");

        Assert.That(SentTokens(server), Is.EqualTo(new[] { "Bearer t1", "Bearer t2" }), "each attempt carries the provider's current token");
        Assert.That(client.RetriedRequests, Is.EqualTo(1));
    }

    [Test]
    public async Task ConcurrentRequestsRefusedTogether_ShareOneRefresh()
    {
        const int requests = 8;
        using var server = ServerAccepting(New);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var provider = new RefreshingProvider(Old, New) { BeforeRefresh = release.Task };
        using var client = new MlflowClient(Options(server, provider));

        var calls = Enumerable.Range(0, requests).Select(i => client.SetTagAsync(RunId, "k" + i, "v")).ToArray();
        var refused = await server.CountEventually("/api/2.0/mlflow/runs/set-tag", requests, TimeSpan.FromSeconds(10));
        release.SetResult();
        await Task.WhenAll(calls);

        Assert.That(refused, Is.EqualTo(requests), "every request was refused before the refresh ended");
        Assert.That(provider.ForcedCalls, Is.EqualTo(1), "one refresh for all requests refused with the same token");
        var tokens = SentTokens(server);
        Assert.That(tokens.Count(t => t == "Bearer " + Old), Is.EqualTo(requests));
        Assert.That(tokens.Count(t => t == "Bearer " + New), Is.EqualTo(requests));
    }

    [Test]
    public async Task StreamedUpload_IsResentAfterRefresh_WhenItCanRewind()
    {
        using var server = ServerAccepting(New);
        var provider = new RefreshingProvider(Old, New);
        using var client = new MlflowClient(Options(server, provider));

        await client.UploadArtifactAsync("mlflow-artifacts:/1/run/artifacts", "a.txt", new MemoryStream("hello"u8.ToArray()));

        Assert.That(SentTokens(server), Is.EqualTo(new[] { "Bearer " + Old, "Bearer " + New }));
        Assert.That(server.Requests[1].RequestMessage.Body, Is.EqualTo("hello"), "the whole body again");
    }

    [Test]
    public void StreamedUpload_ThatCannotRewind_IsNotResent()
    {
        using var server = ServerAccepting(New);
        var provider = new RefreshingProvider(Old, New);
        using var client = new MlflowClient(Options(server, provider));

        var ex = Assert.ThrowsAsync<MlflowException>(() => client.UploadArtifactAsync("mlflow-artifacts:/1/run/artifacts", "a.txt", new Mlflow.Client.Tests.Infrastructure.NonSeekableStream("hello"u8.ToArray())));

        Assert.That(ex!.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(server.Requests, Has.Count.EqualTo(1));
        Assert.That(provider.ForcedCalls, Is.Zero);
    }

    [Test]
    public void ProviderFailure_IsAnMlflowException_AndNothingIsSent()
    {
        using var server = ServerAccepting(New);
        var provider = MlflowTokenProvider.Create((_, _) => throw new InvalidOperationException("identity service down, secret " + Old));
        using var client = new MlflowClient(Options(server, provider, maxRetries: 0));

        var ex = Assert.ThrowsAsync<MlflowException>(() => client.SetTagAsync(RunId, "k", "v"));

        Assert.That(ex!.Message, Does.Contain("token provider").And.Not.Contain(Old).And.Not.Contain("could not be reached"));
        Assert.That(ex.Kind, Is.EqualTo(MlflowFailureKind.NotApplied));
        Assert.That(server.Requests, Is.Empty);
    }

    [Test]
    public void ToString_SaysAProviderIsSet_WithoutAskingIt()
    {
        var provider = new RefreshingProvider(Old, New);
        var text = new MlflowClientOptions { TrackingUri = "http://host:5000", TokenProvider = provider }.ToString();

        Assert.That(text, Does.Contain("TokenProvider = set").And.Not.Contain("SECRET"));
        Assert.That(provider.Calls, Is.Zero);
    }

    /// <summary>Hands out <c>first</c> until a forced refresh, then <c>refreshed</c>, as a caching provider would.</summary>
    private sealed class RefreshingProvider(string first, string refreshed) : IMlflowTokenProvider
    {
        private string _current = first;
        private int _calls;
        private int _forced;

        public Task? BeforeRefresh { get; init; }

        public int Calls => Volatile.Read(ref _calls);

        public int ForcedCalls => Volatile.Read(ref _forced);

        public async ValueTask<string> GetTokenAsync(bool forceRefresh, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _calls);
            if (forceRefresh)
            {
                Interlocked.Increment(ref _forced);
                if (BeforeRefresh is { } gate)
                {
                    await gate.WaitAsync(TimeSpan.FromSeconds(10), cancellationToken);
                }

                Volatile.Write(ref _current, refreshed);
            }

            return Volatile.Read(ref _current);
        }
    }
}
