using Microsoft.Extensions.Logging;

namespace Mlflow.Client.Evaluation.Llm;

/// <summary>Log lines of the LLM evaluation (event ids 6001-6099).</summary>
internal static partial class LlmEvaluationLog
{
    [LoggerMessage(EventId = 6001, Level = LogLevel.Warning, Message = "Record {Index}: its trace could not be logged, so its feedback is kept in the result only: {Reason}")]
    public static partial void TraceNotLogged(ILogger logger, int index, string reason, Exception exception);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Warning, Message = "Trace {TraceId}: the assessment {Name} was refused: {Reason}")]
    public static partial void AssessmentRefused(ILogger logger, string traceId, string name, string reason, Exception exception);

    [LoggerMessage(EventId = 6003, Level = LogLevel.Debug, Message = "Traces not linked to run {RunId} (the run is named in their metadata instead): {Reason}")]
    public static partial void NotLinked(ILogger logger, string runId, string reason, Exception exception);

    [LoggerMessage(EventId = 6004, Level = LogLevel.Warning, Message = "Run {RunId}: no traces or assessments were written ({Why}); the per-record results are the run artifact {Table}.")]
    public static partial void NoTraces(ILogger logger, string runId, string why, string table);

    [LoggerMessage(EventId = 6005, Level = LogLevel.Debug, Message = "Scorer {Scorer} failed.")]
    public static partial void ScorerFailed(ILogger logger, string scorer, Exception exception);

    [LoggerMessage(EventId = 6006, Level = LogLevel.Warning, Message = "Trace {TraceId}: the span {Name} the application emitted could not be converted and is left out: {Reason}")]
    public static partial void SpanNotConverted(ILogger logger, string traceId, string name, string reason);

    [LoggerMessage(EventId = 6007, Level = LogLevel.Warning, Message = "Trace {TraceId}: {Count} spans the application emitted were left out (more than {Max} per record)")]
    public static partial void SpansOverLimit(ILogger logger, string traceId, int count, int max);

    [LoggerMessage(EventId = 6008, Level = LogLevel.Warning, Message = "The trace of scorer {Scorer} was not logged (its feedback is kept): {Reason}")]
    public static partial void ScorerTraceNotLogged(ILogger logger, string scorer, string reason);
}
