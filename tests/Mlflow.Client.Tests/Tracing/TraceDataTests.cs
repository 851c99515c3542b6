using System.Text;
using System.Text.Json.Nodes;
using Mlflow.Client.Tests.Infrastructure;
using Mlflow.Client.Tracing;
using NUnit.Framework;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Mlflow.Client.Tests.Tracing;

/// <summary>
/// <c>traces.json</c>: the file MLflow 3.11.1's exporter uploaded (<c>traces-data.python.json</c>) is read into spans
/// with their types, inputs, outputs, status and events, and written back byte for byte; and <see cref="MlflowClient.LogTraceAsync"/>
/// records the info, then uploads that file where the server said.
/// </summary>
[TestFixture]
public class TraceDataTests
{
    private static string PythonTraceData => File.ReadAllText(Path.Combine(RepoPaths.FixturesDir, "rest-mlflow3-traces", "traces-data.python.json"), Encoding.UTF8);

    [Test]
    public void PythonTraceData_ReadsSpansWithTypesInputsOutputsAndEvents()
    {
        var spans = TraceDataJson.Parse(PythonTraceData);

        Assert.That(spans.Select(s => (s.Name, s.SpanType)), Is.EqualTo(new[]
        {
            ("answer", SpanType.Agent), ("retrieve", SpanType.Retriever), ("broken_tool", SpanType.Tool), ("chat", SpanType.ChatModel),
        }));
        var root = spans[0];
        Assert.That(root.ParentSpanId, Is.Null);
        Assert.That(root.TraceId, Is.EqualTo("tr-d54abb776d6dd622cd91fb009b8c4454"));
        Assert.That(root.SpanId, Does.Match("^[0-9a-f]{16}$"));
        Assert.That(spans.Skip(1).All(s => s.ParentSpanId == root.SpanId), Is.True);
        Assert.That(root.Inputs!["question"]!.GetValue<string>(), Is.EqualTo("Quelle est la capitale de la France ?"));
        Assert.That(root.Outputs!.GetValue<string>(), Is.EqualTo("Paris"));
        Assert.That(root.Attributes["mlflow.spanFunctionName"]!.GetValue<string>(), Is.EqualTo("answer"));
        Assert.That(root.Attributes.ContainsKey("mlflow.spanInputs"), Is.False, "inputs live in Inputs only");
        Assert.That(root.EndTimeUnixNano - root.StartTimeUnixNano, Is.GreaterThan(0));

        var tool = spans[2];
        Assert.That(tool.Status, Is.EqualTo(TraceSpanStatus.Error));
        Assert.That(tool.StatusMessage, Is.EqualTo("ValueError: tool failed"));
        Assert.That(tool.Outputs, Is.Null);
        Assert.That(tool.Events.Single().Name, Is.EqualTo("exception"));
        Assert.That(tool.Events.Single().Attributes["exception.type"]!.GetValue<string>(), Is.EqualTo("ValueError"));
        Assert.That(spans[3].Outputs!["choices"]![0]!["message"]!["content"]!.GetValue<string>(), Is.EqualTo("Paris"));
    }

    [Test]
    public void PythonTraceData_IsWrittenBackByteForByte()
    {
        var text = PythonTraceData;
        var spans = TraceDataJson.Parse(text);

        Assert.That(TraceDataJson.Serialize(spans[0].TraceId, spans), Is.EqualTo(text));
    }

    [Test]
    public void Serialize_KeepsNonAsciiAndEscapesControlCharacters_AsPythonsJsonDumps()
    {
        var span = new TraceSpan
        {
            SpanId = "00000000000000ff",
            Name = "é",
            StartTimeUnixNano = 1,
            Inputs = new JsonObject { ["q"] = "naïve \"quote\"\n" },
        };

        var text = TraceDataJson.Serialize("tr-0123456789abcdef0123456789abcdef", [span]);

        Assert.That(text, Does.Contain("\"name\": \"é\""));
        Assert.That(text, Does.Contain("\"mlflow.spanInputs\": \"{\\\"q\\\": \\\"naïve \\\\\\\"quote\\\\\\\"\\\\n\\\"}\""));
        Assert.That(text, Does.Contain("\"span_id\": \"AAAAAAAAAP8=\""));
        Assert.That(text, Does.Contain("\"trace_id\": \"ASNFZ4mrze8BI0VniavN7w==\""));
        Assert.That(text, Does.Contain("\"end_time_unix_nano\": null"));
        var back = TraceDataJson.Parse(text).Single();
        Assert.That(back.Inputs!["q"]!.GetValue<string>(), Is.EqualTo("naïve \"quote\"\n"));
    }

