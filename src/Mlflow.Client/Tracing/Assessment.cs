using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Mlflow.Client.Tracing;

/// <summary>
/// A judgement attached to a trace (or one of its spans): <b>feedback</b> on its quality (from a person, an LLM judge
/// or code, with a value or an error and a rationale) or an <b>expectation</b> (the expected answer, facts...).
/// Exactly one of <see cref="Feedback"/> and <see cref="Expectation"/> is set; build one with
/// <see cref="CreateFeedback"/> or <see cref="CreateExpectation"/>.
/// </summary>
[DebuggerDisplay("Assessment {Name} {AssessmentId} on {TraceId}")]
public sealed record Assessment
{
    /// <summary>The assessment id (<c>a-…</c>), given by the store when it is created.</summary>
    public string? AssessmentId { get; init; }

    /// <summary>The assessment's name, for example <c>correctness</c> or <c>expected_response</c>.</summary>
    public string Name { get; init => field = value ?? ""; } = "";

    /// <summary>The trace it judges.</summary>
    public string? TraceId { get; init; }

    /// <summary>The span it judges, when it is about one span rather than the whole trace.</summary>
    public string? SpanId { get; init; }

    /// <summary>Who or what made the judgement.</summary>
    public AssessmentSource Source { get; init => field = value ?? AssessmentSource.Default; } = AssessmentSource.Default;

    /// <summary>Creation time in milliseconds since the Unix epoch; the current time when <see langword="null"/> at creation.</summary>
    public long? CreateTimeMs { get; init; }

    /// <summary>Last update time in milliseconds since the Unix epoch.</summary>
    public long? LastUpdateTimeMs { get; init; }

    /// <summary>The feedback, when this is feedback.</summary>
    public AssessmentFeedback? Feedback { get; init; }

    /// <summary>The expectation, when this is an expectation.</summary>
    public AssessmentExpectation? Expectation { get; init; }

    /// <summary>Why the source judged so (feedback only).</summary>
    public string? Rationale { get; init; }

    /// <summary>Free-form metadata; <c>mlflow.assessment.sourceRunId</c> names the evaluation run (<see cref="RunId"/>).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; init => field = value ?? Empty; } = Empty;

    /// <summary>The id of an assessment this one replaces (which the store then marks not <see cref="Valid"/>).</summary>
    public string? Overrides { get; init; }

    /// <summary>Whether the assessment counts (<see langword="false"/> once another overrides it); set by the store.</summary>
    public bool? Valid { get; init; }

    /// <summary>The run that produced the assessment (metadata <c>mlflow.assessment.sourceRunId</c>), if any.</summary>
    public string? RunId => Metadata.TryGetValue(TraceKeys.AssessmentSourceRunMetadata, out var run) ? run : null;

    /// <summary>Feedback on a trace.</summary>
    /// <param name="traceId">The trace it judges.</param>
    /// <param name="name">Its name, for example <c>correctness</c>.</param>
    /// <param name="value">The value: a boolean, number, string, or a list or object of them (MLflow's built-in judges use <c>"yes"</c>/<c>"no"</c>).</param>
    /// <param name="source">Who or what judged.</param>
    /// <param name="rationale">Why.</param>
    /// <param name="runId">The evaluation run it belongs to (kept in the metadata as MLflow does).</param>
    /// <param name="spanId">The span it judges, if one.</param>
    /// <param name="metadata">More metadata.</param>
    /// <returns>The assessment, to give to <see cref="MlflowClient.CreateAssessmentAsync"/>.</returns>
    public static Assessment CreateFeedback(string traceId, string name, JsonNode? value, AssessmentSource source, string? rationale = null, string? runId = null, string? spanId = null, IReadOnlyDictionary<string, string>? metadata = null)
        => new()
        {
            TraceId = traceId,
            Name = name,
            Source = source,
            Feedback = new AssessmentFeedback(value),
            Rationale = rationale,
            SpanId = spanId,
            Metadata = WithRun(metadata, runId),
        };

