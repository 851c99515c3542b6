using System.Net;

namespace Mlflow.Client.Tests.Sync;

/// <summary>
/// Client-side half of <see cref="FakeMlflowServer"/>'s fault injection: a request the server applied whose answer
/// must be lost is completed normally by the server, then this handler throws as if the connection had dropped (or
/// replaces the answer by a gateway error). HttpListener cannot cut a connection before its headers go out.
/// </summary>
internal sealed class LostAnswerHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken);
        if (!response.Headers.TryGetValues(FakeMlflowServer.FaultHeader, out var values))
        {
            return response;
        }

        var fault = values.First();

        response.Dispose();
        if (fault == "0")
        {
            // ResponseEnded, not ConnectionError: the request went out and the answer was lost. ConnectionError means "no
            // connection was made", which the retry pipeline rightly treats as safe to send again.
            throw new HttpRequestException(HttpRequestError.ResponseEnded, "The connection was reset (injected after the server applied the request).");
        }

        return new HttpResponseMessage((HttpStatusCode)int.Parse(fault, System.Globalization.CultureInfo.InvariantCulture)) { Content = new StringContent("<html>gateway error</html>"), RequestMessage = request };
    }
}
