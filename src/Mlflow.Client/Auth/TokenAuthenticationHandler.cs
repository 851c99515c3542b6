using System.Net;
using System.Net.Http.Headers;
using Mlflow.Client.Resilience;

namespace Mlflow.Client.Auth;

/// <summary>
/// Puts the token of an <see cref="IMlflowTokenProvider"/> on every attempt, and answers a 401 with one forced refresh
/// and one more send of the same request.
/// </summary>
/// <remarks>
/// Where it sits: inside <see cref="ResilienceHandler"/>, right in front of the transport (the socket handler of an owned
/// client, or the forwarding handler of a caller's client). So every attempt of the retry pipeline asks the provider
/// again (a retry after a long backoff gets a current token), and the 401 round trip happens within one attempt: it is
/// not a retry of the pipeline, does not count against <see cref="MlflowRetryOptions.MaxRetries"/> or the circuit
/// breaker, and shares the attempt's timeout. A body streamed from the caller that cannot be rewound is sent once: its
/// 401 goes back unanswered. Concurrent requests refused with the same token share one forced refresh.
/// </remarks>
internal sealed class TokenAuthenticationHandler : DelegatingHandler
{
    private const string Scheme = "Bearer";
    private readonly IMlflowTokenProvider _provider;
    private readonly object _gate = new();
    private string? _refusedToken;
    private Task<string>? _refresh;

    public TokenAuthenticationHandler(IMlflowTokenProvider provider) => _provider = provider;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.Options.TryGetValue(CredentialScopeHandler.OtherOrigin, out var other) && other)
        {
            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false); // not the tracking server: no token
        }

        var canResend = true;
        if (request.Content is IStreamedRequestContent streamed)
        {
            canResend = streamed.CanResend;
        }
        else if (request.Content is not null)
        {
            // The second send needs the same bytes (the resilience handler buffered them already when it is present).
#if NET9_0_OR_GREATER
            await request.Content.LoadIntoBufferAsync(cancellationToken).ConfigureAwait(false);
#else
            await request.Content.LoadIntoBufferAsync().ConfigureAwait(false);
#endif
        }

        var token = await GetTokenAsync(forceRefresh: false, cancellationToken).ConfigureAwait(false);
        request.Headers.Authorization = new AuthenticationHeaderValue(Scheme, token);
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.Unauthorized || !canResend)
        {
            return response;
        }

        response.Dispose();
        var fresh = await RefreshAsync(token, cancellationToken).ConfigureAwait(false);
        request.Headers.Authorization = new AuthenticationHeaderValue(Scheme, fresh);
        return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// One forced refresh per refused token: requests refused with the token a refresh already replaced (in flight or
    /// done) take its result instead of asking again. The shared refresh runs without any one caller's cancellation;
    /// each caller stops waiting when its own request is cancelled or times out.
    /// </summary>
    private Task<string> RefreshAsync(string refused, CancellationToken cancellationToken)
    {
        Task<string> refresh;
        lock (_gate)
        {
            if (_refresh is null || _refresh.IsFaulted || _refresh.IsCanceled || !string.Equals(_refusedToken, refused, StringComparison.Ordinal))
            {
                _refusedToken = refused;
                _refresh = GetTokenAsync(forceRefresh: true, CancellationToken.None);
            }

            refresh = _refresh;
        }

        return refresh.WaitAsync(cancellationToken);
    }

    private async Task<string> GetTokenAsync(bool forceRefresh, CancellationToken cancellationToken)
    {
        string? token;
        try
        {
            token = await _provider.GetTokenAsync(forceRefresh, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex) when (ex is not MlflowException)
        {
            // The provider's own message may hold anything; it stays on the inner exception for the caller's diagnosis.
            throw new MlflowException($"The token provider failed ({ex.GetType().Name}); the request was not sent.", MlflowFailureKind.NotApplied, ex);
        }

        return string.IsNullOrWhiteSpace(token)
            ? throw new MlflowException("The token provider returned an empty token; the request was not sent.", MlflowFailureKind.NotApplied)
            : token;
    }
}
