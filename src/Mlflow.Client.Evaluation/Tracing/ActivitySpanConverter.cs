using System.Collections;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Mlflow.Client.Tracing;

/// <summary>
/// The one conversion of a finished <see cref="Activity"/> into an MLflow span, used by both ways in (the OpenTelemetry
/// exporter and <see cref="MlflowTracer"/>'s listener): ids and times, the status, the span type (set by
/// <see cref="MlflowSpan"/>, else from <c>gen_ai.operation.name</c>), inputs and outputs (set by <see cref="MlflowSpan"/>,
/// else from the GenAI messages, tool arguments and results, or the older prompt and completion attributes and events),
/// token usage as <c>mlflow.chat.tokenUsage</c>, the model and provider, the other tags as attributes and the events.
/// What MLflow 3.11.1 derives when it stores an OTel span (<c>translate_span_when_storing</c>) is derived here, because
/// <c>traces.json</c> is stored as it is written.
/// </summary>
internal static class ActivitySpanConverter
{
    /// <summary>The MLflow span of a finished activity; its parent is the activity's (the caller decides what is a root).</summary>
    public static TraceSpan Convert(Activity activity)
    {
        ArgumentNullException.ThrowIfNull(activity);
        var tags = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (key, value) in activity.TagObjects)
        {
            if (value is not null)
            {
                tags[key] = value; // a tag set twice keeps its last value, as Activity.SetTag does
            }
        }

        var events = activity.Events.Select(ConvertEvent).ToList();
        var spanType = Take(tags, TraceDataJson.SpanTypeAttribute) is { } explicitType ? explicitType.ToString()
            : GenAiConventions.SpanTypeOf(Text(tags, GenAiConventions.OperationName)) ?? SpanType.Unknown;
        var inputs = TakeJson(tags, TraceDataJson.InputsAttribute)
            ?? TakeJson(tags, GenAiConventions.InputMessages)
            ?? TakeJson(tags, GenAiConventions.ToolCallArguments)
            ?? TakeJson(tags, GenAiConventions.Prompt)
            ?? FromEvents(events, GenAiConventions.PromptEvent, GenAiConventions.Prompt)
            ?? MessagesFromEvents(events);
        var outputs = TakeJson(tags, TraceDataJson.OutputsAttribute)
            ?? TakeJson(tags, GenAiConventions.OutputMessages)
            ?? TakeJson(tags, GenAiConventions.ToolCallResult)
            ?? TakeJson(tags, GenAiConventions.Completion)
            ?? FromEvents(events, GenAiConventions.CompletionEvent, GenAiConventions.Completion)
            ?? ChoicesFromEvents(events);
        tags.Remove(TraceDataJson.RequestIdAttribute); // MLflow sets it from the trace

        var attributes = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
        foreach (var (key, value) in tags)
        {
            attributes[key] = ToJson(value);
        }

        if (!attributes.ContainsKey(GenAiConventions.TokenUsageAttribute) && TokenUsage(tags) is { } usage)
        {
            attributes[GenAiConventions.TokenUsageAttribute] = usage;
        }

        if (!attributes.ContainsKey(GenAiConventions.ModelAttribute)
            && (Text(tags, GenAiConventions.ResponseModel) ?? Text(tags, GenAiConventions.RequestModel)) is { Length: > 0 } model)
        {
            attributes[GenAiConventions.ModelAttribute] = JsonValue.Create(model);
        }

        if (!attributes.ContainsKey(GenAiConventions.ModelProviderAttribute)
            && (Text(tags, GenAiConventions.ProviderName) ?? Text(tags, GenAiConventions.System)) is { Length: > 0 } provider)
        {
            attributes[GenAiConventions.ModelProviderAttribute] = JsonValue.Create(provider);
        }

        if (!attributes.ContainsKey(GenAiConventions.ChatToolsAttribute) && tags.TryGetValue(GenAiConventions.ToolDefinitions, out var tools))
        {
            attributes[GenAiConventions.ChatToolsAttribute] = ParseJsonText(tools);
        }

