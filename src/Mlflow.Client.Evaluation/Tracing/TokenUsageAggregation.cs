using System.Text.Json.Nodes;
using Mlflow.Client.Artifacts;

namespace Mlflow.Client.Tracing;

/// <summary>
/// A trace's token usage, <c>mlflow.trace.tokenUsage</c> metadata, as MLflow 3.11.1 sums it
/// (<c>aggregate_usage_from_spans</c>): the <c>mlflow.chat.tokenUsage</c> of each span whose ancestors have none (so a
/// span that reports what its children used is not counted twice), written as <c>json.dumps</c> does.
/// </summary>
internal static class TokenUsageAggregation
{
    private static readonly string[] Keys = [GenAiConventions.InputTokensKey, GenAiConventions.OutputTokensKey, GenAiConventions.TotalTokensKey];

    /// <summary>The metadata value, or <see langword="null"/> when no span reports usage.</summary>
    public static string? Aggregate(IReadOnlyList<TraceSpan> spans)
    {
        var totals = new long[Keys.Length];
        var found = false;
        foreach (var usage in Counted(spans))
        {
            for (var i = 0; i < Keys.Length; i++)
            {
                totals[i] += usage[Keys[i]] is JsonValue v && long.TryParse(v.ToJsonString(), System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : 0;
            }

            found = true;
        }

        if (!found)
        {
            return null;
        }

        return PythonJson.Serialize(Keys.Select((k, i) => new KeyValuePair<string, object?>(k, totals[i])).ToList());
    }

    /// <summary>
    /// The <c>mlflow.chat.tokenUsage</c> of each span whose ancestors report none (a span that reports what its children
    /// used is counted once, not with them): what MLflow sums.
    /// </summary>
    public static List<JsonObject> Counted(IReadOnlyList<TraceSpan> spans)
    {
        var ids = spans.Select(s => s.SpanId).ToHashSet(StringComparer.Ordinal);
        var children = spans.Where(s => s.ParentSpanId is { } p && ids.Contains(p)).ToLookup(s => s.ParentSpanId!, StringComparer.Ordinal);
        var counted = new List<JsonObject>();
        var stack = new Stack<(TraceSpan Span, bool AncestorCounted)>(spans.Where(s => s.ParentSpanId is not { } p || !ids.Contains(p)).Select(s => (s, false)));
        var visited = 0;
        while (stack.Count > 0 && visited++ <= spans.Count)
        {
            var (span, ancestorCounted) = stack.Pop();
            var usage = span.Attributes.TryGetValue(GenAiConventions.TokenUsageAttribute, out var node) ? node as JsonObject : null;
            if (usage is not null && !ancestorCounted)
            {
                counted.Add(usage);
            }

            foreach (var child in children[span.SpanId])
            {
                stack.Push((child, ancestorCounted || usage is not null));
            }
        }

        return counted;
    }
}
