using System.Text;
using System.Text.Json.Nodes;
using Mlflow.Client.Tests.Infrastructure;
using Mlflow.Client.Tracing;
using NUnit.Framework;

namespace Mlflow.Client.Tests.Tracing;

/// <summary>
/// The OTLP body of <c>POST /v1/traces</c>: byte for byte what MLflow 3.11.1's own REST store sends for the same spans
/// (<c>tests/Fixtures/otlp/*.otlp.bin</c>, written by <c>record.py</c> there with MLflow's <c>Span.to_otel_proto</c>),
/// and, read back with a decoder written from the proto field numbers, ids, times, status, events and attributes
/// with their JSON types.
/// </summary>
[TestFixture]
public class OtlpTraceWriterTests
{
    private const string TraceId = "tr-5f3c0e0a2b6d4c1e9a8b7c6d5e4f3a2b";

    private static string Fixture(string name) => Path.Combine(RepoPaths.FixturesDir, "otlp", name);

    private static IReadOnlyList<TraceSpan> TypedSpans() => TraceDataJson.Parse(File.ReadAllText(Fixture("typed-attributes.traces.json"), Encoding.UTF8));

    private static object? Attribute(OtlpTestDecoder.Span span, string key) => span.Attributes.Single(a => a.Key == key).Value;

    [TestCase("typed-attributes.traces.json", "typed-attributes.otlp.bin")]
    [TestCase("../rest-mlflow3-traces/traces-data.python.json", "traces-data.python.otlp.bin")]
    public void Spans_AreWrittenByteForByteAsMlflowsRestStoreWritesThem(string tracesJson, string otlpBin)
    {
        var spans = TraceDataJson.Parse(File.ReadAllText(Fixture(tracesJson), Encoding.UTF8));

        var body = OtlpTraceWriter.Serialize(spans[0].TraceId, spans);

        Assert.That(body, Is.EqualTo(File.ReadAllBytes(Fixture(otlpBin))));
    }

    [Test]
    public void Spans_ReadBackWithIdsTimesParentsStatusAndEvents()
    {
        var spans = TypedSpans();

        var request = OtlpTestDecoder.Decode(OtlpTraceWriter.Serialize(TraceId, spans));

        Assert.That((request.ResourceSpans, request.ScopeSpans, request.HasResource), Is.EqualTo((1, 1, true)), "one resource (empty, as MLflow's), one scope");
        Assert.That(request.Spans.Select(s => (s.TraceId, s.SpanId, s.ParentSpanId, s.Name)), Is.EqualTo(spans.Select(s => (TraceId[3..], s.SpanId, s.ParentSpanId, s.Name))));
        var root = request.Spans[0];
        Assert.That(root.Name, Is.EqualTo("answer — ünïcode"));
        Assert.That((root.Start, root.End), Is.EqualTo((1_765_000_000_000_000_000UL, (ulong?)1_765_000_001_200_000_000UL)));
        Assert.That((root.StatusCode, root.StatusMessage), Is.EqualTo((1, (string?)null)));

        var tool = request.Spans[2];
        Assert.That(tool.End, Is.Null, "an unfinished span has no end time");
        Assert.That((tool.HasStatus, tool.StatusCode), Is.EqualTo((true, 0)), "an unset status is written, with no code");
        var exception = tool.Events.Single();
        Assert.That((exception.Name, exception.Time), Is.EqualTo(("exception", 1_765_000_000_300_000_000UL)));
        Assert.That(exception.Attributes.Select(a => (a.Key, a.Value)).Take(5), Is.EqualTo(new (string, object?)[]
        {
            ("exception.type", "ValueError"), ("exception.message", "bad input"), ("attempt", 2L), ("ratio", 0.5), ("escaped", false),
        }), "event attributes are plain values");
        Assert.That(exception.Attributes[5].Value, Is.EqualTo(new List<object?> { "a", "b" }));
    }

