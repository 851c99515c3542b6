using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Mlflow.Client.Tracing;

/// <summary>
/// Reads the spans of MLflow 3's <c>GET /api/3.0/mlflow/traces/get</c> answer: OpenTelemetry spans in protobuf's JSON
/// form as MLflow writes it (field names in snake case, ids as base64 of their bytes, times as numbers, the status code
/// by name, attributes as <c>AnyValue</c>s holding the decoded values: <c>string_value</c>, <c>int_value</c>,
/// <c>double_value</c>, <c>bool_value</c>, <c>array_value</c>, <c>kvlist_value</c>, none for null). This is where a
/// SQL store keeps the spans it took over OTLP; MLflow's own client reads them from there for such a trace.
/// </summary>
internal static class TraceProtoSpans
{
    /// <summary>The spans of the answer's <c>trace.spans</c>.</summary>
    /// <exception cref="MlflowException">The answer is not MLflow's; the message says what is wrong.</exception>
    public static IReadOnlyList<TraceSpan> Parse(JsonNode? answer, string traceId)
    {
        try
        {
            var spans = answer?["trace"]?["spans"] as JsonArray ?? [];
            return spans.Select(s => Span(s as JsonObject ?? throw new FormatException("a span is not an object"), traceId)).ToList();
        }
        catch (Exception ex) when (ex is JsonException or FormatException or OverflowException or InvalidOperationException or ArgumentException)
        {
            throw new MlflowException($"The spans of trace '{traceId}' the server answered are not MLflow's: {ex.Message}", ex);
        }
    }

    private static TraceSpan Span(JsonObject s, string traceId)
    {
        var attributes = Attributes(s["attributes"]);
        attributes.Remove(TraceDataJson.RequestIdAttribute);
        var spanType = Take(attributes, TraceDataJson.SpanTypeAttribute) is JsonValue type && type.GetValueKind() == JsonValueKind.String ? type.GetValue<string>() : null;
        var inputs = Take(attributes, TraceDataJson.InputsAttribute);
        var outputs = Take(attributes, TraceDataJson.OutputsAttribute);
        var status = s["status"] as JsonObject;
        return new TraceSpan
        {
            TraceId = traceId,
            SpanId = Id(s["span_id"]) ?? throw new FormatException("a span has no span_id"),
            ParentSpanId = Id(s["parent_span_id"]),
            Name = s["name"]?.GetValue<string>() ?? "",
            StartTimeUnixNano = Long(s["start_time_unix_nano"]) ?? 0,
            EndTimeUnixNano = Long(s["end_time_unix_nano"]) is { } end and not 0 ? end : null,
            Status = Status(status?["code"]),
            StatusMessage = status?["message"]?.GetValue<string>() ?? "",
            SpanType = spanType,
            Inputs = inputs,
            Outputs = outputs,
            Attributes = attributes,
            Events = (s["events"] as JsonArray ?? []).OfType<JsonObject>().Select(e => new TraceSpanEvent(
                e["name"]?.GetValue<string>() ?? "",
                Long(e["time_unix_nano"]) ?? 0,
                Attributes(e["attributes"]))).ToList(),
        };
    }

    private static Dictionary<string, JsonNode?> Attributes(JsonNode? list)
    {
        var attributes = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
        foreach (var kv in (list as JsonArray ?? []).OfType<JsonObject>())
        {
            attributes[kv["key"]?.GetValue<string>() ?? ""] = Value(kv["value"] as JsonObject);
        }

        return attributes;
    }

    /// <summary>An <c>AnyValue</c> as the JSON value it holds.</summary>
    private static JsonNode? Value(JsonObject? any)
    {
        if (any is null)
        {
            return null;
        }

        if (any["string_value"] is { } s)
        {
            return JsonValue.Create(s.GetValue<string>());
        }

        if (any["bool_value"] is { } b)
        {
            return JsonValue.Create(b.GetValue<bool>());
        }

        if (any["int_value"] is { } i)
        {
            return JsonValue.Create(Long(i)!.Value);
        }

        if (any["double_value"] is { } d)
        {
            return JsonValue.Create(d.GetValueKind() == JsonValueKind.String ? double.Parse(d.GetValue<string>(), NumberStyles.Float, CultureInfo.InvariantCulture) : d.GetValue<double>());
        }

        if (any["array_value"] is JsonObject array)
        {
            return new JsonArray((array["values"] as JsonArray ?? []).Select(v => Value(v as JsonObject)).ToArray());
        }

        if (any["kvlist_value"] is JsonObject list)
        {
            var o = new JsonObject();
            foreach (var (key, value) in Attributes(list["values"]))
            {
                o[key] = value;
            }

            return o;
        }

        return any["bytes_value"] is { } bytes ? JsonValue.Create(bytes.GetValue<string>()) : null;
    }

    private static JsonNode? Take(Dictionary<string, JsonNode?> attributes, string key)
        => attributes.Remove(key, out var value) ? value : null;

    private static string? Id(JsonNode? node)
        => node?.GetValue<string>() is { Length: > 0 } base64 ? TraceIds.SpanIdFromBase64(base64) : null;

    private static long? Long(JsonNode? node) => node switch
    {
        JsonValue v when v.GetValueKind() == JsonValueKind.Number => v.GetValue<long>(),
        JsonValue v when v.GetValueKind() == JsonValueKind.String => long.Parse(v.GetValue<string>(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture),
        _ => null,
    };

    private static TraceSpanStatus Status(JsonNode? code) => code switch
    {
        JsonValue v when v.GetValueKind() == JsonValueKind.Number => (TraceSpanStatus)v.GetValue<int>() is var n && Enum.IsDefined(n) ? n : TraceSpanStatus.Unset,
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>() switch
        {
            "STATUS_CODE_OK" => TraceSpanStatus.Ok,
            "STATUS_CODE_ERROR" => TraceSpanStatus.Error,
            _ => TraceSpanStatus.Unset,
        },
        _ => TraceSpanStatus.Unset,
    };
}
