using System.Net;

namespace Mlflow.Client.Resilience;

/// <summary>How long to wait before a retry: the server's <c>Retry-After</c> when it gave one, else exponential backoff with jitter.</summary>
internal static class RetryDelays
{
    /// <summary>
    /// Backoff before retry <paramref name="retryNumber"/> (1 = first retry): the first has no base delay, retry n ≥ 2 waits
    /// factor·2^(n-1); each adds a uniform jitter in [0, <see cref="MlflowRetryOptions.BackoffJitter"/>), and the sum is capped
    /// by <see cref="MlflowRetryOptions.MaxBackoff"/>.
    /// </summary>
    public static TimeSpan Backoff(MlflowRetryOptions options, int retryNumber, double random)
    {
        double seconds = retryNumber <= 1 ? 0 : options.BackoffFactor.TotalSeconds * Math.Pow(2, Math.Min(retryNumber - 1, 30));
        seconds += random * options.BackoffJitter.TotalSeconds;
        return TimeSpan.FromSeconds(Math.Min(seconds, options.MaxBackoff.TotalSeconds));
    }

    /// <summary>The wait a 413, 429 or 503 answer asks for with <c>Retry-After</c> (seconds or HTTP date), capped; otherwise <see langword="null"/>.</summary>
    public static TimeSpan? RetryAfter(HttpResponseMessage response, DateTimeOffset now, TimeSpan cap)
    {
        if (response.StatusCode is not (HttpStatusCode.RequestEntityTooLarge or HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable)
            || response.Headers.RetryAfter is not { } header)
        {
            return null;
        }

        TimeSpan wait;
        if (header.Delta is { } delta)
        {
            wait = delta;
        }
        else if (header.Date is { } date)
        {
            wait = date - now;
        }
        else
        {
            return null;
        }

        if (wait < TimeSpan.Zero)
        {
            wait = TimeSpan.Zero;
        }

        return wait > cap ? cap : wait;
    }
}
