using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Mlflow.Client.Tracing;

/// <summary>
/// One span of a trace as MLflow stores it (<c>traces.json</c>): ids, name, times, status, MLflow's span type,
/// inputs and outputs, the other attributes and the events.
/// </summary>
/// <remarks>
/// Attribute values are JSON: MLflow keeps every span attribute as JSON text (<c>"\"CHAT_MODEL\""</c>), and this
/// type holds them decoded. <see cref="SpanType"/>, <see cref="Inputs"/> and <see cref="Outputs"/> are the attributes
/// <c>mlflow.spanType</c>, <c>mlflow.spanInputs</c> and <c>mlflow.spanOutputs</c>; <see cref="Attributes"/> holds the rest.
/// </remarks>
[DebuggerDisplay("Span {Name} {SpanId} ({SpanType})")]
public sealed record TraceSpan
{
    /// <summary>The trace the span belongs to (<c>tr-…</c>); empty means the trace it is logged with.</summary>
    public string TraceId { get; init => field = value ?? ""; } = "";

    /// <summary>The span id: 16 hex digits (the OpenTelemetry span id).</summary>
    public string SpanId { get; init => field = value ?? ""; } = "";

    /// <summary>The parent span's id; <see langword="null"/> for the root span.</summary>
    public string? ParentSpanId { get; init; }

    /// <summary>The span's name, for example the function or operation it covers.</summary>
    public string Name { get; init => field = value ?? ""; } = "";

    /// <summary>Start time in nanoseconds since the Unix epoch.</summary>
    public long StartTimeUnixNano { get; init; }

    /// <summary>End time in nanoseconds since the Unix epoch; <see langword="null"/> while the span runs.</summary>
    public long? EndTimeUnixNano { get; init; }

    /// <summary>The span's status.</summary>
    public TraceSpanStatus Status { get; init; }

    /// <summary>The status description (an error message); empty when none.</summary>
    public string StatusMessage { get; init => field = value ?? ""; } = "";

    /// <summary>MLflow's span type (<see cref="Tracing.SpanType"/>: <c>CHAT_MODEL</c>, <c>RETRIEVER</c>, <c>TOOL</c>…), or <see langword="null"/>.</summary>
    public string? SpanType { get; init; }

    /// <summary>What the span received (for a chat model, the messages), as JSON; <see langword="null"/> when not recorded.</summary>
    public JsonNode? Inputs { get; init; }

    /// <summary>What the span returned, as JSON; <see langword="null"/> when not recorded.</summary>
    public JsonNode? Outputs { get; init; }

    /// <summary>Other attributes, decoded from MLflow's JSON text (a value that is not JSON text reads as a string).</summary>
    public IReadOnlyDictionary<string, JsonNode?> Attributes { get; init => field = value ?? EmptyAttributes; } = EmptyAttributes;

    /// <summary>Events recorded during the span, for example an <c>exception</c>.</summary>
    public IReadOnlyList<TraceSpanEvent> Events { get; init => field = value ?? []; } = [];

    internal static readonly IReadOnlyDictionary<string, JsonNode?> EmptyAttributes = new Dictionary<string, JsonNode?>();
}

/// <summary>An event of a span (OpenTelemetry's span event), for example an exception.</summary>
/// <param name="Name">The event's name (<c>exception</c> for a recorded exception).</param>
/// <param name="TimeUnixNano">When it happened, in nanoseconds since the Unix epoch.</param>
/// <param name="Attributes">Its attributes, as plain JSON values (MLflow does not encode event attributes as JSON text).</param>
public sealed record TraceSpanEvent(string Name, long TimeUnixNano, IReadOnlyDictionary<string, JsonNode?> Attributes);

/// <summary>A span's status (OpenTelemetry's status code).</summary>
public enum TraceSpanStatus
{
    /// <summary>Not set (<c>STATUS_CODE_UNSET</c>).</summary>
    Unset = 0,
    /// <summary>Succeeded (<c>STATUS_CODE_OK</c>).</summary>
    Ok = 1,
    /// <summary>Failed (<c>STATUS_CODE_ERROR</c>).</summary>
    Error = 2,
}

/// <summary>MLflow's span types, as its UI and evaluation read them from the <c>mlflow.spanType</c> attribute.</summary>
public static class SpanType
{
    /// <summary>A call to a chat model (messages in, a message out).</summary>
    public const string ChatModel = "CHAT_MODEL";
    /// <summary>A call to a completion model.</summary>
    public const string Llm = "LLM";
    /// <summary>A retrieval of documents (outputs: a list of documents).</summary>
    public const string Retriever = "RETRIEVER";
    /// <summary>A tool call.</summary>
    public const string Tool = "TOOL";
    /// <summary>A sequence of steps.</summary>
    public const string Chain = "CHAIN";
    /// <summary>An agent's turn.</summary>
    public const string Agent = "AGENT";
    /// <summary>An embedding computation.</summary>
    public const string Embedding = "EMBEDDING";
    /// <summary>A parser of model output.</summary>
    public const string Parser = "PARSER";
    /// <summary>A reranking of documents.</summary>
    public const string Reranker = "RERANKER";
    /// <summary>A memory read or write.</summary>
    public const string Memory = "MEMORY";
    /// <summary>A workflow.</summary>
    public const string Workflow = "WORKFLOW";
    /// <summary>A task within a workflow.</summary>
    public const string Task = "TASK";
    /// <summary>A guardrail check.</summary>
    public const string Guardrail = "GUARDRAIL";
    /// <summary>An evaluator (a scorer or judge).</summary>
    public const string Evaluator = "EVALUATOR";
    /// <summary>Anything else (MLflow's default).</summary>
    public const string Unknown = "UNKNOWN";
}
