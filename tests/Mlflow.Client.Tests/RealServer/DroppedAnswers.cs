namespace Mlflow.Client.Tests.RealServer;

/// <summary>
/// Which requests to a real server lose their answer, counted per endpoint over every client that shares this
/// instance: after the server applied the request (<c>afterApplying</c>), or before it was sent at all
/// (<c>beforeSending</c>; the client cannot tell the two apart).
/// </summary>
internal sealed class Drops((string Endpoint, int Nth)[] afterApplying, (string Endpoint, int Nth)[]? beforeSending = null)
{
    private readonly Dictionary<string, int> _seen = new(StringComparer.Ordinal);
    private int _dropped;

    public int Dropped => Volatile.Read(ref _dropped);

    /// <summary>Counts a request to <paramref name="path"/> and says whether and when its answer is lost.</summary>
    public (bool BeforeSending, bool AfterApplying) Next(string path)
    {
        lock (_seen)
        {
            var endpoint = afterApplying.Concat(beforeSending ?? []).Select(d => d.Endpoint)
                .FirstOrDefault(e => path.EndsWith("/" + e, StringComparison.Ordinal));
            if (endpoint is null)
            {
                return (false, false);
            }

            var nth = _seen[endpoint] = _seen.GetValueOrDefault(endpoint) + 1;
            var before = (beforeSending ?? []).Contains((endpoint, nth));
            var after = afterApplying.Contains((endpoint, nth));
            if (before || after)
            {
                _dropped++;
            }

            return (before, after);
        }
    }
}

/// <summary>Forwards every request to the real server; the answers <see cref="Drops"/> picks are lost as a dropped connection.</summary>
internal sealed class DropAnswers(HttpMessageHandler inner, Drops drops) : DelegatingHandler(inner)
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var (before, after) = drops.Next(request.RequestUri!.AbsolutePath);
        if (before)
        {
            // ResponseEnded, as a connection cut after the request went out: the client must assume it may have been applied.
            throw new HttpRequestException(HttpRequestError.ResponseEnded, "The connection dropped before the request reached the server (injected by the test).");
        }

        var response = await base.SendAsync(request, cancellationToken);
        if (after)
        {
            _ = await response.Content.ReadAsByteArrayAsync(cancellationToken); // the server finished: it was applied
            response.Dispose();
            throw new HttpRequestException(HttpRequestError.ResponseEnded, "The connection dropped after the request was applied (injected by the test).");
        }

        return response;
    }
}
