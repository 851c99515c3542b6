using System.Text.Json;
using System.Text.Json.Nodes;
using Mlflow.Client.Artifacts;
using Mlflow.Client.Rest;

namespace Mlflow.Client.Tracing;

/// <summary>Between the public trace and assessment types and their protobuf-JSON wire shapes (<see cref="TraceInfoWire"/>, <see cref="AssessmentWire"/>).</summary>
internal static class TraceWireMapping
{
    private const string ExperimentLocation = "MLFLOW_EXPERIMENT";
    private const string JsonFormat = "JSON_FORMAT";

    public static TraceLocationWire Location(string experimentId) => new(ExperimentLocation, new MlflowExperimentLocationWire(experimentId));

    public static TraceInfoWire ToWire(TraceInfo info) => new(
        info.TraceId,
        info.ClientRequestId,
        Location(info.ExperimentId),
        ProtoJsonTime.TimestampFromMilliseconds(info.RequestTimeMs),
        info.ExecutionDurationMs is { } d ? ProtoJsonTime.DurationFromMilliseconds(d) : null,
        StateName(info.State),
        info.Metadata.Count > 0 ? info.Metadata : null,
        null,
        info.Tags.Count > 0 ? info.Tags : null,
        info.RequestPreview,
        info.ResponsePreview);

    public static TraceInfo FromWire(TraceInfoWire wire) => new()
    {
        TraceId = wire.TraceId ?? "",
        ClientRequestId = wire.ClientRequestId,
        ExperimentId = wire.TraceLocation?.MlflowExperiment?.ExperimentId ?? "",
        RequestTimeMs = string.IsNullOrEmpty(wire.RequestTime) ? 0 : ProtoJsonTime.MillisecondsFromTimestamp(wire.RequestTime),
        ExecutionDurationMs = string.IsNullOrEmpty(wire.ExecutionDuration) ? null : ProtoJsonTime.MillisecondsFromDuration(wire.ExecutionDuration),
        State = ParseState(wire.State),
        RequestPreview = wire.RequestPreview,
        ResponsePreview = wire.ResponsePreview,
        Metadata = wire.TraceMetadata is { } m ? new Dictionary<string, string>(m, StringComparer.Ordinal) : null!,
        Tags = wire.Tags is { } t ? new Dictionary<string, string>(t, StringComparer.Ordinal) : null!,
        Assessments = wire.Assessments?.Select(FromWire).ToList()!,
    };

    public static string StateName(TraceState state) => state switch
    {
        TraceState.Ok => "OK",
        TraceState.Error => "ERROR",
        TraceState.InProgress => "IN_PROGRESS",
        _ => "STATE_UNSPECIFIED",
    };

    public static TraceState ParseState(string? name) => name switch
    {
        "OK" => TraceState.Ok,
        "ERROR" => TraceState.Error,
        "IN_PROGRESS" => TraceState.InProgress,
        _ => TraceState.Unspecified,
    };

    public static string SourceTypeName(AssessmentSourceType type) => type switch
    {
        AssessmentSourceType.Human => "HUMAN",
        AssessmentSourceType.LlmJudge => "LLM_JUDGE",
        AssessmentSourceType.Code => "CODE",
        _ => "SOURCE_TYPE_UNSPECIFIED",
    };

    public static AssessmentSourceType ParseSourceType(string? name) => name switch
    {
        "HUMAN" => AssessmentSourceType.Human,
        "LLM_JUDGE" => AssessmentSourceType.LlmJudge,
        "CODE" => AssessmentSourceType.Code,
        _ => AssessmentSourceType.Unspecified,
    };

    /// <summary>
    /// Checks an assessment the way MLflow's entities do before anything is sent: a name, exactly one of feedback and
    /// expectation, a feedback with a value or an error, an expectation with a value, an error only on feedback.
    /// </summary>
    /// <exception cref="ArgumentException">What is wrong.</exception>
    public static void Validate(Assessment assessment, string paramName)
    {
        ArgumentNullException.ThrowIfNull(assessment, paramName);
        if (string.IsNullOrEmpty(assessment.Name))
        {
            throw new ArgumentException("An assessment needs a name.", paramName);
        }

        if ((assessment.Feedback is null) == (assessment.Expectation is null))
        {
            throw new ArgumentException($"The assessment '{assessment.Name}' must hold exactly one of Feedback and Expectation.", paramName);
        }

        if (assessment.Feedback is { Value: null, Error: null })
        {
            throw new ArgumentException($"The feedback '{assessment.Name}' needs a value or an error.", paramName);
        }

        if (assessment.Expectation is { Value: null })
        {
            throw new ArgumentException($"The expectation '{assessment.Name}' needs a value.", paramName);
        }

        if (string.IsNullOrEmpty(assessment.Source.Id) || assessment.Source.Type == AssessmentSourceType.Unspecified)
        {
            throw new ArgumentException($"The assessment '{assessment.Name}' needs a source type and id.", paramName);
        }
    }

