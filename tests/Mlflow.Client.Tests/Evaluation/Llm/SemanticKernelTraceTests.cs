using System.Text.Json.Nodes;
using Microsoft.SemanticKernel;
using Mlflow.Client.Evaluation.Llm;
using Mlflow.Client.FileStore;
using Mlflow.Client.Tests.Infrastructure;
using Mlflow.Client.Tests.Offline;
using Mlflow.Client.Tests.Tracing.Capture;
using Mlflow.Client.Tracing;
using NUnit.Framework;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Util;

namespace Mlflow.Client.Tests.Evaluation.Llm;

/// <summary>
/// Semantic Kernel end to end: a prompt function on SK's own OpenAI connector (pointed at a stand-in chat completions
/// endpoint on 127.0.0.1), SK's GenAI telemetry switched on, invoked inside Evaluate's predict and under
/// <see cref="MlflowTracer"/>. The trace holds SK's function span (TOOL, its arguments and result) and, under it, SK's
/// chat span (CHAT_MODEL, the rendered prompt and the answer, the token usage the endpoint reported), as MLflow reads them.
/// </summary>
[TestFixture]
[CancelAfter(120_000)]
public class SemanticKernelTraceTests
{
    private const string Model = "gpt-test";

    private FixtureServer _openAi = null!;
    private OfflineFallbackTests.Dir _dir = null!;

    [OneTimeSetUp]
    public void EnableSemanticKernelTelemetry()
    {
        // Read once by SK's model diagnostics; no other test of this assembly uses Semantic Kernel.
        AppContext.SetSwitch("Microsoft.SemanticKernel.Experimental.GenAI.EnableOTelDiagnostics", true);
        AppContext.SetSwitch("Microsoft.SemanticKernel.Experimental.GenAI.EnableOTelDiagnosticsSensitive", true);
    }

