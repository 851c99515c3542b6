using System.Text.Json;
using System.Text.Json.Nodes;
using Mlflow.Client.Artifacts;

namespace Mlflow.Client.Tracing;

/// <summary>
/// A trace's span data, <c>traces.json</c>, as MLflow 3.11.1 writes and reads it (<c>TraceData.to_dict</c>,
/// <c>Span.to_dict</c>/<c>from_dict</c>): <c>{"spans": [...]}</c>, ids as base64 of their bytes, times in unix
/// nanoseconds, the status as OpenTelemetry's proto code name, every span attribute as JSON text (<c>json.dumps</c>,
/// non-ASCII kept), event attributes as plain values. Written with Python's separators, as its exporter does.
/// </summary>
internal static class TraceDataJson
{
    internal const string RequestIdAttribute = "mlflow.traceRequestId";
    internal const string SpanTypeAttribute = "mlflow.spanType";
    internal const string InputsAttribute = "mlflow.spanInputs";
    internal const string OutputsAttribute = "mlflow.spanOutputs";

    /// <summary>The text of <c>traces.json</c> for the spans of the trace <paramref name="traceId"/>.</summary>
    /// <exception cref="ArgumentException">A span of another trace, or an id MLflow cannot hold (see <see cref="TraceIds"/>).</exception>
    public static string Serialize(string traceId, IReadOnlyList<TraceSpan> spans)
    {
        var traceIdBase64 = Convert.ToBase64String(TraceIds.OpenTelemetryTraceIdBytes(traceId));
        var list = new List<object?>(spans.Count);
        foreach (var span in spans)
        {
            ArgumentNullException.ThrowIfNull(span, nameof(spans));
            if (span.TraceId.Length > 0 && !string.Equals(span.TraceId, traceId, StringComparison.Ordinal))
            {
                throw new ArgumentException($"The span '{span.Name}' belongs to trace '{span.TraceId}', not '{traceId}'.", nameof(spans));
            }

            list.Add(SpanToDict(span, traceId, traceIdBase64));
        }

        return PythonJson.Serialize(new List<KeyValuePair<string, object?>> { new("spans", list) }, ensureAscii: false);
    }

    private static List<KeyValuePair<string, object?>> SpanToDict(TraceSpan span, string traceId, string traceIdBase64)
    {
        var attributes = new List<KeyValuePair<string, object?>> { new(RequestIdAttribute, Dump(JsonValue.Create(traceId))) };
        if (span.SpanType is not null)
        {
            attributes.Add(new(SpanTypeAttribute, Dump(JsonValue.Create(span.SpanType))));
        }

        foreach (var (key, value) in span.Attributes)
        {
            if (key is RequestIdAttribute or SpanTypeAttribute or InputsAttribute or OutputsAttribute)
            {
                throw new ArgumentException($"The span '{span.Name}' sets '{key}' in Attributes; use the TraceSpan property for it.", nameof(span));
            }

            attributes.Add(new(key, Dump(value)));
        }

        if (span.Inputs is not null)
        {
            attributes.Add(new(InputsAttribute, Dump(span.Inputs)));
        }

        if (span.Outputs is not null)
        {
            attributes.Add(new(OutputsAttribute, Dump(span.Outputs)));
        }

        var events = span.Events.Select(e => (object?)new List<KeyValuePair<string, object?>>
        {
            new("name", e.Name),
            new("time_unix_nano", e.TimeUnixNano),
            new("attributes", e.Attributes.Select(a => new KeyValuePair<string, object?>(a.Key, a.Value)).ToList()),
        }).ToList();

        return
        [
            new("trace_id", traceIdBase64),
            new("span_id", Convert.ToBase64String(TraceIds.SpanIdBytes(span.SpanId, nameof(span.SpanId)))),
            new("parent_span_id", span.ParentSpanId is { } parent ? Convert.ToBase64String(TraceIds.SpanIdBytes(parent, nameof(span.ParentSpanId))) : null),
            new("name", span.Name),
            new("start_time_unix_nano", span.StartTimeUnixNano),
            new("end_time_unix_nano", span.EndTimeUnixNano),
            new("events", events),
            new("status", new List<KeyValuePair<string, object?>> { new("code", StatusCodeName(span.Status)), new("message", span.StatusMessage) }),
            new("attributes", attributes),
        ];
    }

    /// <summary>An attribute value as MLflow stores it: <c>json.dumps(value, ensure_ascii=False)</c>.</summary>
    internal static string Dump(JsonNode? value) => PythonJson.Serialize(value, ensureAscii: false);

    private static string StatusCodeName(TraceSpanStatus status) => status switch
    {
        TraceSpanStatus.Ok => "STATUS_CODE_OK",
        TraceSpanStatus.Error => "STATUS_CODE_ERROR",
        _ => "STATUS_CODE_UNSET",
    };