    [Test]
    public void Attributes_AreTheDecodedJsonWithItsTypes()
    {
        var chat = OtlpTestDecoder.Decode(OtlpTraceWriter.Serialize(TraceId, TypedSpans())).Spans[1];

        Assert.That(chat.Attributes.Select(a => a.Key).Take(2), Is.EqualTo(new[] { "mlflow.traceRequestId", "mlflow.spanType" }));
        Assert.That(chat.Attributes.Select(a => a.Key).TakeLast(2), Is.EqualTo(new[] { "mlflow.spanInputs", "mlflow.spanOutputs" }));
        Assert.That(Attribute(chat, "mlflow.traceRequestId"), Is.EqualTo(TraceId));
        Assert.That(Attribute(chat, "mlflow.spanType"), Is.EqualTo("CHAT_MODEL"), "a string, not MLflow's JSON text \"\\\"CHAT_MODEL\\\"\"");
        Assert.That(Attribute(chat, "gen_ai.request.temperature"), Is.EqualTo(0.2).And.TypeOf<double>());
        Assert.That(Attribute(chat, "whole"), Is.EqualTo(2.0).And.TypeOf<double>(), "2.0 is a float in Python");
        Assert.That(Attribute(chat, "exp"), Is.EqualTo(1e-7).And.TypeOf<double>());
        Assert.That(Attribute(chat, "count"), Is.EqualTo(3L).And.TypeOf<long>());
        Assert.That(Attribute(chat, "negative"), Is.EqualTo(-7L));
        Assert.That(Attribute(chat, "big"), Is.EqualTo(9_007_199_254_740_993L), "an integer beyond a double's precision stays exact");
        Assert.That(Attribute(chat, "flag"), Is.EqualTo(false), "false is written although it is the default");
        Assert.That(Attribute(chat, "yes"), Is.EqualTo(true));
        Assert.That(Attribute(chat, "empty"), Is.EqualTo(""), "an empty string is written although it is the default");
        Assert.That(Attribute(chat, "nothing"), Is.Null);
        Assert.That(Attribute(chat, "json_looking"), Is.EqualTo("{\"a\": 1}"), "a string that looks like JSON stays a string");
        Assert.That(Attribute(chat, "list"), Is.EqualTo(new List<object?>
        {
            1L, 2.5, "x", null, true, new List<KeyValuePair<string, object?>> { new("k", new List<object?>()) },
        }));
        Assert.That(Attribute(chat, "empty_obj"), Is.EqualTo(new List<KeyValuePair<string, object?>>()));
        Assert.That(Attribute(chat, "mlflow.chat.tokenUsage"), Is.EqualTo(new List<KeyValuePair<string, object?>>
        {
            new("input_tokens", 12L), new("output_tokens", 5L), new("total_tokens", 17L),
        }));
        var messages = (List<object?>)((List<KeyValuePair<string, object?>>)Attribute(chat, "mlflow.spanInputs")!).Single(p => p.Key == "messages").Value!;
        Assert.That(messages.Single(), Is.EqualTo(new List<KeyValuePair<string, object?>> { new("role", "user"), new("content", "Capital of France?") }));
    }

    [Test]
    public void NumbersMadeInDotNet_KeepTheirKind()
    {
        var span = new TraceSpan
        {
            SpanId = "0000000000000001",
            Name = "n",
            Attributes = new Dictionary<string, JsonNode?>
            {
                ["int"] = JsonValue.Create(7),
                ["long"] = JsonValue.Create(long.MinValue),
                ["double"] = JsonValue.Create(3.0),
                ["nan"] = JsonValue.Create(double.NaN),
                ["decimal"] = JsonValue.Create(1.5m),
                ["ulong"] = JsonValue.Create(ulong.MaxValue),
            },
        };

        var decoded = OtlpTestDecoder.Decode(OtlpTraceWriter.Serialize(TraceId, [span])).Spans.Single();

        Assert.That(Attribute(decoded, "int"), Is.EqualTo(7L).And.TypeOf<long>());
        Assert.That(Attribute(decoded, "long"), Is.EqualTo(long.MinValue), "a negative int64 as protobuf's ten-byte varint");
        Assert.That(Attribute(decoded, "double"), Is.EqualTo(3.0).And.TypeOf<double>(), "a .NET double is a float even when whole");
        Assert.That(Attribute(decoded, "nan") is double nan && double.IsNaN(nan), Is.True, "NaN as a double, as Python writes float('nan')");
        Assert.That(Attribute(decoded, "decimal"), Is.EqualTo(1.5).And.TypeOf<double>());
        Assert.That(Attribute(decoded, "ulong"), Is.EqualTo((double)ulong.MaxValue).And.TypeOf<double>(), "beyond int64: a double");
    }

    [Test]
    public void Refuses_WhatMlflowCannotHold()
    {
        var span = new TraceSpan { SpanId = "00000000000000ff", Name = "x" };

        Assert.Throws<EncoderFallbackException>(() => OtlpTraceWriter.Serialize(TraceId, [span with { Inputs = JsonValue.Create("lone \ud800") }]));
        Assert.Throws<ArgumentException>(() => OtlpTraceWriter.Serialize("my-trace", [span]));
        Assert.Throws<ArgumentException>(() => OtlpTraceWriter.Serialize(TraceId, [span with { SpanId = "xyz" }]));
        Assert.Throws<ArgumentException>(() => OtlpTraceWriter.Serialize(TraceId, [span with { TraceId = "tr-ffffffffffffffffffffffffffffffff" }]));
        Assert.Throws<ArgumentException>(() => OtlpTraceWriter.Serialize(TraceId, [span with { Attributes = new Dictionary<string, JsonNode?> { ["mlflow.spanInputs"] = "x" } }]));
    }
}
