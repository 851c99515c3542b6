using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;
using Mlflow.Client.Evaluation.Llm;
using Mlflow.Client.Tests.Infrastructure;
using Mlflow.Client.Tests.Tracing.Capture;
using Mlflow.Client.Tracing;
using NUnit.Framework;

namespace Mlflow.Client.Tests.RealServer;

/// <summary>
/// Evaluate on a real MLflow 3 server (<c>MLFLOW_TEST_TRACKING_URI</c>; verified on 3.11.1 with sqlite) whose predict
/// calls an <c>IChatClient</c> with <c>UseOpenTelemetry()</c>: the chat client's span is nested under the record's root
/// span, as the server gives it back and as MLflow's own Python (<c>mlflow.get_trace</c>, when <c>MLFLOW_SRC</c> names a
/// 3.x source tree) reads it: a CHAT_MODEL span whose parent is the root, with the messages and the token usage.
/// </summary>
[TestFixture]
[Category("RealServer")]
[NonParallelizable]
public class EvaluateSpansRealServerTests : RealServerClientTest
{
    protected override string PrefixStem => "dotnet-eval-spans-";

    private const string GetTraceScript = """
        import json, sys
        import mlflow
        mlflow.set_tracking_uri(sys.argv[1])
        out = []
        for trace_id in sys.argv[2:]:
            trace = mlflow.get_trace(trace_id)
            root = trace.data._get_root_span()
            out.append({
                "trace_id": trace.info.trace_id,
                "state": str(trace.info.state),
                "source_run": trace.info.trace_metadata.get("mlflow.sourceRun"),
                "token_usage": trace.info.trace_metadata.get("mlflow.trace.tokenUsage"),
                "root": {"name": root.name, "span_id": root.span_id, "span_type": root.span_type, "inputs": root.inputs},
                "spans": [
                    {"name": s.name, "span_id": s.span_id, "parent_id": s.parent_id, "span_type": s.span_type,
                     "inputs": s.inputs, "outputs": s.outputs, "token_usage": s.get_attribute("mlflow.chat.tokenUsage")}
                    for s in trace.data.spans if s.parent_id is not None
                ],
            })
        print(json.dumps(out))
        """;

    [Test]
    public async Task The_chat_span_of_predict_is_nested_under_the_records_root_as_MLflows_Python_reads_it()
    {
        await RequireMlflow3Async("Traces need");
        var name = Prefix;
        using var chat = new ScriptedChatClient("Paris.", "Rome.").AsBuilder().UseOpenTelemetry(configure: c => c.EnableSensitiveData = true).Build();
        string runId;
        LlmEvaluationResult result;
        await using (var tracker = MlflowTracker.Create(new MlflowTrackerOptions { TrackingUri = TrackingUri, ExperimentName = name }))
        {
            await using var run = await tracker.StartRunAsync("eval-spans");
            runId = run.RunId;
            result = await run.EvaluateAsync(
                EvaluationDataset.FromRecords(
                [
                    new EvaluationRecord { Inputs = new Dictionary<string, JsonNode?> { ["question"] = "Capital of France?" }, Expectations = new Dictionary<string, JsonNode?> { ["expected_response"] = "Paris." } },
                    new EvaluationRecord { Inputs = new Dictionary<string, JsonNode?> { ["question"] = "Capital of Italy?" }, Expectations = new Dictionary<string, JsonNode?> { ["expected_response"] = "Rome." } },
                ]),
                async (inputs, ct) => (await chat.GetResponseAsync([new ChatMessage(ChatRole.User, inputs["question"]!.GetValue<string>())], cancellationToken: ct)).Text,
                [Scorers.ExactMatch(), Scorers.TokenUsage()],
                new LlmEvaluationOptions { MaxConcurrency = 1 });
        }

        var traceIds = result.Rows.Select(r => r.TraceId!).ToList();
        TestContext.Progress.WriteLine($"Evaluate spans: experiment {name}, run {runId}, traces {string.Join(", ", traceIds)}");
        Assert.That(result.TracesLogged, Is.True);
        foreach (var row in result.Rows)
        {
            var trace = await Client.GetTraceAsync(row.TraceId!);
            var root = trace.Spans.Single(s => s.ParentSpanId is null);
            var chatSpan = trace.Spans.Single(s => s.SpanType == SpanType.ChatModel);
            Assert.That(chatSpan.ParentSpanId, Is.EqualTo(root.SpanId), "the server gives the chat span back under the record's root");
            Assert.That(trace.Info.SourceRunId, Is.EqualTo(runId));
            Assert.That(trace.Info.Assessments.Select(a => a.Name), Does.Contain("exact_match"));
        }

        MlflowPython.RequireMlflow3(); // the server read the traces back; the read-back by MLflow's Python needs its 3.x tree

        var script = Path.Combine(Path.GetTempPath(), "mlflow-get-trace-" + Guid.NewGuid().ToString("N") + ".py");
        await File.WriteAllTextAsync(script, GetTraceScript);
        string printed;
        try
        {
            printed = await MlflowPython.RunAsync(script, [TrackingUri, .. traceIds]);
        }
        finally
        {
            File.Delete(script);
        }

        TestContext.Progress.WriteLine("mlflow.get_trace: " + printed);
        var theirs = JsonNode.Parse(printed)!.AsArray();
        Assert.That(theirs, Has.Count.EqualTo(2));
        foreach (var (trace, question) in theirs.Zip(["Capital of France?", "Capital of Italy?"]))
        {
            Assert.That(trace!["source_run"]!.GetValue<string>(), Is.EqualTo(runId));
            Assert.That(trace["root"]!["name"]!.GetValue<string>(), Is.EqualTo("predict"));
            Assert.That(trace["root"]!["inputs"]!["question"]!.GetValue<string>(), Is.EqualTo(question));
            var spans = trace["spans"]!.AsArray();
            var chatSpan = spans.Single(s => s!["span_type"]!.GetValue<string>() == "CHAT_MODEL")!;
            Assert.That(chatSpan["parent_id"]!.GetValue<string>(), Is.EqualTo(trace["root"]!["span_id"]!.GetValue<string>()), "nested under the record's root span");
            Assert.That(chatSpan["inputs"]!.ToJsonString(), Does.Contain(question));
            Assert.That(chatSpan["token_usage"]!["total_tokens"]!.GetValue<int>(), Is.GreaterThan(0));
            Assert.That(trace["token_usage"]!.GetValue<string>(), Does.Contain("total_tokens"));
        }
    }
}
