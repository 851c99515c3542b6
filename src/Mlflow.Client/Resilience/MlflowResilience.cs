using System.Net;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace Mlflow.Client.Resilience;

/// <summary>
/// Builds the Polly pipeline applied to every attempt: retry (outermost) → circuit breaker → per-attempt timeout, and
/// its twin without the breaker for reads that decide a lost write's outcome (<see cref="RequestFlags.BypassCircuitBreaker"/>).
/// Retry decisions combine the <see cref="MlflowFailureKind"/> of the attempt with the <see cref="EndpointKind"/> of the request.
/// </summary>
internal static class MlflowResilience
{
    /// <summary>The request being sent, for the strategies' predicates.</summary>
    internal static readonly ResiliencePropertyKey<HttpRequestMessage?> RequestKey = new("Mlflow.Request");

    /// <summary>The token of the caller, whose cancellation is never retried.</summary>
    internal static readonly ResiliencePropertyKey<CancellationToken> CallerTokenKey = new("Mlflow.CallerToken");

    /// <summary>The endpoint kind of the request.</summary>
    internal static readonly ResiliencePropertyKey<EndpointKind> KindKey = new("Mlflow.EndpointKind");

    /// <summary>What the attempts of the request said so far (its latest failure kind).</summary>
    internal static readonly ResiliencePropertyKey<ResilienceHandler.AttemptState?> AttemptStateKey = new("Mlflow.AttemptState");

    /// <summary>The pipelines for one client, or <see langword="null"/> when <see cref="MlflowRetryOptions.Enabled"/> is off.</summary>
    public static MlflowPipelines? Build(MlflowRetryOptions options, TimeSpan requestTimeout, ILogger logger, Action? onRetry = null)
    {
        if (!options.Enabled)
        {
            return null;
        }

        return new MlflowPipelines(BuildOne(options, requestTimeout, logger, onRetry, withBreaker: true), BuildOne(options, requestTimeout, logger, onRetry, withBreaker: false));
    }

