using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;

namespace Mlflow.Client.Tracing;

/// <summary>
/// A span of code that is not instrumented (a retrieval, a step of an agent), recorded as an MLflow span with its type,
/// inputs and outputs. It is an <see cref="System.Diagnostics.Activity"/> of the source <see cref="MlflowTracer.ActivitySourceName"/>,
/// so spans of instrumented libraries started inside it (an <c>IChatClient</c>'s chat span) become its children in the
/// same trace. Start one with <see cref="MlflowTracer.StartSpan"/> (or <see cref="Start"/> when traces are exported
/// through OpenTelemetry's <c>AddMlflowExporter</c>); dispose it to end it.
/// </summary>
/// <remarks>When nothing listens (no <see cref="MlflowTracer"/>, no tracer provider with the exporter) the span records nothing and costs next to nothing.</remarks>
public sealed class MlflowSpan : IDisposable
{
    internal static readonly ActivitySource Source = new(MlflowTracer.ActivitySourceName, typeof(MlflowSpan).Assembly.GetName().Version?.ToString());

    private MlflowSpan(Activity? activity)
    {
        Activity = activity;
    }

    /// <summary>The underlying activity; <see langword="null"/> when nothing listens.</summary>
    public Activity? Activity { get; }

    /// <summary>The MLflow trace id the span belongs to (<c>tr-…</c>), to attach assessments to; <see langword="null"/> when nothing listens.</summary>
    public string? TraceId => Activity is { } a ? TraceIds.FromOpenTelemetryTraceId(a.TraceId.ToHexString()) : null;

    /// <summary>The span id (16 hex digits); <see langword="null"/> when nothing listens.</summary>
    public string? SpanId => Activity?.SpanId.ToHexString();

    /// <summary>Starts a span as a child of the current activity (or as the root of a new trace), and makes it current.</summary>
    /// <param name="name">The span's name, for example <c>retrieve</c>.</param>
    /// <param name="spanType">Its MLflow type (<see cref="SpanType"/>: <c>RETRIEVER</c>, <c>TOOL</c>, <c>CHAIN</c>...); <c>UNKNOWN</c> when <see langword="null"/>.</param>
    /// <returns>The span; dispose it to end it.</returns>
    public static MlflowSpan Start(string name, string? spanType = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var activity = Source.StartActivity(name, ActivityKind.Internal);
        activity?.SetTag(TraceDataJson.SpanTypeAttribute, spanType ?? SpanType.Unknown);
        return new MlflowSpan(activity);
    }

    /// <summary>Records what the span received, for example <c>new JsonObject { ["query"] = query }</c> (a copy is kept).</summary>
    /// <param name="inputs">The inputs as JSON.</param>
    /// <returns>This span.</returns>
    public MlflowSpan SetInputs(JsonNode? inputs)
    {
        Activity?.SetTag(TraceDataJson.InputsAttribute, inputs?.DeepClone());
        return this;
    }

    /// <summary>Records what the span received, serialized with source-generated JSON metadata.</summary>
    /// <typeparam name="T">The inputs' type.</typeparam>
    /// <param name="inputs">The inputs.</param>
    /// <param name="typeInfo">Its JSON metadata, for example <c>MyJsonContext.Default.Question</c>.</param>
    /// <returns>This span.</returns>
    public MlflowSpan SetInputs<T>(T inputs, JsonTypeInfo<T> typeInfo)
    {
        ArgumentNullException.ThrowIfNull(typeInfo);
        return Activity is null ? this : SetInputs(JsonSerializer.SerializeToNode(inputs, typeInfo));
    }

    /// <summary>Records what the span returned, for example a list of documents for a retriever (a copy is kept).</summary>
    /// <param name="outputs">The outputs as JSON.</param>
    /// <returns>This span.</returns>
    public MlflowSpan SetOutputs(JsonNode? outputs)
    {
        Activity?.SetTag(TraceDataJson.OutputsAttribute, outputs?.DeepClone());
        return this;
    }

    /// <summary>Records what the span returned, serialized with source-generated JSON metadata.</summary>
    /// <typeparam name="T">The outputs' type.</typeparam>
    /// <param name="outputs">The outputs.</param>
    /// <param name="typeInfo">Its JSON metadata.</param>
    /// <returns>This span.</returns>
    public MlflowSpan SetOutputs<T>(T outputs, JsonTypeInfo<T> typeInfo)
    {
        ArgumentNullException.ThrowIfNull(typeInfo);
        return Activity is null ? this : SetOutputs(JsonSerializer.SerializeToNode(outputs, typeInfo));
    }

    /// <summary>Sets an attribute (a string, number, boolean, an array of them, or a <see cref="JsonNode"/>).</summary>
    /// <param name="key">The attribute's name; not one MLflow reserves (<c>mlflow.spanInputs</c>...: use the methods for those).</param>
    /// <param name="value">The value.</param>
    /// <returns>This span.</returns>
    /// <exception cref="ArgumentException">The key is empty or reserved.</exception>
    public MlflowSpan SetAttribute(string key, object? value)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        if (key is TraceDataJson.InputsAttribute or TraceDataJson.OutputsAttribute or TraceDataJson.SpanTypeAttribute or TraceDataJson.RequestIdAttribute)
        {
            throw new ArgumentException($"'{key}' is set by MLflow or by SetInputs/SetOutputs/Start, not as an attribute.", nameof(key));
        }

        Activity?.SetTag(key, value is JsonNode node ? node.DeepClone() : value);
        return this;
    }

    /// <summary>Marks the span failed with an exception: status ERROR with its message, and an <c>exception</c> event as OpenTelemetry records one.</summary>
    /// <param name="exception">What failed.</param>
    /// <returns>This span.</returns>
    public MlflowSpan SetError(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        if (Activity is { } activity)
        {
            activity.SetStatus(ActivityStatusCode.Error, exception.Message);
            activity.AddEvent(new ActivityEvent("exception", tags: new ActivityTagsCollection
            {
                ["exception.type"] = exception.GetType().FullName,
                ["exception.message"] = exception.Message,
                ["exception.stacktrace"] = exception.ToString(),
            }));
        }

        return this;
    }

    /// <summary>Ends the span (and restores the previous current activity).</summary>
    public void Dispose() => Activity?.Dispose();

    /// <inheritdoc />
    public override string ToString() => Activity is { } a
        ? string.Create(CultureInfo.InvariantCulture, $"MlflowSpan {a.DisplayName} {TraceId}/{SpanId}")
        : "MlflowSpan (not recorded)";
}
