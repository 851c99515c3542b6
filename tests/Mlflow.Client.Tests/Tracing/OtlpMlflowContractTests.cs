using System.Text;
using System.Text.Json.Nodes;
using Mlflow.Client.Tests.Infrastructure;
using Mlflow.Client.Tracing;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Tracing;

/// <summary>
/// Opt-in: what the SDK sends for a trace on an OTLP server (the <c>/v1/traces</c> body and the trace info, captured on
/// <see cref="OtlpFakeServer"/>) fed to MLflow 3.11.1's own code (<c>otlp_into_mlflow.py</c>, <c>MLFLOW_SRC</c> = an
/// MLflow 3.x tree, <c>MLFLOW_SHIMS</c> its shims): its parser (<c>ExportTraceServiceRequest</c>,
/// <c>Span.from_otel_proto</c>) holds every attribute as the same JSON text <c>traces.json</c> would; its endpoint
/// function answers the probe 400 and stores the spans in a SQL store; its Flask app takes the trace info after them;
/// and <c>mlflow.get_trace</c> and <c>mlflow.search_traces(run_id=...)</c> read the trace back with its spans, types,
/// parents, inputs, outputs, the error and its event, the token usage the store added up, and the link to the run.
/// </summary>
[TestFixture]
[Category("RealServer")]
public class OtlpMlflowContractTests
{
    private static string Script => Path.Combine(RepoPaths.RepoRoot, "tests", "Mlflow.Client.Tests", "Tracing", "otlp_into_mlflow.py");

