using Microsoft.Extensions.Logging;

namespace Mlflow.Client.Resilience;

/// <summary>Log lines of the resilience pipeline: method and path only, never a query string or header.</summary>
internal static partial class ResilienceLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "MLflow {Method} {Path}: attempt {Attempt} of {MaxAttempts} failed ({Reason}); retrying in {Delay}.")]
    public static partial void Retrying(ILogger logger, string method, string path, int attempt, int maxAttempts, string reason, TimeSpan delay);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "MLflow {Method} {Path}: attempt {Attempt} failed ({Reason}) and is not retried: the server may have applied it (outcome unknown).")]
    public static partial void OutcomeUnknown(ILogger logger, string method, string path, int attempt, string reason);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "MLflow circuit breaker opened after repeated failures ({Reason}); requests fail at once for {BreakDuration}.")]
    public static partial void CircuitOpened(ILogger logger, string reason, TimeSpan breakDuration);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "MLflow circuit breaker closed: the server answers again.")]
    public static partial void CircuitClosed(ILogger logger);

    [LoggerMessage(EventId = 5, Level = LogLevel.Information, Message = "MLflow {Operation}: the answer was lost, and reading the server back shows the write was applied; done.")]
    public static partial void LostAnswerConfirmed(ILogger logger, string operation);

    [LoggerMessage(EventId = 6, Level = LogLevel.Warning, Message = "MLflow {Operation}: the answer was lost, and reading the server back shows the write was not applied; sending it again (send {Send}).")]
    public static partial void LostAnswerNotApplied(ILogger logger, string operation, int send);

    [LoggerMessage(EventId = 7, Level = LogLevel.Warning, Message = "MLflow {Operation}: the answer was lost, and reading the server back failed too ({Reason}); the outcome stays unknown.")]
    public static partial void ReadBackFailed(ILogger logger, string operation, string reason);
}
