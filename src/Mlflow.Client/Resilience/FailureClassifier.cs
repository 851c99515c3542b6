using System.Net;
using System.Net.Sockets;

namespace Mlflow.Client.Resilience;

/// <summary>Sorts the outcome of one attempt into a <see cref="FailureKind"/>.</summary>
internal static class FailureClassifier
{
    /// <summary>The kind of an HTTP answer. 413 is <see cref="FailureKind.NotApplied"/> but retried only with <c>Retry-After</c>.</summary>
    public static FailureKind Classify(HttpStatusCode status) => (int)status switch
    {
        408 or 413 or 429 or 503 => FailureKind.NotApplied,
        500 or 502 or 504 => FailureKind.Ambiguous,
        _ => FailureKind.Permanent,
    };

    /// <summary>The kind of an exception thrown by one attempt.</summary>
    /// <param name="exception">What the attempt threw.</param>
    /// <param name="callerToken">The caller's token: its cancellation is never a failure to retry.</param>
    public static FailureKind Classify(Exception exception, CancellationToken callerToken)
    {
        switch (exception)
        {
            case OperationCanceledException when callerToken.IsCancellationRequested:
                return FailureKind.Permanent;
            case OperationCanceledException or TimeoutException or Polly.Timeout.TimeoutRejectedException:
                // Our per-attempt timeout or the HttpClient's own: the request may have reached the server.
                return FailureKind.Ambiguous;
            case HttpRequestException http:
                return Classify(http);
            case IOException:
                return FailureKind.Ambiguous;
            default:
                return FailureKind.Permanent;
        }
    }

    private static FailureKind Classify(HttpRequestException exception)
    {
        switch (exception.HttpRequestError)
        {
            case HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError or HttpRequestError.ProxyTunnelError:
                // No connection was established, so no byte of the request was sent.
                return FailureKind.NotApplied;
            case HttpRequestError.SecureConnectionError or HttpRequestError.UserAuthenticationError
                or HttpRequestError.VersionNegotiationError or HttpRequestError.ConfigurationLimitExceeded
                or HttpRequestError.ExtendedConnectNotSupported:
                // Certificates, credentials and configuration do not heal by retrying.
                return FailureKind.Permanent;
            default:
                // A connection refused by a handler other than SocketsHttpHandler still says so in its inner exception.
                return exception.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused or SocketError.HostNotFound or SocketError.NetworkUnreachable or SocketError.HostUnreachable }
                    ? FailureKind.NotApplied
                    : FailureKind.Ambiguous;
        }
    }
}
