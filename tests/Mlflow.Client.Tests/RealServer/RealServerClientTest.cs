using NUnit.Framework;

namespace Mlflow.Client.Tests.RealServer;

/// <summary>
/// What the REST-level real-server tests share: a client for <c>MLFLOW_TEST_TRACKING_URI</c> (the test is ignored
/// without it), a fresh name prefix for what the test creates, and the check that the server is of the MLflow 3 line.
/// </summary>
public abstract class RealServerClientTest
{
    /// <summary>A client for the real server, created for each test.</summary>
    protected MlflowClient Client { get; private set; } = null!;

    /// <summary>The real server's tracking URI.</summary>
    protected string TrackingUri { get; private set; } = null!;

    /// <summary>A name prefix no earlier run of the test used (<see cref="PrefixStem"/> and a random part).</summary>
    protected string Prefix { get; private set; } = null!;

    /// <summary>The start of <see cref="Prefix"/>, naming the test class's objects on the server (for example <c>dotnet-trace-</c>).</summary>
    protected abstract string PrefixStem { get; }

    /// <summary>The client's request timeout: 30 seconds unless a test class needs longer.</summary>
    protected virtual TimeSpan RequestTimeout => TimeSpan.FromSeconds(30);

    [SetUp]
    public void CreateClient()
    {
        TrackingUri = RealServerEnvironment.RequireTrackingUri();
        Client = new MlflowClient(new MlflowClientOptions { TrackingUri = TrackingUri, RequestTimeout = RequestTimeout });
        Prefix = PrefixStem + Guid.NewGuid().ToString("N")[..12];
    }

    [TearDown]
    public void DisposeClient() => Client?.Dispose();

    /// <summary>The server's info; ignores the test unless the server is of the MLflow 3 line (logged models, the v3 trace API).</summary>
    /// <param name="what">What needs MLflow 3, for the message (for example <c>Logged models need</c>).</param>
    protected async Task<MlflowServerInfo> RequireMlflow3Async(string what)
    {
        var info = await Client.GetServerInfoAsync();
        if (info.MajorVersion is < 3 || !info.SupportsLoggedModels)
        {
            Assert.Ignore($"{what} an MLflow 3 server; {TrackingUri} runs {info.Version ?? "an unknown version"}.");
        }

        return info;
    }
}
