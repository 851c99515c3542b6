using Mlflow.Client.Tests.Infrastructure;
using NUnit.Framework;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Mlflow.Client.Tests.Auth;

/// <summary>
/// The tracking server's credentials go to the tracking server only: an <c>mlflow-artifacts://host:port/...</c> root on
/// another origin (here another port of 127.0.0.1) gets the request without them, whichever way the client was built.
/// </summary>
[TestFixture]
[Parallelizable(ParallelScope.Children)]
public class CredentialScopeTests
{
    private const string Secret = "tok-SECRET-scope";

    private static FixtureServer AnsweringAll()
    {
        var server = FixtureServer.Start();
        server.Server.Given(Request.Create().UsingAnyMethod())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody("{}"));
        return server;
    }

    private static string[] Authorizations(FixtureServer server)
        => server.Requests.Select(r => r.RequestMessage.Headers!.TryGetValue("Authorization", out var v) ? v.Single() : "(none)").ToArray();

    private static MlflowClientOptions Options(FixtureServer tracking, Action<MlflowClientOptions> credentials)
    {
        var options = new MlflowClientOptions { TrackingUri = tracking.Url, RequestTimeout = TimeSpan.FromSeconds(10) };
        options.Retry.MaxRetries = 0;
        credentials(options);
        return options;
    }

    private static async Task UploadToBothAsync(MlflowClient client, FixtureServer tracking, FixtureServer other)
    {
        await client.UploadArtifactAsync($"mlflow-artifacts://127.0.0.1:{new Uri(other.Url).Port}/1/run/artifacts", "x.txt", new MemoryStream("hi"u8.ToArray()));
        await client.UploadArtifactAsync("mlflow-artifacts:/1/run/artifacts", "y.txt", new MemoryStream("hi"u8.ToArray()));
        Assert.That(other.Requests, Has.Count.EqualTo(1));
        Assert.That(tracking.Requests, Has.Count.EqualTo(1));
    }

    public static IEnumerable<TestCaseData> Credentials()
    {
        yield return new TestCaseData((Action<MlflowClientOptions>)(o => o.Token = Secret), "Bearer " + Secret).SetName("A bearer token stays on the tracking server");
        yield return new TestCaseData((Action<MlflowClientOptions>)(o => { o.Username = "user"; o.Password = Secret; }), "Basic " + Convert.ToBase64String("user:tok-SECRET-scope"u8.ToArray())).SetName("Basic credentials stay on the tracking server");
        yield return new TestCaseData((Action<MlflowClientOptions>)(o => o.TokenProvider = new FixedProvider()), "Bearer " + Secret).SetName("A token provider's token stays on the tracking server");
    }

    [TestCaseSource(nameof(Credentials))]
    public async Task Owned_client(Action<MlflowClientOptions> credentials, string expected)
    {
        using var tracking = AnsweringAll();
        using var other = AnsweringAll();
        using var client = new MlflowClient(Options(tracking, credentials));

        await UploadToBothAsync(client, tracking, other);

        Assert.That(Authorizations(tracking), Is.EqualTo(new[] { expected }), "the tracking server gets the credentials");
        Assert.That(Authorizations(other), Is.EqualTo(new[] { "(none)" }), "another host never does");
    }

    [TestCaseSource(nameof(Credentials))]
    public async Task Callers_http_client(Action<MlflowClientOptions> credentials, string expected)
    {
        using var tracking = AnsweringAll();
        using var other = AnsweringAll();
        using var http = new HttpClient();
        using var client = new MlflowClient(http, Options(tracking, credentials));

        await UploadToBothAsync(client, tracking, other);

        Assert.That(Authorizations(tracking), Is.EqualTo(new[] { expected }));
        Assert.That(Authorizations(other), Is.EqualTo(new[] { "(none)" }));
        Assert.That(http.DefaultRequestHeaders.Authorization, Is.Null, "the caller's own client is left without the credentials");
    }

    [TestCase("http://127.0.0.1:5000/", "http://127.0.0.1:5000/api/2.0/mlflow/runs/get", true)]
    [TestCase("http://127.0.0.1:5000/mlflow/", "http://127.0.0.1:5000/api/2.0/x", true)]
    [TestCase("http://Tracking.Example:80/", "http://tracking.example/api", true)]
    [TestCase("http://127.0.0.1:5000/", "http://127.0.0.1:5001/api", false)]
    [TestCase("http://127.0.0.1:5000/", "https://127.0.0.1:5000/api", false)]
    [TestCase("http://tracking.example/", "http://tracking.example.evil.test/api", false)]
    public void Origin_is_scheme_host_and_port(string tracking, string request, bool same)
        => Assert.That(new Client.Auth.CredentialScopeHandler(new Uri(tracking)).IsTrackingOrigin(new Uri(request)), Is.EqualTo(same));

    private sealed class FixedProvider : IMlflowTokenProvider
    {
        public ValueTask<string> GetTokenAsync(bool forceRefresh, CancellationToken cancellationToken) => ValueTask.FromResult(Secret);
    }
}
