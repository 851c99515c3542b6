using System.Text;
using System.Text.Json.Nodes;
using Mlflow.Client.Tests.Infrastructure;
using Mlflow.Client.Tests.Resilience;
using Mlflow.Client.Tracing;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Tracing;

/// <summary>
/// <see cref="MlflowClient.LogTraceAsync"/> on servers with and without MLflow's OTLP endpoint (<see cref="OtlpFakeServer"/>):
/// where it is served, the spans go to <c>POST /v1/traces</c> first (protobuf, <c>x-mlflow-experiment-id</c>), then
/// the trace info, and no <c>traces.json</c>; where it is not (404/405, 501, an MLflow below 3.4, a FileStore) they go
/// as <c>traces.json</c>, as MLflow's exporter does; the choice is made once per client, and a failure that decides
/// nothing neither loses the trace nor is kept.
/// </summary>
[TestFixture]
public class OtlpTraceLoggingTests
{
    private const string Experiment = "7";
    private const string Start = "POST /api/3.0/mlflow/traces";
    private const string Upload = "PUT artifact traces.json";
    private const string SpanPost = "POST " + OtlpFakeServer.TracesPath;
    private static readonly string[] ServerFacts = ["GET /version", "GET /api/3.0/mlflow/server-info"];

    private static List<TraceSpan> PythonSpans()
        => TraceDataJson.Parse(File.ReadAllText(Path.Combine(RepoPaths.FixturesDir, "rest-mlflow3-traces", "traces-data.python.json"), Encoding.UTF8))
            .Select(s => s with { TraceId = "" }).ToList();

    private static TraceInfo NewTrace() => new()
    {
        TraceId = TraceIds.NewTraceId(),
        ExperimentId = Experiment,
        Metadata = new Dictionary<string, string> { ["mlflow.sourceRun"] = "0123456789abcdef0123456789abcdef" },
    };

    /// <summary>The calls one trace made, after <paramref name="before"/> earlier ones.</summary>
    private static string[] CallsFrom(OtlpFakeServer server, int before) => server.Calls.Skip(before).ToArray();

    [Test]
    public async Task Served_TheSpansGoToV1TracesFirst_ThenTheTraceInfo_AndNoTracesJson()
    {
        using var server = OtlpFakeServer.Start();
        using var client = server.CreateClient();
        var spans = PythonSpans();
        var info = NewTrace();

        var logged = await client.LogTraceAsync(info, spans);

        Assert.That(server.Calls, Is.EqualTo(ServerFacts.Concat(["probe", SpanPost, Start])));
        var post = server.SpanPosts.Single().RequestMessage;
        Assert.That(post.Headers!["Content-Type"].Single(), Is.EqualTo("application/x-protobuf"));
        Assert.That(post.Headers["x-mlflow-experiment-id"].Single(), Is.EqualTo(Experiment));
        var probe = server.Fixture.Requests.First(r => r.RequestMessage.AbsolutePath == OtlpFakeServer.TracesPath).RequestMessage;
        Assert.That((probe.Headers!["Content-Type"].Single(), probe.Headers["x-mlflow-experiment-id"].Single()), Is.EqualTo(("application/x-protobuf", Experiment)), "the probe is what MLflow's endpoint checks, with no spans");

        var sent = OtlpTestDecoder.Decode(post.BodyAsBytes!);
        Assert.That(sent.Spans.Select(s => ("tr-" + s.TraceId, s.SpanId, s.ParentSpanId, s.Name)), Is.EqualTo(spans.Select(s => (info.TraceId, s.SpanId, s.ParentSpanId, s.Name))));
        Assert.That(sent.Spans[0].Attributes.Single(a => a.Key == "mlflow.traceRequestId").Value, Is.EqualTo(info.TraceId), "the spans carry the trace's id, not the one they were recorded under");
        var start = FixtureServer.BodyJson(server.Fixture.Requests.Single(r => r.RequestMessage.AbsolutePath == "/api/3.0/mlflow/traces"))!["trace"]!["trace_info"]!;
        Assert.That(start["trace_metadata"]!["mlflow.sourceRun"]!.GetValue<string>(), Is.EqualTo(info.SourceRunId), "the run link travels with the trace info, as MLflow's exporter sends it");
        Assert.That(logged.Tags["mlflow.trace.spansLocation"], Is.EqualTo("TRACKING_STORE"));
    }

    [Test]
    public async Task Served_IsLearnedOncePerClient()
    {
        using var server = OtlpFakeServer.Start();
        using (var client = server.CreateClient())
        {
            await client.LogTraceAsync(NewTrace(), PythonSpans());
            var before = server.Calls.Count;

            await client.LogTraceAsync(NewTrace(), PythonSpans());
            await client.LogTraceAsync(NewTrace(), []);

            Assert.That(CallsFrom(server, before), Is.EqualTo(new[] { SpanPost, Start, Start, Upload }), "no second probe; a trace without spans sends none over OTLP (its empty traces.json goes as before)");
        }

        using var another = server.CreateClient();
        var count = server.Calls.Count;
        await another.LogTraceAsync(NewTrace(), PythonSpans());
        Assert.That(CallsFrom(server, count), Is.EqualTo(ServerFacts.Concat(["probe", SpanPost, Start])), "a new client asks again");
    }

