using System.Net;
using Mlflow.Client.Tests.Infrastructure;
using NUnit.Framework;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Mlflow.Client.Tests.Rest;

/// <summary>
/// MLflow 3's security middleware answers 403 text/plain when the Host header is not allowed (DNS-rebinding guard) or
/// a write carries a foreign Origin (answers recorded from 3.11.1 in <c>tests/Fixtures/rest-mlflow3/host-guard.*</c>):
/// the exception says what to configure on the server, on every path an error answer takes, without credentials.
/// </summary>
[TestFixture]
public class HostGuardTests
{
    private const string Secret = "s3cr3t-pass";

    private static FixtureServer Refusing(string caseName)
    {
        var fixture = RestFixture.Load("rest-mlflow3", caseName);
        Assert.That(fixture.Status, Is.EqualTo(403));
        var server = FixtureServer.Start();
        server.Server.Given(Request.Create().UsingAnyMethod())
            .RespondWith(Response.Create().WithStatusCode(fixture.Status).WithHeader("Content-Type", "text/plain; charset=utf-8").WithBody(fixture.ResponseBody));
        return server;
    }

    private static MlflowClient Client(FixtureServer server, bool retries)
        => new(new MlflowClientOptions
        {
            TrackingUri = server.Url,
            Username = "alice",
            Password = Secret,
            RequestTimeout = TimeSpan.FromSeconds(10),
            Retry = { Enabled = retries, MaxRetries = 2, BackoffFactor = TimeSpan.FromMilliseconds(1) },
        });

    private static void AssertExplainsAllowedHosts(MlflowException ex, FixtureServer server)
    {
        var authority = new Uri(server.Url).Authority;
        Assert.That(ex.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That(ex.Kind, Is.EqualTo(MlflowFailureKind.Rejected));
        Assert.That(ex.IsTransient, Is.False);
        Assert.That(ex.Message, Does.Contain("Invalid Host header - possible DNS rebinding attack detected"));
        Assert.That(ex.Message, Does.Contain("--allowed-hosts").And.Contain($"'{authority}'").And.Contain("MLFLOW_SERVER_ALLOWED_HOSTS"));
        Assert.That(ex.ToString(), Does.Not.Contain(Secret).And.Not.Contain("alice"));
    }

    [TestCase(true)]
    [TestCase(false)]
    public void InvalidHost_OnARestCall_SaysToStartTheServerWithAllowedHosts(bool retries)
    {
        using var server = Refusing("host-guard.invalid-host");
        using var client = Client(server, retries);

        var ex = Assert.ThrowsAsync<MlflowException>(() => client.GetExperimentAsync("0"));

        AssertExplainsAllowedHosts(ex!, server);
        Assert.That(server.Requests, Has.Count.EqualTo(1), "a refusal is not retried");
    }

    [Test]
    public void InvalidHost_OnAnArtifactDownload_SaysTheSame()
    {
        using var server = Refusing("host-guard.invalid-host");
        using var client = Client(server, retries: true);

        var ex = Assert.ThrowsAsync<MlflowException>(() => client.DownloadArtifactAsync("mlflow-artifacts:/1/abc/artifacts", "model/MLmodel"));

        AssertExplainsAllowedHosts(ex!, server);
    }

    [Test]
    public void CrossOrigin_SaysToDropTheOriginOrAllowIt()
    {
        using var server = Refusing("host-guard.cross-origin");
        using var client = Client(server, retries: true);

        var ex = Assert.ThrowsAsync<MlflowException>(() => client.CreateExperimentAsync("x"));

        Assert.That(ex!.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That(ex.Message, Does.Contain("Cross-origin request blocked").And.Contain("Origin header").And.Contain("--cors-allowed-origins"));
        Assert.That(ex.Message, Does.Not.Contain("--allowed-hosts"));
        Assert.That(ex.ToString(), Does.Not.Contain(Secret));
    }

    [TestCase("text/plain", "Forbidden")]
    [TestCase("application/json", """{"error_code": "PERMISSION_DENIED", "message": "Invalid Host header - possible DNS rebinding attack detected"}""")]
    public void AnOther403_IsLeftAsItIs(string contentType, string body)
    {
        using var server = FixtureServer.Start();
        server.Server.Given(Request.Create().UsingAnyMethod())
            .RespondWith(Response.Create().WithStatusCode(403).WithHeader("Content-Type", contentType).WithBody(body));
        using var client = Client(server, retries: true);

        var ex = Assert.ThrowsAsync<MlflowException>(() => client.GetExperimentAsync("0"));

        Assert.That(ex!.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That(ex.Message, Does.Not.Contain("--allowed-hosts"));
    }

    [Test]
    public void TheRecognisedTexts_AreMlflow3111s()
    {
        Assert.That(RestFixture.Load("rest-mlflow3", "host-guard.invalid-host").ResponseBody, Is.EqualTo(Mlflow.Client.Resilience.FailureClassifier.InvalidHostText));
        Assert.That(RestFixture.Load("rest-mlflow3", "host-guard.cross-origin").ResponseBody, Is.EqualTo(Mlflow.Client.Resilience.FailureClassifier.CrossOriginText));
    }
}
