using System.Text.Json;
using System.Text.Json.Nodes;
using Mlflow.Client.Tracing;

namespace Mlflow.Client.Evaluation.Llm;

/// <summary>
/// Judges one answer of the application: a code scorer (<see cref="Scorers"/>), an LLM judge (<see cref="Judges"/>) or
/// your own. <see cref="Name"/> names its feedback and the run's metrics (<c>&lt;name&gt;/mean</c>).
/// </summary>
/// <remarks>
/// A scorer should return a <see cref="Feedback"/> with an error rather than throw; when it throws anyway, the
/// evaluation records a <c>SCORER_ERROR</c> feedback for it and goes on. It may be called for several records at once.
/// </remarks>
public interface IScorer
{
    /// <summary>The scorer's name: the name of its feedback and of the run's metrics.</summary>
    string Name { get; }

    /// <summary>Which aggregates of its values go onto the run; MLflow's default is the mean only.</summary>
    ScoreAggregations Aggregations => ScoreAggregations.Mean;

    /// <summary>Judges one answer.</summary>
    /// <param name="input">The record's inputs and expectations, the answer, its spans and how long it took.</param>
    /// <param name="cancellationToken">Cancels the scoring.</param>
    /// <returns>The feedback.</returns>
    Task<Feedback> ScoreAsync(ScorerInput input, CancellationToken cancellationToken);
}

/// <summary>The aggregates of a scorer's values logged onto the run as <c>&lt;name&gt;/&lt;aggregate&gt;</c> (MLflow's names).</summary>
[Flags]
public enum ScoreAggregations
{
    /// <summary>None.</summary>
    None = 0,
    /// <summary><c>mean</c> (MLflow's default).</summary>
    Mean = 1,
    /// <summary><c>min</c>.</summary>
    Min = 2,
    /// <summary><c>max</c>.</summary>
    Max = 4,
    /// <summary><c>median</c>.</summary>
    Median = 8,
    /// <summary><c>variance</c> (population variance, as numpy's <c>var</c>).</summary>
    Variance = 16,
    /// <summary><c>p90</c> (the 90th percentile, numpy's linear interpolation).</summary>
    P90 = 32,
}

/// <summary>What a scorer judges: one record of the dataset and what the application answered.</summary>
public sealed class ScorerInput
{
    private readonly List<TraceSpan> _judgeSpans = [];

    /// <summary>A scorer input (for calling a scorer outside an evaluation, in a test for example).</summary>
    /// <param name="inputs">The inputs the application was called with.</param>
    /// <param name="outputs">What it answered.</param>
    /// <param name="expectations">The expectations, or <see langword="null"/>.</param>
    /// <param name="spans">Spans of the call (retrievals, chat calls), or <see langword="null"/>.</param>
    /// <param name="duration">How long the call took.</param>
    public ScorerInput(IReadOnlyDictionary<string, JsonNode?> inputs, JsonNode? outputs, IReadOnlyDictionary<string, JsonNode?>? expectations = null, IReadOnlyList<TraceSpan>? spans = null, TimeSpan duration = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        Inputs = inputs;
        Outputs = outputs;
        Expectations = expectations ?? new Dictionary<string, JsonNode?>();
        Spans = spans ?? [];
        Duration = duration;
    }

    /// <summary>The inputs the application was called with.</summary>
    public IReadOnlyDictionary<string, JsonNode?> Inputs { get; }

    /// <summary>What the application answered; <see langword="null"/> when it failed.</summary>
    public JsonNode? Outputs { get; }

    /// <summary>The record's expectations (<c>expected_response</c>, <c>expected_facts</c>, <c>guidelines</c>...).</summary>
    public IReadOnlyDictionary<string, JsonNode?> Expectations { get; }

    /// <summary>The spans of the call below its root (retrievals, chat calls), as the application reported them.</summary>
    public IReadOnlyList<TraceSpan> Spans { get; }

    /// <summary>How long the call took.</summary>
    public TimeSpan Duration { get; }

    /// <summary>Why the call failed, when it did.</summary>
    public string? Error { get; init; }

    /// <summary>The answer as text: a string itself, a chat answer's content, else its JSON text; empty when there is none.</summary>
    public string OutputText => TextOf(Outputs);

    /// <summary>The inputs as text: a single string input itself, else their JSON text.</summary>
    public string InputText
    {
        get
        {
            if (Inputs.Count == 1 && Inputs.Values.First() is JsonValue v && v.GetValueKind() == JsonValueKind.String)
            {
                return v.GetValue<string>();
            }

            var o = new JsonObject();
            foreach (var (key, value) in Inputs)
            {
                o[key] = value?.DeepClone();
            }

            return o.ToJsonString();
        }
    }

    /// <summary>The span the judges' calls are recorded under: the root of the scorer's own trace, when scorers are traced.</summary>
    internal string? ParentSpanId { get; init; }

    /// <summary>The clock the judge spans are timed with.</summary>
    internal TimeProvider Clock { get; init; } = TimeProvider.System;

    /// <summary>
    /// The judges' chat calls made while scoring this record, as CHAT_MODEL spans. They are never put on the record's
    /// trace (MLflow 3.11.1's evaluate scores outside the application's trace); with
    /// <see cref="LlmEvaluationOptions.TraceScorers"/> they go on the scorer's own trace.
    /// </summary>
    internal IReadOnlyList<TraceSpan> JudgeSpans
    {
        get
        {
            lock (_judgeSpans)
            {
                return _judgeSpans.ToList();
            }
        }
    }

    /// <summary>The same record for one scorer's own trace: judge spans recorded under <paramref name="parentSpanId"/>, apart from the other scorers'.</summary>
    internal ScorerInput ForScorerTrace(string parentSpanId)
        => new(Inputs, Outputs, Expectations, Spans, Duration) { Error = Error, ParentSpanId = parentSpanId, Clock = Clock };

    internal void AddJudgeSpan(TraceSpan span)
    {
        lock (_judgeSpans)
        {
            _judgeSpans.Add(span);
        }
    }

    /// <summary>An expectation as text (a string itself, else its JSON text), or <see langword="null"/> when the record has none of that name.</summary>
    /// <param name="name">The expectation's name, for example <c>expected_response</c>.</param>
    /// <returns>The text.</returns>
    public string? ExpectationText(string name)
        => Expectations.TryGetValue(name, out var value) && value is not null ? TextOf(value) : null;

    /// <summary>The content of the first choice of a chat completion (<c>{"choices": [{"message": {"content": ...}}]}</c>), if it is one.</summary>
    private static string? ChatContent(JsonObject o)
    {
        var message = (o["choices"] as JsonArray) is { Count: > 0 } choices ? (choices[0] as JsonObject)?["message"] as JsonObject : null;
        return message?["content"] is JsonValue c && c.GetValueKind() == JsonValueKind.String ? c.GetValue<string>() : null;
    }

    internal static string TextOf(JsonNode? node)
    {
        switch (node)
        {
            case null:
                return "";
            case JsonValue v when v.GetValueKind() == JsonValueKind.String:
                return v.GetValue<string>();
            case JsonObject o when ChatContent(o) is { } content:
                return content;
            case JsonObject o when o.Count == 1 && o.First().Value is JsonValue only && only.GetValueKind() == JsonValueKind.String:
                return only.GetValue<string>();
            default:
                return node.ToJsonString();
        }
    }
}
