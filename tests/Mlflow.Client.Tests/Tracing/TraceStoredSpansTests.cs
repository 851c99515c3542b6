using System.Text;
using System.Text.Json.Nodes;
using Mlflow.Client.Tests.Infrastructure;
using Mlflow.Client.Tracing;
using NUnit.Framework;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace Mlflow.Client.Tests.Tracing;

/// <summary>
/// <see cref="MlflowClient.GetTraceAsync"/> for a trace whose spans came over OTLP: MLflow 3.11.1 answers its info with
/// <c>mlflow.trace.spansLocation = TRACKING_STORE</c>, and the spans come from <c>GET /api/3.0/mlflow/traces/get</c>
/// (recorded from MLflow's own server code by <c>tests/Fixtures/otlp/record_get_trace.py</c> after it took
/// <c>typed-attributes.otlp.bin</c>), not from a <c>traces.json</c>.
/// </summary>
[TestFixture]
public class TraceStoredSpansTests
{
    private static readonly RestFixture Info = RestFixture.Load("otlp", "traces-get-info.tracking-store");
    private static readonly RestFixture Spans = RestFixture.Load("otlp", "traces-get.tracking-store");

    private static string TraceId => Spans.Query["trace_id"].Single();

    [Test]
    public async Task GetTrace_ReadsTheSpansFromTheStore_AsTheyWereSent()
    {
        using var server = FixtureServer.Start().Answer(Info).Answer(Spans);
        using var client = server.CreateClient();
        var sent = TraceDataJson.Parse(File.ReadAllText(Path.Combine(RepoPaths.FixturesDir, "otlp", "typed-attributes.traces.json"), Encoding.UTF8));

        var trace = await client.GetTraceAsync(TraceId);

        Assert.That(server.Requests.Select(r => r.RequestMessage.Method + " " + r.RequestMessage.AbsolutePath + (r.RequestMessage.RawQuery?.TrimStart('?') is { Length: > 0 } q ? "?" + q : "")),
            Is.EqualTo(new[] { "GET " + Info.Path, "GET /api/3.0/mlflow/traces/get?trace_id=" + TraceId }), "no traces.json is read");
        Assert.That(trace.Info.Tags["mlflow.trace.spansLocation"], Is.EqualTo("TRACKING_STORE"));
        // MLflow's store hands a string attribute that is JSON text back decoded (its own client reads an object too).
        var expected = sent.Select(s => s.Attributes.ContainsKey("json_looking")
            ? s with { Attributes = s.Attributes.ToDictionary(a => a.Key, a => a.Key == "json_looking" ? JsonNode.Parse("""{"a": 1}""") : a.Value?.DeepClone()) }
            : s).ToList();
        Assert.That(TraceDataJson.Serialize(TraceId, trace.Spans), Is.EqualTo(TraceDataJson.Serialize(TraceId, expected)), "types, ids, times, status, events and every attribute with its JSON type");
        Assert.That(trace.Spans.Select(s => (s.Name, s.SpanType, s.ParentSpanId)), Is.EqualTo(sent.Select(s => (s.Name, s.SpanType, s.ParentSpanId))));
        var tool = trace.Spans[2];
        Assert.That((tool.EndTimeUnixNano, tool.Status, tool.TraceId), Is.EqualTo(((long?)null, TraceSpanStatus.Unset, TraceId)));
        Assert.That(tool.Events.Single().Attributes["attempt"]!.GetValue<long>(), Is.EqualTo(2));
        Assert.That(trace.Spans[1].Attributes["whole"]!.GetValue<double>(), Is.EqualTo(2.0));
        Assert.That(trace.Spans[1].Attributes["nothing"], Is.Null);
        Assert.That(trace.Spans[1].Attributes.ContainsKey("mlflow.traceRequestId"), Is.False, "the trace id is TraceSpan.TraceId");
    }

    [TestCase("start_time_unix_nano")]
    [TestCase("end_time_unix_nano")]
    public void ATimeOutOfRange_IsAnAnswerThatIsNotMlflows_NotAnOverflow(string field)
    {
        var span = new JsonObject { ["span_id"] = "AAAAAAAAAAE=", ["name"] = "s", ["start_time_unix_nano"] = "1" };
        span[field] = "99999999999999999999";
        var answer = new JsonObject { ["trace"] = new JsonObject { ["spans"] = new JsonArray(span) } };

        var ex = Assert.Throws<MlflowException>(() => TraceProtoSpans.Parse(answer, "tr-1"))!;

        Assert.That(ex.Message, Does.Contain("tr-1").And.Contain("not MLflow's"));
        Assert.That(ex.InnerException, Is.InstanceOf<OverflowException>());
    }

    [Test]
    public void GetTrace_OnAServerWithoutTheEndpoint_SaysItCannotReadTheSpans()
    {
        using var server = FixtureServer.Start().Answer(Info);
        server.Server.Given(Request.Create().WithPath("/api/3.0/mlflow/traces/get").UsingGet()).AtPriority(1)
            .RespondWith(Response.Create().WithStatusCode(404).WithHeader("Content-Type", "application/json")
                .WithBody("""{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "Trace with ID 'get' not found."}"""));
        using var client = server.CreateClient();

        var ex = Assert.ThrowsAsync<NotSupportedException>(() => client.GetTraceAsync(TraceId));

        Assert.That(ex!.Message, Does.Contain("database").And.Contain(TraceId));
    }

    [Test]
    public void GetTrace_ThatTheStoreLost_IsNotFound()
    {
        using var server = FixtureServer.Start().Answer(Info);
        server.Server.Given(Request.Create().WithPath("/api/3.0/mlflow/traces/get").UsingGet()).AtPriority(1)
            .RespondWith(Response.Create().WithStatusCode(404).WithHeader("Content-Type", "application/json")
                .WithBody($$"""{"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "Trace with ID '{{TraceId}}' not found."}"""));
        using var client = server.CreateClient();

        var ex = Assert.ThrowsAsync<MlflowException>(() => client.GetTraceAsync(TraceId));

        Assert.That(ex!.ErrorCode, Is.EqualTo(MlflowErrorCode.ResourceDoesNotExist));
    }
}
