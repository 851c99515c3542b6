using System.Text.Json;
using System.Text.Json.Serialization;
using Mlflow.Client.Batching;

namespace Mlflow.Client.Rest;

/// <summary>
/// Writes a log-batch body straight to the <see cref="Utf8JsonWriter"/>: the hottest request of the SDK (up to 1000
/// metrics each), so it skips the metadata-driven path. Same shape as the generated serializer: snake_case names,
/// empty lists and unset MLflow 3 metric fields omitted, values as <see cref="MetricValueConverter"/> writes them (the format of log-metric too).
/// The sender's batches (<see cref="LogEntryBatchRequest"/>) are written from the queued entries by the same code.
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
                WriteMetric(writer, m.Key, m.Value, m.Timestamp, m.Step, m.ModelId, m.DatasetName, m.DatasetDigest);
            }

            writer.WriteEndArray();
        }

        WritePairs(writer, Params, value.Params, static p => (p.Key, p.Value));
        WritePairs(writer, Tags, value.Tags, static t => (t.Key, t.Value));
        writer.WriteEndObject();
    }

    /// <summary>
    /// Writes the body of <paramref name="value"/> from the queued entries themselves: the same JSON as for the request
    /// lists, without a <see cref="Metric"/>, <see cref="Param"/> or <see cref="Tag"/> per entry (the sender's path).
    /// </summary>
    internal static void Write(Utf8JsonWriter writer, LogEntryBatchRequest value)
    {
        var entries = value.Entries.Span;
        writer.WriteStartObject();
        writer.WriteString(RunId, value.RunId);
        WriteEntries(writer, Metrics, entries, LogEntryKind.Metric);
        WriteEntries(writer, Params, entries, LogEntryKind.Param);
        WriteEntries(writer, Tags, entries, LogEntryKind.Tag);
        writer.WriteEndObject();
    }

    private static void WriteMetric(Utf8JsonWriter writer, string key, double value, long timestamp, long step, string? modelId, string? datasetName, string? datasetDigest)
    {
        writer.WriteStartObject();
        writer.WriteString(Key, key);
        writer.WritePropertyName(Value);
        MetricValueConverter.WriteValue(writer, value);
        writer.WriteNumber(Timestamp, timestamp);
        writer.WriteNumber(Step, step);
        WriteIfSet(writer, ModelId, modelId);
        WriteIfSet(writer, DatasetName, datasetName);
        WriteIfSet(writer, DatasetDigest, datasetDigest);
        writer.WriteEndObject();
    }

    /// <summary>The entries of one kind as the list <paramref name="name"/>, in logged order; no list when there are none.</summary>
    private static void WriteEntries(Utf8JsonWriter writer, JsonEncodedText name, ReadOnlySpan<LogEntry> entries, LogEntryKind kind)
    {
        var started = false;
        foreach (ref readonly var e in entries)
        {
            if (e.Kind != kind)
            {
                continue;
            }

            if (!started)
            {
                writer.WriteStartArray(name);
                started = true;
            }

            if (kind == LogEntryKind.Metric)
            {
                WriteMetric(writer, e.Key, e.Value, e.Timestamp, e.Step, e.Link?.ModelId, e.Link?.DatasetName, e.Link?.DatasetDigest);
            }
            else
            {
                WritePair(writer, e.Key, e.Text ?? "");
            }
        }

        if (started)
        {
            writer.WriteEndArray();
        }
    }

    private static void WritePair(Utf8JsonWriter writer, string key, string value)
    {
        writer.WriteStartObject();
        writer.WriteString(Key, key);
        writer.WriteString(Value, value);
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
            WritePair(writer, key, value);
        }

        writer.WriteEndArray();
    }
}

/// <summary>Writes a <see cref="LogEntryBatchRequest"/> (see <see cref="LogBatchRequestConverter.Write(Utf8JsonWriter, LogEntryBatchRequest)"/>).</summary>
internal sealed class LogEntryBatchRequestConverter : JsonConverter<LogEntryBatchRequest>
{
    public override LogEntryBatchRequest Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        => throw new NotSupportedException("log-batch requests are only written.");

    public override void Write(Utf8JsonWriter writer, LogEntryBatchRequest value, JsonSerializerOptions options)
        => LogBatchRequestConverter.Write(writer, value);
}