    /// <summary>An expectation for a trace (the ground truth an evaluation compares against).</summary>
    /// <param name="traceId">The trace it belongs to.</param>
    /// <param name="name">Its name, for example <c>expected_response</c> or <c>expected_facts</c>.</param>
    /// <param name="value">The expected value: any JSON value but null.</param>
    /// <param name="source">Who gave it; a person when <see langword="null"/> (MLflow's default).</param>
    /// <param name="runId">The evaluation run it belongs to.</param>
    /// <param name="spanId">The span it is about, if one.</param>
    /// <param name="metadata">More metadata.</param>
    /// <returns>The assessment, to give to <see cref="MlflowClient.CreateAssessmentAsync"/>.</returns>
    public static Assessment CreateExpectation(string traceId, string name, JsonNode value, AssessmentSource? source = null, string? runId = null, string? spanId = null, IReadOnlyDictionary<string, string>? metadata = null)
        => new()
        {
            TraceId = traceId,
            Name = name,
            Source = source ?? new AssessmentSource(AssessmentSourceType.Human, "default"),
            Expectation = new AssessmentExpectation(value),
            SpanId = spanId,
            Metadata = WithRun(metadata, runId),
        };

    private static IReadOnlyDictionary<string, string> WithRun(IReadOnlyDictionary<string, string>? metadata, string? runId)
    {
        if (string.IsNullOrEmpty(runId))
        {
            return metadata ?? Empty;
        }

        var copy = new Dictionary<string, string>(metadata ?? Empty, StringComparer.Ordinal)
        {
            [TraceKeys.AssessmentSourceRunMetadata] = runId,
        };
        return copy;
    }

    private static readonly IReadOnlyDictionary<string, string> Empty = new Dictionary<string, string>();
}

/// <summary>Who or what made an assessment.</summary>
/// <param name="Type">A person, an LLM judge or code.</param>
/// <param name="Id">Which one: a user name, the judge's model (<c>openai:/gpt-4o-mini</c>), the scorer's name.</param>
public sealed record AssessmentSource(AssessmentSourceType Type, string Id)
{
    internal static readonly AssessmentSource Default = new(AssessmentSourceType.Code, "default");

    /// <summary>A person.</summary>
    /// <param name="id">The person's user name or email.</param>
    /// <returns>The source.</returns>
    public static AssessmentSource Human(string id) => new(AssessmentSourceType.Human, id);

    /// <summary>An LLM judge.</summary>
    /// <param name="modelId">The judge's model, for example <c>openai:/gpt-4o-mini</c>.</param>
    /// <returns>The source.</returns>
    public static AssessmentSource LlmJudge(string modelId) => new(AssessmentSourceType.LlmJudge, modelId);

    /// <summary>Code (a heuristic scorer).</summary>
    /// <param name="id">The scorer's name.</param>
    /// <returns>The source.</returns>
    public static AssessmentSource Code(string id) => new(AssessmentSourceType.Code, id);
}

/// <summary>The kind of source of an assessment (MLflow's <c>AssessmentSource.SourceType</c>).</summary>
public enum AssessmentSourceType
{
    /// <summary>Not given (<c>SOURCE_TYPE_UNSPECIFIED</c>).</summary>
    Unspecified = 0,
    /// <summary>A person (<c>HUMAN</c>).</summary>
    Human = 1,
    /// <summary>An LLM judge (<c>LLM_JUDGE</c>).</summary>
    LlmJudge = 2,
    /// <summary>Code (<c>CODE</c>).</summary>
    Code = 3,
}

/// <summary>The value of a feedback, or the error that kept the source from giving one.</summary>
/// <param name="Value">The value (boolean, number, string, or a list or object of them); <see langword="null"/> with an error.</param>
/// <param name="Error">Why there is no value.</param>
public sealed record AssessmentFeedback(JsonNode? Value, AssessmentError? Error = null);

/// <summary>The value of an expectation.</summary>
/// <param name="Value">Any JSON value (a string, a list of facts, an object...).</param>
public sealed record AssessmentExpectation(JsonNode? Value);

/// <summary>Why an assessment has no value (a judge that failed, for example).</summary>
/// <param name="ErrorCode">A code, for example the exception's type name.</param>
/// <param name="ErrorMessage">The message.</param>
/// <param name="StackTrace">Where it failed, if known.</param>
public sealed record AssessmentError(string? ErrorCode, string? ErrorMessage, string? StackTrace = null);

/// <summary>What <see cref="MlflowClient.UpdateAssessmentAsync"/> changes; what is <see langword="null"/> stays as it is.</summary>
public sealed record AssessmentUpdate
{
    /// <summary>A new name.</summary>
    public string? Name { get; init; }
    /// <summary>A new feedback value (only on feedback).</summary>
    public AssessmentFeedback? Feedback { get; init; }
    /// <summary>A new expectation value (only on an expectation).</summary>
    public AssessmentExpectation? Expectation { get; init; }
    /// <summary>A new rationale.</summary>
    public string? Rationale { get; init; }
    /// <summary>Metadata to merge into the assessment's.</summary>
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }
}
