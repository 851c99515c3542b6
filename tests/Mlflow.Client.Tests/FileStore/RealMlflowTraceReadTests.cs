using System.Text.Json.Nodes;
using Mlflow.Client.Tests.Infrastructure;
using Mlflow.Client.Tracing;
using NUnit.Framework;

namespace Mlflow.Client.Tests.FileStore;

/// <summary>
/// Opt-in: MLflow 3's own Python (<c>MLFLOW_SRC</c> = an MLflow 3.x tree such as <c>~/mlflow-harness/mlflow3-src</c>,
/// <c>MLFLOW_SHIMS</c> its shims) pointed at the folder our store wrote (<c>file:///…</c>) reads the traces:
/// <c>mlflow.search_traces</c> over the experiment and by run, <c>mlflow.get_trace</c> with spans, span types, inputs,
/// outputs and assessments. Ignored without <c>MLFLOW_SRC</c> or with an MLflow 2 tree.
/// </summary>
[Category("RealServer")]
internal sealed class RealMlflowTraceReadTests : FileStoreTestBase
{
    [Test]
    public async Task Mlflow3_python_reads_the_traces_and_assessments_the_store_wrote()
    {
        MlflowPython.RequireMlflow3();
        var experimentId = await Store.CreateExperimentAsync("traces read by python", null, null, None);
        var run = await Store.CreateRunAsync(experimentId, "evaluation", 1_765_000_000_000, null, "me", None);
        var runId = run.Info.RunId;
        var spans = TraceFileStoreTests.SampleSpans();
        var logged = await Store.LogTraceAsync(TraceFileStoreTests.SampleTrace(experimentId, runId), spans, None);
        var created = await TraceFileStoreTests.LogSampleAssessmentsAsync(Store, logged.TraceId, runId);
        var unlinked = await Store.LogTraceAsync(new TraceInfo { TraceId = TraceIds.NewTraceId(), ExperimentId = experimentId }, TraceFileStoreTests.SampleSpans(), None);

        var output = await MlflowPython.RunAsync(Script, "file://" + Root, experimentId, runId);
        TestContext.Out.WriteLine(output);
        var json = JsonNode.Parse(output)!;
        if (!((string)json["version"]!).StartsWith('3'))
        {
            Assert.Ignore($"MLFLOW_SRC is MLflow {json["version"]}; traces need an MLflow 3 tree.");
        }

        Assert.That(json["run_traces"]!.AsArray().Select(t => (string)t!), Is.EqualTo(new[] { logged.TraceId }), "search_traces(run_id=...) finds the trace logged under the run only");
        var traces = json["traces"]!.AsArray();
        Assert.That(traces.Select(t => (string)t!["trace_id"]!), Is.EquivalentTo(new[] { logged.TraceId, unlinked.TraceId }));
        var trace = traces.Single(t => (string)t!["trace_id"]! == logged.TraceId)!;
        Assert.That((string)trace["state"]!, Does.Contain("OK"));
        Assert.That((long)trace["request_time"]!, Is.EqualTo(logged.RequestTimeMs));
        Assert.That((long)trace["execution_duration"]!, Is.EqualTo(1200));
        Assert.That((string)trace["source_run"]!, Is.EqualTo(runId));
        Assert.That((string)trace["trace_name"]!, Is.EqualTo("answer"));
        Assert.That((string)trace["request_preview"]!, Is.EqualTo(logged.RequestPreview));

        var theirSpans = trace["spans"]!.AsArray();
        Assert.That(theirSpans.Select(s => ((string)s!["name"]!, (string)s["span_type"]!, (string?)s["parent_id"])),
            Is.EqualTo(spans.Select(s => (s.Name, s.SpanType!, s.ParentSpanId))));
        Assert.That(theirSpans.Select(s => (string)s!["span_id"]!), Is.EqualTo(spans.Select(s => s.SpanId)));
        for (var i = 0; i < spans.Count; i++)
        {
            Assert.That(JsonNode.DeepEquals(theirSpans[i]!["inputs"], spans[i].Inputs), Is.True, $"inputs of {spans[i].Name}: {theirSpans[i]!["inputs"]}");
            Assert.That(JsonNode.DeepEquals(theirSpans[i]!["outputs"], spans[i].Outputs), Is.True, $"outputs of {spans[i].Name}: {theirSpans[i]!["outputs"]}");
        }

        var assessments = trace["assessments"]!.AsArray();
        Assert.That(assessments, Has.Count.EqualTo(created.Count));
        JsonNode Named(string name) => assessments.Single(a => (string)a!["name"]! == name)!;
        Assert.That((string)assessments.Single(a => (string)a!["name"]! == "correctness" && !(bool)a["valid"]!)!["rationale"]!, Is.EqualTo("First opinion."));
        Assert.That(assessments.Count(a => (string?)a!["overrides"] == created[0].AssessmentId), Is.EqualTo(1));
        var judged = assessments.Single(a => (string)a!["name"]! == "correctness" && a["metadata"] is JsonObject m && m.Count > 0)!;
        Assert.That((string)judged["source_type"]!, Is.EqualTo("LLM_JUDGE"));
        Assert.That((string)judged["source_id"]!, Is.EqualTo("openai:/gpt-4o-mini"));
        Assert.That((string)judged["value"]!, Is.EqualTo("yes"));
        Assert.That((string)judged["metadata"]!["mlflow.assessment.sourceRunId"]!, Is.EqualTo(runId));
        Assert.That((double)Named("score")["value"]!, Is.EqualTo(0.75));
        Assert.That((bool)Named("exact")["value"]!, Is.True);
        Assert.That((string)Named("exact")["span_id"]!, Is.EqualTo(spans.Single(s => s.Name == "chat").SpanId));
        Assert.That(JsonNode.DeepEquals(Named("details")["value"], JsonNode.Parse("""{"docs": ["doc1", null], "hits": 2.0}""")), Is.True, Named("details")["value"]!.ToJsonString());
        Assert.That((string)Named("safety")["error_code"]!, Is.EqualTo("RateLimit"));
        Assert.That((string)Named("expected_response")["kind"]!, Is.EqualTo("Expectation"));
        Assert.That((string)Named("expected_response")["value"]!, Is.EqualTo("Paris"));
        Assert.That(JsonNode.DeepEquals(Named("expected_facts")["value"], new JsonArray("Paris", "France")), Is.True);
    }

    private static string Script => Path.Combine(RepoPaths.RepoRoot, "tests", "Mlflow.Client.Tests", "Tracing", "read_traces_with_mlflow.py");
}
