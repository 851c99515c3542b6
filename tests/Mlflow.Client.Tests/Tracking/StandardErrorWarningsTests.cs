using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Mlflow.Client.Store;
using Mlflow.Client.Tests.Infrastructure;
using Mlflow.Client.Tests.Offline;
using Mlflow.Client.Tests.Resilience;
using NUnit.Framework;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Mlflow.Client.Tests.Tracking;

/// <summary>
/// With no logger configured, the warnings a person must see (offline, data kept locally, rejected entries) reach standard
/// error once each, as Python's logging does with no handler (issue 21 item 6); an option or a logger factory turns it off.
/// </summary>
[TestFixture]
[CancelAfter(60_000)]
public sealed class StandardErrorWarningsTests
{
    /// <summary>A loopback port nothing listens on: connections to it are refused at once.</summary>
    private static string ClosedLoopbackUrl()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return $"http://127.0.0.1:{port}";
    }

    private static async Task<string> LogTwoRunsAsync(string dir, Action<MlflowTrackerOptions> configure)
    {
        using var writer = new StringWriter();
        var options = OfflineFallbackTests.Options(ClosedLoopbackUrl(), dir, o =>
        {
            o.StandardError = writer;
            o.Batching.ShutdownTimeout = TimeSpan.FromMilliseconds(300); // each end gives up on the closed port quickly
            configure(o);
        });
        await using (var tracker = MlflowTracker.Create(options))
        {
            for (var i = 0; i < 2; i++)
            {
                using var run = tracker.StartRun("r" + i);
                run.LogMetric("m", i);
            }
        }

        return writer.ToString();
    }

    [Test]
    public async Task With_no_logger_going_offline_is_written_to_standard_error_once_with_the_folder_and_mlflow_sync()
    {
        using var dir = new OfflineFallbackTests.Dir();
        var text = await LogTwoRunsAsync(dir.Path, _ => { });
        await TestContext.Out.WriteLineAsync(text);

        var lines = text.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        var offline = lines.Where(l => l.Contains("cannot be reached", StringComparison.Ordinal)).ToList();
        Assert.That(offline, Has.Count.EqualTo(1), text);
        Assert.That(offline[0], Does.StartWith("Mlflow.Client warning: ").And.Contain(dir.Path).And.Contain("mlflow-sync"));
        Assert.That(text, Does.Contain("mlflow-sync --from " + dir.Path), "the end says how to send what was kept locally: " + text);
        Assert.That(lines.GroupBy(l => l).Where(g => g.Count() > 1), Is.Empty, "each message once: " + text);
    }

    [Test]
    public async Task Turned_off_or_with_a_logger_factory_nothing_is_written_to_standard_error()
    {
        using var dir = new OfflineFallbackTests.Dir();
        Assert.That(await LogTwoRunsAsync(dir.Path, o => o.WarningsToStandardError = false), Is.Empty);

        using var factory = new CapturingLoggerFactory();
        using var dir2 = new OfflineFallbackTests.Dir();
        Assert.That(await LogTwoRunsAsync(dir2.Path, o => o.LoggerFactory = factory), Is.Empty);
        Assert.That(factory.Warnings.Count(w => w.Contains("cannot be reached", StringComparison.Ordinal)), Is.EqualTo(1), "the warning went to the factory instead");
    }

    [Test]
    public async Task Rejected_entries_are_written_once_then_one_line_says_more_are_not_repeated()
    {
        using var server = FixtureServer.Start();
        RejectedEntryTests.StubRunLifecycle(server);
        server.Server.Given(Request.Create().WithPath("/api/2.0/mlflow/runs/log-batch").UsingPost()
                .WithBody((string? b) => b is not null && b.Contains("\"key\":\"bad", StringComparison.Ordinal)))
            .AtPriority(1)
            .RespondWith(Response.Create().WithStatusCode(400).WithHeader("Content-Type", "application/json")
                .WithBody("""{"error_code":"INVALID_PARAMETER_VALUE","message":"Changing param values is not allowed"}"""));
        server.Server.Given(Request.Create().WithPath("/api/2.0/mlflow/runs/log-batch").UsingPost())
            .AtPriority(2)
            .RespondWith(Response.Create().WithHeader("Content-Type", "application/json").WithBody("{}"));

        using var writer = new StringWriter();
        var options = new MlflowTrackerOptions { StandardError = writer };
        options.Batching.FlushInterval = TimeSpan.FromHours(1);
        var store = new RestTrackingStore(server.CreateClient(), ownsClient: true);
        await using (var tracker = new MlflowTracker(store, options, null, EnvironmentReader.FromDictionary(new Dictionary<string, string>()), ownsStore: true, user: "tester"))
        {
            var run = tracker.StartRun("r");
            run.LogParam("bad1", "x");
            run.LogParam("bad2", "y");
            run.LogParam("good", "z");
            Assert.That(await tracker.FlushAsync(TimeSpan.FromSeconds(20)), Is.True);
            run.Dispose();
        }

        var lines = writer.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(2), writer.ToString());
        Assert.That(lines[0], Does.StartWith("Mlflow.Client error: MLflow rejected param 'bad"));
        Assert.That(lines[1], Does.Contain("further messages of event 1001 are not repeated").And.Contain("MlflowTrackerOptions.LoggerFactory"));
    }
}