    private static ResiliencePipeline<HttpResponseMessage> BuildOne(MlflowRetryOptions options, TimeSpan requestTimeout, ILogger logger, Action? onRetry, bool withBreaker)
    {
        var builder = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = options.TimeProvider };
        if (options.MaxRetries > 0)
        {
            builder.AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = options.MaxRetries,
                ShouldHandle = args => new ValueTask<bool>(ShouldRetry(options, args.Context, args.Outcome, args.AttemptNumber, logger)),
                DelayGenerator = args => new ValueTask<TimeSpan?>(Delay(options, args.Outcome, args.AttemptNumber)),
                OnRetry = args =>
                {
                    var request = args.Context.Properties.GetValue(RequestKey, null);
                    ResilienceLog.Retrying(logger, request?.Method.Method ?? "?", PathOf(request), args.AttemptNumber + 1, options.MaxRetries + 1, Reason(args.Outcome), args.RetryDelay);
                    onRetry?.Invoke();
                    return default;
                },
            });
        }

        if (withBreaker)
        {
            builder.AddCircuitBreaker(new CircuitBreakerStrategyOptions<HttpResponseMessage>
            {
                FailureRatio = options.CircuitBreakerFailureRatio,
                MinimumThroughput = options.CircuitBreakerMinimumThroughput,
                SamplingDuration = options.CircuitBreakerSamplingDuration,
                BreakDuration = options.CircuitBreakerBreakDuration,
                ShouldHandle = args => new ValueTask<bool>(Kind(args.Context, args.Outcome, options) is MlflowFailureKind.NotApplied or MlflowFailureKind.OutcomeUnknown),
                OnOpened = args =>
                {
                    ResilienceLog.CircuitOpened(logger, Reason(args.Outcome), args.BreakDuration);
                    return default;
                },
                OnClosed = _ =>
                {
                    ResilienceLog.CircuitClosed(logger);
                    return default;
                },
            });
        }

        // Polly accepts 10 ms to 1 day; an infinite (or longer) request timeout means no per-attempt timeout.
        if (requestTimeout != Timeout.InfiniteTimeSpan && requestTimeout < TimeSpan.FromDays(1))
        {
            builder.AddTimeout(new TimeoutStrategyOptions
            {
                Timeout = requestTimeout < TimeSpan.FromMilliseconds(10) ? TimeSpan.FromMilliseconds(10) : requestTimeout,
            });
        }

        return builder.Build();
    }

    /// <summary>
    /// The failure kind of an attempt's outcome (<see langword="null"/> for a success), as the handler classified it;
    /// 413 counts as not applied only when its <c>Retry-After</c> is honoured, else the server means it.
    /// </summary>
    internal static MlflowFailureKind? Kind(ResilienceContext context, Outcome<HttpResponseMessage> outcome, MlflowRetryOptions options)
    {
        if (outcome.Exception is { } exception)
        {
            return FailureClassifier.Classify(exception, context.Properties.GetValue(CallerTokenKey, context.CancellationToken));
        }

        if (outcome.Result is not { } response)
        {
            return null;
        }

        var kind = context.Properties.GetValue(AttemptStateKey, null)?.AttemptKind
            ?? (response.IsSuccessStatusCode ? null : FailureClassifier.Classify(response.StatusCode));
        if (response.StatusCode == HttpStatusCode.RequestEntityTooLarge && !(options.RespectRetryAfter && response.Headers.RetryAfter is not null))
        {
            return MlflowFailureKind.Rejected;
        }

        return kind;
    }

    private static bool ShouldRetry(MlflowRetryOptions options, ResilienceContext context, Outcome<HttpResponseMessage> outcome, int attempt, ILogger logger)
    {
        switch (Kind(context, outcome, options))
        {
            case MlflowFailureKind.NotApplied when outcome.Exception is not null && RequestScope.Flags.HasFlag(RequestFlags.NoRetryWhenRefused):
                return false;
            case MlflowFailureKind.NotApplied:
                return true;
            case MlflowFailureKind.OutcomeUnknown when context.Properties.GetValue(KindKey, EndpointKind.NonIdempotentWrite) != EndpointKind.NonIdempotentWrite:
                return true;
            case MlflowFailureKind.Rejected when outcome.Result?.StatusCode == HttpStatusCode.InternalServerError
                                                 && context.Properties.GetValue(KindKey, EndpointKind.NonIdempotentWrite) != EndpointKind.NonIdempotentWrite:
                // A 500 with an MLflow error body names a problem, but a store error under load (a locked database)
                // answers the same way: a read or an idempotent write is safe to send again, as MLflow's client does.
                return true;
            case MlflowFailureKind.OutcomeUnknown:
                var request = context.Properties.GetValue(RequestKey, null);
                ResilienceLog.OutcomeUnknown(logger, request?.Method.Method ?? "?", PathOf(request), attempt + 1, Reason(outcome));
                return false;
            default:
                return false;
        }
    }

    private static TimeSpan? Delay(MlflowRetryOptions options, Outcome<HttpResponseMessage> outcome, int attempt)
    {
        if (options.RespectRetryAfter && outcome.Result is { } response
            && RetryDelays.RetryAfter(response, options.TimeProvider.GetUtcNow(), options.MaxBackoff) is { } wait)
        {
            return wait;
        }

#pragma warning disable CA5394 // jitter only spreads retries; it needs no cryptographic randomness
        return RetryDelays.Backoff(options, attempt + 1, Random.Shared.NextDouble());
#pragma warning restore CA5394
    }

    /// <summary>The request path without query string, or <c>?</c>.</summary>
    internal static string PathOf(HttpRequestMessage? request)
        => request?.RequestUri is { IsAbsoluteUri: true } uri ? uri.AbsolutePath : request?.RequestUri?.OriginalString.Split('?', 2)[0] ?? "?";

    /// <summary>A short, credential-free reason: the status, or the exception type and transport error.</summary>
    internal static string Reason(Outcome<HttpResponseMessage> outcome) => outcome.Exception switch
    {
        null => outcome.Result is { } r ? (r.IsSuccessStatusCode ? $"HTTP {(int)r.StatusCode} with a garbled body" : $"HTTP {(int)r.StatusCode}") : "no answer",
        TimeoutRejectedException => "timeout",
        OperationCanceledException => "timeout",
        HttpRequestException { HttpRequestError: var error } => $"{nameof(HttpRequestException)} {error}",
        BrokenCircuitException => "circuit open",
        var other => other.GetType().Name,
    };
}

/// <summary>The pipelines of one client: the ordinary one, and the same without the circuit breaker.</summary>
internal sealed record MlflowPipelines(ResiliencePipeline<HttpResponseMessage> Main, ResiliencePipeline<HttpResponseMessage> WithoutBreaker);
