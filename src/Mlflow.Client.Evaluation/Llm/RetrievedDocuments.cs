using System.Text.Json;
using System.Text.Json.Nodes;
using Mlflow.Client.Tracing;

namespace Mlflow.Client.Evaluation.Llm;

/// <summary>Retrieved documents in MLflow's shape (a RETRIEVER span's outputs: a list of <c>{"page_content": ..., "metadata": {...}}</c>).</summary>
internal static class RetrievedDocuments
{
    /// <summary>The span recording retrieved texts, as MLflow's retriever spans hold them.</summary>
    public static TraceSpan Span(IReadOnlyList<string> texts, string? parentSpanId, long startNanos, long endNanos, JsonNode? inputs)
        => new()
        {
            SpanId = TraceIds.NewSpanId(),
            ParentSpanId = parentSpanId,
            Name = "retrieve",
            StartTimeUnixNano = startNanos,
            EndTimeUnixNano = endNanos,
            Status = TraceSpanStatus.Ok,
            SpanType = SpanType.Retriever,
            Inputs = inputs,
            Outputs = new JsonArray(texts.Select((t, i) => (JsonNode)new JsonObject
            {
                ["page_content"] = t,
                ["metadata"] = new JsonObject { ["chunk_index"] = i },
            }).ToArray()),
        };

    /// <summary>The texts of retrieved documents: each item's <c>page_content</c>, or the item itself when it is text.</summary>
    public static IReadOnlyList<string>? Texts(JsonNode? outputs)
    {
        if (outputs is not JsonArray list)
        {
            return null;
        }

        return list.Select(item => item switch
        {
            JsonObject o when o["page_content"] is JsonValue p && p.GetValueKind() == JsonValueKind.String => p.GetValue<string>(),
            JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
            _ => item?.ToJsonString() ?? "",
        }).Where(t => t.Length > 0).ToList();
    }
}