    [Test]
    public void Serialize_RefusesIdsMlflowCannotHold()
    {
        var span = new TraceSpan { SpanId = "00000000000000ff", Name = "x" };
        Assert.Throws<ArgumentException>(() => TraceDataJson.Serialize("my-trace", [span]));
        Assert.Throws<ArgumentException>(() => TraceDataJson.Serialize("tr-0123456789abcdef0123456789abcdef", [span with { SpanId = "xyz" }]));
        Assert.Throws<ArgumentException>(() => TraceDataJson.Serialize("tr-0123456789abcdef0123456789abcdef", [span with { TraceId = "tr-ffffffffffffffffffffffffffffffff" }]));
        Assert.Throws<ArgumentException>(() => TraceDataJson.Serialize("tr-0123456789abcdef0123456789abcdef", [span with { Attributes = new Dictionary<string, JsonNode?> { ["mlflow.spanType"] = "TOOL" } }]));
    }

    [Test]
    public async Task LogTrace_StartsTheTraceThenUploadsTracesJsonToTheArtifactLocationTheServerGave()
    {
        var fixture = RestFixture.Load("rest-mlflow3-traces", "traces-start.python");
        using var server = FixtureServer.Start().Answer(fixture);
        server.Server.Given(Request.Create().WithPath(new WireMock.Matchers.WildcardMatcher("/api/2.0/mlflow-artifacts/artifacts/*")).UsingPut())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/json").WithBody("{}"));
        using var client = server.CreateClient();
        var recorded = fixture.RequestJson!["trace"]!["trace_info"]!;
        var traceId = recorded["trace_id"]!.GetValue<string>();
        var experimentId = recorded["trace_location"]!["mlflow_experiment"]!["experiment_id"]!.GetValue<string>();
        var spans = TraceDataJson.Parse(PythonTraceData);
        var bare = spans.Select(s => s with { TraceId = "" }).ToList();

        var logged = await client.LogTraceAsync(new TraceInfo { TraceId = traceId, ExperimentId = experimentId }, bare);

        // This server has neither /version nor server-info (404s), so spans do not go over OTLP: the info, then traces.json.
        Assert.That(server.Requests.Where(r => r.RequestMessage.Method == "GET").Select(r => r.RequestMessage.AbsolutePath), Is.EqualTo(new[] { "/version", "/api/3.0/mlflow/server-info" }));
        var writes = server.Requests.Where(r => r.RequestMessage.Method != "GET").ToList();
        Assert.That(writes, Has.Count.EqualTo(2));
        var start = FixtureServer.BodyJson(writes[0])!["trace"]!["trace_info"]!;
        Assert.That(start["state"]!.GetValue<string>(), Is.EqualTo("OK"));
        Assert.That(ProtoJsonTime.MillisecondsFromTimestamp(start["request_time"]!.GetValue<string>()), Is.EqualTo(spans[0].StartTimeUnixNano / 1_000_000));
        Assert.That(start["execution_duration"]!.GetValue<string>(), Is.EqualTo(ProtoJsonTime.DurationFromMilliseconds((spans[0].EndTimeUnixNano!.Value - spans[0].StartTimeUnixNano) / 1_000_000)));
        Assert.That(start["request_preview"]!.GetValue<string>(), Is.EqualTo(recorded["request_preview"]!.GetValue<string>()), "the preview is the root inputs as MLflow writes them");
        Assert.That(start["response_preview"]!.GetValue<string>(), Is.EqualTo(recorded["response_preview"]!.GetValue<string>()));
        Assert.That(start["tags"]!["mlflow.traceName"]!.GetValue<string>(), Is.EqualTo("answer"));
        Assert.That(start["trace_metadata"]!["mlflow.traceInputs"]!.GetValue<string>(), Is.EqualTo(recorded["trace_metadata"]!["mlflow.traceInputs"]!.GetValue<string>()));
        Assert.That(start["trace_metadata"]!["mlflow.trace_schema.version"]!.GetValue<string>(), Is.EqualTo("3"));

        var upload = writes[1].RequestMessage;
        Assert.That(upload.Method, Is.EqualTo("PUT"));
        Assert.That(upload.AbsolutePath, Is.EqualTo($"/api/2.0/mlflow-artifacts/artifacts/{experimentId}/traces/{traceId}/artifacts/traces.json"));
        Assert.That(Encoding.UTF8.GetString(upload.BodyAsBytes!), Is.EqualTo(PythonTraceData), "the uploaded file is what MLflow's exporter wrote");
        Assert.That(logged.ArtifactLocation, Does.EndWith($"/traces/{traceId}/artifacts"));
    }

