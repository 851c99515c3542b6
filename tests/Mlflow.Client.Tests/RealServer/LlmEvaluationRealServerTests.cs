using System.Text.Json.Nodes;
using Mlflow.Client.Evaluation.Llm;
using Mlflow.Client.Tests.Evaluation.Llm;
using Mlflow.Client.Tracing;
using NUnit.Framework;

namespace Mlflow.Client.Tests.RealServer;

/// <summary>
/// An LLM evaluation end to end on a real MLflow 3 server with a SQL store (<c>MLFLOW_TEST_TRACKING_URI</c>; ignored
/// otherwise, and on a 2.x server): the dataset saved to and read from the server, one trace per record linked to the
/// run with its spans, assessments and expectations, and the aggregates on the run. Verified on 3.11.1 (sqlite).
/// </summary>
[TestFixture]
[Category("RealServer")]
[NonParallelizable]
public class LlmEvaluationRealServerTests : RealServerClientTest
{
    protected override string PrefixStem => "dotnet-llm-";

    [Test]
    public async Task Evaluate_writes_traces_assessments_and_metrics_that_the_server_reads_back()
    {
        var info = await RequireMlflow3Async("LLM evaluation traces need");
        if (info.IsFileStore)
        {
            Assert.Ignore("This test keeps its dataset on the server, and server datasets need a SQL tracking store (MLflow's file store answers FEATURE_DISABLED).");
        }

        var name = Prefix;
        var experimentId = await Client.CreateExperimentAsync(name);
        var local = EvaluationDataset.FromRecords(
        [
            new EvaluationRecord { Inputs = new Dictionary<string, JsonNode?> { ["question"] = "Capital of France?" }, Expectations = new Dictionary<string, JsonNode?> { ["expected_response"] = "Paris" } },
            new EvaluationRecord { Inputs = new Dictionary<string, JsonNode?> { ["question"] = "Capital of Italy?" }, Expectations = new Dictionary<string, JsonNode?> { ["expected_response"] = "Rome" } },
            new EvaluationRecord { Inputs = new Dictionary<string, JsonNode?> { ["question"] = "Capital of Spain?" }, Expectations = new Dictionary<string, JsonNode?> { ["expected_response"] = "Madrid" } },
        ], name + "-qa");
        var dataset = await local.SaveToServerAsync(Client, [experimentId]);
        Assert.That(dataset.DatasetId, Does.StartWith("d-"));
        Assert.That(dataset.Records, Has.Count.EqualTo(3));

        var judge = new ScriptedChatClient(messages => messages[^1].Text.Contains("<<Answer>>\nBarcelona", StringComparison.Ordinal)
            ? "{\"rationale\": \"The capital of Spain is Madrid.\", \"result\": \"no\"}"
            : "```json\n{\"rationale\": \"Matches the reference.\", \"result\": \"yes\"}\n```");
        string runId;
        LlmEvaluationResult result;
        await using (var tracker = MlflowTracker.Create(new MlflowTrackerOptions { TrackingUri = TrackingUri, ExperimentName = name }))
        {
            await using var run = await tracker.StartRunAsync("llm-eval");
            runId = run.RunId;
            result = await run.EvaluateAsync(
                dataset,
                inputs =>
                {
                    var q = inputs["question"]!.GetValue<string>();
                    Prediction answer = q.Contains("France", StringComparison.Ordinal) ? "Paris" : q.Contains("Italy", StringComparison.Ordinal) ? "Rome" : "Barcelona";
                    return Task.FromResult(answer with { RetrievedContext = ["Paris is the capital of France.", "Rome is the capital of Italy."] });
                },
                [Scorers.ExactMatch(), Scorers.TokenF1(), Judges.Correctness(judge), Judges.RetrievalGroundedness(judge)]);
        }

        TestContext.Progress.WriteLine($"LLM evaluation: experiment {experimentId}, run {runId}, dataset {dataset.DatasetId}");
        Assert.That(result.TracesLogged, Is.True);
        var traces = new List<TraceInfo>();
        await foreach (var t in Client.SearchAllTracesAsync([experimentId]))
        {
            traces.Add(t);
        }

        Assert.That(traces.Select(t => t.TraceId), Is.EquivalentTo(result.Rows.Select(r => r.TraceId)));
        foreach (var row in result.Rows)
        {
            var trace = await Client.GetTraceAsync(row.TraceId!);
            Assert.That(trace.Info.SourceRunId, Is.EqualTo(runId));
            Assert.That(trace.Spans.Select(s => s.SpanType), Is.EquivalentTo(new[] { SpanType.Chain, SpanType.Retriever }), "the judges score outside the record's trace");
            var names = trace.Info.Assessments.Select(a => a.Name).ToList();
            Assert.That(names, Is.EquivalentTo(new[] { "exact_match", "token_f1", "correctness", "retrieval_groundedness", "expected_response" }));
            var correctness = trace.Info.Assessments.Single(a => a.Name == "correctness");
            Assert.That(correctness.Source.Type, Is.EqualTo(AssessmentSourceType.LlmJudge));
            Assert.That(correctness.RunId, Is.EqualTo(runId));
            Assert.That(correctness.Rationale, Is.Not.Empty);
        }

        var stored = await Client.GetRunAsync(runId);
        var metrics = stored.Data.Metrics.ToDictionary(m => m.Key, m => m.Value);
        Assert.That(metrics["correctness/mean"], Is.EqualTo(2.0 / 3).Within(1e-9));
        Assert.That(metrics["exact_match/mean"], Is.EqualTo(2.0 / 3).Within(1e-9));
        Assert.That(stored.Data.Tags.Single(t => t.Key == "mlflow.runType").Value, Is.EqualTo("genai_evaluate"));
    }
}
