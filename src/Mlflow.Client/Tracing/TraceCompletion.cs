using System.Text.Json;
using System.Text.Json.Nodes;

namespace Mlflow.Client.Tracing;

/// <summary>
/// Fills in what MLflow's own tracing derives from the spans before it logs a trace, for what the caller left unset:
/// time, duration and state from the root span, request/response previews and the <c>mlflow.traceInputs</c>/
/// <c>mlflow.traceOutputs</c> metadata from its inputs and outputs, the schema version, the trace name tag.
/// </summary>
internal static class TraceCompletion
{
    private const string Ellipsis = "...";

    /// <summary>The trace info completed from its spans, and the spans with their trace id set.</summary>
    /// <exception cref="ArgumentException">The trace has no id or experiment, or a span of another trace.</exception>
    public static (TraceInfo Info, IReadOnlyList<TraceSpan> Spans) Complete(TraceInfo info, IReadOnlyList<TraceSpan> spans)
    {
        ArgumentNullException.ThrowIfNull(info);
        ArgumentNullException.ThrowIfNull(spans);
        if (string.IsNullOrEmpty(info.TraceId))
        {
            throw new ArgumentException("The trace has no id (TraceIds.NewTraceId makes one).", nameof(info));
        }

        if (string.IsNullOrEmpty(info.ExperimentId))
        {
            throw new ArgumentException("The trace has no experiment id.", nameof(info));
        }

        var owned = spans.Select(s => s is null
            ? throw new ArgumentException("A span is null.", nameof(spans))
            : s.TraceId.Length == 0 ? s with { TraceId = info.TraceId } : s).ToList();
        var root = owned.FirstOrDefault(s => s.ParentSpanId is null);
        if (root is null)
        {
            return (info, owned);
        }

        var metadata = new Dictionary<string, string>(info.Metadata, StringComparer.Ordinal);
        metadata.TryAdd(TraceKeys.SchemaVersionMetadata, TraceKeys.SchemaVersion);
        var inputs = root.Inputs is null ? null : TraceDataJson.Dump(root.Inputs);
        var outputs = root.Outputs is null ? null : TraceDataJson.Dump(root.Outputs);
        metadata.TryAdd(TraceKeys.InputsMetadata, Truncate(inputs ?? "", TraceKeys.MaxMetadataValueLength));
        metadata.TryAdd(TraceKeys.OutputsMetadata, Truncate(outputs ?? "", TraceKeys.MaxMetadataValueLength));
        var tags = new Dictionary<string, string>(info.Tags, StringComparer.Ordinal);
        tags.TryAdd(TraceKeys.TraceNameTag, root.Name);

        var completed = info with
        {
            RequestTimeMs = info.RequestTimeMs != 0 ? info.RequestTimeMs : root.StartTimeUnixNano / 1_000_000,
            ExecutionDurationMs = info.ExecutionDurationMs ?? (root.EndTimeUnixNano is { } end ? (end - root.StartTimeUnixNano) / 1_000_000 : null),
            State = info.State != TraceState.Unspecified ? info.State
                : root.Status == TraceSpanStatus.Error ? TraceState.Error
                : root.EndTimeUnixNano is null ? TraceState.InProgress
                : TraceState.Ok,
            RequestPreview = info.RequestPreview ?? Preview(root.Inputs, inputs, "user"),
            ResponsePreview = info.ResponsePreview ?? Preview(root.Outputs, outputs, "assistant"),
            Metadata = metadata,
            Tags = tags,
        };
        return (completed, owned);
    }

    /// <summary>
    /// MLflow's preview: for chat messages (<c>{"messages": [...]}</c>, or a response's <c>choices</c>) the text of the
    /// last message of the role, else the JSON text; cut to 1,000 characters.
    /// </summary>
    private static string? Preview(JsonNode? value, string? text, string role)
    {
        if (text is null)
        {
            return null;
        }

        var content = LastMessageText(value, role) ?? text;
        return Truncate(content, TraceKeys.MaxPreviewLength);
    }

    private static string? LastMessageText(JsonNode? value, string role)
    {
        if (value is not JsonObject o)
        {
            return null;
        }

        IEnumerable<JsonNode?>? messages = o["messages"] as JsonArray;
        if (messages is null && o["choices"] is JsonArray choices)
        {
            messages = choices.Select(c => (c as JsonObject)?["message"]);
        }

        var last = messages?.OfType<JsonObject>().LastOrDefault(m => m["role"] is JsonValue r && r.GetValueKind() == JsonValueKind.String && r.GetValue<string>() == role);
        return last?["content"] is JsonValue c && c.GetValueKind() == JsonValueKind.String ? c.GetValue<string>() : null;
    }

    internal static string Truncate(string value, int max)
        => value.Length <= max ? value : value[..(max - Ellipsis.Length)] + Ellipsis;
}
