using Mlflow.Client.Store;
using Mlflow.Client.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using NUnit.Framework;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Mlflow.Client.Tests.Auth;

[TestFixture]
public class DatabricksUriTests
{
    private const string Token = "dapi-SECRET-0123";
    private const string RunId = "0123456789abcdef0123456789abcdef";
    private string _home = null!;

    [SetUp]
    public void CreateHome()
    {
        // A temporary home: the real ~/.databrickscfg is never read.
        _home = Path.Combine(Path.GetTempPath(), "mlflow-dbx-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_home);
    }

    [TearDown]
    public void DeleteHome() => Directory.Delete(_home, recursive: true);

    private EnvironmentReader Env(params (string Key, string Value)[] values)
        => EnvironmentReader.FromDictionary(values.Append((MlflowEnvironmentVariables.Home, _home)).Append((MlflowEnvironmentVariables.WindowsHome, _home)).ToDictionary(v => v.Item1, v => v.Item2));

    /// <summary>What the client's constructor does with a tracking URI, with a given environment.</summary>
    private static MlflowClientOptions Resolve(string trackingUri, EnvironmentReader env)
    {
        var options = new MlflowClientOptions { TrackingUri = trackingUri }.WithEnvironmentDefaults(env);
        Mlflow.Client.Auth.DatabricksCredentials.Apply(options, env);
        return options;
    }

    private static FixtureServer OkServer()
    {
        var server = FixtureServer.Start();
        server.Server.Given(Request.Create().UsingAnyMethod()).RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody("{}"));
        return server;
    }

    private static async Task AssertSentToWorkspace(FixtureServer server, MlflowClientOptions resolved)
    {
        resolved.Retry.MaxRetries = 0;
        using (var client = new MlflowClient(resolved))
        {
            Assert.That(client.TrackingUri, Is.EqualTo(new Uri(server.Url)));
            await client.SetTagAsync(RunId, "k", "v");
        }

        var sent = server.SingleRequest().RequestMessage;
        Assert.That(sent.AbsolutePath, Is.EqualTo("/api/2.0/mlflow/runs/set-tag"));
        Assert.That(sent.Headers!["Authorization"].Single(), Is.EqualTo("Bearer " + Token));
    }

    [Test]
    public async Task Databricks_TakesHostAndToken_FromTheEnvironment()
    {
        using var server = OkServer();

        var resolved = Resolve("databricks", Env(
            (MlflowEnvironmentVariables.DatabricksHost, server.Url + "/"),
            (MlflowEnvironmentVariables.DatabricksToken, Token),
            (MlflowEnvironmentVariables.TrackingToken, "mlflow-token-is-ignored"),
            (MlflowEnvironmentVariables.TrackingUsername, "ignored-user"),
            (MlflowEnvironmentVariables.TrackingPassword, "ignored-password")));

        Assert.That(resolved.ToString(), Does.Not.Contain(Token));
        await AssertSentToWorkspace(server, resolved);
    }

    [Test]
    public async Task Databricks_FallsBackToTheDefaultProfile_OfTheConfigFileInHome()
    {
        using var server = OkServer();
        File.WriteAllText(Path.Combine(_home, ".databrickscfg"), $"; written by the Databricks CLI\n[DEFAULT]\nhost = {server.Url}\ntoken = {Token}\n\n[other]\nhost = https://other.example\ntoken = other\n");

        var resolved = Resolve("databricks", Env());

        await AssertSentToWorkspace(server, resolved);
    }

    [Test]
    public async Task DatabricksProfile_ReadsThatProfile_FromTheConfigFile()
    {
        using var server = OkServer();
        var file = Path.Combine(_home, "custom.cfg");
        File.WriteAllText(file, $"[DEFAULT]\nhost = https://default.example\ntoken = default-token\n\n[ml-prod]\nHOST: {server.Url}\n  token = {Token}  \n");

        var resolved = Resolve("databricks://ml-prod", Env(
            (MlflowEnvironmentVariables.DatabricksConfigFile, file),
            (MlflowEnvironmentVariables.DatabricksHost, "https://env-is-not-used-for-a-profile.example"),
            (MlflowEnvironmentVariables.DatabricksToken, "env-token")));

        await AssertSentToWorkspace(server, resolved);
    }

    [Test]
    public void MissingConfiguration_NamesTheVariablesAndTheFile()
    {
        var ex = Assert.Throws<ArgumentException>(() => Resolve("databricks", Env(
            (MlflowEnvironmentVariables.DatabricksHost, "https://host-without-token.example"))));

        Assert.That(ex!.Message, Does.Contain("DATABRICKS_HOST").And.Contain("DATABRICKS_TOKEN").And.Contain(Path.Combine(_home, ".databrickscfg")));
    }

    [Test]
    public void MissingProfile_NamesTheProfile_WithoutAnyToken()
    {
        File.WriteAllText(Path.Combine(_home, ".databrickscfg"), $"[DEFAULT]\nhost = https://default.example\ntoken = {Token}\n[half]\nhost = https://half.example\n");

        var missing = Assert.Throws<ArgumentException>(() => Resolve("databricks://nope", Env()));
        var partial = Assert.Throws<ArgumentException>(() => Resolve("databricks://half", Env()));

        Assert.That(missing!.Message, Does.Contain("'nope'").And.Not.Contain(Token));
        Assert.That(partial!.Message, Does.Contain("'half'").And.Contain("host and token"));
    }

    [Test]
    [NonParallelizable]
    public async Task Tracker_LogsToTheWorkspace_OfADatabricksProfile()
    {
        // The tracker resolves the URI from the process environment: DATABRICKS_CONFIG_FILE points at a temporary file.
        using var server = OkServer();
        var file = Path.Combine(_home, ".databrickscfg");
        File.WriteAllText(file, $"[team]\nhost = {server.Url}\ntoken = {Token}\n");
        var previous = Environment.GetEnvironmentVariable(MlflowEnvironmentVariables.DatabricksConfigFile);
        Environment.SetEnvironmentVariable(MlflowEnvironmentVariables.DatabricksConfigFile, file);
        try
        {
            using var store = TrackingStoreFactory.Create(new MlflowClientOptions { TrackingUri = "databricks://team", Retry = { MaxRetries = 0 } }, NullLoggerFactory.Instance);
            Assert.That(store, Is.InstanceOf<RestTrackingStore>());
            await ((RestTrackingStore)store).Client.SetTagAsync(RunId, "k", "v");
        }
        finally
        {
            Environment.SetEnvironmentVariable(MlflowEnvironmentVariables.DatabricksConfigFile, previous);
        }

        var sent = server.SingleRequest().RequestMessage;
        Assert.That(sent.AbsolutePath, Is.EqualTo("/api/2.0/mlflow/runs/set-tag"));
        Assert.That(sent.Headers!["Authorization"].Single(), Is.EqualTo("Bearer " + Token));
    }
}
