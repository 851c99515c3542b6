using System.Net.Http.Headers;
using System.Text;
using Mlflow.Client.Rest;
using Mlflow.Client.Tests.Infrastructure;
using NUnit.Framework;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Mlflow.Client.Tests.Configuration;

[TestFixture]
public class MlflowClientOptionsTests
{
    private const string Password = "pa55-SECRET-word";
    private const string Token = "tok-SECRET-123";

    private static EnvironmentReader Env(params (string Key, string Value)[] values)
        => EnvironmentReader.FromDictionary(values.ToDictionary(v => v.Key, v => v.Value));

    [Test]
    public void EnvironmentFillsUnsetValues()
    {
        var resolved = new MlflowClientOptions().WithEnvironmentDefaults(Env(
            (MlflowEnvironmentVariables.TrackingUri, " http://mlflow.example:5000 "),
            (MlflowEnvironmentVariables.TrackingUsername, "bob"),
            (MlflowEnvironmentVariables.TrackingPassword, Password),
            (MlflowEnvironmentVariables.TrackingToken, Token),
            (MlflowEnvironmentVariables.TrackingClientCertPath, "/certs/client.pem"),
            (MlflowEnvironmentVariables.TrackingInsecureTls, "true"),
            (MlflowEnvironmentVariables.HttpRequestTimeout, "7.5")));

        Assert.That(resolved.TrackingUri, Is.EqualTo("http://mlflow.example:5000"));
        Assert.That(resolved.Username, Is.EqualTo("bob"));
        Assert.That(resolved.Password, Is.EqualTo(Password));
        Assert.That(resolved.Token, Is.EqualTo(Token));
        Assert.That(resolved.ClientCertPath, Is.EqualTo("/certs/client.pem"));
        Assert.That(resolved.InsecureTls, Is.True);
        Assert.That(resolved.RequestTimeout, Is.EqualTo(TimeSpan.FromSeconds(7.5)));
    }

    [Test]
    public void ExplicitValuesWin_AndTheOriginalIsNotChanged()
    {
        var options = new MlflowClientOptions { TrackingUri = "http://explicit:1", Token = "mine", RequestTimeout = TimeSpan.FromSeconds(3) };

        var resolved = options.WithEnvironmentDefaults(Env(
            (MlflowEnvironmentVariables.TrackingUri, "http://env:2"),
            (MlflowEnvironmentVariables.TrackingToken, "env-token"),
            (MlflowEnvironmentVariables.HttpRequestTimeout, "60")));

        Assert.That(resolved.TrackingUri, Is.EqualTo("http://explicit:1"));
        Assert.That(resolved.Token, Is.EqualTo("mine"));
        Assert.That(resolved.RequestTimeout, Is.EqualTo(TimeSpan.FromSeconds(3)));
        Assert.That(options.Username, Is.Null, "a copy is returned");
    }

    [Test]
    public void BlankEnvironmentValues_CountAsUnset_AndBadBooleansAreRefused()
    {
        var resolved = new MlflowClientOptions().WithEnvironmentDefaults(Env((MlflowEnvironmentVariables.TrackingToken, "   ")));
        Assert.That(resolved.Token, Is.Null);

        var ex = Assert.Throws<ArgumentException>(() => new MlflowClientOptions().WithEnvironmentDefaults(Env((MlflowEnvironmentVariables.TrackingInsecureTls, "maybe"))));
        Assert.That(ex!.Message, Does.Contain(MlflowEnvironmentVariables.TrackingInsecureTls));
    }

    [Test]
    public void BasicAuthWinsOverToken()
    {
        var auth = HttpClientConstruction.CreateAuthorization(new MlflowClientOptions { Username = "bob", Password = Password, Token = Token });

        Assert.That(auth!.Scheme, Is.EqualTo("Basic"));
        Assert.That(Encoding.UTF8.GetString(Convert.FromBase64String(auth.Parameter!)), Is.EqualTo("bob:" + Password));
        Assert.That(HttpClientConstruction.CreateAuthorization(new MlflowClientOptions { Username = "bob", Token = Token })!.Scheme, Is.EqualTo("Bearer"), "a user name alone is not basic auth");
        Assert.That(HttpClientConstruction.CreateAuthorization(new MlflowClientOptions()), Is.Null);
    }

