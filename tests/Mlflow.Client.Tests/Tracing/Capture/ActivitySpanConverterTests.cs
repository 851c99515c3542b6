using System.Diagnostics;
using System.Text.Json.Nodes;
using Mlflow.Client.Tracing;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Tracing.Capture;

/// <summary>
/// One activity becomes one MLflow span as MLflow 3.11.1's OTel translation would store it: ids, times, status, span
/// type from <c>gen_ai.operation.name</c> or a manual span's, inputs and outputs from the GenAI messages, tool
/// arguments and results, or the older prompt/completion attributes and events, token usage, model and provider.
/// </summary>
[TestFixture]
public class ActivitySpanConverterTests
{
    private static readonly ActivitySource Source = new("Mlflow.Client.Tests.Converter");

    private static TraceSpan Convert(Action<Activity> fill, string name = "op", ActivityKind kind = ActivityKind.Client)
    {
        using var recorder = new ActivityRecorder(Source.Name);
        using (var activity = Source.StartActivity(name, kind)!)
        {
            fill(activity);
        }

        return ActivitySpanConverter.Convert(recorder.Stopped.Single());
    }

    [TestCase("chat", SpanType.ChatModel)]
    [TestCase("embeddings", SpanType.Embedding)]
    [TestCase("execute_tool", SpanType.Tool)]
    [TestCase("invoke_agent", SpanType.Agent)]
    [TestCase("create_agent", SpanType.Agent)]
    [TestCase("text_completion", SpanType.Llm)]
    [TestCase("generate_content", SpanType.Llm)]
    [TestCase("chat.completions", SpanType.ChatModel)]
    [TestCase("something_else", SpanType.Unknown)]
    public void SpanType_ComesFromTheGenAiOperationName(string operation, string expected)
    {
        var span = Convert(a => a.SetTag("gen_ai.operation.name", operation));

        Assert.That(span.SpanType, Is.EqualTo(expected));
        Assert.That(span.Attributes["gen_ai.operation.name"]!.GetValue<string>(), Is.EqualTo(operation), "the attribute itself is kept");
    }

    [Test]
    public void IdsTimesAndStatus_AreTheActivitys()
    {
        var before = DateTime.UtcNow;
        var span = Convert(a => a.SetStatus(ActivityStatusCode.Error, "model down"), name: "chat gpt-x");
        var after = DateTime.UtcNow;

        Assert.That(span.TraceId, Does.Match("^tr-[0-9a-f]{32}$"));
        Assert.That(span.SpanId, Does.Match("^[0-9a-f]{16}$"));
        Assert.That(span.ParentSpanId, Is.Null);
        Assert.That(span.Name, Is.EqualTo("chat gpt-x"));
        Assert.That(span.StartTimeUnixNano, Is.InRange(ActivitySpanConverter.UnixNanos(before), ActivitySpanConverter.UnixNanos(after)));
        Assert.That(span.EndTimeUnixNano, Is.InRange(span.StartTimeUnixNano, ActivitySpanConverter.UnixNanos(after)));
        Assert.That(span.Status, Is.EqualTo(TraceSpanStatus.Error));
        Assert.That(span.StatusMessage, Is.EqualTo("model down"));
        Assert.That(span.SpanType, Is.EqualTo(SpanType.Unknown));
    }

    [Test]
    public void AnActivityEndedWithoutAnError_IsOk()
    {
        var span = Convert(_ => { });

        Assert.That(span.Status, Is.EqualTo(TraceSpanStatus.Ok));
        Assert.That(span.StatusMessage, Is.Empty);
    }

