using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;
using Mlflow.Client.Tracing;
using NUnit.Framework;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace Mlflow.Client.Tests.Tracing.Capture;

/// <summary>
/// An <c>IChatClient</c> wrapped with Microsoft.Extensions.AI's <c>UseOpenTelemetry()</c> over a scripted chat client,
/// captured through both ways in (<see cref="MlflowTracer"/>'s listener and the OpenTelemetry exporter) and sent to a
/// stand-in MLflow 3 server: what reaches it is one trace per root, the trace info as MLflow's exporter logs it
/// (experiment, run, token usage, name, previews) and <c>traces.json</c> with the span types, nesting and messages.
/// </summary>
[TestFixture]
public class TraceCaptureTests
{
    private const string RunId = "0123456789abcdef0123456789abcdef";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    private static IChatClient Instrumented(params string[] answers)
        => new ScriptedChatClient(answers).AsBuilder().UseOpenTelemetry(configure: c => c.EnableSensitiveData = true).Build();

    private static string Text(JsonNode? node) => node!.GetValue<string>();

    [Test]
    public async Task Tracer_ManualSpansAndAChatClient_AreOneTraceWithNestedTypedSpans()
    {
        using var server = TraceServer.Start();
        using var client = server.CreateClient();
        using var chat = Instrumented("Paris.");
        string traceId;
        await using (var tracer = new MlflowTracer(client, "7", new MlflowTracingOptions { RunId = RunId }))
        {
            using (var root = tracer.StartSpan("answer", SpanType.Chain))
            {
                traceId = root.TraceId!;
                root.SetInputs(new JsonObject { ["question"] = "What is the capital of France?" });
                using (var retrieve = tracer.StartSpan("retrieve", SpanType.Retriever))
                {
                    retrieve.SetInputs(new JsonObject { ["query"] = "capital of France" });
                    retrieve.SetOutputs(new JsonArray(new JsonObject { ["page_content"] = "Paris is the capital of France.", ["metadata"] = new JsonObject { ["doc_uri"] = "doc-1" } }));
                }

                var response = await chat.GetResponseAsync([new ChatMessage(ChatRole.System, "Answer in one word."), new ChatMessage(ChatRole.User, "What is the capital of France?")], new ChatOptions { ModelId = "scripted-1" });
                root.SetOutputs(response.Text);
            }

            Assert.That(await tracer.FlushAsync(Wait), Is.True);
            Assert.That(tracer.Pipeline.Logged, Is.EqualTo(1));
        }

        var info = server.TraceInfos.Values.Single();
        Assert.That(Text(info["trace_id"]), Is.EqualTo(traceId));
        Assert.That(Text(info["trace_location"]!["mlflow_experiment"]!["experiment_id"]), Is.EqualTo("7"));
        Assert.That(Text(info["state"]), Is.EqualTo("OK"));
        Assert.That(Text(info["tags"]!["mlflow.traceName"]), Is.EqualTo("answer"));
        Assert.That(Text(info["trace_metadata"]!["mlflow.sourceRun"]), Is.EqualTo(RunId));
        Assert.That(Text(info["trace_metadata"]!["mlflow.traceInputs"]), Is.EqualTo("{\"question\": \"What is the capital of France?\"}"));
        Assert.That(Text(info["response_preview"]), Is.EqualTo("\"Paris.\""));
        Assert.That(Text(info["trace_metadata"]!["mlflow.trace.tokenUsage"]), Is.EqualTo("{\"input_tokens\": 10, \"output_tokens\": 1, \"total_tokens\": 11}"), "the scripted usage: 10 words in, 1 out");

        var spans = server.Spans(traceId);
        Assert.That(spans.Select(s => Text(s!["name"])), Is.EqualTo(new[] { "answer", "retrieve", "chat scripted-1" }), "root first, then by start time");
        Assert.That(spans.Select(s => Text(TraceServer.Attribute(s!, "mlflow.spanType"))), Is.EqualTo(new[] { "CHAIN", "RETRIEVER", "CHAT_MODEL" }));
        Assert.That(spans[0]!["parent_span_id"], Is.Null);
        Assert.That(Text(spans[1]!["parent_span_id"]), Is.EqualTo(Text(spans[0]!["span_id"])));
        Assert.That(Text(spans[2]!["parent_span_id"]), Is.EqualTo(Text(spans[0]!["span_id"])), "the library's span nests under the manual one");
        Assert.That(spans.All(s => Text(s!["trace_id"]) == Text(spans[0]!["trace_id"])), Is.True);

        var chatSpan = spans[2]!;
        var messages = TraceServer.Attribute(chatSpan, "mlflow.spanInputs")!.AsArray();
        Assert.That(messages.Select(m => Text(m!["role"])), Is.EqualTo(new[] { "system", "user" }));
        Assert.That(Text(messages[1]!["parts"]![0]!["content"]), Is.EqualTo("What is the capital of France?"));
        Assert.That(Text(TraceServer.Attribute(chatSpan, "mlflow.spanOutputs")![0]!["parts"]![0]!["content"]), Is.EqualTo("Paris."));
        Assert.That(TraceServer.Attribute(chatSpan, "mlflow.chat.tokenUsage")!.ToJsonString(), Is.EqualTo("""{"input_tokens":10,"output_tokens":1,"total_tokens":11}"""));
        Assert.That(Text(TraceServer.Attribute(chatSpan, "mlflow.llm.model")), Is.EqualTo("scripted-1"));
        Assert.That(Text(TraceServer.Attribute(chatSpan, "gen_ai.provider.name")), Is.EqualTo("scripted"));
        Assert.That(Text(chatSpan["status"]!["code"]), Is.EqualTo("STATUS_CODE_OK"));
        Assert.That(Text(TraceServer.Attribute(spans[1]!, "mlflow.spanOutputs")![0]!["metadata"]!["doc_uri"]), Is.EqualTo("doc-1"));
    }