    /// <summary>Reads <c>traces.json</c> (also the older v2 span shape MLflow still reads).</summary>
    /// <exception cref="MlflowException">The text is not MLflow trace data; the message says what is wrong.</exception>
    public static IReadOnlyList<TraceSpan> Parse(string json)
    {
        try
        {
            var root = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { MaxDepth = 256 }) as JsonObject
                ?? throw new FormatException("the top level is not an object");
            if (root["spans"] is not JsonArray spans)
            {
                return [];
            }

            return spans.Select(s => SpanFromDict(s as JsonObject ?? throw new FormatException("a span is not an object"))).ToList();
        }
        catch (Exception ex) when (ex is JsonException or FormatException or InvalidOperationException or ArgumentException or KeyNotFoundException)
        {
            throw new MlflowException($"The trace data is not MLflow's traces.json: {ex.Message}", ex);
        }
    }

    private static TraceSpan SpanFromDict(JsonObject s)
    {
        var rawAttributes = s["attributes"] as JsonObject ?? [];
        var attributes = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
        foreach (var (key, value) in rawAttributes)
        {
            attributes[key] = Load(value);
        }

        var traceId = Take(attributes, RequestIdAttribute)?.GetValue<string>();
        var spanType = Take(attributes, SpanTypeAttribute) is JsonValue type && type.GetValueKind() == JsonValueKind.String ? type.GetValue<string>() : null;
        var inputs = Take(attributes, InputsAttribute);
        var outputs = Take(attributes, OutputsAttribute);

        string spanId;
        string? parentId;
        long start;
        long? end;
        TraceSpanStatus status;
        string message;
        JsonArray events;
        if (s["context"] is JsonObject context)
        {
            // MLflow 2.x span shape: hex ids under "context", times under start_time/end_time.
            spanId = Hex(context["span_id"]);
            parentId = s["parent_id"] is { } p && p.GetValueKind() == JsonValueKind.String ? Hex(p) : null;
            traceId ??= "tr-" + Hex(context["trace_id"]);
            start = Long(s["start_time"]) ?? 0;
            end = Long(s["end_time"]);
            status = ParseStatus(s["status_code"]?.GetValue<string>());
            message = s["status_message"]?.GetValue<string>() ?? "";
            events = s["events"] as JsonArray ?? [];
        }
        else
        {
            spanId = Id(s["span_id"], 8);
            parentId = s["parent_span_id"] is { } p && p.GetValueKind() == JsonValueKind.String ? Id(p, 8) : null;
            traceId ??= TraceIds.TraceIdFromBase64(s["trace_id"]!.GetValue<string>());
            start = Long(s["start_time_unix_nano"]) ?? 0;
            end = Long(s["end_time_unix_nano"]);
            var statusNode = s["status"] as JsonObject;
            status = ParseStatus(statusNode?["code"]?.GetValue<string>());
            message = statusNode?["message"]?.GetValue<string>() ?? "";
            events = s["events"] as JsonArray ?? [];
        }

        return new TraceSpan
        {
            TraceId = traceId,
            SpanId = spanId,
            ParentSpanId = parentId,
            Name = s["name"]?.GetValue<string>() ?? "",
            StartTimeUnixNano = start,
            EndTimeUnixNano = end,
            Status = status,
            StatusMessage = message,
            SpanType = spanType,
            Inputs = inputs,
            Outputs = outputs,
            Attributes = attributes,
            Events = events.OfType<JsonObject>().Select(e => new TraceSpanEvent(
                e["name"]?.GetValue<string>() ?? "",
                Long(e["time_unix_nano"] ?? e["timestamp"]) ?? 0,
                (e["attributes"] as JsonObject ?? []).ToDictionary(a => a.Key, a => a.Value?.DeepClone(), StringComparer.Ordinal))).ToList(),
        };
    }

    /// <summary>MLflow's <c>try_json_loads</c>: JSON text decoded, anything else kept as it is.</summary>
    private static JsonNode? Load(JsonNode? value)
    {
        if (value is JsonValue v && v.GetValueKind() == JsonValueKind.String)
        {
            var text = v.GetValue<string>();
            try
            {
                return JsonNode.Parse(text);
            }
            catch (JsonException)
            {
                return JsonValue.Create(text);
            }
        }

        return value?.DeepClone();
    }

    private static JsonNode? Take(Dictionary<string, JsonNode?> attributes, string key)
        => attributes.Remove(key, out var value) ? value : null;

    /// <summary>An id from base64 of its bytes (MLflow 3), or hex (what MLflow also accepts), without a <c>tr-</c> prefix.</summary>
    private static string Id(JsonNode? node, int bytes)
    {
        var text = node?.GetValue<string>() ?? throw new FormatException("a span has no id");
        var hex = text.StartsWith("tr-", StringComparison.Ordinal) ? text[3..] : text;
        if (TraceIds.IsHex(hex, bytes * 2))
        {
            return hex.ToLowerInvariant();
        }

        return bytes == 8 ? TraceIds.SpanIdFromBase64(text) : TraceIds.TraceIdFromBase64(text)[3..];
    }

    private static string Hex(JsonNode? node)
    {
        var text = node?.GetValue<string>() ?? throw new FormatException("a span has no id");
        return (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? text[2..] : text).ToLowerInvariant();
    }

    private static long? Long(JsonNode? node) => node switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.Number => v.GetValue<long>(),
        JsonValue v when v.GetValueKind() == JsonValueKind.String => long.Parse(v.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture),
        _ => null,
    };

    private static TraceSpanStatus ParseStatus(string? code) => code switch
    {
        "STATUS_CODE_OK" or "OK" => TraceSpanStatus.Ok,
        "STATUS_CODE_ERROR" or "ERROR" => TraceSpanStatus.Error,
        _ => TraceSpanStatus.Unset,
    };
}