    [Test]
    public void ChatSpan_InputsAndOutputsAreTheGenAiMessages_TokenUsageModelAndProviderAreDerived()
    {
        const string input = """[{"role":"system","parts":[{"type":"text","content":"be brief"}]},{"role":"user","parts":[{"type":"text","content":"What is MLflow?"}]}]""";
        const string output = """[{"role":"assistant","parts":[{"type":"text","content":"A tracking tool."}],"finish_reason":"stop"}]""";
        var span = Convert(a =>
        {
            a.SetTag("gen_ai.operation.name", "chat");
            a.SetTag("gen_ai.request.model", "gpt-x");
            a.SetTag("gen_ai.response.model", "gpt-x-2024");
            a.SetTag("gen_ai.provider.name", "openai");
            a.SetTag("gen_ai.request.temperature", 0.7f);
            a.SetTag("gen_ai.input.messages", input);
            a.SetTag("gen_ai.output.messages", output);
            a.SetTag("gen_ai.usage.input_tokens", 12);
            a.SetTag("gen_ai.usage.output_tokens", 4);
            a.SetTag("gen_ai.response.finish_reasons", new[] { "stop" });
        });

        Assert.That(span.SpanType, Is.EqualTo(SpanType.ChatModel));
        Assert.That(JsonNode.DeepEquals(span.Inputs, JsonNode.Parse(input)), Is.True, span.Inputs?.ToJsonString());
        Assert.That(JsonNode.DeepEquals(span.Outputs, JsonNode.Parse(output)), Is.True, span.Outputs?.ToJsonString());
        Assert.That(span.Attributes["mlflow.chat.tokenUsage"]!.ToJsonString(), Is.EqualTo("""{"input_tokens":12,"output_tokens":4,"total_tokens":16}"""));
        Assert.That(span.Attributes["mlflow.llm.model"]!.GetValue<string>(), Is.EqualTo("gpt-x-2024"), "the response's model first, as MLflow reads it");
        Assert.That(span.Attributes["mlflow.llm.provider"]!.GetValue<string>(), Is.EqualTo("openai"));
        Assert.That(span.Attributes["gen_ai.request.temperature"]!.ToJsonString(), Is.EqualTo("0.7"), "a float keeps the decimal it was written as");
        Assert.That(span.Attributes["gen_ai.response.finish_reasons"]!.ToJsonString(), Is.EqualTo("""["stop"]"""));
        Assert.That(span.Attributes.ContainsKey("gen_ai.input.messages"), Is.False, "the messages are the span's inputs, not kept twice");
        Assert.That(span.Attributes.ContainsKey("gen_ai.output.messages"), Is.False);
    }

    [Test]
    public void TokenUsage_NeedsBothCounts_AndTakesTheOlderNames()
    {
        var onlyInput = Convert(a => a.SetTag("gen_ai.usage.input_tokens", 12));
        var older = Convert(a =>
        {
            a.SetTag("gen_ai.usage.prompt_tokens", 7L);
            a.SetTag("gen_ai.usage.completion_tokens", "3");
        });
        var semanticKernelUnknown = Convert(a =>
        {
            a.SetTag("gen_ai.response.prompt_tokens", -1);
            a.SetTag("gen_ai.response.completion_tokens", -1);
        });

        Assert.That(onlyInput.Attributes.ContainsKey("mlflow.chat.tokenUsage"), Is.False, "MLflow records usage only with both counts");
        Assert.That(older.Attributes["mlflow.chat.tokenUsage"]!.ToJsonString(), Is.EqualTo("""{"input_tokens":7,"output_tokens":3,"total_tokens":10}"""));
        Assert.That(semanticKernelUnknown.Attributes.ContainsKey("mlflow.chat.tokenUsage"), Is.False, "Semantic Kernel writes -1 for an unknown count");
    }

    [Test]
    public void ToolSpan_InputsAndOutputsAreTheCallArgumentsAndResult()
    {
        var span = Convert(a =>
        {
            a.SetTag("gen_ai.operation.name", "execute_tool");
            a.SetTag("gen_ai.tool.name", "get_weather");
            a.SetTag("gen_ai.tool.call.arguments", """{"city":"Paris"}""");
            a.SetTag("gen_ai.tool.call.result", "sunny");
        });

        Assert.That(span.SpanType, Is.EqualTo(SpanType.Tool));
        Assert.That(span.Inputs!["city"]!.GetValue<string>(), Is.EqualTo("Paris"));
        Assert.That(span.Outputs!.GetValue<string>(), Is.EqualTo("sunny"), "text that is not JSON stays text, as MLflow's try_json_loads keeps it");
        Assert.That(span.Attributes["gen_ai.tool.name"]!.GetValue<string>(), Is.EqualTo("get_weather"));
    }

