using System.Net;
using System.Text;

namespace Mlflow.Client;

/// <summary>
/// The one exception type of this SDK for failed MLflow calls: an error answer of the server (JSON or not),
/// a failure to reach it, or a local store error. <see cref="Kind"/> says whether the request was applied and whether
/// sending it again can help. It never carries a credential.
/// </summary>
public class MlflowException : Exception
{
    /// <summary>Creates an exception with a message.</summary>
    public MlflowException() : this("An MLflow operation failed.") { }

    /// <summary>Creates an exception with a message.</summary>
    /// <param name="message">What went wrong.</param>
    public MlflowException(string message) : base(message) { }

    /// <summary>Creates an exception with a message and its cause.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The cause.</param>
    public MlflowException(string message, Exception? innerException) : base(message, innerException) { }

    /// <summary>Creates an exception of a given kind, for failures that are not an HTTP answer (a local store, a budget that ran out).</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="kind">What the failure says about the request.</param>
    /// <param name="innerException">The cause, if any.</param>
    public MlflowException(string message, MlflowFailureKind kind, Exception? innerException = null) : base(message, innerException)
    {
        Kind = kind;
    }

    /// <summary>Creates an exception for an error answer of the server.</summary>
    /// <param name="statusCode">HTTP status of the answer.</param>
    /// <param name="rawErrorCode">The <c>error_code</c> text, if the body had one.</param>
    /// <param name="serverMessage">The server's message, or an excerpt of a non-JSON body.</param>
    /// <param name="method">HTTP method of the request.</param>
    /// <param name="path">Path of the request (no query string, no credentials).</param>
    /// <param name="innerException">The cause, if any.</param>
    public MlflowException(HttpStatusCode? statusCode, string? rawErrorCode, string? serverMessage, string? method, string? path, Exception? innerException = null)
        : base(Describe(statusCode, rawErrorCode, serverMessage, method, path), innerException)
    {
        StatusCode = statusCode;
        RawErrorCode = rawErrorCode;
        ErrorCode = ParseErrorCode(rawErrorCode);
        ServerMessage = serverMessage;
        Method = method;
        Path = path;
        Kind = statusCode is { } s ? Resilience.FailureClassifier.Classify(s, rawErrorCode) : MlflowFailureKind.Unreachable;
    }

    /// <summary>Creates an exception for a failed request whose kind was decided where the answer (or its absence) arrived.</summary>
    internal MlflowException(HttpStatusCode? statusCode, string? rawErrorCode, string? serverMessage, string? method, string? path, Exception? innerException, MlflowFailureKind kind)
        : base(Describe(statusCode, rawErrorCode, serverMessage, method, path) + (kind == MlflowFailureKind.OutcomeUnknown ? OutcomeUnknownNote : ""), innerException)
    {
        StatusCode = statusCode;
        RawErrorCode = rawErrorCode;
        ErrorCode = ParseErrorCode(rawErrorCode);
        ServerMessage = serverMessage;
        Method = method;
        Path = path;
        Kind = kind;
    }

    /// <summary>A refusal found without an HTTP answer of its own (a name looked up and not found), with MLflow's error code.</summary>
    private MlflowException(string message, string rawErrorCode) : base(message)
    {
        RawErrorCode = rawErrorCode;
        ErrorCode = ParseErrorCode(rawErrorCode);
        ServerMessage = message;
        Kind = MlflowFailureKind.Rejected;
    }

    /// <summary>
    /// Something the caller named does not exist: <see cref="ErrorCode"/> is <see cref="MlflowErrorCode.ResourceDoesNotExist"/>
    /// (<c>RESOURCE_DOES_NOT_EXIST</c>), as the server answers for it, and <see cref="Kind"/> is <see cref="MlflowFailureKind.Rejected"/>.
    /// </summary>
    internal static MlflowException ResourceDoesNotExist(string message) => new(message, "RESOURCE_DOES_NOT_EXIST");

    private const string OutcomeUnknownNote = " (outcome unknown: the server may have applied the request)";

    /// <summary>
    /// What the failure says about the request (<see cref="MlflowFailureKind"/>): rejected for its content, not applied,
    /// outcome unknown, server unreachable, or cancelled. A message-only exception is <see cref="MlflowFailureKind.Rejected"/>.
    /// </summary>
    public MlflowFailureKind Kind { get; }

