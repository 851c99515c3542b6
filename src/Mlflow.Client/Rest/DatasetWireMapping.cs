using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Mlflow.Client.Rest;

/// <summary>
/// Evaluation datasets between the typed model and MLflow's wire form, where tags and records are JSON text inside the
/// body: records as <c>DatasetRecord.to_dict</c> writes them (<c>inputs</c>, <c>expectations</c>, <c>tags</c>,
/// <c>source</c> as <c>{"source_type": "HUMAN", "source_data": {}}</c>, ids, times in milliseconds).
/// </summary>
internal static class DatasetWireMapping
{
    public static EvaluationDatasetInfo FromWire(EvaluationDatasetWire wire) => new()
    {
        DatasetId = wire.DatasetId ?? "",
        Name = wire.Name ?? "",
        Digest = wire.Digest,
        Tags = ParseTags(wire.Tags),
        Schema = wire.Schema,
        Profile = wire.Profile,
        CreatedTimeMs = wire.CreatedTime,
        LastUpdateTimeMs = wire.LastUpdateTime,
        CreatedBy = wire.CreatedBy,
        LastUpdatedBy = wire.LastUpdatedBy,
        ExperimentIds = wire.ExperimentIds ?? [],
    };

    /// <summary>Tags as JSON text (<c>{"stage": "dev"}</c>), or <see langword="null"/> when there are none.</summary>
    public static string? TagsToJson(IReadOnlyDictionary<string, string>? tags)
    {
        if (tags is null || tags.Count == 0)
        {
            return null;
        }

        var o = new JsonObject();
        foreach (var (key, value) in tags)
        {
            o[key] = value;
        }

        return o.ToJsonString();
    }

    /// <summary>The records as the JSON text list <c>datasets/{id}/records</c> takes; a record without a source is marked as MLflow's client marks it.</summary>
    public static string RecordsToJson(IEnumerable<EvaluationRecord> records)
    {
        var list = new JsonArray();
        foreach (var record in records)
        {
            list.Add(RecordToJson(record));
        }

        return list.ToJsonString();
    }

    /// <summary>One record as a JSON object: inputs, expectations and tags when present, and its source.</summary>
    public static JsonObject RecordToJson(EvaluationRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var o = new JsonObject { ["inputs"] = ToObject(record.Inputs) };
        if (record.Expectations.Count > 0)
        {
            o["expectations"] = ToObject(record.Expectations);
        }

        if (record.Tags.Count > 0)
        {
            var tags = new JsonObject();
            foreach (var (key, value) in record.Tags)
            {
                tags[key] = value;
            }

            o["tags"] = tags;
        }

        var source = record.Source ?? new DatasetRecordSource(record.Expectations.Count > 0 ? DatasetRecordSourceType.Human : DatasetRecordSourceType.Code);
        o["source"] = new JsonObject
        {
            ["source_type"] = SourceTypeName(source.Type),
            ["source_data"] = source.Data?.DeepClone() ?? new JsonObject(),
        };
        return o;
    }

    /// <summary>The records of a <c>records</c> JSON text list.</summary>
    /// <exception cref="MlflowException">The text is not a JSON list of records.</exception>
    public static IReadOnlyList<EvaluationRecord> ParseRecords(string? json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return [];
        }

        JsonNode? node;
        try
        {
            node = JsonNode.Parse(json);
        }
        catch (JsonException ex)
        {
            throw new MlflowException("The server's dataset records are not JSON.", ex);
        }

        if (node is not JsonArray array)
        {
            throw new MlflowException("The server's dataset records are not a JSON list.");
        }

        return array.Select(item => RecordFromJson(item as JsonObject ?? throw new MlflowException("A dataset record is not a JSON object."))).ToList();
    }

    /// <summary>One record from its JSON object (a server's, or a line of a JSONL file).</summary>
    public static EvaluationRecord RecordFromJson(JsonObject o)
    {
        DatasetRecordSource? source = null;
        if (o["source"] is JsonObject s)
        {
            source = new DatasetRecordSource(
                ParseSourceType(s["source_type"] is JsonValue t && t.GetValueKind() == JsonValueKind.String ? t.GetValue<string>() : null),
                s["source_data"] is JsonObject data && data.Count > 0 ? (JsonObject)data.DeepClone() : null);
        }

        return new EvaluationRecord
        {
            Inputs = ToDictionary(o["inputs"], "inputs"),
            Expectations = ToDictionary(o["expectations"], "expectations"),
            Tags = ToTags(o["tags"]),
            Source = source,
            RecordId = Text(o["dataset_record_id"]),
            DatasetId = Text(o["dataset_id"]),
            CreatedTimeMs = Long(o["created_time"]),
            LastUpdateTimeMs = Long(o["last_update_time"]),
        };
    }

    public static string SourceTypeName(DatasetRecordSourceType type) => type switch
    {
        DatasetRecordSourceType.Trace => "TRACE",
        DatasetRecordSourceType.Human => "HUMAN",
        DatasetRecordSourceType.Document => "DOCUMENT",
        DatasetRecordSourceType.Code => "CODE",
        _ => "SOURCE_TYPE_UNSPECIFIED",
    };

    public static DatasetRecordSourceType ParseSourceType(string? name) => name?.ToUpperInvariant() switch
    {
        "TRACE" => DatasetRecordSourceType.Trace,
        "HUMAN" => DatasetRecordSourceType.Human,
        "DOCUMENT" => DatasetRecordSourceType.Document,
        "CODE" => DatasetRecordSourceType.Code,
        _ => DatasetRecordSourceType.Unspecified,
    };

    private static JsonObject ToObject(IReadOnlyDictionary<string, JsonNode?> values)
    {
        var o = new JsonObject();
        foreach (var (key, value) in values)
        {
            o[key] = value?.DeepClone();
        }

        return o;
    }

    private static Dictionary<string, JsonNode?> ToDictionary(JsonNode? node, string what)
    {
        var result = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
        switch (node)
        {
            case null:
                return result;
            case JsonObject o:
                foreach (var (key, value) in o)
                {
                    result[key] = value?.DeepClone();
                }

                return result;
            default:
                throw new MlflowException($"A dataset record's {what} is not a JSON object: {Cut(node.ToJsonString())}");
        }
    }

    private static Dictionary<string, string> ToTags(JsonNode? node)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (node is JsonObject o)
        {
            foreach (var (key, value) in o)
            {
                result[key] = value is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : value?.ToJsonString() ?? "";
            }
        }

        return result;
    }

    private static Dictionary<string, string> ParseTags(string? json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return new Dictionary<string, string>(StringComparer.Ordinal);
        }

        try
        {
            return ToTags(JsonNode.Parse(json));
        }
        catch (JsonException ex)
        {
            throw new MlflowException("The server's dataset tags are not JSON.", ex);
        }
    }

    private static string? Text(JsonNode? node) => node is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;

    private static long? Long(JsonNode? node) => node is JsonValue v
        ? v.GetValueKind() == JsonValueKind.Number ? v.GetValue<long>()
        : v.GetValueKind() == JsonValueKind.String && long.TryParse(v.GetValue<string>(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) ? parsed
        : null
        : null;

    private static string Cut(string text) => text.Length <= 200 ? text : text[..200] + "...";
}
