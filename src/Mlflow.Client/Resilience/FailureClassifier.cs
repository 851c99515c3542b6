using System.Net;
using System.Net.Sockets;
using Polly.CircuitBreaker;

namespace Mlflow.Client.Resilience;

/// <summary>
/// The one classification of failures (<see cref="MlflowFailureKind"/>). Every layer that asks "was that transient,
/// was it applied" asks here: the retry pipeline per attempt, the error mapping for the final exception, the tracker,
/// the sender and the sync.
/// </summary>
internal static class FailureClassifier
{
    /// <summary>
    /// The kind of an HTTP error answer. A 500 that carries an MLflow error body (<paramref name="errorCode"/> set) is a
    /// rejection of the input, not an outage; 500, 502 and 504 without one may hide an applied write.
    /// </summary>
    public static MlflowFailureKind Classify(HttpStatusCode status, string? errorCode = null) => (int)status switch
    {
        408 or 413 or 429 or 503 => MlflowFailureKind.NotApplied,
        500 when errorCode is not null => MlflowFailureKind.Rejected,
        500 or 502 or 504 => MlflowFailureKind.OutcomeUnknown,
        _ => MlflowFailureKind.Rejected,
    };

    /// <summary>The kind of an exception thrown by one attempt.</summary>
    /// <param name="exception">What the attempt threw.</param>
    /// <param name="callerToken">The caller's token: its cancellation is a cancellation, never a failure to retry.</param>
    public static MlflowFailureKind Classify(Exception exception, CancellationToken callerToken)
    {
        switch (exception)
        {
            case MlflowException mlflow:
                return mlflow.Kind;
            case OperationCanceledException when callerToken.IsCancellationRequested:
                return MlflowFailureKind.Cancelled;
            case BrokenCircuitException:
                return MlflowFailureKind.Unreachable;
            case OperationCanceledException or TimeoutException or Polly.Timeout.TimeoutRejectedException:
                // Our per-attempt timeout or the HttpClient's own: the request may have reached the server.
                return MlflowFailureKind.OutcomeUnknown;
            case HttpRequestException http:
                return Classify(http);
            case IOException:
                return MlflowFailureKind.OutcomeUnknown;
            default:
                return MlflowFailureKind.Rejected;
        }
    }

    /// <summary>
    /// The kind the caller sees for a request of <paramref name="endpoint"/>: a read that failed without an answer
    /// changed nothing, so its unknown outcome is <see cref="MlflowFailureKind.NotApplied"/>.
    /// </summary>
    public static MlflowFailureKind ForEndpoint(MlflowFailureKind kind, EndpointKind endpoint)
        => kind == MlflowFailureKind.OutcomeUnknown && endpoint == EndpointKind.Read ? MlflowFailureKind.NotApplied : kind;

    /// <summary>Whether sending again later can succeed: the server did not refuse the request itself.</summary>
    public static bool IsTransient(MlflowFailureKind kind)
        => kind is MlflowFailureKind.NotApplied or MlflowFailureKind.OutcomeUnknown or MlflowFailureKind.Unreachable;

    private static MlflowFailureKind Classify(HttpRequestException exception)
    {
        switch (exception.HttpRequestError)
        {
            case HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError or HttpRequestError.ProxyTunnelError:
                // No connection was established, so no byte of the request was sent.
                return MlflowFailureKind.NotApplied;
            case HttpRequestError.SecureConnectionError or HttpRequestError.UserAuthenticationError
                or HttpRequestError.VersionNegotiationError or HttpRequestError.ConfigurationLimitExceeded
                or HttpRequestError.ExtendedConnectNotSupported:
                // Certificates, credentials and configuration do not heal by retrying.
                return MlflowFailureKind.Unreachable;
            default:
                // A connection refused by a handler other than SocketsHttpHandler still says so in its inner exception.
                return exception.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused or SocketError.HostNotFound or SocketError.NetworkUnreachable or SocketError.HostUnreachable }
                    ? MlflowFailureKind.NotApplied
                    : MlflowFailureKind.OutcomeUnknown;
        }
    }

    /// <summary>MLflow 3.11.1's texts (mlflow/server/security_utils.py), answered as 403 text/plain by its security middleware.</summary>
    internal const string InvalidHostText = "Invalid Host header - possible DNS rebinding attack detected";

    /// <inheritdoc cref="InvalidHostText"/>
    internal const string CrossOriginText = "Cross-origin request blocked";

    /// <summary>
    /// Whether an error answer is a refusal of MLflow 3's security middleware: 403 with no MLflow error code and one
    /// of its two texts. Such a refusal stays <see cref="MlflowFailureKind.Rejected"/> (retrying cannot help); only the
    /// message changes, to say what to configure.
    /// </summary>
    public static SecurityRefusal SecurityRefusalOf(HttpStatusCode status, string? errorCode, string? message)
    {
        if (status != HttpStatusCode.Forbidden || errorCode is not null || message is null)
        {
            return SecurityRefusal.None;
        }

        var text = message.Trim();
        return text.StartsWith(InvalidHostText, StringComparison.Ordinal) ? SecurityRefusal.InvalidHost
            : text.StartsWith(CrossOriginText, StringComparison.Ordinal) ? SecurityRefusal.CrossOrigin
            : SecurityRefusal.None;
    }
}

/// <summary>Which refusal of MLflow 3's security middleware an answer is (<see cref="FailureClassifier.SecurityRefusalOf"/>).</summary>
internal enum SecurityRefusal
{
    /// <summary>Not one.</summary>
    None,

    /// <summary>The Host header is not in the server's allowed hosts (DNS-rebinding guard).</summary>
    InvalidHost,

    /// <summary>A state-changing request with an Origin the server does not allow.</summary>
    CrossOrigin,
}