    [Test]
    public async Task GetTrace_ReadsTheInfoThenTheSpansFromTheArtifactLocation()
    {
        var fixture = RestFixture.Load("rest-mlflow3-traces", "traces-get-info.ok");
        using var server = FixtureServer.Start().Answer(fixture);
        var traceId = fixture.Path.Split('/')[^1];
        server.Server.Given(Request.Create().WithPath(new WireMock.Matchers.WildcardMatcher($"/api/2.0/mlflow-artifacts/artifacts/*/traces/{traceId}/artifacts/traces.json")).UsingGet())
            .RespondWith(Response.Create().WithStatusCode(200).WithHeader("Content-Type", "application/octet-stream").WithBody(PythonTraceData));
        using var client = server.CreateClient();

        var trace = await client.GetTraceAsync(traceId);

        Assert.That(trace.Info.TraceId, Is.EqualTo(traceId));
        Assert.That(trace.Spans, Has.Count.EqualTo(4));
        Assert.That(trace.RootSpan!.Name, Is.EqualTo("answer"));
        Assert.That(trace.Info.Assessments, Has.Count.EqualTo(5));
    }

    [Test]
    public void GetTrace_WithoutSpanData_SaysTheDataIsMissing()
    {
        var fixture = RestFixture.Load("rest-mlflow3-traces", "traces-get-info.ok");
        using var server = FixtureServer.Start().Answer(fixture);
        server.Server.Given(Request.Create().WithPath(new WireMock.Matchers.WildcardMatcher("/api/2.0/mlflow-artifacts/artifacts/*")).UsingGet())
            .RespondWith(Response.Create().WithStatusCode(404).WithHeader("Content-Type", "application/json").WithBody("{\"error_code\": \"RESOURCE_DOES_NOT_EXIST\", \"message\": \"no file\"}"));
        using var client = server.CreateClient();

        var ex = Assert.ThrowsAsync<MlflowException>(() => client.GetTraceAsync(fixture.Path.Split('/')[^1]));

        Assert.That(ex!.Message, Does.Contain("has no span data"));
    }

    [Test]
    public void ProtoTimes_AreWrittenAsProtobufWritesThem()
    {
        Assert.That(ProtoJsonTime.TimestampFromMilliseconds(1_796_499_386_503), Is.EqualTo("2026-12-05T19:36:26.503Z"));
        Assert.That(ProtoJsonTime.TimestampFromMilliseconds(1_796_499_386_000), Is.EqualTo("2026-12-05T19:36:26Z"));
        Assert.That(ProtoJsonTime.MillisecondsFromTimestamp("2026-12-05T19:36:26.503456789Z"), Is.EqualTo(1_796_499_386_503));
        Assert.That(ProtoJsonTime.DurationFromMilliseconds(223), Is.EqualTo("0.223s"));
        Assert.That(ProtoJsonTime.DurationFromMilliseconds(2000), Is.EqualTo("2s"));
        Assert.That(ProtoJsonTime.MillisecondsFromDuration("1.5s"), Is.EqualTo(1500));
        Assert.That(ProtoJsonTime.MillisecondsFromDuration("0.000999999s"), Is.Zero);
        Assert.Throws<FormatException>(() => ProtoJsonTime.MillisecondsFromDuration("12"));
        Assert.That(TraceIds.NewTraceId(), Does.Match("^tr-[0-9a-f]{32}$"));
        Assert.That(TraceIds.NewSpanId(), Does.Match("^[0-9a-f]{16}$"));
    }
}
