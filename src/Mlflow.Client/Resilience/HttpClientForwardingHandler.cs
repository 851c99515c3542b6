namespace Mlflow.Client.Resilience;

/// <summary>
/// The innermost handler in front of an <see cref="HttpClient"/> this SDK does not own (the caller's, or one from
/// <see cref="IHttpClientFactory"/>): each attempt sends a fresh copy of the request through that client, so its
/// handlers, default headers and timeout apply, and it is never disposed here.
/// </summary>
internal sealed class HttpClientForwardingHandler : HttpMessageHandler
{
    private readonly HttpClient _client;

    public HttpClientForwardingHandler(HttpClient client) => _client = client;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        // An HttpClient refuses a message it has sent before, so every attempt gets its own copy.
        var copy = await CopyAsync(request, cancellationToken).ConfigureAwait(false);
        return await _client.SendAsync(copy, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
    }

    internal static async Task<HttpRequestMessage> CopyAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var copy = new HttpRequestMessage(request.Method, request.RequestUri)
        {
            Version = request.Version,
            VersionPolicy = request.VersionPolicy,
        };

        foreach (var header in request.Headers)
        {
            copy.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        if (request.Content is IStreamedRequestContent)
        {
            // Streamed from the caller: shared, never copied into memory (it rewinds itself when it can).
            copy.Content = request.Content;
        }
        else if (request.Content is not null)
        {
            var body = await request.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            copy.Content = new ByteArrayContent(body);
            foreach (var header in request.Content.Headers)
            {
                copy.Content.Headers.TryAddWithoutValidation(header.Key, header.Value);
            }
        }

        return copy;
    }
}