    /// <summary>The wire form MLflow's client sends at creation: both times set (to <paramref name="nowMs"/> when not given), <c>valid</c> on feedback.</summary>
    public static AssessmentWire ToWire(Assessment a, long nowMs) => new(
        a.AssessmentId,
        a.Name,
        a.TraceId,
        a.SpanId,
        new AssessmentSourceWire(SourceTypeName(a.Source.Type), a.Source.Id),
        ProtoJsonTime.TimestampFromMilliseconds(a.CreateTimeMs ?? nowMs),
        ProtoJsonTime.TimestampFromMilliseconds(a.LastUpdateTimeMs ?? a.CreateTimeMs ?? nowMs),
        a.Feedback is { } f ? FeedbackToWire(f) : null,
        a.Expectation is { } e ? ExpectationToWire(e) : null,
        a.Rationale,
        a.Metadata.Count > 0 ? a.Metadata : null,
        a.Overrides,
        a.Valid ?? (a.Feedback is not null ? true : null));

    public static FeedbackWire FeedbackToWire(AssessmentFeedback f)
        => new(f.Value?.DeepClone(), f.Error is { } err ? new AssessmentErrorWire(err.ErrorCode, err.ErrorMessage, err.StackTrace) : null);

    /// <summary>A string, number or boolean as a protobuf Value; anything else as JSON text (<c>JSON_FORMAT</c>), as MLflow's client does.</summary>
    public static ExpectationWire ExpectationToWire(AssessmentExpectation e)
    {
        var kind = e.Value?.GetValueKind() ?? JsonValueKind.Null;
        return kind is JsonValueKind.String or JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False
            ? new ExpectationWire(e.Value!.DeepClone(), null)
            : new ExpectationWire(null, new SerializedValueWire(JsonFormat, PythonJson.Serialize(e.Value)));
    }

    public static Assessment FromWire(AssessmentWire w) => new()
    {
        AssessmentId = string.IsNullOrEmpty(w.AssessmentId) ? null : w.AssessmentId,
        Name = w.AssessmentName ?? "",
        TraceId = w.TraceId,
        SpanId = string.IsNullOrEmpty(w.SpanId) ? null : w.SpanId,
        Source = new AssessmentSource(ParseSourceType(w.Source?.SourceType), w.Source?.SourceId ?? ""),
        CreateTimeMs = string.IsNullOrEmpty(w.CreateTime) ? null : ProtoJsonTime.MillisecondsFromTimestamp(w.CreateTime),
        LastUpdateTimeMs = string.IsNullOrEmpty(w.LastUpdateTime) ? null : ProtoJsonTime.MillisecondsFromTimestamp(w.LastUpdateTime),
        Feedback = w.Feedback is { } f
            ? new AssessmentFeedback(f.Value, f.Error is { } err ? new AssessmentError(err.ErrorCode, err.ErrorMessage, err.StackTrace) : null)
            : null,
        Expectation = w.Expectation is { } e ? new AssessmentExpectation(ExpectationValue(e)) : null,
        Rationale = string.IsNullOrEmpty(w.Rationale) ? null : w.Rationale,
        Metadata = w.Metadata is { } m ? new Dictionary<string, string>(m, StringComparer.Ordinal) : null!,
        Overrides = string.IsNullOrEmpty(w.Overrides) ? null : w.Overrides,
        Valid = w.Valid,
    };

    private static JsonNode? ExpectationValue(ExpectationWire e)
    {
        if (e.SerializedValue is not { } serialized)
        {
            return e.Value;
        }

        if (serialized.SerializationFormat != JsonFormat)
        {
            throw new MlflowException($"An expectation is serialized as '{serialized.SerializationFormat}'; only {JsonFormat} is known.");
        }

        return string.IsNullOrEmpty(serialized.Value) ? null : JsonNode.Parse(serialized.Value);
    }

    /// <summary>
    /// The body of an update as MLflow's client sends it: ids, the changed fields, and the mask naming them in
    /// protobuf's JSON form (camelCase, comma-separated).
    /// </summary>
    /// <exception cref="ArgumentException">Nothing to change, or both a feedback and an expectation.</exception>
    public static UpdateAssessmentRequest UpdateToWire(string traceId, string assessmentId, AssessmentUpdate update, string paramName)
    {
        ArgumentNullException.ThrowIfNull(update, paramName);
        if (update.Feedback is not null && update.Expectation is not null)
        {
            throw new ArgumentException("An update changes a feedback or an expectation, not both.", paramName);
        }

        if (update.Feedback is { Value: null, Error: null } || update.Expectation is { Value: null })
        {
            throw new ArgumentException("A new feedback needs a value or an error; a new expectation needs a value.", paramName);
        }

        var mask = new List<string>();
        if (update.Name is not null)
        {
            mask.Add("assessmentName");
        }

        if (update.Expectation is not null)
        {
            mask.Add("expectation");
        }

        if (update.Feedback is not null)
        {
            mask.Add("feedback");
        }

        if (update.Rationale is not null)
        {
            mask.Add("rationale");
        }

        if (update.Metadata is not null)
        {
            mask.Add("metadata");
        }

        if (mask.Count == 0)
        {
            throw new ArgumentException("The update changes nothing.", paramName);
        }

        var wire = new AssessmentWire(
            assessmentId, update.Name, traceId, null, null, null, null,
            update.Feedback is { } f ? FeedbackToWire(f) : null,
            update.Expectation is { } e ? ExpectationToWire(e) : null,
            update.Rationale,
            update.Metadata,
            null,
            null);
        return new UpdateAssessmentRequest(wire, string.Join(',', mask));
    }
}
