using System.Text.Json;
using System.Text.Json.Serialization;

namespace Mlflow.Client.Rest;

/// <summary>
/// Writes a log-batch body straight to the <see cref="Utf8JsonWriter"/>: the hottest request of the SDK (up to 1000
/// metrics each), so it skips the metadata-driven path. Same shape as the generated serializer: snake_case names,
/// empty lists and unset MLflow 3 metric fields omitted, values as <see cref="MetricValueConverter"/> writes them (the format of log-metric too).
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
    private static readonly JsonEncodedText ModelId = JsonEncodedText.Encode("model_id");
    private static readonly JsonEncodedText DatasetName = JsonEncodedText.Encode("dataset_name");
    private static readonly JsonEncodedText DatasetDigest = JsonEncodedText.Encode("dataset_digest");

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
                writer.WritePropertyName(Value);
                MetricValueConverter.WriteValue(writer, m.Value);
                writer.WriteNumber(Timestamp, m.Timestamp);
                writer.WriteNumber(Step, m.Step);
                WriteIfSet(writer, ModelId, m.ModelId);
                WriteIfSet(writer, DatasetName, m.DatasetName);
                WriteIfSet(writer, DatasetDigest, m.DatasetDigest);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        WritePairs(writer, Params, value.Params, static p => (p.Key, p.Value));
        WritePairs(writer, Tags, value.Tags, static t => (t.Key, t.Value));
        writer.WriteEndObject();
    }

    /// <summary>MLflow 3's optional metric fields: absent when unset, so a 2.x server gets the body it always got.</summary>
    private static void WriteIfSet(Utf8JsonWriter writer, JsonEncodedText name, string? value)
    {
        if (value is not null)
        {
            writer.WriteString(name, value);
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
