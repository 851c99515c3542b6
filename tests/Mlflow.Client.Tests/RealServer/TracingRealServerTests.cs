using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;
using Mlflow.Client.Tests.Tracing.Capture;
using Mlflow.Client.Tracing;
using NUnit.Framework;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace Mlflow.Client.Tests.RealServer;

/// <summary>
/// Traces captured from .NET spans, logged to a real MLflow 3 server (<c>MLFLOW_TEST_TRACKING_URI</c>; verified on
/// 3.11.1 with sqlite, whose Flask app has no OTLP endpoint, so the spans go as <c>traces.json</c> through the artifact
/// proxy) inside a run of a tracker, through <see cref="MlflowTracer"/> and through the OpenTelemetry exporter, then read
/// back: the info linked to the run, the span types, the nesting and the chat messages. The traces are left on the
/// server for MLflow's Python client to read (their ids are written to the test output).
/// </summary>
[TestFixture]
[Category("RealServer")]
[NonParallelizable]
public class TracingRealServerTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);
    private string _uri = null!;
    private MlflowClient _client = null!;

    [SetUp]
    public async Task SetUp()
    {
        _uri = RealServerEnvironment.RequireTrackingUri();
        _client = new MlflowClient(new MlflowClientOptions { TrackingUri = _uri, RequestTimeout = TimeSpan.FromSeconds(30) });
        var info = await _client.GetServerInfoAsync();
        if (info.MajorVersion is not >= 3)
        {
            Assert.Ignore($"Traces need an MLflow 3 server; {_uri} runs {info.Version ?? "an unknown version"}.");
        }
    }

    [TearDown]
    public void TearDown() => _client?.Dispose();

    private static async Task<List<TraceInfo>> ListAsync(IAsyncEnumerable<TraceInfo> traces)
    {
        var list = new List<TraceInfo>();
        await foreach (var trace in traces)
        {
            list.Add(trace);
        }

        return list;
    }

    private static IChatClient Instrumented(params string[] answers)
        => new ScriptedChatClient(answers).AsBuilder().UseOpenTelemetry(configure: c => c.EnableSensitiveData = true).Build();

    [Test]
    public async Task Tracer_InARun_LogsATraceTheServerReadsBackWithTypesNestingAndMessages()
    {
        var experimentName = "dotnet-tracing-" + Guid.NewGuid().ToString("N")[..12];
        using var tracker = MlflowTracker.Create(new MlflowTrackerOptions { TrackingUri = _uri, ExperimentName = experimentName });
        using var chat = Instrumented("Paris.");
        string traceId;
        ActiveRun run;
        await using (var tracer = new MlflowTracer(tracker))
        {
            run = await tracker.StartRunAsync("traced-run");
            using (var root = tracer.StartSpan("answer", SpanType.Chain))
            {
                traceId = root.TraceId!;
                root.SetInputs(new JsonObject { ["question"] = "What is the capital of France?" });
                using (var retrieve = tracer.StartSpan("retrieve", SpanType.Retriever))
                {
                    retrieve.SetInputs(new JsonObject { ["query"] = "capital of France" });
                    retrieve.SetOutputs(new JsonArray(new JsonObject { ["page_content"] = "Paris is the capital of France.", ["metadata"] = new JsonObject { ["doc_uri"] = "doc-1" } }));
                }

                var response = await chat.GetResponseAsync([new ChatMessage(ChatRole.System, "Answer in one word."), new ChatMessage(ChatRole.User, "What is the capital of France?")]);
                root.SetOutputs(response.Text);
            }

            Assert.That(await tracer.FlushAsync(Wait), Is.True);
            Assert.That(tracer.Pipeline.Logged, Is.EqualTo(1), $"failed: {tracer.Pipeline.Failed}");
            await run.DisposeAsync();
        }

        TestContext.Out.WriteLine($"tracer trace {traceId} in experiment {run.ExperimentId}, run {run.RunId}");
        var trace = await _client.GetTraceAsync(traceId);
        Assert.That(trace.Info.ExperimentId, Is.EqualTo(run.ExperimentId));
        Assert.That(trace.Info.SourceRunId, Is.EqualTo(run.RunId));
        Assert.That(trace.Info.State, Is.EqualTo(TraceState.Ok));
        Assert.That(trace.Info.Tags["mlflow.traceName"], Is.EqualTo("answer"));
        Assert.That(trace.Info.Metadata["mlflow.trace.tokenUsage"], Is.EqualTo("{\"input_tokens\": 10, \"output_tokens\": 1, \"total_tokens\": 11}"));
        Assert.That(trace.Spans.Select(s => s.SpanType), Is.EqualTo(new[] { SpanType.Chain, SpanType.Retriever, SpanType.ChatModel }));
        Assert.That(trace.Spans.Skip(1).Select(s => s.ParentSpanId), Is.All.EqualTo(trace.RootSpan!.SpanId));
        var chatSpan = trace.Spans[2];
        Assert.That(chatSpan.Inputs![1]!["parts"]![0]!["content"]!.GetValue<string>(), Is.EqualTo("What is the capital of France?"));
        Assert.That(chatSpan.Outputs![0]!["parts"]![0]!["content"]!.GetValue<string>(), Is.EqualTo("Paris."));

        var found = await ListAsync(_client.SearchAllTracesAsync([run.ExperimentId], new TraceSearchOptions { Filter = $"metadata.`mlflow.sourceRun` = '{run.RunId}'" }));
        Assert.That(found.Select(t => t.TraceId), Is.EqualTo(new[] { traceId }), "the server finds the trace by its run");
    }

    [Test]
    public async Task Exporter_InARun_LogsEachChatCallAsAChatModelTraceOfTheRun()
    {
        var experimentName = "dotnet-tracing-otel-" + Guid.NewGuid().ToString("N")[..12];
        using var tracker = MlflowTracker.Create(new MlflowTrackerOptions { TrackingUri = _uri, ExperimentName = experimentName });
        using var chat = Instrumented("Paris.", "Berlin.");
        var run = await tracker.StartRunAsync("otel-run");
        using (var provider = Sdk.CreateTracerProviderBuilder().AddSource(MlflowTracingOptions.MicrosoftExtensionsAISource).AddMlflowExporter(tracker).Build())
        {
            await chat.GetResponseAsync("Capital of France?");
            await chat.GetResponseAsync("Capital of Germany?");
            Assert.That(provider.ForceFlush((int)Wait.TotalMilliseconds), Is.True);
        }

        await run.DisposeAsync();
        var traces = await ListAsync(_client.SearchAllTracesAsync([run.ExperimentId]));
        TestContext.Out.WriteLine($"exporter traces {string.Join(", ", traces.Select(t => t.TraceId))} in experiment {run.ExperimentId}, run {run.RunId}");
        Assert.That(traces, Has.Count.EqualTo(2));
        foreach (var info in traces)
        {
            Assert.That(info.SourceRunId, Is.EqualTo(run.RunId));
            var trace = await _client.GetTraceAsync(info.TraceId);
            Assert.That(trace.Spans.Single().SpanType, Is.EqualTo(SpanType.ChatModel));
            Assert.That(trace.Spans.Single().Attributes["mlflow.llm.model"]!.GetValue<string>(), Is.EqualTo("scripted-1"));
        }
    }
}
