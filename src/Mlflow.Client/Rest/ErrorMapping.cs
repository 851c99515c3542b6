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

    public static MlflowException FromApiException(ApiException ex)
    {
        var method = ex.HttpMethod?.Method;
        var path = ex.Uri?.AbsolutePath;
        var (code, message) = ParseBody(ex.Content);
        if (ex.StatusCode == HttpStatusCode.OK || (int)ex.StatusCode is >= 200 and < 300)
        {
            // A success whose body could not be read.
            return new MlflowException(ex.StatusCode, null, "The response could not be read: " + (ex.InnerException?.Message ?? ex.Message), method, path, ex, MlflowResilience.IsOutcomeUnknown(ex.RequestMessage));
        }

        var outcomeUnknown = MlflowResilience.IsOutcomeUnknown(ex.RequestMessage)
            || (IsWrite(ex) && FailureClassifier.Classify(ex.StatusCode) == FailureKind.Ambiguous);
        return new MlflowException(ex.StatusCode, code, message, method, path, ex, outcomeUnknown);
    }

    private static bool IsWrite(ApiExceptionBase ex)
        => ex.HttpMethod is { } m && EndpointClassifier.Classify(m, ex.Uri) != EndpointKind.Read;

    public static MlflowException FromResponse(HttpStatusCode status, string? body, string method, string path)
    {
        var (code, message) = ParseBody(body);
        return new MlflowException(status, code, message, method, path);
    }

    /// <summary>A request that got no answer: the cause is the wrapped transport exception.</summary>
    public static MlflowException FromRequestException(ApiRequestException ex)
    {
        if (ex.InnerException is MlflowException resilience)
        {
            // Already described by the resilience pipeline (open circuit).
            return resilience;
        }

        var cause = ex.InnerException ?? ex;
        var outcomeUnknown = MlflowResilience.IsOutcomeUnknown(ex.RequestMessage)
            || (IsWrite(ex) && FailureClassifier.Classify(cause, CancellationToken.None) == FailureKind.Ambiguous);
        return new(null, null, Describe(cause), ex.HttpMethod?.Method, ex.Uri?.AbsolutePath, cause, outcomeUnknown);
    }

    private static string Describe(Exception cause) => cause switch
    {
        TaskCanceledException or TimeoutException => "The request timed out.",
        HttpRequestException { HttpRequestError: HttpRequestError.InvalidResponse or HttpRequestError.ResponseEnded } => "The server's answer could not be read: " + cause.Message,
        _ => "The server could not be reached: " + cause.Message,
    };

    /// <summary>A failure with no answer and no request message; the resilience pipeline records method, path and outcome in <see cref="Exception.Data"/>.</summary>
    public static MlflowException FromTransport(Exception ex, string? method, string? path)
        => new(
            null,
            null,
            Describe(ex),
            method ?? ex.Data[MlflowResilience.MethodDataKey] as string,
            path ?? ex.Data[MlflowResilience.PathDataKey] as string,
            ex,
            ex.Data[MlflowResilience.OutcomeUnknownDataKey] is true);

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