    [Test]
    public async Task Exporter_EachChatCallIsATrace_AndAFailedCallAnErrorTrace()
    {
        using var server = TraceServer.Start();
        using var client = server.CreateClient();
        using var chat = Instrumented("One.", "Two.");
        using var failing = new ThrowingChatClient().AsBuilder().UseOpenTelemetry().Build();
        using (var provider = Sdk.CreateTracerProviderBuilder()
            .AddSource(MlflowTracingOptions.MicrosoftExtensionsAISource)
            .AddMlflowExporter(client, "7")
            .Build())
        {
            await chat.GetResponseAsync("first");
            await chat.GetResponseAsync("second");
            Assert.ThrowsAsync<InvalidOperationException>(() => failing.GetResponseAsync("third"));

            Assert.That(provider.ForceFlush((int)Wait.TotalMilliseconds), Is.True);
            Assert.That(server.TraceInfos, Has.Count.EqualTo(3));
        }

        var prompts = server.TraceInfos.Values.Where(i => Text(i["state"]) == "OK")
            .Select(i => JsonNode.Parse(Text(i["trace_metadata"]!["mlflow.traceInputs"]))![0]!["parts"]![0]!["content"]!.GetValue<string>());
        Assert.That(prompts, Is.EquivalentTo(new[] { "first", "second" }));
        var failed = server.TraceInfos.Values.Single(i => Text(i["state"]) == "ERROR");
        var failedSpan = server.Spans(Text(failed["trace_id"]))[0]!;
        Assert.That(Text(failedSpan["status"]!["code"]), Is.EqualTo("STATUS_CODE_ERROR"));
        Assert.That(Text(failedSpan["status"]!["message"]), Is.EqualTo("model down"));
        Assert.That(Text(TraceServer.Attribute(failedSpan, "error.type")), Is.EqualTo("System.InvalidOperationException"));
        Assert.That(Text(failed["trace_metadata"]!["mlflow.traceInputs"]), Is.Empty, "that call was not told to record messages (no EnableSensitiveData)");
        foreach (var info in server.TraceInfos.Values.Where(i => Text(i["state"]) == "OK"))
        {
            var span = server.Spans(Text(info["trace_id"])).Single()!;
            Assert.That(Text(TraceServer.Attribute(span, "mlflow.spanType")), Is.EqualTo("CHAT_MODEL"));
            Assert.That(info["trace_metadata"]!["mlflow.sourceRun"], Is.Null, "no run to link to");
            Assert.That(Text(info["tags"]!["mlflow.traceName"]), Is.EqualTo("chat scripted-1"), "MEAI names the span after the model the client's metadata gives");
        }
    }

