using System.Text.Json;
using System.Text.Json.Serialization;

namespace Mlflow.Client.Rest;

/// <summary>
/// Writes a log-batch body straight to the <see cref="Utf8JsonWriter"/>: the hottest request of the SDK (up to 1000
/// metrics each), so it skips the metadata-driven path. Same shape as the generated serializer: snake_case names,
/// empty lists omitted, non-finite values as the strings <c>"NaN"</c>, <c>"Infinity"</c>, <c>"-Infinity"</c>.
/// </summary>
internal sealed class LogBatchRequestConverter : JsonConverter<LogBatchRequest>
{
    private static readonly JsonEncodedText RunId = JsonEncodedText.Encode("run_id");
    private static readonly JsonEncodedText Metrics = JsonEncodedText.Encode("metrics");
    private static readonly JsonEncodedText Params = JsonEncodedText.Encode("params");
    private static readonly JsonEncodedText Tags = JsonEncodedText.Encode("tags");
    private static readonly JsonEncodedText Key = JsonEncodedText.Encode("key");
    private static readonly JsonEncodedText Value = JsonEncodedText.Encode("value");
    private static readonly JsonEncodedText Timestamp = JsonEncodedText.Encode("timestamp");
    private static readonly JsonEncodedText Step = JsonEncodedText.Encode("step");

    public override LogBatchRequest Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        => throw new NotSupportedException("log-batch requests are only written.");

    public override void Write(Utf8JsonWriter writer, LogBatchRequest value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        writer.WriteString(RunId, value.RunId);
        if (value.Metrics is { Count: > 0 } metrics)
        {
            writer.WriteStartArray(Metrics);
            for (var i = 0; i < metrics.Count; i++)
            {
                var m = metrics[i];
                writer.WriteStartObject();
                writer.WriteString(Key, m.Key);
                WriteDouble(writer, m.Value);
                writer.WriteNumber(Timestamp, m.Timestamp);
                writer.WriteNumber(Step, m.Step);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        WritePairs(writer, Params, value.Params, static p => (p.Key, p.Value));
        WritePairs(writer, Tags, value.Tags, static t => (t.Key, t.Value));
        writer.WriteEndObject();
    }

    private static void WriteDouble(Utf8JsonWriter writer, double v)
    {
        if (double.IsFinite(v))
        {
            // double.TryFormat (used by WriteNumber) costs 150-300 ns for full-precision values; Grisu2 a fraction.
            Span<byte> number = stackalloc byte[FastDoubleFormatter.MaxLength];
            var length = FastDoubleFormatter.Format(v, number);
            writer.WritePropertyName(Value);
            writer.WriteRawValue(number[..length], skipInputValidation: true);
        }
        else
        {
            writer.WriteString(Value, double.IsNaN(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity");
        }
    }

    private static void WritePairs<T>(Utf8JsonWriter writer, JsonEncodedText name, IReadOnlyList<T>? items, Func<T, (string Key, string Value)> pair)
    {
        if (items is not { Count: > 0 })
        {
            return;
        }

        writer.WriteStartArray(name);
        for (var i = 0; i < items.Count; i++)
        {
            var (key, value) = pair(items[i]);
            writer.WriteStartObject();
            writer.WriteString(Key, key);
            writer.WriteString(Value, value);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }
}