    [TestCase(true)]
    [TestCase(false)]
    public async Task AuthorizationHeader_IsSent(bool basic)
    {
        using var server = FixtureServer.Start();
        server.Server.Given(Request.Create().UsingAnyMethod()).RespondWith(Response.Create().WithStatusCode(200).WithBody("{}"));
        using var client = server.CreateClient(basic
            ? new MlflowClientOptions { Username = "bob", Password = Password, Token = Token }
            : new MlflowClientOptions { Token = Token });

        await client.SetTagAsync("r", "k", "v");

        var header = AuthenticationHeaderValue.Parse(server.SingleRequest().RequestMessage.Headers!["Authorization"].Single());
        if (basic)
        {
            Assert.That(header.Scheme, Is.EqualTo("Basic"));
            Assert.That(Encoding.UTF8.GetString(Convert.FromBase64String(header.Parameter!)), Is.EqualTo("bob:" + Password));
        }
        else
        {
            Assert.That(header.Scheme, Is.EqualTo("Bearer"));
            Assert.That(header.Parameter, Is.EqualTo(Token));
        }
    }

    [Test]
    public void ToString_NeverShowsCredentials()
    {
        var options = new MlflowClientOptions { TrackingUri = $"http://bob:{Password}@host:5000", Username = "bob", Password = Password, Token = Token };

        var text = options.ToString();

        Assert.That(text, Does.Not.Contain(Password).And.Not.Contain(Token));
        Assert.That(text, Does.Contain("host:5000"));
    }

    [Test]
    public async Task TrackerDestination_NeverShowsCredentials()
    {
        // What a sample prints as "Logged to ...": the tracker's account, never the raw variable.
        var offline = Path.Combine(Path.GetTempPath(), "mlflow-dest-" + Guid.NewGuid().ToString("N"));
        await using var tracker = MlflowTracker.Create(new MlflowTrackerOptions
        {
            TrackingUri = $"http://alice:{Password}@127.0.0.1:5160",
            Offline = new MlflowOfflineOptions { Directory = offline },
        });

        Assert.That(tracker.Destination, Does.Not.Contain(Password).And.Not.Contain("alice"));
        Assert.That(tracker.Destination, Does.Contain("127.0.0.1:5160"));
    }

    [Test]
    public void FailedRequests_NeverShowCredentials()
    {
        using var server = FixtureServer.Start();
        server.Server.Given(Request.Create().UsingAnyMethod())
            .RespondWith(Response.Create().WithStatusCode(401).WithHeader("Content-Type", "text/plain").WithBody("You are not authenticated."));
        using var client = new MlflowClient(new MlflowClientOptions
        {
            TrackingUri = server.Url.Replace("http://", $"http://bob:{Password}@", StringComparison.Ordinal),
            Username = "bob",
            Password = Password,
            Token = Token,
            RequestTimeout = TimeSpan.FromSeconds(5),
        });

        var ex = Assert.ThrowsAsync<MlflowException>(() => client.GetRunAsync("r"));

        Assert.That(ex!.StatusCode, Is.EqualTo(System.Net.HttpStatusCode.Unauthorized));
        Assert.That(ex.ToString(), Does.Not.Contain(Password).And.Not.Contain(Token).And.Not.Contain(Convert.ToBase64String(Encoding.UTF8.GetBytes("bob:" + Password))));
        Assert.That(ex.ServerMessage, Is.EqualTo("You are not authenticated."));
    }

    [Test]
    public async Task UserInfoInTrackingUri_IsStripped()
    {
        using var server = FixtureServer.Start();
        server.Server.Given(Request.Create().UsingAnyMethod()).RespondWith(Response.Create().WithStatusCode(200).WithBody("{}"));
        using var client = new MlflowClient(new MlflowClientOptions { TrackingUri = server.Url.Replace("http://", $"http://bob:{Password}@", StringComparison.Ordinal) + "/?x=1#frag" });

        await client.SetTagAsync("r", "k", "v");

        Assert.That(client.TrackingUri.UserInfo, Is.Empty);
        Assert.That(client.TrackingUri.ToString(), Does.Not.Contain(Password).And.Not.Contain("x=1"));
        Assert.That(server.SingleRequest().RequestMessage.Path, Is.EqualTo("/api/2.0/mlflow/runs/set-tag"));
    }