    [Test]
    public async Task Exporter_ForceFlushWithoutATimeout_WaitsForASlowServer()
    {
        using var server = TraceServer.Start(startDelay: TimeSpan.FromMilliseconds(1500));
        using var client = server.CreateClient();
        using var chat = Instrumented("One.");
        using var provider = Sdk.CreateTracerProviderBuilder()
            .AddSource(MlflowTracingOptions.MicrosoftExtensionsAISource)
            .AddMlflowExporter(client, "7")
            .Build();
        await chat.GetResponseAsync("first");

        Assert.That(provider.ForceFlush(), Is.True, "no timeout (-1 ms) means wait until written, not give up at once");
        Assert.That(server.TraceInfos, Has.Count.EqualTo(1), "delivered before ForceFlush returned");
    }

    [Test]
    public async Task Tracer_ListensToTheActivitySourcesItIsGiven_AndRefusesAnEmptyName()
    {
        using var server = TraceServer.Start();
        using var client = server.CreateClient();
        using var custom = new System.Diagnostics.ActivitySource("Custom.Agents.Planner");
        await using (var tracer = new MlflowTracer(client, "7", new MlflowTracingOptions { ActivitySources = ["Custom.Agents.*"] }))
        {
            using (tracer.StartSpan("answer", SpanType.Agent))
            {
                custom.StartActivity("plan")?.Dispose();
            }

            Assert.That(await tracer.FlushAsync(Wait), Is.True);
        }

        Assert.That(server.Spans(server.TraceInfos.Keys.Single()).Select(s => Text(s!["name"])), Is.EqualTo(new[] { "answer", "plan" }));
        Assert.Throws<ArgumentException>(() => new MlflowTracer(client, "7", new MlflowTracingOptions { ActivitySources = ["ok", " "] }));
    }

    [Test]
    public async Task ExporterAndTracer_ConvertTheSameSpansTheSameWay()
    {
        async Task<JsonNode> CaptureAsync(bool exporter)
        {
            using var server = TraceServer.Start();
            using var client = server.CreateClient();
            using var chat = Instrumented("Paris.");
            if (exporter)
            {
                using var provider = Sdk.CreateTracerProviderBuilder().AddSource(MlflowTracingOptions.MicrosoftExtensionsAISource).AddMlflowExporter(client, "7").Build();
                using (MlflowSpan.Start("answer", SpanType.Agent))
                {
                    await chat.GetResponseAsync("Capital of France?", new ChatOptions { ModelId = "scripted-1" });
                }

                provider.ForceFlush((int)Wait.TotalMilliseconds);
            }
            else
            {
                await using var tracer = new MlflowTracer(client, "7");
                using (tracer.StartSpan("answer", SpanType.Agent))
                {
                    await chat.GetResponseAsync("Capital of France?", new ChatOptions { ModelId = "scripted-1" });
                }

                await tracer.FlushAsync(Wait);
            }

            var spans = server.Spans(server.TraceInfos.Keys.Single());
            foreach (var span in spans)
            {
                foreach (var key in new[] { "trace_id", "span_id", "parent_span_id", "start_time_unix_nano", "end_time_unix_nano" })
                {
                    span![key] = span[key] is null ? null : "x";
                }

                span!["attributes"]!.AsObject().Remove("mlflow.traceRequestId");
            }

            return spans;
        }

        var viaExporter = await CaptureAsync(exporter: true);
        var viaTracer = await CaptureAsync(exporter: false);

        Assert.That(viaExporter.AsArray(), Has.Count.EqualTo(2));
        Assert.That(JsonNode.DeepEquals(viaExporter, viaTracer), Is.True, viaExporter.ToJsonString() + "\n" + viaTracer.ToJsonString());
    }

