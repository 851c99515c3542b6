using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Mlflow.Client.Tracing;

namespace Mlflow.Client.Evaluation.Llm;

/// <summary>
/// Scorer tracing (<see cref="LlmEvaluationOptions.TraceScorers"/>), as MLflow 3.11.1 does with
/// <c>MLFLOW_GENAI_EVAL_ENABLE_SCORER_TRACING</c>: each scorer's call on a record is a trace of its own, never part of
/// the record's trace: an EVALUATOR root named after the scorer, the judge's chat call under it (the judge client's own
/// span when it traces itself, else the judge's record of the call), tag <c>mlflow.trace.sourceScorer</c> = the
/// scorer, linked to the run; the feedback names it in its metadata (<c>mlflow.assessment.scorerTraceId</c>).
/// </summary>
internal static class ScorerTraces
{
    internal const string SourceScorerTag = "mlflow.trace.sourceScorer";
    internal const string ScorerTraceIdMetadata = "mlflow.assessment.scorerTraceId";

    /// <summary>Scores under a root activity of the scorer's own trace, logs that trace, and names it in the feedback.</summary>
    /// <param name="capture">The evaluation's span capture.</param>
    /// <param name="recorder">Where traces go.</param>
    /// <param name="scorer">The scorer.</param>
    /// <param name="input">The record's scorer input.</param>
    /// <param name="score">Runs the scorer (never throws: a failure is feedback with an error).</param>
    /// <param name="logger">Where a trace that could not be logged is reported.</param>
    /// <param name="cancellationToken">Cancels the scoring and the logging.</param>
    /// <returns>The feedback, with the scorer trace's id in its metadata when the trace was logged.</returns>
    public static async Task<Feedback> ScoreAsync(RecordSpanCapture capture, ITraceRecorder recorder, IScorer scorer, ScorerInput input, Func<ScorerInput, Task<Feedback>> score, ILogger logger, CancellationToken cancellationToken)
    {
        var recording = capture.Start(scorer.Name);
        var traced = input.ForScorerTrace(recording.RootSpanId);
        var started = input.Clock.GetUtcNow();
        Feedback feedback;
        IReadOnlyList<TraceSpan> captured;
        try
        {
            feedback = await score(traced).ConfigureAwait(false);
        }
        finally
        {
            captured = recording.Stop();
        }

        var root = new TraceSpan
        {
            SpanId = recording.RootSpanId,
            Name = scorer.Name,
            StartTimeUnixNano = LlmJudge.UnixNanos(started),
            EndTimeUnixNano = LlmJudge.UnixNanos(input.Clock.GetUtcNow()),
            Status = feedback.Error?.ErrorCode == LlmEvaluator.ScorerError ? TraceSpanStatus.Error : TraceSpanStatus.Ok,
            StatusMessage = feedback.Error?.ErrorCode == LlmEvaluator.ScorerError ? feedback.Error.ErrorMessage ?? "" : "",
            SpanType = SpanType.Evaluator,
            Inputs = new JsonObject
            {
                ["inputs"] = Object(input.Inputs),
                ["outputs"] = input.Outputs?.DeepClone(),
                ["expectations"] = Object(input.Expectations),
            },
            Outputs = new JsonObject
            {
                ["name"] = feedback.Name,
                ["value"] = feedback.Value?.DeepClone(),
                ["rationale"] = feedback.Rationale,
                ["error"] = feedback.Error?.ErrorMessage,
            },
        };

        // A judge whose chat client traces itself: its span is the call; else the judge's own record of it.
        var spans = new List<TraceSpan> { root };
        spans.AddRange(captured.Any(s => s.SpanType == SpanType.ChatModel) ? [] : traced.JudgeSpans);
        spans.AddRange(captured);
        var ids = spans.Select(s => s.SpanId).ToHashSet(StringComparer.Ordinal);
        spans = spans.Select(s => s.ParentSpanId is { } parent && !ids.Contains(parent) ? s with { ParentSpanId = root.SpanId } : s).ToList();
        var tags = new Dictionary<string, string>(StringComparer.Ordinal) { [SourceScorerTag] = scorer.Name };
        try
        {
            var trace = await recorder.RecordAsync(new RecordTrace(recording.TraceId, spans, tags), cancellationToken).ConfigureAwait(false);
            var metadata = new Dictionary<string, string>(feedback.Metadata, StringComparer.Ordinal) { [ScorerTraceIdMetadata] = trace.Info.TraceId };
            return feedback with { Metadata = metadata };
        }
        catch (Exception ex) when (ex is MlflowException or HttpRequestException or NotSupportedException)
        {
            LlmEvaluationLog.ScorerTraceNotLogged(logger, scorer.Name, ex.Message);
            return feedback;
        }
    }

    private static JsonObject Object(IReadOnlyDictionary<string, JsonNode?> values)
    {
        var o = new JsonObject();
        foreach (var (key, value) in values)
        {
            o[key] = value?.DeepClone();
        }

        return o;
    }
}