    [TestCase(404)]
    [TestCase(405)]
    public async Task NotServed_TheSpansGoAsTracesJson_AndTheServerIsNotAskedAgain(int status)
    {
        using var server = OtlpFakeServer.Start(probeStatus: status);
        using var client = server.CreateClient();
        var spans = PythonSpans();

        var logged = await client.LogTraceAsync(NewTrace(), spans);
        var before = server.Calls.Count;
        await client.LogTraceAsync(NewTrace(), spans);

        Assert.That(server.Calls.Take(before), Is.EqualTo(ServerFacts.Concat(["probe", Start, Upload])));
        Assert.That(CallsFrom(server, before), Is.EqualTo(new[] { Start, Upload }));
        Assert.That(logged.Tags.ContainsKey("mlflow.trace.spansLocation"), Is.False);
        var upload = server.Fixture.Requests.First(r => r.RequestMessage.Method == "PUT").RequestMessage;
        Assert.That(TraceDataJson.Parse(Encoding.UTF8.GetString(upload.BodyAsBytes!)).Select(s => s.Name), Is.EqualTo(spans.Select(s => s.Name)));
    }

    [Test]
    public async Task FileStoreRefusal501_OnTheSpans_FallsBackToTracesJson_AndStopsTrying()
    {
        using var server = OtlpFakeServer.Start(sendStatus: 501);
        using var client = server.CreateClient();

        await client.LogTraceAsync(NewTrace(), PythonSpans());
        var before = server.Calls.Count;
        await client.LogTraceAsync(NewTrace(), PythonSpans());

        Assert.That(server.Calls.Take(before), Is.EqualTo(ServerFacts.Concat(["probe", SpanPost, Start, Upload])));
        Assert.That(CallsFrom(server, before), Is.EqualTo(new[] { Start, Upload }), "as MLflow's exporter: after the 501 it stops sending spans over OTLP");
    }

    [Test]
    public async Task FailedSend_KeepsTheTraceAsTracesJson_Warns_AndTheNextTraceTriesOtlpAgain()
    {
        using var server = OtlpFakeServer.Start(sendStatus: 500);
        var logs = new CapturingLoggerFactory();
        using var client = server.Fixture.CreateClient(new MlflowClientOptions { LoggerFactory = logs });
        var info = NewTrace();

        var logged = await client.LogTraceAsync(info, PythonSpans());
        var before = server.Calls.Count;
        await client.LogTraceAsync(NewTrace(), PythonSpans());

        Assert.That(server.Calls.Take(before), Is.EqualTo(ServerFacts.Concat(["probe", SpanPost, Start, Upload])));
        Assert.That(CallsFrom(server, before), Is.EqualTo(new[] { SpanPost, Start, Upload }), "a failure that says nothing about the endpoint is not kept");
        Assert.That(logged.TraceId, Is.EqualTo(info.TraceId));
        Assert.That(logs.Warnings, Has.Some.Contains(info.TraceId).And.Contains("OTLP failed"));
        Assert.That(server.SpanPosts, Has.Count.EqualTo(2), "sent once per trace: the server adds token usage up, so a resend is not harmless");
    }

    [Test]
    public async Task UndecidedProbe_GoesTheArtifactWay_AndIsNotKept()
    {
        using var server = OtlpFakeServer.Start(probeStatus: 503);
        using var client = server.CreateClient();

        await client.LogTraceAsync(NewTrace(), PythonSpans());
        var before = server.Calls.Count;
        await client.LogTraceAsync(NewTrace(), PythonSpans());

        Assert.That(server.Calls.Take(before), Is.EqualTo(ServerFacts.Concat(["probe", Start, Upload])));
        Assert.That(CallsFrom(server, before), Is.EqualTo(new[] { "probe", Start, Upload }));
    }

    [TestCase("3.3.2", "SqlStore")]
    [TestCase("2.12.2", "SqlStore")]
    [TestCase(null, "SqlStore")]
    [TestCase("3.11.1", "FileStore")]
    public async Task OlderOrUnknownServer_OrAFileStore_IsNeverSentSpansOverOtlp(string? version, string storeType)
    {
        using var server = OtlpFakeServer.Start(version, storeType);
        using var client = server.CreateClient();

        await client.LogTraceAsync(NewTrace(), PythonSpans());
        await client.LogTraceAsync(NewTrace(), PythonSpans());

        Assert.That(server.Calls.Where(c => c is "probe" or SpanPost), Is.Empty);
        Assert.That(server.Calls.Count(c => c == Upload), Is.EqualTo(2));
        Assert.That(server.Calls.Count(c => c == "GET /version"), Is.EqualTo(1), "the server facts are read once");
    }

    [Test]
    public void ATraceInfoTheServerWouldRefuse_IsRefusedBeforeTheSpansGoAnywhere()
    {
        using var server = OtlpFakeServer.Start();
        using var client = server.CreateClient();
        var info = NewTrace() with { Tags = new Dictionary<string, string> { ["note"] = "half a pair: \ud83d" } };

        Assert.ThrowsAsync<MlflowValidationException>(() => client.LogTraceAsync(info, PythonSpans()));

        Assert.That(server.Calls, Is.Empty, "no spans without their trace info");
    }

    [Test]
    public async Task TextOtlpCannotCarry_GoesAsTracesJson_WhichKeepsIt()
    {
        using var server = OtlpFakeServer.Start();
        using var client = server.CreateClient();
        var spans = PythonSpans();
        spans[0] = spans[0] with { Outputs = JsonValue.Create("half a pair: \ud83d") };

        await client.LogTraceAsync(NewTrace(), spans);

        Assert.That(server.Calls, Is.EqualTo(ServerFacts.Concat(["probe", Start, Upload])));
        var upload = server.Fixture.Requests.Single(r => r.RequestMessage.Method == "PUT").RequestMessage;
        Assert.That(Encoding.UTF8.GetString(upload.BodyAsBytes!), Does.Contain("half a pair: \\\\ud83d"));
    }
}