    [Test]
    public void SemanticKernelEvents_PromptAndCompletionBecomeInputsAndOutputs()
    {
        var span = Convert(a =>
        {
            a.SetTag("gen_ai.operation.name", "chat.completions");
            a.SetTag("gen_ai.system", "openai");
            a.AddEvent(new ActivityEvent("gen_ai.content.prompt", tags: new ActivityTagsCollection { ["gen_ai.prompt"] = """[{"role":"user","content":"Hi"}]""" }));
            a.AddEvent(new ActivityEvent("gen_ai.content.completion", tags: new ActivityTagsCollection { ["gen_ai.completion"] = """[{"role":"assistant","content":"Hello"}]""" }));
        });

        Assert.That(span.SpanType, Is.EqualTo(SpanType.ChatModel));
        Assert.That(span.Inputs![0]!["content"]!.GetValue<string>(), Is.EqualTo("Hi"));
        Assert.That(span.Outputs![0]!["content"]!.GetValue<string>(), Is.EqualTo("Hello"));
        Assert.That(span.Attributes["mlflow.llm.provider"]!.GetValue<string>(), Is.EqualTo("openai"), "the older gen_ai.system names the provider");
        Assert.That(span.Events.Select(e => e.Name), Is.EqualTo(new[] { "gen_ai.content.prompt", "gen_ai.content.completion" }), "the events are kept");
    }

    [Test]
    public void PerMessageEvents_BecomeAMessageList()
    {
        var span = Convert(a =>
        {
            a.SetTag("gen_ai.operation.name", "chat");
            a.AddEvent(new ActivityEvent("gen_ai.system.message", tags: new ActivityTagsCollection { ["content"] = "be brief" }));
            a.AddEvent(new ActivityEvent("gen_ai.user.message", tags: new ActivityTagsCollection { ["content"] = "Hi" }));
            a.AddEvent(new ActivityEvent("gen_ai.choice", tags: new ActivityTagsCollection { ["content"] = "Hello", ["index"] = 0 }));
        });

        Assert.That(span.Inputs!.ToJsonString(), Is.EqualTo("""[{"role":"system","content":"be brief"},{"role":"user","content":"Hi"}]"""));
        Assert.That(span.Outputs!.ToJsonString(), Is.EqualTo("""[{"role":"assistant","content":"Hello"}]"""));
    }

    [Test]
    public void SemanticKernelConnectorEvents_TheMessageInTheEventBody_BecomeAMessageList()
    {
        // What SK 1.82's OpenAI connector records with EnableOTelDiagnosticsSensitive: the message as JSON in gen_ai.event.content.
        var span = Convert(a =>
        {
            a.SetTag("gen_ai.operation.name", "chat");
            a.AddEvent(new ActivityEvent("gen_ai.system.message", tags: new ActivityTagsCollection { ["gen_ai.event.content"] = """{"role":"system","name":null,"content":"be brief","tool_calls":[]}""" }));
            a.AddEvent(new ActivityEvent("gen_ai.user.message", tags: new ActivityTagsCollection { ["gen_ai.event.content"] = """{"role":"user","name":null,"content":"Hi","tool_calls":[]}""", ["gen_ai.system"] = "openai" }));
            a.AddEvent(new ActivityEvent("gen_ai.choice", tags: new ActivityTagsCollection { ["gen_ai.event.content"] = """{"index":0,"message":{"role":"Assistant","name":null,"content":"Hello","tool_calls":[]},"tool_calls":[],"finish_reason":"Stop"}""" }));
        });

        Assert.That(span.Inputs!.ToJsonString(), Is.EqualTo("""[{"role":"system","content":"be brief"},{"role":"user","content":"Hi"}]"""));
        Assert.That(span.Outputs!.ToJsonString(), Is.EqualTo("""[{"role":"assistant","content":"Hello"}]"""));
    }

    [Test]
    public void ExceptionEvent_KeepsItsAttributesAsPlainValues()
    {
        var span = Convert(a =>
        {
            a.SetStatus(ActivityStatusCode.Error, "boom");
            a.AddEvent(new ActivityEvent("exception", tags: new ActivityTagsCollection { ["exception.type"] = "System.InvalidOperationException", ["exception.message"] = "boom" }));
        });

        var exception = span.Events.Single();
        Assert.That(exception.Name, Is.EqualTo("exception"));
        Assert.That(exception.Attributes["exception.type"]!.GetValue<string>(), Is.EqualTo("System.InvalidOperationException"));
        Assert.That(exception.TimeUnixNano, Is.InRange(span.StartTimeUnixNano, span.EndTimeUnixNano!.Value));
    }

