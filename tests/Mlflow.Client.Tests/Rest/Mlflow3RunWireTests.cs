using System.Text.Json.Nodes;
using Mlflow.Client.Tests.Infrastructure;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Rest;

/// <summary>
/// MLflow 3's additions to the run wire format, against bodies recorded from a real MLflow 3.11.1 server
/// (<c>tests/Fixtures/rest-mlflow3</c>): run inputs and outputs read, metrics linked to a model sent, and nothing new
/// sent when those fields are unset (what a 2.x server gets).
/// </summary>
[TestFixture]
public class Mlflow3RunWireTests
{
    private const string Folder = "rest-mlflow3";

    [Test]
    public async Task GetRun_ReadsModelInputsAndOutputs()
    {
        var fixture = RestFixture.Load(Folder, "runs-get.with-model-io");
        using var server = FixtureServer.Start().Answer(fixture);
        using var client = server.CreateClient();
        var modelId = fixture.ResponseJson!["run"]!["outputs"]!["model_outputs"]![0]!["model_id"]!.GetValue<string>();

        var run = await client.GetRunAsync(fixture.Arg("run_id")!);

        Assert.That(modelId, Does.StartWith("m-"));
        Assert.That(run.Outputs.ModelOutputs, Is.EqualTo(new[] { new ModelOutput(modelId, 3) }));
        Assert.That(run.Inputs.ModelInputs, Is.EqualTo(new[] { new ModelInput(modelId) }));
        Assert.That(run.Inputs.DatasetInputs, Is.Empty);
        Assert.That(run.Data.Metrics.Select(m => m.Key), Is.EquivalentTo(new[] { "accuracy", "f1", "loss" }));
    }

    [Test]
    public async Task GetRun_WithoutOutputs_HasEmptyOutputs()
    {
        // A 2.12.2 run answer has neither outputs nor model_inputs.
        var fixture = RestFixture.All("rest").First(f => f.Path == "/api/2.0/mlflow/runs/get" && f.Status == 200);
        Assert.That(fixture.ResponseBody, Does.Not.Contain("outputs"));
        using var server = FixtureServer.Start().Answer(fixture);
        using var client = server.CreateClient();

        var run = await client.GetRunAsync(fixture.Arg("run_id") ?? fixture.Arg("run_uuid")!);

        Assert.That(run.Outputs.ModelOutputs, Is.Empty);
        Assert.That(run.Inputs.ModelInputs, Is.Empty);
    }

    [Test]
    public async Task LogMetric_WithModelAndDataset_SendsWhatTheServerAccepted()
    {
        var fixture = RestFixture.Load(Folder, "runs-log-metric.model-id");
        using var server = FixtureServer.Start().Answer(fixture);
        using var client = server.CreateClient();
        var sent = fixture.RequestJson!;

        await client.LogMetricAsync(sent["run_id"]!.GetValue<string>(), new Metric("accuracy", 0.91, 1764950001000, 3)
        {
            ModelId = sent["model_id"]!.GetValue<string>(),
            DatasetName = "iris-test",
            DatasetDigest = "abc123",
        });

        AssertSameJson(FixtureServer.BodyJson(server.SingleRequest()), sent);
    }

    [Test]
    public async Task LogBatch_WithModelLinkedMetric_SendsWhatTheServerAccepted()
    {
        var fixture = RestFixture.Load(Folder, "runs-log-batch.model-id");
        using var server = FixtureServer.Start().Answer(fixture);
        using var client = server.CreateClient();
        var sent = fixture.RequestJson!;
        var modelId = sent["metrics"]![0]!["model_id"]!.GetValue<string>();

        await client.LogBatchAsync(sent["run_id"]!.GetValue<string>(),
        [
            new Metric("f1", 0.8, 1764950002000, 3) { ModelId = modelId, DatasetName = "iris-test", DatasetDigest = "abc123" },
            new Metric("loss", 0.3, 1764950002000, 3),
        ]);

        AssertSameJson(FixtureServer.BodyJson(server.SingleRequest()), sent);
    }

    [Test]
    public async Task LogMetricAndBatch_WithoutModel_SendNoMlflow3Field()
    {
        using var server = FixtureServer.Start()
            .Answer(RestFixture.Load(Folder, "runs-log-metric.model-id"))
            .Answer(RestFixture.Load(Folder, "runs-log-batch.model-id"));
        using var client = server.CreateClient();

        await client.LogMetricAsync("r1", new Metric("k", 1.5, 1000, 2));
        await client.LogBatchAsync("r1", [new Metric("k", 1.5, 1000, 2)]);

        var bodies = server.Requests.Select(FixtureServer.BodyJson).ToList();
        AssertSameJson(bodies[0], JsonNode.Parse("""{"run_id":"r1","key":"k","value":1.5,"timestamp":1000,"step":2}"""));
        AssertSameJson(bodies[1], JsonNode.Parse("""{"run_id":"r1","metrics":[{"key":"k","value":1.5,"timestamp":1000,"step":2}]}"""));
    }

    [Test]
    public async Task GetLoggedModel_ReadsLinkedMetricsWithTheirModelDatasetAndRun()
    {
        var fixture = RestFixture.Load(Folder, "logged-models-get.ok");
        using var server = FixtureServer.Start().Answer(fixture);
        using var client = server.CreateClient();
        var modelId = fixture.Path[(fixture.Path.LastIndexOf('/') + 1)..];

        var model = await client.GetLoggedModelAsync(modelId);

        var accuracy = model.Data.Metrics.Single(m => m.Key == "accuracy");
        Assert.That(accuracy.ModelId, Is.EqualTo(modelId));
        Assert.That(accuracy.DatasetName, Is.EqualTo("iris-test"));
        Assert.That(accuracy.DatasetDigest, Is.EqualTo("abc123"));
        Assert.That(accuracy.RunId, Is.EqualTo(model.Info.SourceRunId).And.Not.Null);
        Assert.That(accuracy.Step, Is.EqualTo(3));
    }

    internal static void AssertSameJson(JsonNode? actual, JsonNode? expected)
        => Assert.That(JsonNode.DeepEquals(actual, expected), Is.True, () => $"sent {actual?.ToJsonString()}\nexpected {expected?.ToJsonString()}");
}
