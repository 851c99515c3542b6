using System.Text.Json;
using System.Text.Json.Nodes;
using Mlflow.Client.Rest;
using Mlflow.Client.Tracing;

namespace Mlflow.Client.FileStore;

/// <summary>
/// The files MLflow 3.11.1's file store keeps for a trace (<c>&lt;experiment&gt;/traces/&lt;trace id&gt;/</c>):
/// <c>trace_info.yaml</c> (the trace info in protobuf's dict form, <c>MessageToDict(preserving_proto_field_name)</c>,
/// without metadata and tags, with <c>execution_duration_ms</c> in whole milliseconds), <c>request_metadata/&lt;key&gt;</c>
/// and <c>tags/&lt;key&gt;</c> (one raw value per file), and <c>assessments/&lt;assessment id&gt;.yaml</c> (the
/// assessment's dict form). The dict forms are the wire forms (<see cref="TraceInfoWire"/>, <see cref="AssessmentWire"/>),
/// which are protobuf's JSON with snake_case names; numbers inside a feedback or expectation value are floats, as
/// protobuf's <c>Value</c> holds them.
/// </summary>
internal static class TraceFiles
{
    public const string TracesFolder = "traces";
    public const string TraceInfoFile = "trace_info.yaml";
    public const string MetadataFolder = "request_metadata";
    public const string TagsFolder = "tags";
    public const string AssessmentsFolder = "assessments";
    public const string ArtifactsFolder = "artifacts";
    public const string AssessmentExtension = ".yaml";

    private const string DurationMsKey = "execution_duration_ms";
    private const string DurationKey = "execution_duration";

    /// <summary>The text of <c>trace_info.yaml</c>.</summary>
    public static string WriteTraceInfo(TraceInfo info)
    {
        var wire = TraceWireMapping.ToWire(info) with { TraceMetadata = null, Tags = null, Assessments = null, ExecutionDuration = null };
        var node = JsonSerializer.SerializeToNode(wire, MlflowJsonContext.Default.TraceInfoWire)!.AsObject();
        var entries = ToYaml(node, insideValue: false) as List<KeyValuePair<string, object?>> ?? [];
        if (info.ExecutionDurationMs is { } duration)
        {
            entries.Add(new(DurationMsKey, duration));
        }

        return MiniYaml.WriteDocument(entries);
    }

    /// <summary>The trace info of a <c>trace_info.yaml</c> (metadata, tags and assessments are read from their folders by the caller).</summary>
    /// <exception cref="FormatException">Not a trace info MLflow 3 writes (an MLflow 2 <c>request_id</c> file, or not YAML of that shape).</exception>
    public static TraceInfo ReadTraceInfo(string yaml)
    {
        var document = MiniYaml.ReadDocument(yaml);
        if (document.ContainsKey("request_id"))
        {
            throw new FormatException("The trace was written by MLflow 2 (request_id); only MLflow 3 traces (trace_id) are read.");
        }

        var duration = document.GetValueOrDefault(DurationMsKey);
        document.Remove(DurationMsKey);
        document.Remove("trace_metadata");
        document.Remove("tags");
        document.Remove("assessments");
        var wire = Deserialize(document, MlflowJsonContext.Default.TraceInfoWire);
        var info = TraceWireMapping.FromWire(wire);
        return info with
        {
            ExecutionDurationMs = duration switch
            {
                null => null,
                long l => l,
                double d => (long)d,
                string s when long.TryParse(s, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var l) => l,
                _ => throw new FormatException($"{DurationMsKey} is not a number."),
            },
        };
    }

    /// <summary>The text of an assessment file.</summary>
    public static string WriteAssessment(Assessment assessment)
    {
        var wire = TraceWireMapping.ToWire(assessment, assessment.CreateTimeMs ?? 0);
        var node = JsonSerializer.SerializeToNode(wire, MlflowJsonContext.Default.AssessmentWire)!.AsObject();
        return MiniYaml.WriteDocument(ToYaml(node, insideValue: false) as List<KeyValuePair<string, object?>> ?? []);
    }

    /// <summary>The assessment of an assessment file.</summary>
    /// <exception cref="FormatException">Not an assessment of the shape MLflow writes.</exception>
    public static Assessment ReadAssessment(string yaml)
        => TraceWireMapping.FromWire(Deserialize(MiniYaml.ReadDocument(yaml), MlflowJsonContext.Default.AssessmentWire));

    private static T Deserialize<T>(Dictionary<string, object?> document, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
    {
        try
        {
            return JsonSerializer.Deserialize(ToJson(document), type) ?? throw new FormatException("The file holds no value.");
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or MlflowException)
        {
            throw new FormatException("The file is not of the shape MLflow writes: " + ex.Message, ex);
        }
    }

    /// <summary>
    /// A JSON value as the YAML writer takes it: objects as key/value lists, arrays as lists. Properties that are null
    /// are left out (protobuf's dict form has none), but not a null <c>value</c> (a feedback with an error holds
    /// <c>value: null</c>, as MLflow writes it) nor anything inside a value, where null is data.
    /// </summary>
    private static object? ToYaml(JsonNode? node, bool insideValue) => node switch
    {
        null => null,
        JsonObject o => o
            .Where(p => insideValue || p.Value is not null || p.Key == "value")
            .Select(p => new KeyValuePair<string, object?>(p.Key, ToYaml(p.Value, insideValue || p.Key == "value")))
            .ToList(),
        JsonArray a => a.Select(item => ToYaml(item, insideValue)).ToList(),
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => v.GetValue<string>(),
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.Number => v.GetValue<double>(),
            _ => null,
        },
        _ => null,
    };

    private static JsonNode? ToJson(object? value) => value switch
    {
        null => null,
        string s => JsonValue.Create(s),
        long l => JsonValue.Create(l),
        double d => JsonValue.Create(d),
        bool b => JsonValue.Create(b),
        Dictionary<string, object?> map => new JsonObject(map.Select(p => new KeyValuePair<string, JsonNode?>(p.Key, ToJson(p.Value)))),
        List<object?> list => new JsonArray(list.Select(ToJson).ToArray()),
        _ => JsonValue.Create(value.ToString()),
    };
}
