using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Mlflow.Client.Resilience;
using Refit;

namespace Mlflow.Client.Rest;

/// <summary>Turns whatever went wrong on the wire into <see cref="MlflowException"/>.</summary>
internal static partial class ErrorMapping
{
    private const int ExcerptLength = 300;

    /// <summary>
    /// An answer Refit could not turn into a result: a success whose body could not be read, or (when the retry
    /// pipeline is off) an error answer. With the pipeline on, error answers already left it as <see cref="MlflowException"/>.
    /// </summary>
    public static MlflowException FromApiException(ApiException ex)
    {
        var method = ex.HttpMethod?.Method;
        var path = ex.Uri?.AbsolutePath;
        var endpoint = ex.HttpMethod is { } m ? EndpointClassifier.Classify(m, ex.Uri) : EndpointKind.NonIdempotentWrite;
        if ((int)ex.StatusCode is >= 200 and < 300)
        {
            // A success whose body could not be read: a write was applied, or may have been.
            return new MlflowException(ex.StatusCode, null, "The response could not be read: " + (ex.InnerException?.Message ?? ex.Message), method, path, ex,
                FailureClassifier.ForEndpoint(MlflowFailureKind.OutcomeUnknown, endpoint));
        }

        var (code, message) = ParseAnswer(ex.StatusCode, ex.Content, ex.Uri);
        return new MlflowException(ex.StatusCode, code, message, method, path, ex, FailureClassifier.ForEndpoint(FailureClassifier.Classify(ex.StatusCode, code), endpoint));
    }

    /// <summary>An error answer read by the caller (artifact downloads, which bypass Refit).</summary>
    public static MlflowException FromResponse(HttpStatusCode status, string? body, string method, string path, Uri? requestUri = null)
    {
        var (code, message) = ParseAnswer(status, body, requestUri);
        return new MlflowException(status, code, message, method, path, null, FailureClassifier.ForEndpoint(FailureClassifier.Classify(status, code), EndpointOf(method, path)));
    }

    /// <summary>A request that got no answer: the cause is the wrapped transport exception.</summary>
    public static MlflowException FromRequestException(ApiRequestException ex)
    {
        if (ex.InnerException is MlflowException decided)
        {
            // Decided by the resilience pipeline.
            return decided;
        }

        var cause = ex.InnerException ?? ex;
        var endpoint = ex.HttpMethod is { } m ? EndpointClassifier.Classify(m, ex.Uri) : EndpointKind.NonIdempotentWrite;
        return new(null, null, Describe(cause), ex.HttpMethod?.Method, ex.Uri?.AbsolutePath, cause, FailureClassifier.ForEndpoint(FailureClassifier.Classify(cause, CancellationToken.None), endpoint));
    }

    /// <summary>A short, credential-free description of a failure that got no answer.</summary>
    internal static string Describe(Exception cause) => cause switch
    {
        TaskCanceledException or TimeoutException => "The request timed out.",
        HttpRequestException { HttpRequestError: HttpRequestError.InvalidResponse or HttpRequestError.ResponseEnded } => "The server's answer could not be read: " + cause.Message,
        _ => "The server could not be reached: " + cause.Message,
    };

    /// <summary>A failure with no answer outside the retry pipeline (which throws <see cref="MlflowException"/> itself).</summary>
    public static MlflowException FromTransport(Exception ex, string? method, string? path)
        => ex as MlflowException
            ?? new(null, null, Describe(ex), method, path, ex, FailureClassifier.ForEndpoint(FailureClassifier.Classify(ex, CancellationToken.None), EndpointOf(method, path)));

    private static EndpointKind EndpointOf(string? method, string? path)
        => method is null ? EndpointKind.NonIdempotentWrite : EndpointClassifier.Classify(new HttpMethod(method), path is null ? null : new Uri(path, UriKind.RelativeOrAbsolute));

    /// <summary>
    /// The code and message of an error answer: <see cref="ParseBody"/>, and for a refusal of MLflow 3's security
    /// middleware (<see cref="FailureClassifier.SecurityRefusalOf"/>) a message that says what to change on the server.
    /// </summary>
    /// <param name="status">The answer's status.</param>
    /// <param name="body">The answer's body.</param>
    /// <param name="requestUri">Where the request went: its host (never its user info) goes into the advice.</param>
    internal static (string? Code, string? Message) ParseAnswer(HttpStatusCode status, string? body, Uri? requestUri)
    {
        var (code, message) = ParseBody(body);
        var host = requestUri is { IsAbsoluteUri: true } ? requestUri.Authority : null;
        return FailureClassifier.SecurityRefusalOf(status, code, message) switch
        {
            SecurityRefusal.InvalidHost => (code,
                $"{message} (MLflow 3's DNS-rebinding guard refused the Host header{(host is null ? "" : $" '{host}'")}). "
                + $"Start the server with --allowed-hosts naming the host this client uses{(host is null ? "" : $", for example --allowed-hosts \"{host}\"")} "
                + "(or set MLFLOW_SERVER_ALLOWED_HOSTS, which also works under --gunicorn-opts), "
                + "or reach the server by a name it allows by default (localhost, 127.0.0.1, a private IP address)."),
            SecurityRefusal.CrossOrigin => (code,
                $"{message} (MLflow 3 refuses writes that carry an Origin header it does not allow). "
                + "Remove the Origin header (a DefaultRequestHeaders entry or a proxy adds it), or start the server with "
                + "--cors-allowed-origins naming that origin (or set MLFLOW_SERVER_CORS_ALLOWED_ORIGINS)."),
            _ => (code, message),
        };
    }

    /// <summary>An MLflow JSON error gives code and message; anything else gives a short, tag-free excerpt.</summary>
    internal static (string? Code, string? Message) ParseBody(string? body)
    {
        if (string.IsNullOrWhiteSpace(body))
        {
            return (null, null);
        }

        var trimmed = body.TrimStart();
        if (trimmed.StartsWith('{'))
        {
            try
            {
                var error = JsonSerializer.Deserialize(trimmed, MlflowJsonContext.Default.ErrorResponse);
                if (error is not null && (error.ErrorCode is not null || error.Message is not null))
                {
                    return (error.ErrorCode, error.Message);
                }
            }
            catch (JsonException)
            {
                // not an MLflow error body: fall through to the excerpt
            }
        }

        var text = WhitespaceRegex().Replace(TagRegex().Replace(body, " "), " ").Trim();
        text = WebUtility.HtmlDecode(text);
        return (null, text.Length <= ExcerptLength ? text : string.Concat(text.AsSpan(0, ExcerptLength), "…"));
    }

    [GeneratedRegex("<[^>]*>")]
    private static partial Regex TagRegex();

    [GeneratedRegex(@"\s+")]
    private static partial Regex WhitespaceRegex();
}
