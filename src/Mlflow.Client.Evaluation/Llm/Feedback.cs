using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Mlflow.Client.Tracing;

namespace Mlflow.Client.Evaluation.Llm;

/// <summary>
/// What a scorer says about one answer: a value (a boolean, a number, a string, or MLflow's <c>"yes"</c>/<c>"no"</c>),
/// or the error that kept it from giving one, with a rationale and who judged (code, or an LLM judge and its model).
/// An evaluation logs it as a feedback assessment on the record's trace.
/// </summary>
[DebuggerDisplay("{Name} = {Value} {Error}")]
public sealed record Feedback
{
    /// <summary>MLflow's categorical rating for a pass (what its built-in judges answer).</summary>
    public const string Yes = "yes";

    /// <summary>MLflow's categorical rating for a fail.</summary>
    public const string No = "no";

    /// <summary>The assessment name, for example <c>correctness</c>; the run's metrics are named after it (<c>correctness/mean</c>).</summary>
    public string Name { get; init => field = value ?? ""; } = "";

    /// <summary>The value: a boolean, number or string (<see cref="Yes"/>/<see cref="No"/> for judges); <see langword="null"/> with an <see cref="Error"/>.</summary>
    public JsonNode? Value { get; init; }

    /// <summary>Why the scorer judged so.</summary>
    public string? Rationale { get; init; }

    /// <summary>Why there is no value (a judge that failed or answered what could not be read, a scorer that threw).</summary>
    public AssessmentError? Error { get; init; }

    /// <summary>Who judged: <see cref="AssessmentSource.Code"/> with the scorer's name, or <see cref="AssessmentSource.LlmJudge"/> with the judge's model.</summary>
    public AssessmentSource Source { get; init => field = value ?? AssessmentSource.Code("default"); } = AssessmentSource.Code("default");

    /// <summary>More metadata for the assessment (for example the judge's token counts).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; init => field = value ?? EmptyMetadata; } = EmptyMetadata;

    /// <summary>
    /// The value as a number, as MLflow aggregates it: a boolean is 1 or 0, a number itself, <c>"yes"</c>/<c>"no"</c>
    /// (any case) 1 or 0; <see langword="null"/> for anything else and for an error, which the aggregates leave out.
    /// </summary>
    public double? NumericValue => Error is null ? ToNumber(Value) : null;

    /// <summary>Feedback from code with a value.</summary>
    /// <param name="name">The assessment name.</param>
    /// <param name="value">The value.</param>
    /// <param name="rationale">Why, or <see langword="null"/>.</param>
    /// <returns>The feedback, with source <c>CODE</c> and the name as its id.</returns>
    public static Feedback FromCode(string name, JsonNode? value, string? rationale = null)
        => new() { Name = name, Value = value, Rationale = rationale, Source = AssessmentSource.Code(name) };

    /// <summary>Feedback that has no value because something failed.</summary>
    /// <param name="name">The assessment name.</param>
    /// <param name="source">Who was judging.</param>
    /// <param name="errorCode">A short code, for example <c>SCORER_ERROR</c>.</param>
    /// <param name="message">What went wrong.</param>
    /// <returns>The feedback.</returns>
    public static Feedback Failed(string name, AssessmentSource source, string errorCode, string message)
        => new() { Name = name, Source = source, Error = new AssessmentError(errorCode, message) };

    /// <summary>The assessment to log on a trace.</summary>
    internal Assessment ToAssessment(string traceId, string? runId, string? spanId)
        => Assessment.CreateFeedback(traceId, Name, Value?.DeepClone(), Source, Rationale, runId, spanId, Metadata) with
        {
            Feedback = new AssessmentFeedback(Value?.DeepClone(), Error),
        };

    private static double? ToNumber(JsonNode? value)
    {
        if (value is not JsonValue v)
        {
            return null;
        }

        switch (v.GetValueKind())
        {
            case JsonValueKind.True:
                return 1;
            case JsonValueKind.False:
                return 0;
            case JsonValueKind.Number:
                return Number(v);
            case JsonValueKind.String:
                var text = v.GetValue<string>().Trim();
                return text.Equals(Yes, StringComparison.OrdinalIgnoreCase) ? 1
                    : text.Equals(No, StringComparison.OrdinalIgnoreCase) ? 0
                    : null;
            default:
                return null;
        }
    }

    /// <summary>A JSON number as a double, whatever .NET type the node was made from (an int, a long, a double, parsed JSON).</summary>
    internal static double Number(JsonValue value) => double.Parse(value.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture);

    /// <summary>The value for a table cell: a string, a number, a boolean, or the JSON text of anything else.</summary>
    internal object? CellValue() => Value switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        JsonValue v when v.GetValueKind() == JsonValueKind.Number => Number(v),
        JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False => v.GetValue<bool>(),
        _ => Value.ToJsonString(),
    };

    /// <inheritdoc/>
    public override string ToString()
        => Error is { } e
            ? string.Create(CultureInfo.InvariantCulture, $"{Name}: error {e.ErrorCode}: {e.ErrorMessage}")
            : string.Create(CultureInfo.InvariantCulture, $"{Name}: {Value?.ToJsonString() ?? "null"}{(Rationale is null ? "" : " (" + Rationale + ")")}");

    private static readonly IReadOnlyDictionary<string, string> EmptyMetadata = new Dictionary<string, string>();
}
