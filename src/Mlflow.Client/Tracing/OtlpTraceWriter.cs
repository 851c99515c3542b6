using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Mlflow.Client.Tracing;

/// <summary>
/// A trace's spans as the OTLP/HTTP protobuf body MLflow 3.4+ takes on <c>POST /v1/traces</c>
/// (<c>ExportTraceServiceRequest</c>), written as MLflow 3.11.1's REST store writes it (<c>Span.to_otel_proto</c>): one
/// resource, one scope, the spans; ids as their bytes, times in unix nanoseconds, the status code and message, every
/// attribute as its decoded value (a JSON object as a key-value list, an array as an array, a number as an int64 or a
/// double, as Python's <c>json.loads</c> reads it) and events with their plain attributes. The server reads it with
/// <c>Span.from_otel_proto</c>, which turns each attribute back into MLflow's JSON text.
/// </summary>
/// <remarks>
/// Field numbers are those of opentelemetry-proto v1 (<c>trace.proto</c>, <c>common.proto</c>,
/// <c>trace_service.proto</c>). A text with a lone UTF-16 surrogate cannot be carried (protobuf strings are UTF-8):
/// <see cref="Serialize"/> then throws <see cref="System.Text.EncoderFallbackException"/>, and the caller sends the
/// spans as <c>traces.json</c>, which keeps it.
/// </remarks>
internal static class OtlpTraceWriter
{
    /// <summary>The media type of the body.</summary>
    public const string ContentType = "application/x-protobuf";

    /// <summary>The OTLP traces path, under the tracking server's base URI.</summary>
    public const string TracesPath = "v1/traces";

    /// <summary>The header that names the experiment the spans go to.</summary>
    public const string ExperimentIdHeader = "x-mlflow-experiment-id";

    // opentelemetry-proto v1 field numbers.
    private const int RequestResourceSpans = 1;
    private const int ResourceSpansResource = 1, ResourceSpansScopeSpans = 2;
    private const int ScopeSpansSpans = 2;
    private const int SpanTraceId = 1, SpanSpanId = 2, SpanParentSpanId = 4, SpanName = 5, SpanStart = 7, SpanEnd = 8, SpanAttributes = 9, SpanEvents = 11, SpanStatus = 15;
    private const int EventTime = 1, EventName = 2, EventAttributes = 3;
    private const int StatusMessage = 2, StatusCode = 3;
    private const int KeyValueKey = 1, KeyValueValue = 2;
    private const int AnyString = 1, AnyBool = 2, AnyInt = 3, AnyDouble = 4, AnyArray = 5, AnyKeyValueList = 6;
    private const int ListValues = 1;

    /// <summary>The <c>ExportTraceServiceRequest</c> bytes for the spans of the trace <paramref name="traceId"/>.</summary>
    /// <exception cref="ArgumentException">A span of another trace, an id MLflow cannot hold, or a reserved key in <see cref="TraceSpan.Attributes"/>.</exception>
    /// <exception cref="System.Text.EncoderFallbackException">A text holds a lone surrogate.</exception>
    public static byte[] Serialize(string traceId, IReadOnlyList<TraceSpan> spans)
    {
        ArgumentNullException.ThrowIfNull(spans);
        var traceIdBytes = TraceIds.OpenTelemetryTraceIdBytes(traceId);
        var request = new ProtoWireWriter();
        request.WriteMessageField(RequestResourceSpans, resourceSpans =>
        {
            resourceSpans.WriteMessageField(ResourceSpansResource, _ => { });
            resourceSpans.WriteMessageField(ResourceSpansScopeSpans, scopeSpans =>
            {
                foreach (var span in spans)
                {
                    ArgumentNullException.ThrowIfNull(span, nameof(spans));
                    if (span.TraceId.Length > 0 && !string.Equals(span.TraceId, traceId, StringComparison.Ordinal))
                    {
                        throw new ArgumentException($"The span '{span.Name}' belongs to trace '{span.TraceId}', not '{traceId}'.", nameof(spans));
                    }

                    scopeSpans.WriteMessageField(ScopeSpansSpans, w => WriteSpan(w, span, traceId, traceIdBytes));
                }
            });
        });
        return request.ToArray();
    }