        var start = UnixNanos(activity.StartTimeUtc);
        return new TraceSpan
        {
            TraceId = TraceIds.FromOpenTelemetryTraceId(activity.TraceId.ToHexString()),
            SpanId = activity.SpanId.ToHexString(),
            ParentSpanId = activity.ParentSpanId == default ? null : activity.ParentSpanId.ToHexString(),
            Name = activity.DisplayName,
            StartTimeUnixNano = start,
            EndTimeUnixNano = start + (activity.Duration.Ticks * 100),
            // An activity that ended without an error is OK, as MLflow's own spans end (an UNSET root would leave the
            // trace's state unknown).
            Status = activity.Status == ActivityStatusCode.Error ? TraceSpanStatus.Error : TraceSpanStatus.Ok,
            StatusMessage = activity.Status == ActivityStatusCode.Error ? activity.StatusDescription ?? "" : "",
            SpanType = spanType,
            Inputs = inputs,
            Outputs = outputs,
            Attributes = attributes,
            Events = events,
        };
    }

    /// <summary>Nanoseconds since the Unix epoch (an <see cref="Activity"/> keeps 100 ns ticks).</summary>
    internal static long UnixNanos(DateTime utc) => (utc.Ticks - DateTime.UnixEpoch.Ticks) * 100;

    /// <summary>
    /// <c>mlflow.chat.tokenUsage</c> as MLflow derives it: input and output tokens (the GenAI names, else the older
    /// ones), both present and positive, with their total.
    /// </summary>
    private static JsonObject? TokenUsage(Dictionary<string, object?> tags)
    {
        var input = Count(tags, GenAiConventions.InputTokens) ?? Count(tags, GenAiConventions.PromptTokens) ?? Count(tags, GenAiConventions.SemanticKernelPromptTokens);
        var output = Count(tags, GenAiConventions.OutputTokens) ?? Count(tags, GenAiConventions.CompletionTokens) ?? Count(tags, GenAiConventions.SemanticKernelCompletionTokens);
        if (input is not > 0 || output is not > 0)
        {
            return null;
        }

        return new JsonObject
        {
            [GenAiConventions.InputTokensKey] = input.Value,
            [GenAiConventions.OutputTokensKey] = output.Value,
            [GenAiConventions.TotalTokensKey] = input.Value + output.Value,
        };
    }

    private static long? Count(Dictionary<string, object?> tags, string key) => tags.TryGetValue(key, out var value) ? value switch
    {
        int i => i,
        long l => l,
        short s => s,
        string text when long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) => parsed,
        _ => null,
    } : null;

    private static string? Text(Dictionary<string, object?> tags, string key)
        => tags.TryGetValue(key, out var value) ? value as string ?? System.Convert.ToString(value, CultureInfo.InvariantCulture) : null;

    private static object? Take(Dictionary<string, object?> tags, string key)
        => tags.Remove(key, out var value) ? value : null;

    /// <summary>A tag holding JSON (text, or a node <see cref="MlflowSpan"/> set), removed from the tags and parsed.</summary>
    private static JsonNode? TakeJson(Dictionary<string, object?> tags, string key)
        => Take(tags, key) is { } value ? ParseJsonText(value) : null;

    /// <summary>MLflow's <c>try_json_loads</c>: JSON text as its value, other text as a string; a node as it is.</summary>
    private static JsonNode? ParseJsonText(object? value)
    {
        switch (value)
        {
            case JsonNode node:
                return node.DeepClone();
            case string text:
                try
                {
                    return JsonNode.Parse(text);
                }
                catch (JsonException)
                {
                    return JsonValue.Create(text);
                }

            default:
                return ToJson(value);
        }
    }

    /// <summary>An event's attribute that holds the prompt or completion (Semantic Kernel's events).</summary>
    private static JsonNode? FromEvents(List<TraceSpanEvent> events, string eventName, string attribute)
    {
        var found = events.FirstOrDefault(e => e.Name == eventName && e.Attributes.ContainsKey(attribute));
        if (found is null)
        {
            return null;
        }

        var value = found.Attributes[attribute];
        return value is JsonValue v && v.GetValueKind() == JsonValueKind.String ? ParseJsonText(v.GetValue<string>()) : value?.DeepClone();
    }

    /// <summary>The messages of the per-message events (<c>gen_ai.system.message</c>, <c>gen_ai.user.message</c>...).</summary>
    private static JsonArray? MessagesFromEvents(List<TraceSpanEvent> events)
    {
        var messages = new JsonArray();
        foreach (var e in events)
        {
            var role = e.Name switch
            {
                GenAiConventions.SystemMessageEvent => "system",
                GenAiConventions.UserMessageEvent => "user",
                GenAiConventions.AssistantMessageEvent => "assistant",
                _ => null,
            };
            if (role is not null && e.Attributes.TryGetValue("content", out var content) && content is not null)
            {
                messages.Add(new JsonObject { ["role"] = role, ["content"] = Decoded(content) });
            }
            else if (role is not null && Body(e) is { } body && body["content"] is { } bodyContent)
            {
                messages.Add(new JsonObject { ["role"] = role, ["content"] = bodyContent.DeepClone() });
            }
        }

        return messages.Count > 0 ? messages : null;
    }

    /// <summary>The answers of <c>gen_ai.choice</c> events.</summary>
    private static JsonArray? ChoicesFromEvents(List<TraceSpanEvent> events)
    {
        var messages = new JsonArray();
        foreach (var e in events.Where(e => e.Name == GenAiConventions.ChoiceEvent))
        {
            if (e.Attributes.TryGetValue("content", out var content) && content is not null)
            {
                var role = e.Attributes.TryGetValue("role", out var r) && r is not null ? Decoded(r) : "assistant";
                messages.Add(new JsonObject { ["role"] = role, ["content"] = Decoded(content) });
            }
            else if (Body(e)?["message"] is JsonObject message && message["content"] is { } bodyContent)
            {
                var role = message["role"] is JsonValue r && r.GetValueKind() == JsonValueKind.String ? r.GetValue<string>().ToLowerInvariant() : "assistant";
                messages.Add(new JsonObject { ["role"] = role, ["content"] = bodyContent.DeepClone() });
            }
        }

        return messages.Count > 0 ? messages : null;
    }

    /// <summary>
    /// The event's body as Semantic Kernel's connectors record it: JSON text in <c>gen_ai.event.content</c> (a message
    /// <c>{"role", "content"}</c>, or a choice <c>{"index", "message": {...}, "finish_reason"}</c>) instead of a
    /// <c>content</c> attribute.
    /// </summary>
    private static JsonObject? Body(TraceSpanEvent e)
        => e.Attributes.TryGetValue(GenAiConventions.EventContent, out var body) && body is JsonValue v && v.GetValueKind() == JsonValueKind.String
            ? ParseJsonText(v.GetValue<string>()) as JsonObject
            : body as JsonObject;

    private static JsonNode? Decoded(JsonNode node)
        => node is JsonValue v && v.GetValueKind() == JsonValueKind.String ? ParseJsonText(v.GetValue<string>()) : node.DeepClone();

    private static TraceSpanEvent ConvertEvent(ActivityEvent e)
    {
        var attributes = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
        foreach (var (key, value) in e.Tags)
        {
            attributes[key] = ToJson(value);
        }

        return new TraceSpanEvent(e.Name, UnixNanos(e.Timestamp.UtcDateTime), attributes);
    }

    /// <summary>A tag value as JSON: text, numbers and booleans as they are, arrays as lists, anything else as its text.</summary>
    internal static JsonNode? ToJson(object? value) => value switch
    {
        null => null,
        JsonNode node => node.DeepClone(),
        string s => JsonValue.Create(s),
        bool b => JsonValue.Create(b),
        int i => JsonValue.Create(i),
        long l => JsonValue.Create(l),
        short s => JsonValue.Create((int)s),
        byte b => JsonValue.Create((int)b),
        uint u => JsonValue.Create((long)u),
        double d when double.IsFinite(d) => JsonValue.Create(d),
        // A float as the decimal it was written as (0.5f, 0.7f), not its binary expansion as a double.
        float f when float.IsFinite(f) => JsonValue.Create(double.Parse(f.ToString("R", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture)),
        decimal m => JsonValue.Create(m),
        IEnumerable sequence and not string => new JsonArray(sequence.Cast<object?>().Select(ToJson).ToArray()),
        IFormattable formattable => JsonValue.Create(formattable.ToString(null, CultureInfo.InvariantCulture)),
        _ => JsonValue.Create(value.ToString()),
    };
}
