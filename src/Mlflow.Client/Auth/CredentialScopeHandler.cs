namespace Mlflow.Client.Auth;

/// <summary>
/// Keeps the tracking server's credentials on the tracking server: a request to any other origin (scheme, host and
/// port), such as an <c>mlflow-artifacts://host:port/...</c> artifact root naming another host, leaves without the
/// <c>Authorization</c> header and is marked so that <see cref="TokenAuthenticationHandler"/> adds no token either.
/// </summary>
/// <remarks>
/// Sits right inside the resilience handler, above the token handler; default headers of the client are already merged
/// into the request when it gets here. MLflow's Python client sends its environment credentials to whatever host an
/// artifact URI names; this client does not: give that host's credentials to a client of its own.
/// </remarks>
internal sealed class CredentialScopeHandler(Uri trackingUri) : DelegatingHandler
{
    /// <summary>Set on a request that must carry no credentials.</summary>
    internal static readonly HttpRequestOptionsKey<bool> OtherOrigin = new("Mlflow.Client.OtherOrigin");

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (!IsTrackingOrigin(request.RequestUri))
        {
            request.Headers.Authorization = null;
            request.Options.Set(OtherOrigin, true);
        }

        return base.SendAsync(request, cancellationToken);
    }

    /// <summary>Whether <paramref name="uri"/> (relative: resolved against the tracking URI) is on the tracking server's origin.</summary>
    internal bool IsTrackingOrigin(Uri? uri)
        => uri is null || !uri.IsAbsoluteUri
            || (string.Equals(uri.Scheme, trackingUri.Scheme, StringComparison.OrdinalIgnoreCase)
                && string.Equals(uri.IdnHost, trackingUri.IdnHost, StringComparison.OrdinalIgnoreCase)
                && uri.Port == trackingUri.Port);
}