    [Test]
    public async Task AServerThatRefuses_CountsTheTraceFailed_WithoutDisturbingTheCaller()
    {
        using var server = TraceServer.Start(startStatus: 500);
        using var client = server.CreateClient();
        using var chat = Instrumented("Paris.");
        await using var tracer = new MlflowTracer(client, "7");

        var response = await chat.GetResponseAsync("Capital of France?");

        Assert.That(response.Text, Is.EqualTo("Paris."));
        Assert.That(await tracer.FlushAsync(Wait), Is.True);
        Assert.That(tracer.Pipeline.Failed, Is.EqualTo(1));
        Assert.That(tracer.Pipeline.Logged, Is.Zero);
    }

    [Test]
    public async Task Tracker_LinksTracesToItsLatestActiveRun_InThatRunsExperiment()
    {
        using var tracker = MlflowTracker.CreateInMemory();
        var destination = new TraceDestination.Tracker(tracker, runId: null);
        Assert.That(destination.Capture(), Is.EqualTo(default(TraceOwner)), "no active run");

        var first = await tracker.StartRunAsync("first");
        var second = await tracker.StartRunAsync("second");
        Assert.That(destination.Capture(), Is.EqualTo(new TraceOwner(second.ExperimentId, second.RunId, second)));
        await second.DisposeAsync();
        Assert.That(destination.Capture(), Is.EqualTo(new TraceOwner(first.ExperimentId, first.RunId, first)));
        await first.DisposeAsync();
        Assert.That(destination.Capture(), Is.EqualTo(default(TraceOwner)));
        Assert.That(new TraceDestination.Tracker(tracker, "chosen").Capture(), Is.EqualTo(new TraceOwner(null, "chosen")));
    }

    [Test]
    public async Task Tracker_OnALocalStore_SaysTracesNeedAServer()
    {
        using var tracker = MlflowTracker.CreateInMemory();
        var destination = new TraceDestination.Tracker(tracker, runId: null);
        var trace = new CompletedTrace("tr-0123456789abcdef0123456789abcdef", [new TraceSpan { SpanId = "0000000000000001", Name = "root" }]);

        var ex = Assert.ThrowsAsync<NotSupportedException>(() => destination.LogAsync(TracePipeline.BuildInfo(trace, "0", null, "me"), trace.Spans, default, CancellationToken.None));

        Assert.That(ex!.Message, Does.Contain("does not keep traces"));
        Assert.That(await destination.DefaultExperimentIdAsync(CancellationToken.None), Is.EqualTo("0"));
    }

    [Test]
    public void Options_AreChecked()
    {
        using var client = new MlflowClient(new MlflowClientOptions { TrackingUri = "http://127.0.0.1:1" });

        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new MlflowTracer(client, "7", new MlflowTracingOptions { MaxQueuedTraces = 0 }));
        Assert.Throws<ArgumentException>(() => _ = new MlflowTracer(client, ""));
        Assert.Throws<ArgumentOutOfRangeException>(() => Sdk.CreateTracerProviderBuilder().AddMlflowExporter(client, "7", o => o.MaxSpansPerTrace = 0));
    }

    private sealed class ThrowingChatClient : IChatClient
    {
        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
            => throw new InvalidOperationException("model down");

        public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
            => throw new NotSupportedException();

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }
}