    private static List<TraceSpan> Spans()
    {
        const long t0 = 1_765_000_000_000_000_000;
        const string root = "1000000000000001", chat = "2000000000000002", retriever = "3000000000000003", tool = "4000000000000004";
        var usage = new JsonObject { ["input_tokens"] = 12, ["output_tokens"] = 5, ["total_tokens"] = 17 };
        return
        [
            new TraceSpan
            {
                SpanId = root, Name = "answer", StartTimeUnixNano = t0, EndTimeUnixNano = t0 + 1_200_000_000, Status = TraceSpanStatus.Ok, SpanType = SpanType.Chain,
                Inputs = new JsonObject { ["question"] = "Quelle est la capitale de la France ? 🇫🇷" }, Outputs = "Paris",
                Attributes = new Dictionary<string, JsonNode?> { ["mlflow.spanFunctionName"] = "answer" },
            },
            new TraceSpan
            {
                SpanId = retriever, ParentSpanId = root, Name = "retrieve", StartTimeUnixNano = t0 + 10_000_000, EndTimeUnixNano = t0 + 90_000_000, Status = TraceSpanStatus.Ok, SpanType = SpanType.Retriever,
                Inputs = new JsonObject { ["query"] = "capital France", ["k"] = 2 },
                Outputs = new JsonArray(
                    new JsonObject { ["page_content"] = "Paris is the capital.", ["metadata"] = new JsonObject { ["doc_uri"] = "notes/1", ["score"] = 0.93 }, ["id"] = "d1" },
                    new JsonObject { ["page_content"] = "Lyon is a city.", ["metadata"] = new JsonObject { ["doc_uri"] = "notes/2", ["score"] = 0.5 }, ["id"] = null }),
            },
            new TraceSpan
            {
                SpanId = tool, ParentSpanId = root, Name = "broken_tool", StartTimeUnixNano = t0 + 100_000_000, EndTimeUnixNano = t0 + 110_000_000, Status = TraceSpanStatus.Error,
                StatusMessage = "ValueError: tool failed", SpanType = SpanType.Tool, Inputs = new JsonObject { ["x"] = 1 },
                Events = [new TraceSpanEvent("exception", t0 + 105_000_000, new Dictionary<string, JsonNode?> { ["exception.type"] = "ValueError", ["exception.message"] = "tool failed", ["exception.escaped"] = false })],
            },
            new TraceSpan
            {
                SpanId = chat, ParentSpanId = root, Name = "chat", StartTimeUnixNano = t0 + 200_000_000, EndTimeUnixNano = t0 + 1_100_000_000, Status = TraceSpanStatus.Ok, SpanType = SpanType.ChatModel,
                Inputs = new JsonObject { ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "Capital of France?" }), ["temperature"] = 0.0 },
                Outputs = new JsonObject { ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = "Paris" } }) },
                Attributes = new Dictionary<string, JsonNode?> { ["mlflow.chat.tokenUsage"] = usage, ["mlflow.llm.model"] = "gpt-test", ["retries"] = 0, ["cached"] = true, ["note"] = "" },
            },
        ];
    }

    [Test]
    public async Task Mlflow3_takes_the_spans_the_sdk_sends_over_otlp_and_reads_the_trace_back()
    {
        MlflowPython.Require();
        var dir = Path.Combine(Path.GetTempPath(), "otlp-contract-" + Guid.NewGuid().ToString("N"));
        try
        {
            var init = JsonNode.Parse(await MlflowPython.RunAsync(Script, "init", dir))!;
            if (!((string)init["version"]!).StartsWith('3'))
            {
                Assert.Ignore($"MLFLOW_SRC is MLflow {init["version"]}; OTLP needs an MLflow 3 tree.");
            }

            var experimentId = (string)init["experiment_id"]!;
            var runId = (string)init["run_id"]!;
            var spans = Spans();
            var info = new TraceInfo { TraceId = TraceIds.NewTraceId(), ExperimentId = experimentId, Metadata = new Dictionary<string, string> { ["mlflow.sourceRun"] = runId } };

            // What the SDK sends, captured.
            using (var server = OtlpFakeServer.Start())
            using (var client = server.CreateClient())
            {
                await client.LogTraceAsync(info, spans);
                File.WriteAllBytes(Path.Combine(dir, "spans.otlp.bin"), server.SpanPosts.Single().RequestMessage.BodyAsBytes!);
                File.WriteAllText(Path.Combine(dir, "start.json"), server.Fixture.Requests.Single(r => r.RequestMessage.AbsolutePath == "/api/3.0/mlflow/traces").RequestMessage.Body!);
            }

            var output = await MlflowPython.RunAsync(Script, "ingest", dir, experimentId, Path.Combine(dir, "spans.otlp.bin"), Path.Combine(dir, "start.json"));
            TestContext.Out.WriteLine(output);
            var json = JsonNode.Parse(output)!;

            // MLflow's parser holds each attribute as exactly the JSON text traces.json carries for it.
            var tracesJson = JsonNode.Parse(TraceDataJson.Serialize(info.TraceId, spans.Select(s => s with { TraceId = info.TraceId }).ToList()))!["spans"]!.AsArray();
            var parsed = json["parsed"]!.AsArray();
            Assert.That((int)json["resource_spans"]!, Is.EqualTo(1));
            Assert.That(parsed.Select(p => ((string)p!["trace_id"]!, (string)p["span_id"]!, (string?)p["parent_id"], (string)p["name"]!)),
                Is.EqualTo(spans.Select(s => (info.TraceId, s.SpanId, s.ParentSpanId, s.Name))));
            for (var i = 0; i < spans.Count; i++)
            {
                Assert.That(JsonNode.DeepEquals(parsed[i]!["raw_attributes"], tracesJson[i]!["attributes"]), Is.True, $"attributes of {spans[i].Name}: {parsed[i]!["raw_attributes"]}");
                Assert.That(((long)parsed[i]!["start_time_ns"]!, (long?)parsed[i]!["end_time_ns"]), Is.EqualTo((spans[i].StartTimeUnixNano, spans[i].EndTimeUnixNano)));
            }

            Assert.That((int)json["probe"]!["status"]!, Is.EqualTo(400), "MLflow's endpoint refuses the empty probe before storing anything");
            Assert.That((int)json["export"]!["status"]!, Is.EqualTo(200), (string?)json["export"]!["detail"]);
            Assert.That((int)json["start_status"]!, Is.EqualTo(200));
            Assert.That((string)json["start_answer"]!["trace"]!["trace_info"]!["tags"]!["mlflow.trace.spansLocation"]!, Is.EqualTo("TRACKING_STORE"), "the trace info logged after the spans keeps the store's spans location");

            var trace = json["trace"]!;
            Assert.That((string)trace["state"]!, Does.Contain("OK"));
            Assert.That((long)trace["request_time"]!, Is.EqualTo(1_765_000_000_000));
            Assert.That((long)trace["execution_duration"]!, Is.EqualTo(1200));
            Assert.That((string)trace["metadata"]!["mlflow.sourceRun"]!, Is.EqualTo(runId));
            Assert.That(json["run_traces"]!.AsArray().Select(t => (string)t!), Is.EqualTo(new[] { info.TraceId }), "search_traces(run_id=...) finds it");
            Assert.That(JsonNode.DeepEquals(trace["token_usage"], new JsonObject { ["input_tokens"] = 12, ["output_tokens"] = 5, ["total_tokens"] = 17 }), Is.True, $"token usage: {trace["token_usage"]}");
            Assert.That((string)trace["tags"]!["mlflow.traceName"]!, Is.EqualTo("answer"));
            Assert.That(json["artifacts"]!.AsArray(), Is.Empty, "no traces.json: the spans live in the store");

            var theirs = trace["spans"]!.AsArray();
            Assert.That(theirs.Select(s => ((string)s!["name"]!, (string)s["span_type"]!, (string)s["span_id"]!, (string?)s["parent_id"])),
                Is.EquivalentTo(spans.Select(s => (s.Name, s.SpanType!, s.SpanId, s.ParentSpanId))));
            foreach (var span in spans)
            {
                var their = theirs.Single(s => (string)s!["span_id"]! == span.SpanId)!;
                Assert.That(JsonNode.DeepEquals(their["inputs"], span.Inputs), Is.True, $"inputs of {span.Name}: {their["inputs"]}");
                Assert.That(JsonNode.DeepEquals(their["outputs"], span.Outputs), Is.True, $"outputs of {span.Name}: {their["outputs"]}");
            }

            var broken = theirs.Single(s => (string)s!["name"]! == "broken_tool")!;
            Assert.That(((string)broken["status"]!, (string)broken["status_message"]!), Is.EqualTo(("SpanStatusCode.ERROR", "ValueError: tool failed")));
            Assert.That(JsonNode.DeepEquals(broken["events"], JsonNode.Parse("""[{"name": "exception", "attributes": {"exception.type": "ValueError", "exception.message": "tool failed", "exception.escaped": false}}]""")), Is.True, broken["events"]!.ToJsonString());
            var chat = theirs.Single(s => (string)s!["name"]! == "chat")!["attributes"]!;
            Assert.That(((string)chat["mlflow.llm.model"]!, (int)chat["retries"]!, (bool)chat["cached"]!, (string)chat["note"]!), Is.EqualTo(("gpt-test", 0, true, "")));
        }
        finally
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }
}