    /// <summary>
    /// <see langword="true"/> when the request was a write that the server may have applied although the call failed
    /// (<see cref="Kind"/> is <see cref="MlflowFailureKind.OutcomeUnknown"/>): a timeout, a lost connection, or HTTP 500,
    /// 502 or 504 without an MLflow error body. Writes that must not run twice (creating experiments, runs, models and
    /// versions, logging metrics or batches, deleting tags) are then not retried; check the server's state before
    /// sending them again. <see langword="false"/> when the failure proves nothing was applied (no connection, 408, 413,
    /// 429, 503, an open circuit breaker), for a clear error answer such as 400 or 404, and for reads.
    /// </summary>
    public bool OutcomeUnknown => Kind == MlflowFailureKind.OutcomeUnknown;

    /// <summary>A short reason for logs and rejection reports: the error code (or status, or kind) and the message.</summary>
    internal string ShortReason
        => (RawErrorCode ?? (StatusCode is { } s ? "HTTP " + (int)s : Kind == MlflowFailureKind.Rejected ? "error" : "no answer")) + ": " + (ServerMessage ?? Message);

    /// <summary>
    /// A rejection that names the request's input (bisecting a batch finds the entry at fault), as opposed to a refusal
    /// of the caller or the target: credentials (401, 403), a missing run or endpoint (404, 405, RESOURCE_DOES_NOT_EXIST).
    /// </summary>
    internal bool RejectsInput
        => Kind == MlflowFailureKind.Rejected
           && StatusCode is not (HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden or HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed)
           && ErrorCode != MlflowErrorCode.ResourceDoesNotExist;

    /// <summary>Whether sending the request again later can succeed: <see cref="Kind"/> is not applied, outcome unknown or unreachable.</summary>
    public bool IsTransient => Resilience.FailureClassifier.IsTransient(Kind);

    /// <summary>HTTP status of the server's answer; <see langword="null"/> when no answer arrived.</summary>
    public HttpStatusCode? StatusCode { get; }

    /// <summary>The error code as a typed value (<see cref="MlflowErrorCode.Unknown"/> for none or an unknown one).</summary>
    public MlflowErrorCode ErrorCode { get; }

    /// <summary>The <c>error_code</c> text exactly as the server sent it.</summary>
    public string? RawErrorCode { get; }

    /// <summary>The server's message, or a short excerpt of a body that was not an MLflow error.</summary>
    public string? ServerMessage { get; }

    /// <summary>HTTP method of the failed request.</summary>
    public string? Method { get; }

    /// <summary>Path of the failed request, without query string.</summary>
    public string? Path { get; }

    /// <summary>Maps an MLflow error code name such as <c>RESOURCE_ALREADY_EXISTS</c> to its typed value.</summary>
    /// <param name="raw">The code name.</param>
    /// <returns>The typed code, or <see cref="MlflowErrorCode.Unknown"/>.</returns>
    public static MlflowErrorCode ParseErrorCode(string? raw)
    {
        if (string.IsNullOrEmpty(raw))
        {
            return MlflowErrorCode.Unknown;
        }

        var sb = new StringBuilder(raw.Length);
        var upper = true;
        foreach (var c in raw)
        {
            if (c == '_')
            {
                upper = true;
                continue;
            }

            sb.Append(upper ? char.ToUpperInvariant(c) : char.ToLowerInvariant(c));
            upper = false;
        }

        return Enum.TryParse<MlflowErrorCode>(sb.ToString(), ignoreCase: false, out var code) && code != MlflowErrorCode.Unknown
            ? code
            : MlflowErrorCode.Unknown;
    }

    private static string Describe(HttpStatusCode? status, string? code, string? message, string? method, string? path)
    {
        var sb = new StringBuilder("MLflow ");
        sb.Append(method ?? "request");
        if (path is not null)
        {
            sb.Append(' ').Append(path);
        }

        sb.Append(" failed");
        if (status is { } s)
        {
            sb.Append(" with HTTP ").Append((int)s);
        }

        if (!string.IsNullOrEmpty(code))
        {
            sb.Append(' ').Append(code);
        }

        if (!string.IsNullOrEmpty(message))
        {
            sb.Append(": ").Append(message);
        }

        return sb.ToString();
    }
}