    [Test]
    public void PathPrefix_IsKept()
    {
        Assert.That(MlflowClient.ResolveServerUri("https://gateway.example/mlflow/").ToString(), Is.EqualTo("https://gateway.example/mlflow"));
    }

    [Test]
    public void InsecureTls_WithCaPath_IsRefused()
    {
        var ex = Assert.Throws<ArgumentException>(() => new MlflowClient(new MlflowClientOptions { TrackingUri = "https://127.0.0.1:1", InsecureTls = true, ServerCertPath = "/tmp/ca.pem" }));

        Assert.That(ex!.Message, Does.Contain("InsecureTls").And.Contain("ServerCertPath"));
    }

    // A file: URI or a path reads the local store (Store/LocalStoreClientTests); a database or another backend is refused.
    [TestCase("sqlite:///mlflow.db", typeof(NotSupportedException))]
    [TestCase("databricks-uc", typeof(ArgumentException))] // "databricks" itself names a workspace (Auth/DatabricksUriTests)
    public void A_uri_that_is_neither_a_server_nor_a_folder_is_refused_clearly(string uri, Type exception)
    {
        var ex = Assert.Catch(() => new MlflowClient(new MlflowClientOptions { TrackingUri = uri }).Dispose());

        Assert.That(ex, Is.TypeOf(exception));
        Assert.That(ex!.Message, Does.Contain(uri));
    }

    [Test]
    public void NonHttpUri_WithUserInfo_DoesNotEchoThePassword()
    {
        var ex = Assert.Throws<ArgumentException>(() => MlflowClient.ResolveServerUri($"ftp://bob:{Password}@host/x"));

        Assert.That(ex!.Message, Does.Not.Contain(Password));
    }

    [Test]
    public void MissingUri_NamesTheVariable()
    {
        var ex = Assert.Throws<ArgumentException>(() => MlflowClient.ResolveServerUri("  "));

        Assert.That(ex!.Message, Does.Contain(MlflowEnvironmentVariables.TrackingUri));
    }

    [Test]
    public async Task HttpClientFactory_UsesTheNamedClient()
    {
        using var server = FixtureServer.Start();
        server.Server.Given(Request.Create().UsingAnyMethod()).RespondWith(Response.Create().WithStatusCode(200).WithBody("{}"));
        var factory = new RecordingFactory();

        using (var client = new MlflowClient(factory, new MlflowClientOptions { TrackingUri = server.Url, HttpClientName = "mlflow-named", Token = Token }))
        {
            await client.SetTagAsync("r", "k", "v");
        }

        Assert.That(factory.Names, Is.EqualTo(new[] { "mlflow-named" }));
        Assert.That(server.SingleRequest().RequestMessage.Headers!["Authorization"].Single(), Is.EqualTo("Bearer " + Token));
        Assert.That(factory.Created.Single().BaseAddress, Is.EqualTo(new Uri(server.Url)));
        factory.Dispose();
    }

    [Test]
    public async Task CallersHttpClient_IsNotDisposed()
    {
        using var server = FixtureServer.Start();
        server.Server.Given(Request.Create().UsingAnyMethod()).RespondWith(Response.Create().WithStatusCode(200).WithBody("{}"));
        using var http = new HttpClient();

        using (var client = new MlflowClient(http, new MlflowClientOptions { TrackingUri = server.Url }))
        {
            await client.SetTagAsync("r", "k", "v");
        }

        using var response = await http.GetAsync(new Uri(server.Url + "/health"));
        Assert.That((int)response.StatusCode, Is.EqualTo(200), "the caller's client still works after the MlflowClient is disposed");
        Assert.That(http.Timeout, Is.EqualTo(TimeSpan.FromSeconds(100)), "the caller's timeout is left alone");
    }

    private sealed class RecordingFactory : IHttpClientFactory, IDisposable
    {
        public List<string> Names { get; } = [];

        public List<HttpClient> Created { get; } = [];

        public HttpClient CreateClient(string name)
        {
            Names.Add(name);
            var client = new HttpClient();
            Created.Add(client);
            return client;
        }

        public void Dispose()
        {
            foreach (var c in Created)
            {
                c.Dispose();
            }
        }
    }
}
