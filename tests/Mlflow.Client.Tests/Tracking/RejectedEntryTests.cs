using System.Text.Json.Nodes;
using Mlflow.Client.Store;
using Mlflow.Client.Tests.Infrastructure;
using NUnit.Framework;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Mlflow.Client.Tests.Tracking;

[CancelAfter(60_000)]
public class RejectedEntryTests
{
    internal const string RunId = "0123456789abcdef0123456789abcdef";

    internal static void StubRunLifecycle(FixtureServer server)
    {
        server.Server.Given(Request.Create().WithPath("/api/2.0/mlflow/runs/create").UsingPost())
            .RespondWith(Response.Create().WithHeader("Content-Type", "application/json")
                .WithBody("{\"run\":{\"info\":{\"run_id\":\"" + RunId + "\",\"experiment_id\":\"0\",\"run_name\":\"r\",\"status\":\"RUNNING\"}}}"));
        server.Server.Given(Request.Create().WithPath("/api/2.0/mlflow/runs/update").UsingPost())
            .RespondWith(Response.Create().WithHeader("Content-Type", "application/json")
                .WithBody("{\"run_info\":{\"run_id\":\"" + RunId + "\"}}"));
    }

    private static List<string> Keys(JsonNode body)
    {
        var keys = new List<string>();
        foreach (var kind in new[] { "metrics", "params", "tags" })
        {
            if (body[kind] is JsonArray a)
            {
                keys.AddRange(a.Select(e => e!["key"]!.GetValue<string>()));
            }
        }

        return keys;
    }

    [Test]
    public async Task A_rejected_param_is_isolated_by_bisection_and_every_other_entry_arrives_once()
    {
        using var server = FixtureServer.Start();
        StubRunLifecycle(server);
        server.Server.Given(Request.Create().WithPath("/api/2.0/mlflow/runs/log-batch").UsingPost()
                .WithBody((string? b) => b is not null && b.Contains("\"key\":\"bad\"", StringComparison.Ordinal)))
            .AtPriority(1)
            .RespondWith(Response.Create().WithStatusCode(400).WithHeader("Content-Type", "application/json")
                .WithBody("""{"error_code":"INVALID_PARAMETER_VALUE","message":"Changing param values is not allowed. Param with key='bad' was already logged"}"""));
        server.Server.Given(Request.Create().WithPath("/api/2.0/mlflow/runs/log-batch").UsingPost())
            .AtPriority(2)
            .RespondWith(Response.Create().WithHeader("Content-Type", "application/json").WithBody("{}"));

        var options = new MlflowTrackerOptions();
        options.Batching.FlushInterval = TimeSpan.FromHours(1);
        var store = new RestTrackingStore(server.CreateClient(), ownsClient: true);
        await using var tracker = new MlflowTracker(store, options, null, EnvironmentReader.FromDictionary(new Dictionary<string, string>()), ownsStore: true, user: "tester");
        var run = tracker.StartRun("r");
        // Queued order: m0 m1 p0 p1 p2 bad p4 m2 m3 (metrics and params go to separate JSON arrays).
        run.LogMetric("m0", 0);
        run.LogMetric("m1", 1);
        run.LogParam("p0", "v");
        run.LogParam("p1", "v");
        run.LogParam("p2", "v");
        run.LogParam("bad", "v");
        run.LogParam("p4", "v");
        run.LogMetric("m2", 2);
        run.LogMetric("m3", 3);

        var ex = Assert.ThrowsAsync<MlflowRejectedEntriesException>(() => run.FlushAsync());
        Assert.That(ex!.Rejected, Has.Count.EqualTo(1));
        Assert.That(ex.Rejected[0].Key, Is.EqualTo("bad"));
        Assert.That(ex.Rejected[0].Kind, Is.EqualTo("param"));
        Assert.That(ex.Rejected[0].Message, Does.Contain("INVALID_PARAMETER_VALUE").And.Contain("Changing param values"));
        Assert.That(ex.Message, Does.Contain("'bad'"));

        var batches = server.Requests.Where(r => r.RequestMessage.Path.EndsWith("log-batch", StringComparison.Ordinal))
            .Select(r => (Keys(FixtureServer.BodyJson(r) ?? new JsonObject()), r.ResponseMessage?.StatusCode?.ToString() ?? "200"))
            .ToList();
        // Bisection: [9] rejected -> [4] ok, [5] rejected -> [2] rejected -> [1] ok, [1] rejected -> [3] ok.
        Assert.That(batches.Select(b => string.Join(",", b.Item1) + " " + b.Item2), Is.EqualTo(new[]
        {
            "m0,m1,m2,m3,p0,p1,p2,bad,p4 400",
            "m0,m1,p0,p1 200",
            "m2,m3,p2,bad,p4 400",
            "p2,bad 400",
            "p2 200",
            "bad 400",
            "m2,m3,p4 200",
        }));
        var delivered = batches.Where(b => b.Item2 == "200").SelectMany(b => b.Item1).OrderBy(k => k, StringComparer.Ordinal);
        Assert.That(delivered, Is.EqualTo(new[] { "m0", "m1", "m2", "m3", "p0", "p1", "p2", "p4" }));
        Assert.That(tracker.Counters, Is.EqualTo(new MlflowTrackerCounters(9, 8, 0, 1, 0)));

        // Reported once: the run ends normally afterwards.
        await run.DisposeAsync();
        Assert.That(run.Status, Is.EqualTo(RunStatus.Finished));
    }
}