    [SetUp]
    public void SetUp()
    {
        _dir = new OfflineFallbackTests.Dir();
        _openAi = FixtureServer.Start();
        // OpenAI's chat completions: "Capital of X?" is answered with X's capital, 9 prompt tokens and 1 completion token.
        _openAi.Server.Given(Request.Create().WithPath(p => p.EndsWith("/chat/completions", StringComparison.Ordinal)).UsingPost())
            .RespondWith(Response.Create().WithCallback(request =>
            {
                var prompt = JsonNode.Parse(request.Body!)!["messages"]!.AsArray().Last()!["content"]!.ToJsonString();
                var answer = prompt.Contains("France", StringComparison.Ordinal) ? "Paris" : "Rome";
                var body = new JsonObject
                {
                    ["id"] = "chatcmpl-1", ["object"] = "chat.completion", ["created"] = 1_765_000_000, ["model"] = Model,
                    ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = answer }, ["finish_reason"] = "stop" }),
                    ["usage"] = new JsonObject { ["prompt_tokens"] = 9, ["completion_tokens"] = 1, ["total_tokens"] = 10 },
                };
                return new WireMock.ResponseMessage
                {
                    StatusCode = 200,
                    Headers = new Dictionary<string, WireMock.Types.WireMockList<string>> { ["Content-Type"] = new("application/json") },
                    BodyData = new BodyData { DetectedBodyType = WireMock.Types.BodyType.String, BodyAsString = body.ToJsonString() },
                };
            }));
    }

    [TearDown]
    public void TearDown()
    {
        _openAi.Dispose();
        _dir.Dispose();
    }

    private (Kernel Kernel, KernelFunction Capital) BuildKernel()
    {
        var builder = Kernel.CreateBuilder();
        builder.AddOpenAIChatCompletion(Model, new Uri(_openAi.Url + "/v1"), apiKey: "test-key");
        var kernel = builder.Build();
        return (kernel, kernel.CreateFunctionFromPrompt("Capital of {{$country}}? One word.", functionName: "capital"));
    }

    /// <summary>SK's function span and its chat span, checked as MLflow reads them.</summary>
    private static void AssertSemanticKernelSpans(IReadOnlyList<TraceSpan> spans, string functionParent, string country, string capital)
    {
        var function = spans.Single(s => s.Name == "execute_tool capital");
        Assert.That(function.SpanType, Is.EqualTo(SpanType.Tool), "SK names a kernel function's invocation execute_tool");
        Assert.That(function.ParentSpanId, Is.EqualTo(functionParent));
        Assert.That(function.Inputs!["country"]!.GetValue<string>(), Is.EqualTo(country));
        Assert.That(function.Outputs!.ToJsonString(), Does.Contain(capital));

        var chat = spans.Single(s => s.SpanType == SpanType.ChatModel);
        Assert.That(chat.ParentSpanId, Is.EqualTo(function.SpanId), "the model call nests in the function");
        Assert.That(chat.Inputs!.ToJsonString(), Does.Contain($"Capital of {country}? One word."));
        Assert.That(chat.Outputs!.ToJsonString(), Does.Contain(capital));
        Assert.That(chat.Attributes["mlflow.chat.tokenUsage"]!.ToJsonString(), Is.EqualTo("""{"input_tokens":9,"output_tokens":1,"total_tokens":10}"""));
        Assert.That(chat.Attributes["mlflow.llm.model"]!.GetValue<string>(), Is.EqualTo(Model));
        Assert.That(spans, Has.Count.EqualTo(2), "SK's function and chat spans only");
    }

    [Test]
    public async Task A_kernel_function_called_in_predict_nests_its_function_and_chat_spans_in_the_records_trace()
    {
        var (kernel, capital) = BuildKernel();
        LlmEvaluationResult result;
        await using (var tracker = MlflowTracker.Create(new MlflowTrackerOptions { TrackingUri = _dir.Path, ExperimentName = "sk" }))
        {
            await using var run = tracker.StartRun("eval");
            result = await run.EvaluateAsync(
                EvaluationDataset.FromRecords(
                [
                    new EvaluationRecord { Inputs = new Dictionary<string, JsonNode?> { ["country"] = "France" }, Expectations = new Dictionary<string, JsonNode?> { ["expected_response"] = "Paris" } },
                    new EvaluationRecord { Inputs = new Dictionary<string, JsonNode?> { ["country"] = "Italy" }, Expectations = new Dictionary<string, JsonNode?> { ["expected_response"] = "Rome" } },
                ]),
                async (inputs, ct) => (await kernel.InvokeAsync(capital, new KernelArguments { ["country"] = inputs["country"]!.GetValue<string>() }, ct)).ToString(),
                [Scorers.ExactMatch(), Scorers.TokenUsage()],
                new LlmEvaluationOptions { MaxConcurrency = 2 });
        }

        using var store = new LocalFileStore(_dir.Path);
        foreach (var (row, country, answer) in result.Rows.Zip(["France", "Italy"], ["Paris", "Rome"]))
        {
            var trace = await store.GetTraceAsync(row.TraceId!, CancellationToken.None);
            var root = trace.Spans.Single(s => s.ParentSpanId is null);
            AssertSemanticKernelSpans(trace.Spans.Where(s => s != root).ToList(), root.SpanId, country, answer);
            Assert.That(trace.Info.Metadata["mlflow.trace.tokenUsage"], Is.EqualTo("{\"input_tokens\": 9, \"output_tokens\": 1, \"total_tokens\": 10}"));
            Assert.That(row.Find("exact_match")!.NumericValue, Is.EqualTo(1));
            Assert.That(row.Find("token_usage")!.NumericValue, Is.EqualTo(10));
        }
    }

    [Test]
    public async Task A_kernel_function_under_the_tracer_is_one_trace_rooted_at_the_function()
    {
        var (kernel, capital) = BuildKernel();
        using var server = TraceServer.Start();
        using var client = server.CreateClient();
        await using (var tracer = new MlflowTracer(client, "7"))
        {
            await kernel.InvokeAsync(capital, new KernelArguments { ["country"] = "France" });
            Assert.That(await tracer.FlushAsync(TimeSpan.FromSeconds(20)), Is.True);
            Assert.That(tracer.Pipeline.Logged, Is.EqualTo(1));
        }

        var (traceId, info) = server.TraceInfos.Single();
        Assert.That(info["tags"]!["mlflow.traceName"]!.GetValue<string>(), Is.EqualTo("execute_tool capital"));
        Assert.That(info["trace_metadata"]!["mlflow.trace.tokenUsage"]!.GetValue<string>(), Is.EqualTo("{\"input_tokens\": 9, \"output_tokens\": 1, \"total_tokens\": 10}"));
        var spans = TraceDataJson.Parse(new JsonObject { ["spans"] = server.Spans(traceId).DeepClone() }.ToJsonString());
        var root = spans.Single(s => s.ParentSpanId is null);
        Assert.That(root.Name, Is.EqualTo("execute_tool capital"));
        var chat = spans.Single(s => s.SpanType == SpanType.ChatModel);
        Assert.That(chat.ParentSpanId, Is.EqualTo(root.SpanId));
        Assert.That(chat.Attributes["mlflow.chat.tokenUsage"]!.ToJsonString(), Is.EqualTo("""{"input_tokens":9,"output_tokens":1,"total_tokens":10}"""));
        Assert.That(root.SpanType, Is.EqualTo(SpanType.Tool));
        Assert.That(chat.Outputs!.ToJsonString(), Does.Contain("Paris"));
    }
}
