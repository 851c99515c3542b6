using System.Text.Json.Nodes;
using Mlflow.Client.Tracing;

namespace Mlflow.Client.Evaluation.Llm;

/// <summary>
/// What the application answered for one record. A string or a <see cref="JsonNode"/> converts to one, so
/// <c>predict: async inputs =&gt; "Paris"</c> works; give <see cref="RetrievedContext"/> or <see cref="Spans"/> when the
/// scorers need more than the answer (groundedness reads the retrieved context, token usage the chat spans).
/// </summary>
/// <param name="Outputs">The answer (the trace's response).</param>
public sealed record Prediction(JsonNode? Outputs)
{
    /// <summary>
    /// The documents the application retrieved for this answer; recorded as a RETRIEVER span of the trace (MLflow's
    /// document shape, <c>page_content</c>), which the groundedness judge reads.
    /// </summary>
    public IReadOnlyList<string>? RetrievedContext { get; init; }

    /// <summary>
    /// Spans the application recorded during the call (chat calls with <c>mlflow.chat.tokenUsage</c>, tools...); recorded
    /// under the trace's root span (a span without a parent gets the root as parent).
    /// </summary>
    public IReadOnlyList<TraceSpan> Spans { get; init => field = value ?? []; } = [];

    /// <summary>An answer that is text.</summary>
    /// <param name="text">The text.</param>
    public static implicit operator Prediction(string? text) => FromString(text);

    /// <summary>An answer that is JSON.</summary>
    /// <param name="outputs">The JSON value.</param>
    public static implicit operator Prediction(JsonNode? outputs) => FromJsonNode(outputs);

    /// <summary>An answer that is text.</summary>
    /// <param name="text">The text.</param>
    /// <returns>The prediction.</returns>
    public static Prediction FromString(string? text) => new(text is null ? null : JsonValue.Create(text));

    /// <summary>An answer that is JSON.</summary>
    /// <param name="outputs">The JSON value.</param>
    /// <returns>The prediction.</returns>
    public static Prediction FromJsonNode(JsonNode? outputs) => new(outputs);
}