    [Test]
    public void ManualSpan_TypeInputsAndOutputsWinOverTheGenAiOnes_AndSerializeAsMlflowAttributes()
    {
        using var recorder = new ActivityRecorder(MlflowTracer.ActivitySourceName);
        string? traceId;
        using (var span = MlflowSpan.Start("retrieve", SpanType.Retriever))
        {
            traceId = span.TraceId;
            var query = new JsonObject { ["query"] = "capital of France" };
            span.SetInputs(query);
            query["query"] = "changed after SetInputs";
            span.SetOutputs(new JsonArray(new JsonObject { ["page_content"] = "Paris is the capital.", ["metadata"] = new JsonObject { ["doc_uri"] = "doc1" } }));
            span.SetAttribute("top_k", 3);
            span.Activity!.SetTag("gen_ai.operation.name", "chat");
        }

        var converted = ActivitySpanConverter.Convert(recorder.Stopped.Single());
        var json = JsonNode.Parse(TraceDataJson.Serialize(traceId!, [converted]))!["spans"]![0]!["attributes"]!;

        Assert.That(converted.SpanType, Is.EqualTo(SpanType.Retriever), "the manual type wins");
        Assert.That(converted.Inputs!["query"]!.GetValue<string>(), Is.EqualTo("capital of France"), "a copy was kept");
        Assert.That(json["mlflow.spanType"]!.GetValue<string>(), Is.EqualTo("\"RETRIEVER\""));
        Assert.That(json["mlflow.spanInputs"]!.GetValue<string>(), Is.EqualTo("{\"query\": \"capital of France\"}"), "JSON text as Python's json.dumps writes it");
        Assert.That(json["mlflow.spanOutputs"]!.GetValue<string>(), Does.Contain("\"doc_uri\": \"doc1\""));
        Assert.That(json["top_k"]!.GetValue<string>(), Is.EqualTo("3"));
        Assert.That(json["mlflow.traceRequestId"]!.GetValue<string>(), Is.EqualTo($"\"{traceId}\""));
    }

    [Test]
    public void ManualSpan_WithNothingListening_RecordsNothing()
    {
        using var span = MlflowSpan.Start("retrieve", SpanType.Retriever).SetInputs("q").SetError(new InvalidOperationException("x"));

        Assert.That(span.Activity, Is.Null);
        Assert.That(span.TraceId, Is.Null);
        Assert.That(span.ToString(), Is.EqualTo("MlflowSpan (not recorded)"));
    }

    [Test]
    public void ManualSpan_ReservedAttributeNames_AreRefused()
    {
        using var recorder = new ActivityRecorder(MlflowTracer.ActivitySourceName);
        using var span = MlflowSpan.Start("step");

        Assert.Throws<ArgumentException>(() => span.SetAttribute("mlflow.spanInputs", "x"));
        Assert.Throws<ArgumentException>(() => span.SetAttribute("mlflow.spanType", "TOOL"));
    }

    [Test]
    public void ManualSpan_SetError_RecordsStatusAndAnExceptionEvent()
    {
        using var recorder = new ActivityRecorder(MlflowTracer.ActivitySourceName);
        using (var span = MlflowSpan.Start("step", SpanType.Chain))
        {
            span.SetError(new InvalidOperationException("no documents"));
        }

        var converted = ActivitySpanConverter.Convert(recorder.Stopped.Single());
        Assert.That(converted.Status, Is.EqualTo(TraceSpanStatus.Error));
        Assert.That(converted.StatusMessage, Is.EqualTo("no documents"));
        var e = converted.Events.Single();
        Assert.That(e.Name, Is.EqualTo("exception"));
        Assert.That(e.Attributes["exception.type"]!.GetValue<string>(), Is.EqualTo("System.InvalidOperationException"));
        Assert.That(e.Attributes["exception.message"]!.GetValue<string>(), Is.EqualTo("no documents"));
    }
}