    private static void WriteSpan(ProtoWireWriter w, TraceSpan span, string traceId, byte[] traceIdBytes)
    {
        w.WriteBytesField(SpanTraceId, traceIdBytes);
        w.WriteBytesField(SpanSpanId, TraceIds.SpanIdBytes(span.SpanId, nameof(span.SpanId)));
        if (span.ParentSpanId is { } parent)
        {
            w.WriteBytesField(SpanParentSpanId, TraceIds.SpanIdBytes(parent, nameof(span.ParentSpanId)));
        }

        if (span.Name.Length > 0)
        {
            w.WriteStringField(SpanName, span.Name);
        }

        w.WriteFixed64Field(SpanStart, unchecked((ulong)span.StartTimeUnixNano));
        if (span.EndTimeUnixNano is { } end and not 0)
        {
            w.WriteFixed64Field(SpanEnd, unchecked((ulong)end));
        }

        // The attributes in the order traces.json has them: MLflow's own first, inputs and outputs last.
        WriteAttribute(w, SpanAttributes, TraceDataJson.RequestIdAttribute, JsonValue.Create(traceId));
        if (span.SpanType is not null)
        {
            WriteAttribute(w, SpanAttributes, TraceDataJson.SpanTypeAttribute, JsonValue.Create(span.SpanType));
        }

        foreach (var (key, value) in span.Attributes)
        {
            if (key is TraceDataJson.RequestIdAttribute or TraceDataJson.SpanTypeAttribute or TraceDataJson.InputsAttribute or TraceDataJson.OutputsAttribute)
            {
                throw new ArgumentException($"The span '{span.Name}' sets '{key}' in Attributes; use the TraceSpan property for it.", nameof(span));
            }

            WriteAttribute(w, SpanAttributes, key, value);
        }

        if (span.Inputs is not null)
        {
            WriteAttribute(w, SpanAttributes, TraceDataJson.InputsAttribute, span.Inputs);
        }

        if (span.Outputs is not null)
        {
            WriteAttribute(w, SpanAttributes, TraceDataJson.OutputsAttribute, span.Outputs);
        }

        foreach (var e in span.Events)
        {
            w.WriteMessageField(SpanEvents, ew =>
            {
                ew.WriteFixed64Field(EventTime, unchecked((ulong)e.TimeUnixNano));
                if (e.Name.Length > 0)
                {
                    ew.WriteStringField(EventName, e.Name);
                }

                foreach (var (key, value) in e.Attributes)
                {
                    WriteAttribute(ew, EventAttributes, key, value);
                }
            });
        }

        w.WriteMessageField(SpanStatus, sw =>
        {
            if (span.StatusMessage.Length > 0)
            {
                sw.WriteStringField(StatusMessage, span.StatusMessage);
            }

            if (span.Status != TraceSpanStatus.Unset)
            {
                sw.WriteVarintField(StatusCode, (int)span.Status);
            }
        });
    }

    /// <summary>A <c>KeyValue</c>; a JSON null leaves the value unset, as Python's converter does for <c>None</c>.</summary>
    private static void WriteAttribute(ProtoWireWriter w, int field, string key, JsonNode? value)
        => w.WriteMessageField(field, kv =>
        {
            kv.WriteStringField(KeyValueKey, key);
            if (!IsNull(value))
            {
                kv.WriteMessageField(KeyValueValue, any => WriteAnyValue(any, value));
            }
        });

    private static bool IsNull(JsonNode? value) => value is null || (value is JsonValue v && v.GetValueKind() == JsonValueKind.Null);

    /// <summary>An <c>AnyValue</c>: the oneof member is always written, even for "", false or 0 (proto3 keeps a set oneof).</summary>
    private static void WriteAnyValue(ProtoWireWriter w, JsonNode? value)
    {
        switch (value)
        {
            case JsonObject o:
                w.WriteMessageField(AnyKeyValueList, list =>
                {
                    foreach (var (key, item) in o)
                    {
                        WriteAttribute(list, ListValues, key, item);
                    }
                });
                break;
            case JsonArray a:
                w.WriteMessageField(AnyArray, array =>
                {
                    foreach (var item in a)
                    {
                        array.WriteMessageField(ListValues, any => WriteAnyValue(any, item));
                    }
                });
                break;
            case JsonValue v:
                switch (v.GetValueKind())
                {
                    case JsonValueKind.String:
                        w.WriteStringField(AnyString, v.GetValue<string>());
                        break;
                    case JsonValueKind.True:
                        w.WriteVarintField(AnyBool, 1);
                        break;
                    case JsonValueKind.False:
                        w.WriteVarintField(AnyBool, 0);
                        break;
                    case JsonValueKind.Number:
                        WriteNumber(w, v);
                        break;
                }

                break;
        }
    }

    /// <summary>
    /// A number as Python's <c>json.loads</c> reads its JSON text: an integer (no fraction or exponent) as int64, any other
    /// as a double; a .NET floating-point value as a double even when whole (Python wrote it as a float). An integer
    /// beyond int64, which protobuf cannot hold, goes as a double.
    /// </summary>
    private static void WriteNumber(ProtoWireWriter w, JsonValue v)
    {
        var fromText = v.TryGetValue<JsonElement>(out _);
        if (!fromText && v.TryGetValue<double>(out var d))
        {
            w.WriteDoubleField(AnyDouble, d);
            return;
        }

        var text = v.ToJsonString();
        var clrFloat = !fromText && (v.TryGetValue<float>(out _) || v.TryGetValue<decimal>(out _));
        if (!clrFloat && text.AsSpan().IndexOfAny('.', 'e', 'E') < 0
            && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer))
        {
            w.WriteVarintField(AnyInt, integer);
            return;
        }

        w.WriteDoubleField(AnyDouble, double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture));
    }
}
