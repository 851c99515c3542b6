using System.Text.Json.Nodes;
using Mlflow.Client.Batching;
using Mlflow.Client.Tests.Infrastructure;
using NUnit.Framework;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Mlflow.Client.Tests.Rest;

/// <summary>
/// The sender's log-batch body, written from its queued entries (<see cref="MlflowClient.LogEntriesAsync"/>) instead of
/// request lists: it must be the body <see cref="MlflowClient.LogBatchAsync"/> sends for the same data, and what a real
/// MLflow 3.11.1 server accepted (<c>tests/Fixtures/rest-mlflow3</c>).
/// </summary>
[TestFixture]
public class LogEntryBatchWireTests
{
    [Test]
    public async Task A_model_linked_point_is_sent_as_the_real_server_accepted_it()
    {
        var fixture = RestFixture.Load("rest-mlflow3", "runs-log-batch.model-id");
        using var server = FixtureServer.Start().Answer(fixture);
        using var client = server.CreateClient();
        var sent = fixture.RequestJson!;
        var modelId = sent["metrics"]![0]!["model_id"]!.GetValue<string>();
        LogEntry[] entries =
        [
            LogEntry.Metric("f1", 0.8, 1764950002000, 3, new MetricLink(modelId, "iris-test", "abc123")),
            LogEntry.Metric("loss", 0.3, 1764950002000, 3),
        ];

        await client.LogEntriesAsync(sent["run_id"]!.GetValue<string>(), entries);

        Mlflow3RunWireTests.AssertSameJson(FixtureServer.BodyJson(server.SingleRequest()), sent);
    }

    [Test]
    public async Task Interleaved_metrics_params_and_tags_give_the_body_of_the_request_lists()
    {
        LogEntry[] entries =
        [
            LogEntry.Param("lr", "0.001"),
            LogEntry.Metric("m", double.NaN, 1_700_000_000_000, 0),
            LogEntry.Tag("phase", "train"),
            LogEntry.Metric("m", double.PositiveInfinity, 1_700_000_000_001, 1),
            LogEntry.Metric("m", -0.0, 1_700_000_000_002, 9_007_199_254_740_993),
            LogEntry.Param("name", "é \"quoted\" \u2028"),
            LogEntry.Metric("m", double.NegativeInfinity, 1_700_000_000_003, -4, new MetricLink("m-1", null, null)),
            LogEntry.Tag("mlflow.note.content", "line1\nline2"),
            LogEntry.Metric("other", 1e-300, 1_700_000_000_004, 5),
        ];
        var (metrics, @params, tags) = BatchBuilder.ToRequest(entries);

        var fromEntries = await SentBody(client => client.LogEntriesAsync("r1", entries));
        var fromLists = await SentBody(client => client.LogBatchAsync("r1", metrics, @params, tags));

        Assert.That(fromEntries, Is.EqualTo(fromLists), "byte for byte");
        var body = JsonNode.Parse(fromEntries)!;
        Assert.That(body["metrics"]!.AsArray().Select(m => m!["step"]!.GetValue<long>()), Is.EqualTo(new[] { 0L, 1, 9_007_199_254_740_993, -4, 5 }), "metrics in logged order");
        Assert.That(body["params"]!.AsArray().Select(p => p!["key"]!.GetValue<string>()), Is.EqualTo(new[] { "lr", "name" }));
        Assert.That(body["tags"]!.AsArray().Select(t => t!["key"]!.GetValue<string>()), Is.EqualTo(new[] { "phase", "mlflow.note.content" }));
        Assert.That(body["metrics"]![3]!["model_id"]!.GetValue<string>(), Is.EqualTo("m-1"));
        Assert.That(body["metrics"]![3]!.AsObject().ContainsKey("dataset_name"), Is.False, "an unset link field is left out");
    }

    [Test]
    public async Task A_batch_of_one_kind_sends_no_empty_list_of_the_others()
    {
        var onlyParams = JsonNode.Parse(await SentBody(client => client.LogEntriesAsync("r1", new[] { LogEntry.Param("a", "1") })))!.AsObject();
        var onlyMetrics = JsonNode.Parse(await SentBody(client => client.LogEntriesAsync("r1", new[] { LogEntry.Metric("k", 1.5, 1000, 2) })))!.AsObject();

        Assert.That(onlyParams.Select(p => p.Key), Is.EqualTo(new[] { "run_id", "params" }));
        Mlflow3RunWireTests.AssertSameJson(onlyMetrics, JsonNode.Parse("""{"run_id":"r1","metrics":[{"key":"k","value":1.5,"timestamp":1000,"step":2}]}"""));
    }

    private static async Task<string> SentBody(Func<MlflowClient, Task> send)
    {
        using var server = FixtureServer.Start();
        server.Server.Given(Request.Create().WithPath("/api/2.0/mlflow/runs/log-batch").UsingPost())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody("{}"));
        using var client = server.CreateClient();
        await send(client);
        return server.SingleRequest().RequestMessage.Body!;
    }
}
