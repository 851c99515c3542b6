namespace Mlflow.Client;

/// <summary>
/// What a failed MLflow call says about the request: whether it was applied, whether sending it again can help.
/// Decided once, where the answer (or its absence) arrives, and carried on <see cref="MlflowException.Kind"/>; a local
/// store raises the same kinds.
/// </summary>
public enum MlflowFailureKind
{
    /// <summary>
    /// The server (or the local store) refused the request because of what it holds or the state it targets: any 4xx,
    /// or a 500 whose MLflow error body names the problem (for example a file-backed server's "File name too long").
    /// Sending the same request again fails the same way.
    /// </summary>
    Rejected,

    /// <summary>
    /// A transient failure that proves nothing was applied: the connection was refused, or the server answered 408,
    /// 413, 429 or 503. Reads that failed in any transient way are also this kind: they change nothing. Safe to send
    /// again.
    /// </summary>
    NotApplied,

    /// <summary>
    /// A write that the server may have applied although the call failed: a timeout, a connection lost after the
    /// request was sent, an answer that could not be read, or HTTP 500, 502 or 504 without an MLflow error body.
    /// Check the server's state before sending it again.
    /// </summary>
    OutcomeUnknown,

    /// <summary>
    /// The server cannot be reached as configured: the circuit breaker is open after repeated failures (the request
    /// was not sent), the TLS handshake or proxy failed, or the server gave no answer within the caller's budget.
    /// </summary>
    Unreachable,

    /// <summary>The call was cancelled before it completed (for example by a shutdown timeout); it may or may not have been applied.</summary>
    Cancelled,
}
