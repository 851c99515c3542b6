using System.Buffers.Binary;
using System.Text;

namespace Mlflow.Client.Tests.Tracing;

/// <summary>
/// Reads an OTLP <c>ExportTraceServiceRequest</c> back for the tests, written from the opentelemetry-proto v1 field
/// numbers independently of the SDK's writer. An <c>AnyValue</c> reads as the .NET value of the oneof member that is set:
/// <see cref="string"/>, <see cref="bool"/>, <see cref="long"/>, <see cref="double"/>, <see cref="byte"/>[],
/// <c>List&lt;object?&gt;</c> (array), <c>List&lt;KeyValuePair&lt;string, object?&gt;&gt;</c> (key-value list), or
/// <see langword="null"/> when none is set. Unknown fields fail the read, so a field the writer should not write shows.
/// </summary>
internal static class OtlpTestDecoder
{
    internal sealed record Span(
        string TraceId, string SpanId, string? ParentSpanId, string Name, ulong Start, ulong? End,
        List<KeyValuePair<string, object?>> Attributes, List<Event> Events, int StatusCode, string? StatusMessage, bool HasStatus);

    internal sealed record Event(string Name, ulong Time, List<KeyValuePair<string, object?>> Attributes);

    internal sealed record Request(int ResourceSpans, int ScopeSpans, bool HasResource, List<Span> Spans);

    public static Request Decode(byte[] body)
    {
        var resourceSpans = 0;
        var scopeSpans = 0;
        var hasResource = false;
        var spans = new List<Span>();
        foreach (var (field, rs) in Fields(body))
        {
            Expect(field == 1, "ExportTraceServiceRequest", field);
            resourceSpans++;
            foreach (var (f, value) in Fields((byte[])rs))
            {
                switch (f)
                {
                    case 1:
                        hasResource = true;
                        Expect(Fields((byte[])value).Count == 0, "Resource (expected empty)", f);
                        break;
                    case 2:
                        scopeSpans++;
                        foreach (var (sf, sv) in Fields((byte[])value))
                        {
                            Expect(sf == 2, "ScopeSpans", sf);
                            spans.Add(DecodeSpan((byte[])sv));
                        }

                        break;
                    default:
                        Expect(false, "ResourceSpans", f);
                        break;
                }
            }
        }

        return new Request(resourceSpans, scopeSpans, hasResource, spans);
    }

    private static Span DecodeSpan(byte[] bytes)
    {
        string traceId = "", spanId = "", name = "";
        string? parent = null, statusMessage = null;
        ulong start = 0;
        ulong? end = null;
        var statusCode = 0;
        var hasStatus = false;
        var attributes = new List<KeyValuePair<string, object?>>();
        var events = new List<Event>();
        foreach (var (field, value) in Fields(bytes))
        {
            switch (field)
            {
                case 1: traceId = Hex((byte[])value); break;
                case 2: spanId = Hex((byte[])value); break;
                case 4: parent = Hex((byte[])value); break;
                case 5: name = Utf8((byte[])value); break;
                case 7: start = (ulong)value; break;
                case 8: end = (ulong)value; break;
                case 9: attributes.Add(KeyValue((byte[])value)); break;
                case 11: events.Add(DecodeEvent((byte[])value)); break;
                case 15:
                    hasStatus = true;
                    foreach (var (sf, sv) in Fields((byte[])value))
                    {
                        if (sf == 2) statusMessage = Utf8((byte[])sv);
                        else if (sf == 3) statusCode = (int)(ulong)sv;
                        else Expect(false, "Status", sf);
                    }

                    break;
                default: Expect(false, "Span", field); break;
            }
        }

        return new Span(traceId, spanId, parent, name, start, end, attributes, events, statusCode, statusMessage, hasStatus);
    }

    private static Event DecodeEvent(byte[] bytes)
    {
        var name = "";
        ulong time = 0;
        var attributes = new List<KeyValuePair<string, object?>>();
        foreach (var (field, value) in Fields(bytes))
        {
            switch (field)
            {
                case 1: time = (ulong)value; break;
                case 2: name = Utf8((byte[])value); break;
                case 3: attributes.Add(KeyValue((byte[])value)); break;
                default: Expect(false, "Event", field); break;
            }
        }

        return new Event(name, time, attributes);
    }

    private static KeyValuePair<string, object?> KeyValue(byte[] bytes)
    {
        var key = "";
        object? value = null;
        foreach (var (field, v) in Fields(bytes))
        {
            if (field == 1) key = Utf8((byte[])v);
            else if (field == 2) value = AnyValue((byte[])v);
            else Expect(false, "KeyValue", field);
        }

        return new(key, value);
    }

    private static object? AnyValue(byte[] bytes)
    {
        object? result = null;
        foreach (var (field, v) in Fields(bytes))
        {
            result = field switch
            {
                1 => Utf8((byte[])v),
                2 => (ulong)v != 0,
                3 => (long)(ulong)v,
                4 => BitConverter.Int64BitsToDouble((long)(ulong)v),
                5 => Fields((byte[])v).Select(item => { Expect(item.Field == 1, "ArrayValue", item.Field); return AnyValue((byte[])item.Value); }).ToList(),
                6 => Fields((byte[])v).Select(item => { Expect(item.Field == 1, "KeyValueList", item.Field); return KeyValue((byte[])item.Value); }).ToList(),
                7 => (byte[])v,
                _ => throw new FormatException($"AnyValue has no field {field}"),
            };
        }

        return result;
    }

    /// <summary>The fields of one message: varints and fixed64 as <see cref="ulong"/>, length-delimited as <see cref="byte"/>[].</summary>
    private static List<(int Field, object Value)> Fields(byte[] bytes)
    {
        var fields = new List<(int, object)>();
        var position = 0;
        while (position < bytes.Length)
        {
            var tag = Varint(bytes, ref position);
            var field = (int)(tag >> 3);
            switch ((int)(tag & 7))
            {
                case 0:
                    fields.Add((field, Varint(bytes, ref position)));
                    break;
                case 1:
                    fields.Add((field, BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(position, 8))));
                    position += 8;
                    break;
                case 2:
                    var length = (int)Varint(bytes, ref position);
                    fields.Add((field, bytes.AsSpan(position, length).ToArray()));
                    position += length;
                    break;
                default:
                    throw new FormatException($"wire type {tag & 7} of field {field} is not used by OTLP traces");
            }
        }

        return fields;
    }

    private static ulong Varint(byte[] bytes, ref int position)
    {
        ulong result = 0;
        for (var shift = 0; shift < 70; shift += 7)
        {
            var b = bytes[position++];
            result |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80)
            {
                return result;
            }
        }

        throw new FormatException("varint longer than ten bytes");
    }

    private static string Utf8(byte[] bytes) => new UTF8Encoding(false, true).GetString(bytes);

    private static string Hex(byte[] bytes) => Convert.ToHexString(bytes).ToLowerInvariant();

    private static void Expect(bool condition, string message, int field)
    {
        if (!condition)
        {
            throw new FormatException($"{message}: unexpected field {field}");
        }
    }
}
