namespace Mlflow.Client;

/// <summary>
/// Supplies the bearer token of every request, for servers whose tokens expire (managed MLflow services, OAuth).
/// Set it on <see cref="MlflowClientOptions.TokenProvider"/>; it takes precedence over
/// <see cref="MlflowClientOptions.Token"/> and basic auth.
/// </summary>
/// <remarks>
/// The client asks the provider before every attempt of every request (the retry pipeline's retries included), so the
/// provider should cache its token and renew it shortly before it expires; the client keeps no token of its own. When
/// the server answers 401, the client asks once more with <c>forceRefresh: true</c> and sends the request one more
/// time; a second 401 is the caller's <see cref="MlflowException"/>. Requests that get a 401 together share one forced
/// refresh. Implementations must be thread-safe.
/// </remarks>
public interface IMlflowTokenProvider
{
    /// <summary>Returns the token to send as <c>Authorization: Bearer &lt;token&gt;</c>.</summary>
    /// <param name="forceRefresh">
    /// <see langword="true"/> after the server refused the last token (HTTP 401): return a new one, not a cached one.
    /// </param>
    /// <param name="cancellationToken">
    /// Cancelled when the request is cancelled or its attempt times out. A forced refresh shared by several requests
    /// gets <see cref="CancellationToken.None"/> (each request stops waiting on its own), so bound it yourself.
    /// </param>
    /// <returns>The token, without the <c>Bearer</c> prefix; never empty.</returns>
    ValueTask<string> GetTokenAsync(bool forceRefresh, CancellationToken cancellationToken);
}
